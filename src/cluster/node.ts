import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { v4 as uuidv4 } from 'uuid';
import type { SessionEndReason } from '../../machines/session.machine.js';
import {
  capacityExceeded,
  isSupervisorError,
  notAdmitting,
  principalCapacityExceeded,
  registryUnavailable,
  SupervisorError,
} from '../errors.js';
import type { SupervisorEvent } from '../events.js';
import type { InitializeMessage } from '../http/dispatch.js';
import type { Logger } from '../logging.js';
import type { SessionHttpTransport } from '../mcp/sdk-types.js';
import { type Duration, toMilliseconds } from '../options.js';
import type { ClusterAttachment, ClusterHost, SessionPlacement } from '../placement.js';
import type { SupervisedSession } from '../session.js';
import type { OpenSessionOptions } from '../supervisor.js';
import { ActivityReporter, type ReportedSession } from './activity.js';
import type {
  ClusterLimits,
  ClusterMessage,
  ClusterRegistry,
  ReassertEntry,
  StoredInitialize,
  TouchOutcome,
} from './registry.js';
import { replayInitialize, storedInitialize, toInitializeMessage } from './replay.js';

/**
 * Options of {@link joinCluster}: every node of a cluster gets the same registry (and the same
 * `maxSessions`, `whenFull`, `idleTimeout`), each its own `nodeId`.
 */
export interface ClusterOptions {
  /** The store every node of the cluster shares, e.g. a `RedisClusterRegistry`. */
  registry: ClusterRegistry;
  /** Unique in the cluster, stable or not. Default: `<hostname>-<pid>-<random>`. */
  nodeId?: string | undefined;
  /**
   * Least time between two registry writes of one session's activity (last activity, idle or
   * active, expiry). Shorter: a more exact cluster-wide LRU; longer: fewer writes. Default `'1s'`.
   */
  touchInterval?: Duration | undefined;
  /**
   * When another node takes a session over, how long the copy here may finish the requests it
   * has in flight before it is retired anyway (reason `moved`). Default `'30s'`.
   */
  handoffGrace?: Duration | undefined;
}

/** One session this node opened, from admission or takeover until it is disposed here. */
class Held<S extends SupervisedSession<unknown>> implements ReportedSession {
  activity: 'active' | 'idle' = 'idle';
  touchedAt = Number.NEGATIVE_INFINITY;
  /** Being rebuilt here (takeover): requests wait for it instead of seeing a half-built session. */
  recovering: boolean;
  /** Another node owns it now; this copy finishes what it has in flight, then retires. */
  movedOut = false;
  /** A takeover by another node arrived while this node was still rebuilding it: applied once served. */
  deferredHandoff = false;
  handoffTimer: unknown;
  /** The registry ended it (eviction, deletion elsewhere): there is nothing to release. */
  endedByRegistry = false;
  recoveredAt = 0;

  constructor(
    readonly session: S,
    readonly initialize: StoredInitialize,
    recovering: boolean,
  ) {
    this.recovering = recovering;
  }

  get sessionId(): string {
    return this.session.id;
  }

  get lastActivityAt(): number {
    return this.session.lastActivityAt;
  }

  get reportable(): boolean {
    return this.session.isLive && !this.movedOut && !this.recovering;
  }
}

/** Reasons after which the session lives on elsewhere: its record stays in the registry. */
const KEEPS_RECORD: ReadonlySet<SessionEndReason> = new Set(['moved', 'shutdown']);

const defaultNodeId = (): string => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/**
 * One supervisor's membership in a cluster: admission through the shared registry, takeover of
 * sessions other nodes hold (rebuilt here by replaying their `initialize`), hand-off of sessions
 * other nodes take, release of ended ones, and activity reports. Created by the supervisor when
 * it gets a `cluster` option made by {@link joinCluster}; applications only read `nodeId` and
 * await `ready()`.
 */
export class ClusterNode<S extends SupervisedSession<unknown>> implements SessionPlacement<S> {
  readonly nodeId: string;
  private readonly registry: ClusterRegistry;
  private readonly limits: ClusterLimits;
  private readonly handoffGrace: number;
  private readonly touchInterval: number;
  private readonly held = new Map<string, Held<S>>();
  /** Sessions handing off or with a deferred hand-off: what the periodic round looks at. */
  private readonly handingOff = new Set<Held<S>>();
  private readonly recovering = new Map<string, Promise<S | undefined>>();
  private readonly reporter: ActivityReporter;
  private readonly unsubscribe: () => void;
  private readonly listening: Promise<void>;
  private stopListening: (() => Promise<void>) | undefined;
  private tickTimer: unknown;
  private stopped = false;

  constructor(
    private readonly host: ClusterHost<S>,
    options: ClusterOptions,
    private readonly sessionMetadata: (initialize: InitializeMessage) => Record<string, unknown>,
    private readonly logger: Logger | undefined,
  ) {
    const { registry } = options;
    if (typeof registry?.admit !== 'function' || typeof registry.claim !== 'function') {
      throw new SupervisorError(
        'invalid-option',
        { option: 'cluster.registry', value: registry, expected: 'a ClusterRegistry' },
        'Invalid option cluster.registry (expected a ClusterRegistry)',
      );
    }
    const nodeId = options.nodeId ?? defaultNodeId();
    if (typeof nodeId !== 'string' || nodeId === '') {
      throw new SupervisorError(
        'invalid-option',
        { option: 'cluster.nodeId', value: nodeId, expected: 'a non-empty string' },
        'Invalid option cluster.nodeId (expected a non-empty string)',
      );
    }
    this.nodeId = nodeId;
    this.registry = registry;
    const core = host.options;
    this.touchInterval = toMilliseconds('cluster.touchInterval', options.touchInterval ?? '1s');
    this.handoffGrace = toMilliseconds('cluster.handoffGrace', options.handoffGrace ?? '30s');
    this.limits = {
      maxSessions: core.maxSessions,
      whenFull: core.whenFull,
      maxSessionsPerPrincipal: core.maxSessionsPerPrincipal,
      // The owner's own timers end a session; the record only has to outlive them by a margin
      // covering the reporting lag, and vanish if the owner dies.
      ttlMs: Math.max(core.idleTimeout, core.initTimeout) + Math.max(5_000, 3 * this.touchInterval),
    };
    this.reporter = new ActivityReporter({
      registry,
      nodeId,
      clock: core.clock,
      touchInterval: this.touchInterval,
      refreshInterval: Math.max(this.touchInterval, Math.floor(core.idleTimeout / 3)),
      ttlMs: this.limits.ttlMs,
      settle: (session, outcome) => this.settle(session as Held<S>, outcome),
      failed: (error) => this.logger?.debug({ err: error }, 'cluster activity report failed'),
    });
    this.unsubscribe = host.subscribe((event) => this.observe(event));
    this.listening = this.listen();
    this.scheduleTick();
  }

  /** Resolves once this node receives the cluster's messages about its sessions. */
  ready(): Promise<void> {
    return this.listening;
  }

  /**
   * @internal The local session, unless it is being rebuilt (the caller then goes through {@link recover}
   * and waits for it) or another node owns it now.
   */
  get(sessionId: string): S | undefined {
    const held = this.held.get(sessionId);
    if (held === undefined || held.recovering) return undefined;
    if (held.deferredHandoff) {
      // The request that made this node rebuild it is served first, then the session hands off
      // (its request is counted in flight by then, so the hand-off waits for it).
      held.deferredHandoff = false;
      this.handingOff.delete(held);
      queueMicrotask(() => this.handOff(held));
    } else if (held.movedOut) {
      return undefined;
    }
    return held.session.isLive ? held.session : undefined;
  }

  /** @internal Cluster admission: one atomic registry operation, then the local session with the same id. */
  async admit(initialize: InitializeMessage, principal: string | undefined): Promise<S> {
    const metadata = this.sessionMetadata(initialize);
    const local: OpenSessionOptions = { metadata, ...(principal === undefined ? {} : { principal }) };
    // Refused here as a lone supervisor refuses (and counts) it, without reserving anything remotely.
    if (this.host.phase !== 'running') return this.host.open(local);
    const sessionId = uuidv4();
    const stored = storedInitialize(initialize);
    const result = await this.call('admit', () =>
      this.registry.admit({
        sessionId,
        nodeId: this.nodeId,
        principal,
        initialize: stored,
        limits: this.limits,
      }),
    );
    const { retryAfter, maxSessions, maxSessionsPerPrincipal } = this.host.options;
    if (!result.admitted) {
      if (result.code === 'principal-capacity' && maxSessionsPerPrincipal !== undefined) {
        throw principalCapacityExceeded(maxSessionsPerPrincipal, retryAfter);
      }
      throw capacityExceeded(maxSessions, retryAfter);
    }
    // An eviction of one of ours frees its local slot now, not when the message arrives.
    if (result.evicted?.owner === this.nodeId) this.endHere(result.evicted.sessionId, 'evicted');
    let session: S;
    try {
      session = this.host.open({ ...local, sessionId });
    } catch (error) {
      void this.release(sessionId, 'failed');
      throw error;
    }
    this.held.set(sessionId, new Held(session, stored, false));
    return session;
  }

  /**
   * @internal A request for a session this node does not hold: claim it in the registry (the previous owner
   * hands it off) and rebuild it here. `undefined` when it is unknown, ended or not the principal's.
   * Concurrent requests for the same session share one takeover.
   */
  recover(sessionId: string, principal: string | undefined): Promise<S | undefined> {
    // Per principal: a prober's refused attempt must not become the owner's answer.
    const key = `${principal ?? ''}\u0000${sessionId}`;
    const pending = this.recovering.get(key);
    if (pending) return pending;
    const takeover = this.takeOver(sessionId, principal).finally(() => this.recovering.delete(key));
    this.recovering.set(key, takeover);
    return takeover;
  }

  /**
   * @internal Called by the MCP layer once a session's server and transport are connected: a session being
   * taken over gets its handshake replayed before it counts as ready.
   */
  async restore(session: S, transport: SessionHttpTransport): Promise<void> {
    const held = this.held.get(session.id);
    if (held?.session !== session || !held.recovering) return;
    await replayInitialize(transport, session.id, held.initialize);
  }

  /** @internal Stops listening and reporting; called once the supervisor has stopped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer(this.tickTimer);
    this.unsubscribe();
    // Not waiting for a registry that is down: a subscription made later is undone when it lands.
    const stopListening = () => this.stopListening?.().catch(() => {});
    if (this.stopListening) await stopListening();
    else void this.listening.then(stopListening);
  }

  private async takeOver(sessionId: string, principal: string | undefined): Promise<S | undefined> {
    const { phase } = this.host;
    // A draining node takes nothing over: 503 sends the client (through the balancer) elsewhere.
    if (phase !== 'running') throw notAdmitting(phase, this.host.options.retryAfter);
    let held = this.held.get(sessionId);
    if (held !== undefined && held.session.principal !== principal) {
      // Another principal's session, held here: the same registry claim as for an unknown id (the
      // registry refuses it and changes nothing), so neither the 404 nor its timing tells the
      // prober that the id exists. The session here is left alone.
      await this.call('claim', () =>
        this.registry.claim({ sessionId, nodeId: this.nodeId, principal, ttlMs: this.limits.ttlMs }),
      );
      return undefined;
    }
    if (held !== undefined) {
      held.recovering = true;
      // Only a hand-off announced from now on (a claim after ours) is still to be applied.
      held.deferredHandoff = false;
    }
    let claimed: Awaited<ReturnType<ClusterRegistry['claim']>>;
    try {
      claimed = await this.call('claim', () =>
        this.registry.claim({ sessionId, nodeId: this.nodeId, principal, ttlMs: this.limits.ttlMs }),
      );
    } finally {
      if (held !== undefined) held.recovering = false;
    }
    if (claimed === undefined) return undefined;
    if (held?.session.isLive) {
      // Its copy here was still finishing requests after a hand-off: it is ours again as it is.
      this.reclaimed(held);
      return held.session;
    }
    if (held !== undefined) {
      // Ended here and still releasing; the id is free again once it is disposed.
      await this.disposed(held.session);
      held = undefined;
    }
    const initialize = claimed.record.initialize;
    const session = this.host.open({
      sessionId,
      metadata: this.sessionMetadata(toInitializeMessage(initialize)),
      ...(principal === undefined ? {} : { principal }),
    });
    const rebuilt = new Held(session, initialize, true);
    this.held.set(sessionId, rebuilt);
    try {
      await session.ready();
    } catch (error) {
      rebuilt.recovering = false;
      this.logger?.warn(
        { err: error, sessionId },
        'rebuilding a session taken over from another node failed',
      );
      return undefined;
    }
    rebuilt.recovering = false;
    rebuilt.recoveredAt = this.host.options.clock.now();
    session.markInitialized();
    this.logger?.debug({ sessionId, from: claimed.previousOwner }, 'session taken over');
    return session;
  }

  /** Another node owns the session now: let in-flight requests finish here, then retire the copy. */
  private handOff(held: Held<S>): void {
    if (!held.session.isLive || held.movedOut) return;
    if (held.recovering) {
      held.deferredHandoff = true;
      this.handingOff.add(held);
      return;
    }
    held.movedOut = true;
    this.reporter.forget(held);
    if (held.session.requestsInFlight === 0) {
      this.retire(held);
      return;
    }
    this.handingOff.add(held);
    held.handoffTimer = this.host.options.clock.setTimeout(() => this.retire(held), this.handoffGrace);
  }

  private reclaimed(held: Held<S>): void {
    held.movedOut = false;
    this.clearTimer(held.handoffTimer);
    held.handoffTimer = undefined;
    held.recoveredAt = this.host.options.clock.now();
    if (!held.deferredHandoff) this.handingOff.delete(held);
    this.reporter.note(held, held.activity, held.recoveredAt);
  }

  private retire(held: Held<S>): void {
    this.clearTimer(held.handoffTimer);
    held.handoffTimer = undefined;
    this.handingOff.delete(held);
    if (this.held.get(held.sessionId) === held) this.host.close(held.sessionId, 'moved');
  }

  /** The registry ended the session (evicted, deleted through another node): end it here too. */
  private endHere(sessionId: string, reason: SessionEndReason): void {
    const held = this.held.get(sessionId);
    if (!held?.session.isLive) return;
    held.endedByRegistry = true;
    this.host.close(sessionId, reason);
  }

  private observe(event: SupervisorEvent): void {
    if (event.type !== 'transition') return;
    const held = this.held.get(event.sessionId);
    if (held === undefined) return;
    switch (event.to) {
      case 'active':
      case 'idle':
        if (held.movedOut) {
          if (event.to === 'idle') this.retire(held);
        } else if (!held.recovering) {
          this.reporter.note(held, event.to, event.at);
        }
        return;
      case 'expired':
        this.reporter.forget(held);
        this.handingOff.delete(held);
        this.clearTimer(held.handoffTimer);
        held.handoffTimer = undefined;
        if (!held.movedOut && !held.endedByRegistry && !KEEPS_RECORD.has(event.reason ?? 'failed')) {
          void this.release(held.sessionId, event.reason ?? 'failed');
        }
        return;
      case 'disposed':
        if (this.held.get(event.sessionId) === held) this.held.delete(event.sessionId);
        return;
      default:
        return;
    }
  }

  private settle(held: Held<S>, outcome: TouchOutcome): void {
    if (this.held.get(held.sessionId) !== held || !held.reportable) return;
    switch (outcome.status) {
      case 'moved':
        this.handOff(held);
        return;
      case 'ended':
        this.endHere(held.sessionId, outcome.reason);
        return;
      case 'missing':
        void this.reassert([held]);
        return;
      default:
        return;
    }
  }

  private onMessage(message: ClusterMessage): void {
    const held = this.held.get(message.sessionId);
    if (held === undefined) return;
    if (message.type === 'ended') this.endHere(message.sessionId, message.reason);
    else if (message.to !== this.nodeId) this.handOff(held);
  }

  /** Puts this node's sessions back where the registry lost them, and learns what changed meanwhile. */
  private async reassert(sessions: readonly Held<S>[]): Promise<void> {
    const now = this.host.options.clock.now();
    const targets = sessions.filter((held) => held.reportable);
    const entries: ReassertEntry[] = targets.map((held) => ({
      sessionId: held.sessionId,
      state: held.activity,
      idleForMs: held.activity === 'idle' ? Math.max(0, now - held.lastActivityAt) : 0,
      ageMs: Math.max(0, now - held.session.createdAt),
      principal: held.session.principal,
      initialize: held.initialize,
    }));
    if (entries.length === 0) return;
    try {
      const outcomes = await this.registry.reassert(this.nodeId, entries, this.limits.ttlMs);
      outcomes.forEach((outcome, index) => {
        const held = targets[index];
        if (held && outcome.status !== 'missing') this.settle(held, outcome);
      });
    } catch (error) {
      this.logger?.warn({ err: error }, 'reasserting sessions in the cluster registry failed');
    }
  }

  private async release(sessionId: string, reason: SessionEndReason): Promise<void> {
    try {
      await this.registry.release(sessionId, this.nodeId, reason, this.limits.ttlMs);
    } catch (error) {
      // The record expires on its own (TTL); until then another node could still take it over.
      this.logger?.warn(
        { err: error, sessionId },
        'removing an ended session from the cluster registry failed',
      );
    }
  }

  /** Runs a registry operation a request waits for; failures become `registry-unavailable` (503). */
  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (isSupervisorError(error)) throw error;
      this.logger?.debug({ err: error, operation }, 'cluster registry unavailable');
      throw registryUnavailable(operation, this.host.options.retryAfter, error);
    }
  }

  private async listen(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        this.stopListening = await this.registry.listen(this.nodeId, {
          message: (message) => this.onMessage(message),
          reconnected: () => {
            void this.reassert([...this.held.values()]);
          },
        });
        if (attempt > 1) void this.reassert([...this.held.values()]);
        return;
      } catch (error) {
        this.logger?.warn({ err: error, attempt }, 'listening to the cluster registry failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000 * attempt, 5_000)).unref());
      }
    }
  }

  private scheduleTick(): void {
    const { clock } = this.host.options;
    this.tickTimer = clock.setTimeout(() => {
      if (this.stopped) return;
      this.tick();
      this.scheduleTick();
    }, this.touchInterval);
  }

  private tick(): void {
    const now = this.host.options.clock.now();
    for (const held of this.handingOff) {
      // Hand-offs held back for a request that never came (client gone mid-body).
      if (held.deferredHandoff && !held.recovering && now - held.recoveredAt >= this.touchInterval) {
        held.deferredHandoff = false;
        this.handingOff.delete(held);
        this.handOff(held);
      }
      // Open streams keep a session active without requests; they do not hold a hand-off.
      if (held.movedOut && held.session.requestsInFlight === 0) this.retire(held);
    }
    void this.reporter.flushAll();
  }

  /** Clocks only take handles they gave out. */
  private clearTimer(handle: unknown): void {
    if (handle !== undefined) this.host.options.clock.clearTimeout(handle);
  }

  private disposed(session: S): Promise<unknown> {
    const bound = this.host.options.disposeTimeout + 1_000;
    return Promise.race([
      session.whenDisposed(),
      new Promise((resolve) => setTimeout(resolve, bound).unref()),
    ]);
  }
}

/**
 * The `cluster` option of `createSessionSupervisor`: shares sessions with other nodes through a
 * registry, so the cap is cluster-wide and any node serves any session. Lives in the
 * `mcp-session-supervisor/cluster` subpath, so the cluster code loads only for those who use it.
 *
 * @example
 * ```ts
 * import { joinCluster, RedisClusterRegistry } from 'mcp-session-supervisor/cluster';
 * const registry = new RedisClusterRegistry({ url: process.env.REDIS_URL });
 * const supervisor = createSessionSupervisor({
 *   createServer,
 *   maxSessions: 10_000, // for the whole cluster
 *   cluster: joinCluster({ registry, nodeId: process.env.HOSTNAME, touchInterval: '1s' }),
 * });
 * await supervisor.cluster?.ready(); // listening for messages about its sessions
 * ```
 */
export function joinCluster(options: ClusterOptions): ClusterAttachment {
  return {
    attach: ({ host, sessionMetadata, logger }) => new ClusterNode(host, options, sessionMetadata, logger),
  };
}
