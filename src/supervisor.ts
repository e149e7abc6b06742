// Node's own uuid v4 (122 random bits from its CSPRNG): the `uuid` package adds 38 modules to every import.
import { randomUUID } from 'node:crypto';
import { type Actor, type AnyActorRef, createActor, type InspectionEvent, type Observer } from 'xstate';
import {
  type SessionEndReason,
  type SessionMachineContext,
  type SessionStateName,
  sessionMachine,
  sessionMachineWithoutLifetime,
} from '../machines/session.machine.js';
import {
  type EndCounts,
  type RejectionCode,
  type StateCounts,
  supervisorMachine,
} from '../machines/supervisor.machine.js';
import { capacityExceeded, notAdmitting, principalCapacityExceeded, sessionNotFound } from './errors.js';
import type { SessionTransitionEvent, SupervisorEvent, SupervisorListener } from './events.js';
import { type Logger, logTransition } from './logging.js';
import {
  type Duration,
  type ResolvedCoreOptions,
  resolveCoreOptions,
  type SupervisorCoreOptions,
  toMilliseconds,
} from './options.js';
import { SessionRegistry } from './registry.js';
import { type SessionContext, type SessionHost, type SessionInfo, SupervisedSession } from './session.js';
import { forEachInSlices } from './slices.js';

export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Options of {@link createSessionSupervisor}. */
export interface SessionSupervisorOptions<TServer = unknown> extends SupervisorCoreOptions {
  /**
   * Builds the server of one session (for MCP, an `McpServer` or `Server`). Called once per
   * admitted session, while it is `created`; a throw or rejection ends the session with reason
   * `failed`. Whatever it returns is closed (`close()`, if it has one) when the session expires.
   */
  createServer?: (context: SessionContext) => TServer | Promise<TServer>;
  /** A pino logger: one line per lifecycle transition, and a child per session bound to its id. */
  logger?: Logger;
  /** XState inspection observer given to the supervisor actor and to every session actor. */
  inspect?: InspectionObserver;
}

/** Statistics, every field read in O(1). */
export interface SupervisorStatistics {
  readonly phase: 'running' | 'draining' | 'stopped';
  /** Live sessions: created, active or idle (each holds a slot). */
  readonly liveSessions: number;
  /** @deprecated Counts live sessions, not `byState.active`: use {@link liveSessions}. */
  readonly activeSessions: number;
  readonly maxSessions: number;
  /** The idle timeout, in ms. */
  readonly idleTimeout: number;
  /** @deprecated The original manager's name for {@link idleTimeout}. */
  readonly sessionTimeout: number;
  readonly oldestSession: { readonly id: string; readonly createdAt: number } | undefined;
  readonly newestSession: { readonly id: string; readonly createdAt: number } | undefined;
  readonly byState: Readonly<StateCounts>;
  readonly requestsInFlight: number;
  readonly totals: {
    readonly admitted: number;
    readonly rejected: number;
    readonly evicted: number;
    /** Ended by a timeout: init, idle or lifetime. */
    readonly expired: number;
    readonly deleted: number;
    readonly failed: number;
    readonly shutdown: number;
    readonly disposed: number;
  };
  readonly endedByReason: Readonly<EndCounts>;
}

export interface OpenSessionOptions {
  metadata?: Record<string, unknown>;
  /**
   * Who opens the session (e.g. the subject of a verified token). The session is bound to it, and
   * `maxSessionsPerPrincipal` counts per principal. Anonymous sessions have none.
   */
  principal?: string;
  /**
   * @internal For cluster admission and takeover only: the id the cluster registry reserved (a
   * uuid v4 generated on admission, never client input). Default: a new uuid v4.
   */
  sessionId?: string;
}

export interface ShutdownOptions {
  /** How long in-flight requests may take before the remaining sessions are retired. Default `'10s'`. */
  grace?: Duration;
}

type SupervisorActor = Actor<typeof supervisorMachine>;

interface Admission {
  readonly sessionId: string;
  readonly metadata: Record<string, unknown> | undefined;
  readonly principal: string | undefined;
  rejected: RejectionCode | undefined;
  /** Set by the supervisor's `startSession` action: the slot is reserved. */
  approved: boolean;
}

const hasClose = (value: unknown): value is { close(): unknown } =>
  typeof value === 'object' && value !== null && typeof (value as { close?: unknown }).close === 'function';

/**
 * Admits, tracks and retires sessions, with no HTTP attached. Each session is its own XState actor
 * (its own system, its own timers), so starting or stopping one costs the same at 100 sessions as
 * at 100 000; the supervisor actor owns admission and the counts. `createSessionSupervisor` adds
 * the MCP Streamable HTTP entry points on top.
 *
 * @example
 * ```ts
 * const supervisor = new SessionSupervisor({ maxSessions: 1_000, idleTimeout: '15m', logger: pino() });
 * const session = supervisor.open();
 * await session.ready();
 * session.markInitialized();           // handshake done → idle
 * const done = session.beginRequest(); // → active
 * done();                              // → idle; expires after 15 minutes without requests
 * await supervisor.shutdown({ grace: '10s' });
 * ```
 */
export class SessionSupervisor<TServer = unknown> {
  readonly options: ResolvedCoreOptions;
  private readonly registry = new SessionRegistry<SupervisedSession<TServer>>();
  private readonly actor: SupervisorActor;
  private readonly sessionLogic;
  private readonly host: SessionHost;
  private readonly logger: Logger | undefined;
  private readonly inspect: InspectionObserver | undefined;
  private readonly createServer: SessionSupervisorOptions<TServer>['createServer'];
  private admission: Admission | undefined;
  private inFlight = 0;
  /** Sessions by state, kept by the runtime on each move it is told of: O(1) to read. */
  private readonly counts: StateCounts = { created: 0, active: 0, idle: 0, expired: 0 };
  /** Set by the supervisor's drain entry action, before its snapshot shows `draining`. */
  private draining = false;
  private stopped: Promise<void> | undefined;
  private readonly listeners = new Set<SupervisorListener>();
  /** Servers `createServer` returned that belong to something else: never closed by a release. */
  protected readonly borrowedServers = new WeakSet<object>();
  /** Refusals after the supervisor actor has stopped, when it can no longer count them itself. */
  private rejectedAfterStop = 0;
  /** Live sessions per principal, for `maxSessionsPerPrincipal`; principals with none are dropped. */
  private readonly sessionsByPrincipal = new Map<string, number>();

  constructor(options: SessionSupervisorOptions<TServer> = {}) {
    this.options = resolveCoreOptions(options);
    this.logger = options.logger;
    this.inspect = options.inspect;
    this.createServer = options.createServer;
    const clock = this.options.clock;
    this.host = {
      now: () => clock.now(),
      logger: this.logger,
      requestStarted: (session) => {
        this.inFlight += 1;
        // Idle → active was handled by the move itself; a session kept by streams is busy now.
        if (session.requestsInFlight === 1) this.registry.markBusy(session as SupervisedSession<TServer>);
      },
      requestEnded: (session) => {
        this.inFlight -= 1;
        const supervised = session as SupervisedSession<TServer>;
        if (supervised.requestsInFlight === 0) this.refreshStreamsOnly(supervised);
        this.retireIfDraining(supervised);
      },
      streamsChanged: (session) => this.refreshStreamsOnly(session as SupervisedSession<TServer>),
    };
    const provided = {
      actions: {
        notifyEntered: (
          { context, event }: { context: SessionMachineContext; event: { type: string } },
          { state }: { state: SessionStateName },
        ) => this.sessionEntered(context, state, event.type),
        notifyPrepared: ({ context }: { context: SessionMachineContext }) =>
          this.registry.get(context.sessionId)?.settlePrepared(),
        prepareServer: ({ context, self }: { context: SessionMachineContext; self: AnyActorRef }) =>
          this.prepare(context.sessionId, self),
        releaseServer: ({ context, self }: { context: SessionMachineContext; self: AnyActorRef }) =>
          this.release(context, self),
      },
    };
    // Without a lifetime the chart has no lifetime timer: nothing is armed that could never fire.
    this.sessionLogic =
      this.options.maxLifetime === undefined
        ? sessionMachineWithoutLifetime.provide(provided)
        : sessionMachine.provide(provided);
    const logic = supervisorMachine.provide({
      actions: {
        // The actor is created right after the transition, not inside it: creating one evaluates
        // its initial `assign`, which xstate forbids inside another actor's custom action.
        startSession: (_, { sessionId }) => {
          if (this.admission?.sessionId === sessionId) this.admission.approved = true;
        },
        rejectAdmission: (_, { sessionId, code }) => {
          if (this.admission?.sessionId === sessionId) this.admission.rejected = code;
          if (this.listeners.size > 0) this.emit({ type: 'rejected', code, at: clock.now() });
        },
        evictLeastRecentlyActiveIdle: (_, { at }) => {
          this.registry.leastRecentlyActiveIdle()?.end('evicted', at);
        },
        evictLeastRecentlyActiveStreamsOnly: (_, { at }) => {
          // Its streams close with its transport; the client re-initializes on the 404 that follows.
          this.registry.leastRecentlyActiveStreamsOnly()?.end('evicted', at);
        },
        retireSettledSessions: () => {
          this.draining = true;
          forEachInSlices([...this.registry.live()], (session) => this.retireIfDraining(session));
        },
        retireAllSessions: () => {
          forEachInSlices([...this.registry.live()], (session) => {
            if (session.isLive) session.end('shutdown', clock.now());
          });
        },
        forgetSession: (_, { sessionId }) => {
          const session = this.registry.get(sessionId);
          if (session) this.registry.remove(session);
        },
      },
    });
    this.actor = createActor(logic, {
      id: 'supervisor',
      input: {
        maxSessions: this.options.maxSessions,
        whenFull: this.options.whenFull,
        maxSessionsPerPrincipal: this.options.maxSessionsPerPrincipal,
      },
      clock,
      ...(this.inspect ? { inspect: this.inspect } : {}),
    });
    this.actor.start();
  }

  /**
   * Admits a new session, or throws a `SupervisorError`: `capacity-exceeded` when every slot is
   * taken and nothing can be evicted, `draining` once shutdown has begun. Admission is synchronous:
   * the slot is reserved before this returns; the server is built afterwards (see `ready()`).
   */
  open(options: OpenSessionOptions = {}): SupervisedSession<TServer> {
    if (this.phase === 'stopped') {
      this.rejectedAfterStop += 1;
      if (this.listeners.size > 0)
        this.emit({ type: 'rejected', code: 'draining', at: this.options.clock.now() });
      throw notAdmitting('stopped', this.options.retryAfter);
    }
    const admission: Admission = {
      sessionId: options.sessionId ?? randomUUID(),
      metadata: options.metadata,
      principal: options.principal,
      rejected: undefined,
      approved: false,
    };
    this.admission = admission;
    try {
      this.actor.send({
        type: 'ADMIT',
        sessionId: admission.sessionId,
        at: this.options.clock.now(),
        idleSessions: this.registry.idle.size,
        streamsOnlySessions: this.registry.streamsOnly.size,
        ...(options.principal === undefined
          ? {}
          : { principalSessions: this.sessionsByPrincipal.get(options.principal) ?? 0 }),
      });
    } finally {
      this.admission = undefined;
    }
    if (admission.approved) return this.startSession(admission);
    const { retryAfter, maxSessions, maxSessionsPerPrincipal } = this.options;
    if (admission.rejected === 'draining') throw notAdmitting('draining', retryAfter);
    if (admission.rejected === 'principal-capacity' && maxSessionsPerPrincipal !== undefined) {
      throw principalCapacityExceeded(maxSessionsPerPrincipal, retryAfter);
    }
    throw capacityExceeded(maxSessions, retryAfter);
  }

  /**
   * Calls `listener` synchronously on every session transition and every refused admission (for
   * metrics, live views, audit). Returns the function that unsubscribes it.
   *
   * @example
   * ```ts
   * const stop = supervisor.subscribe((event) => {
   *   if (event.type === 'transition' && event.to === 'expired') console.log(event.sessionId, event.reason);
   * });
   * ```
   */
  subscribe(listener: SupervisorListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The live session with that id, or `undefined` (unknown, expired or disposed). Not activity. */
  get(sessionId: string): SupervisedSession<TServer> | undefined {
    const session = this.registry.get(sessionId);
    return session?.isLive ? session : undefined;
  }

  has(sessionId: string): boolean {
    return this.get(sessionId) !== undefined;
  }

  /** Ends a live session (default reason `deleted`). Returns whether there was one to end. */
  close(sessionId: string, reason: SessionEndReason = 'deleted'): boolean {
    const session = this.get(sessionId);
    if (!session) return false;
    session.end(reason, this.options.clock.now());
    return true;
  }

  /** Like {@link get} but throws `session-not-found`. */
  require(sessionId: string): SupervisedSession<TServer> {
    const session = this.get(sessionId);
    if (!session) throw sessionNotFound(sessionId);
    return session;
  }

  /** Live sessions, oldest first. O(n): meant for admin views, not for request paths. */
  sessions(): SessionInfo[] {
    return Array.from(this.registry.live(), (session) => session.info());
  }

  /** Number of live sessions, O(1). */
  get size(): number {
    return this.actor.getSnapshot().context.live;
  }

  get phase(): 'running' | 'draining' | 'stopped' {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status !== 'active') return 'stopped';
    return snapshot.value as 'running' | 'draining';
  }

  getStatistics(): SupervisorStatistics {
    const context = this.actor.getSnapshot().context;
    const oldest = this.registry.oldest();
    const newest = this.registry.newest();
    const { ended } = context;
    return {
      phase: this.phase,
      liveSessions: context.live,
      activeSessions: context.live,
      maxSessions: this.options.maxSessions,
      idleTimeout: this.options.idleTimeout,
      sessionTimeout: this.options.idleTimeout,
      oldestSession: oldest && { id: oldest.id, createdAt: oldest.createdAt },
      newestSession: newest && { id: newest.id, createdAt: newest.createdAt },
      byState: { ...this.counts },
      requestsInFlight: this.inFlight,
      totals: {
        admitted: context.admitted,
        rejected: context.rejected + this.rejectedAfterStop,
        evicted: ended.evicted,
        expired: ended['init-timeout'] + ended['idle-timeout'] + ended.lifetime,
        deleted: ended.deleted,
        failed: ended.failed,
        shutdown: ended.shutdown,
        disposed: context.disposed,
      },
      endedByReason: { ...ended },
    };
  }

  /**
   * Stops admitting (new sessions get `draining`), retires each session as soon as it has no
   * request in flight, retires the rest with reason `shutdown` when `grace` runs out, and resolves
   * once every session is disposed. Calling it again returns the same promise.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.stopped) return this.stopped;
    // 0 means: retire every session now, in-flight requests included.
    const grace = options.grace === 0 ? 0 : toMilliseconds('grace', options.grace ?? '10s');
    this.stopped = new Promise<void>((resolve) => {
      const subscription = this.actor.subscribe({
        complete: () => {
          subscription.unsubscribe();
          resolve();
        },
      });
    });
    this.actor.send({ type: 'SHUTDOWN', grace });
    return this.stopped;
  }

  private startSession(admission: Admission): SupervisedSession<TServer> {
    const { sessionId, metadata, principal } = admission;
    const createdAt = this.options.clock.now();
    const { initTimeout, idleTimeout, maxLifetime, disposeTimeout, streamsCountAsActivity } = this.options;
    const actor = createActor(this.sessionLogic, {
      id: `session:${sessionId}`,
      input: {
        sessionId,
        createdAt,
        timeouts: { initTimeout, idleTimeout, maxLifetime, disposeTimeout },
        streamsCountAsActivity,
      },
      clock: this.options.clock,
      ...(this.inspect ? { inspect: this.inspect } : {}),
    });
    const session = new SupervisedSession<TServer>(
      sessionId,
      createdAt,
      metadata,
      principal,
      actor,
      this.host,
    );
    this.registry.add(session);
    this.counts.created += 1;
    if (principal !== undefined) {
      this.sessionsByPrincipal.set(principal, (this.sessionsByPrincipal.get(principal) ?? 0) + 1);
    }
    actor.start();
    return session;
  }

  private sessionEntered(context: SessionMachineContext, to: SessionStateName, trigger: string): void {
    const session = this.registry.get(context.sessionId);
    if (!session) return;
    const from = session.state;
    if (to === 'idle') this.registry.markIdle(session);
    if (from === to) {
      // The initial `created` was counted by admission itself; `idle` re-entered restarts its timer.
      if (to === 'created') this.announce(session, context, undefined, to, trigger);
      return;
    }
    session.state = to;
    this.counts[from as keyof StateCounts] -= 1;
    if (to !== 'disposed') this.counts[to] += 1;
    if (to === 'active') this.refreshStreamsOnly(session);
    if (to === 'expired') {
      this.registry.markEnded(session);
      // Requests still open die with the session; their late `done()` calls are no-ops.
      this.inFlight -= session.requestsInFlight;
      this.releasePrincipalSlot(session.principal);
      session.settleEnded();
    }
    if (to === 'disposed') {
      session.settleDisposed({
        sessionId: context.sessionId,
        reason: context.reason ?? 'failed',
        createdAt: context.createdAt,
        endedAt: context.endedAt ?? context.lastActivityAt,
        requests: session.requests,
      });
    }
    this.announce(session, context, from, to, trigger);
    if (to === 'expired') {
      this.actor.send({ type: 'SESSION.ENDED', sessionId: session.id, reason: context.reason ?? 'failed' });
    } else if (to === 'disposed') {
      this.actor.send({ type: 'SESSION.DISPOSED', sessionId: session.id });
    } else if (to === 'idle') {
      this.retireIfDraining(session);
    }
  }

  /**
   * Keeps the second eviction order: an active session with no request in flight is kept active by
   * its open streams only, and moves to the most recent end on each such activity.
   */
  private refreshStreamsOnly(session: SupervisedSession<TServer>): void {
    if (session.state !== 'active') return;
    if (session.requestsInFlight === 0 && session.openStreams > 0) this.registry.markStreamsOnly(session);
    else this.registry.markBusy(session);
  }

  private releasePrincipalSlot(principal: string | undefined): void {
    if (principal === undefined) return;
    const held = (this.sessionsByPrincipal.get(principal) ?? 1) - 1;
    if (held > 0) this.sessionsByPrincipal.set(principal, held);
    else this.sessionsByPrincipal.delete(principal);
  }

  /** Logs the transition and tells the subscribers; builds nothing when nobody listens. */
  private announce(
    session: SupervisedSession<TServer>,
    context: SessionMachineContext,
    from: SessionStateName | undefined,
    to: SessionStateName,
    trigger: string,
  ): void {
    if (!this.logger && this.listeners.size === 0) return;
    const event: SessionTransitionEvent = {
      type: 'transition',
      sessionId: context.sessionId,
      from,
      to,
      reason: context.reason,
      trigger,
      at: this.options.clock.now(),
      createdAt: context.createdAt,
      lastActivityAt: session.lastActivityAt,
      requests: session.requests,
      releaseIncomplete: context.releaseIncomplete,
    };
    if (this.logger) logTransition(this.logger, event);
    this.emit(event);
  }

  private emit(event: SupervisorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A faulty observer must not break the lifecycle of the sessions it observes.
        this.logger?.error({ err: error }, 'a supervisor event listener threw');
      }
    }
  }

  /**
   * The `prepareServer` entry action: builds the server outside the machine and reports back with
   * `PREPARED` or `PREPARE.FAILED` (no child actor, no AbortController per session). A session that
   * ended meanwhile hears nothing; what was built for it is released here.
   */
  private prepare(sessionId: string, self: AnyActorRef): void {
    const session = this.registry.get(sessionId);
    if (!session) return;
    this.build(session).then(
      () => {
        if (session.isLive) self.send({ type: 'PREPARED' });
      },
      (error: unknown) => {
        if (session.isLive) self.send({ type: 'PREPARE.FAILED', at: this.options.clock.now(), error });
      },
    );
  }

  private async build(session: SupervisedSession<TServer>): Promise<void> {
    let server: TServer | undefined;
    try {
      server = this.createServer ? await this.createServer(session.context) : undefined;
      if (session.isLive && server !== undefined) await this.onServerCreated(session, server);
    } catch (error) {
      session.logger?.error({ err: error }, 'building the session server failed');
      // Left for the session's own release, which runs under `disposeTimeout` once the failure
      // has moved it to `expired`.
      if (session.isLive) session.server = server;
      else this.releaseLate(session, server);
      throw error;
    }
    if (!session.isLive) {
      // The session ended (init timeout, shutdown) while its server was being built: its release
      // has already run, so nothing else will ever close what was built for it.
      this.releaseLate(session, server);
      return;
    }
    // `ready()` resolves when the machine takes the `PREPARED` report (notifyPrepared).
    session.server = server;
  }

  /**
   * The `releaseServer` entry action: releases outside the machine and reports `RELEASED` or
   * `RELEASE.FAILED`. A session that holds nothing is reported released at once (the event is
   * queued behind the current transition, so the machine still passes through `expired`).
   */
  private release(context: SessionMachineContext, self: AnyActorRef): void {
    const session = this.registry.get(context.sessionId);
    // Release steps run inside this transition, before the actor's snapshot shows the end.
    if (session) session.endReason = context.reason;
    if (!session || (session.cleanups === undefined && session.server === undefined)) {
      self.send({ type: 'RELEASED' });
      return;
    }
    this.releaseResources(session).then(
      () => {
        if (session.state === 'expired') self.send({ type: 'RELEASED' });
      },
      (error: unknown) => {
        if (session.state === 'expired') self.send({ type: 'RELEASE.FAILED', error });
      },
    );
  }

  /** Releases what arrived after the session's own release ran; failures are logged there. */
  private releaseLate(session: SupervisedSession<TServer>, server: TServer | undefined): void {
    this.releaseResources(session, server).catch(() => {});
  }

  /**
   * Extension point for embedding layers: runs after `createServer`, before the session counts as
   * prepared (a throw ends the session with reason `failed`). The MCP layer connects the session's
   * transport here and registers its release in `session.cleanups`.
   */
  protected async onServerCreated(_session: SupervisedSession<TServer>, _server: TServer): Promise<void> {}

  /**
   * Runs the session's cleanups (last registered first), then closes its server. Every step runs
   * even if an earlier one fails; the first failure is rethrown so the session is marked as not
   * fully released.
   */
  private async releaseResources(session: SupervisedSession<TServer>, server?: TServer): Promise<void> {
    const steps = [...(session.cleanups ?? []).reverse()];
    session.cleanups = undefined;
    const target = server ?? session.server;
    session.server = undefined;
    if (hasClose(target) && !this.borrowedServers.has(target)) steps.push(() => target.close());
    let failure: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failure ??= error;
        session.logger?.error({ err: error }, 'releasing a session resource failed');
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** During a drain, a session with no request in flight has nothing left to finish. */
  private retireIfDraining(session: SupervisedSession<TServer>): void {
    if (!this.draining || !session.isLive || session.requestsInFlight > 0) return;
    session.end('shutdown', this.options.clock.now());
  }
}
