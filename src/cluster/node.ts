/**
 * A supervisor's membership in a cluster: validates `joinCluster`'s options, listens to the
 * registry's messages, runs the periodic round, and stops. Admission, takeover and hand-off, and
 * activity reporting live in their own modules (`admission.ts`, `takeover.ts`, `reporting.ts`);
 * this class wires them to the supervisor through the `SessionPlacement` interface.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { SupervisorError } from '../errors.js';
import type { InitializeMessage } from '../http/dispatch.js';
import type { Logger } from '../logging.js';
import type { SessionHttpTransport } from '../mcp/sdk-types.js';
import { type Duration, toMilliseconds } from '../options.js';
import type { ClusterAttachment, ClusterHost, SessionPlacement } from '../placement.js';
import type { SupervisedSession } from '../session.js';
import { ActivityReporter } from './activity.js';
import { admitThroughRegistry } from './admission.js';
import { clearTimer, endHere, type Held, type NodeContext } from './held.js';
import type { ClusterMessage, ClusterRegistry } from './registry.js';
import { SessionReporting } from './reporting.js';
import { SessionTakeover } from './takeover.js';

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
  private readonly node: NodeContext<S>;
  private readonly touchInterval: number;
  private readonly reporter: ActivityReporter;
  private readonly takeover: SessionTakeover<S>;
  private readonly reporting: SessionReporting<S>;
  private readonly unsubscribe: () => void;
  private readonly listening: Promise<void>;
  private stopListening: (() => Promise<void>) | undefined;
  private tickTimer: unknown;
  private stopped = false;

  constructor(
    private readonly host: ClusterHost<S>,
    options: ClusterOptions,
    sessionMetadata: (initialize: InitializeMessage) => Record<string, unknown>,
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
    const core = host.options;
    this.touchInterval = toMilliseconds('cluster.touchInterval', options.touchInterval ?? '1s');
    const handoffGrace = toMilliseconds('cluster.handoffGrace', options.handoffGrace ?? '30s');
    const limits = {
      maxSessions: core.maxSessions,
      whenFull: core.whenFull,
      maxSessionsPerPrincipal: core.maxSessionsPerPrincipal,
      // The owner's own timers end a session; the record only has to outlive them by a margin
      // covering the reporting lag, and vanish if the owner dies.
      ttlMs: Math.max(core.idleTimeout, core.initTimeout) + Math.max(5_000, 3 * this.touchInterval),
    };
    this.node = { nodeId, registry, limits, host, logger, sessionMetadata, held: new Map<string, Held<S>>() };
    this.reporter = new ActivityReporter({
      registry,
      nodeId,
      clock: core.clock,
      touchInterval: this.touchInterval,
      refreshInterval: Math.max(this.touchInterval, Math.floor(core.idleTimeout / 3)),
      ttlMs: limits.ttlMs,
      settle: (session, outcome) => this.reporting.settle(session as Held<S>, outcome),
      failed: (error) => this.logger?.debug({ err: error }, 'cluster activity report failed'),
    });
    this.takeover = new SessionTakeover(this.node, this.reporter, handoffGrace, this.touchInterval);
    this.reporting = new SessionReporting(this.node, this.reporter, this.takeover);
    this.unsubscribe = host.subscribe((event) => this.reporting.observe(event));
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
    return this.takeover.localSession(sessionId);
  }

  /** @internal Cluster admission: one atomic registry operation, then the local session with the same id. */
  admit(initialize: InitializeMessage, principal: string | undefined): Promise<S> {
    return admitThroughRegistry(this.node, initialize, principal);
  }

  /**
   * @internal A request for a session this node does not hold: claim it in the registry (the previous owner
   * hands it off) and rebuild it here. `undefined` when it is unknown, ended or not the principal's.
   * Concurrent requests for the same session share one takeover.
   */
  recover(sessionId: string, principal: string | undefined): Promise<S | undefined> {
    return this.takeover.recover(sessionId, principal);
  }

  /**
   * @internal Called by the MCP layer once a session's server and transport are connected: a session being
   * taken over gets its handshake replayed before it counts as ready.
   */
  restore(session: S, transport: SessionHttpTransport): Promise<void> {
    return this.takeover.restore(session, transport);
  }

  /** @internal Stops listening and reporting; called once the supervisor has stopped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimer(this.node, this.tickTimer);
    this.unsubscribe();
    // Not waiting for a registry that is down: a subscription made later is undone when it lands.
    const stopListening = () => this.stopListening?.().catch(() => {});
    if (this.stopListening) await stopListening();
    else void this.listening.then(stopListening);
  }

  private onMessage(message: ClusterMessage): void {
    const held = this.node.held.get(message.sessionId);
    if (held === undefined) return;
    if (message.type === 'ended') endHere(this.node, message.sessionId, message.reason);
    else if (message.to !== this.nodeId) this.takeover.handOff(held);
  }

  private async listen(): Promise<void> {
    const { registry, held } = this.node;
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        this.stopListening = await registry.listen(this.nodeId, {
          message: (message) => this.onMessage(message),
          reconnected: () => {
            void this.reporting.reassert([...held.values()]);
          },
        });
        if (attempt > 1) void this.reporting.reassert([...held.values()]);
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
    this.takeover.sweep(this.host.options.clock.now());
    void this.reporter.flushAll();
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
