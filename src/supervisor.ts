// Session ids are uuid v4 (122 random bits; on Node `v4()` draws them from the CSPRNG via crypto.randomUUID).
import { v4 as uuidv4 } from 'uuid';
import type { AnyStateMachine } from 'xstate';
import type {
  SessionEndReason,
  SessionMachineContext,
  SessionStateName,
  SessionTimeouts,
} from '../machines/session.machine.js';
import { notAdmitting, sessionNotFound } from './errors.js';
import type { SupervisorListener } from './events.js';
import { type ResolvedCoreOptions, resolveCoreOptions, toMilliseconds } from './options.js';
import { turnOffAllocationSitePretenuring } from './pretenuring.js';
import { type SessionHost, type SessionInfo, SupervisedSession } from './session.js';
import { type Admission, refusal } from './supervisor/admission.js';
import { Announcer } from './supervisor/announcer.js';
import { Drain } from './supervisor/drain.js';
import { flat, Hibernation } from './supervisor/hibernation.js';
import { ServerLifecycle } from './supervisor/server-lifecycle.js';
import { SessionActors } from './supervisor/session-actors.js';
import { SessionTable } from './supervisor/session-table.js';
import { readStatistics, type SupervisorStatistics } from './supervisor/statistics.js';
import { type SupervisorActor, startSupervisorActor } from './supervisor/supervisor-actor.js';
import type { OpenSessionOptions, SessionSupervisorOptions, ShutdownOptions } from './supervisor/types.js';

export type { SupervisorStatistics } from './supervisor/statistics.js';
export type {
  InspectionObserver,
  OpenSessionOptions,
  SessionSupervisorOptions,
  ShutdownOptions,
} from './supervisor/types.js';

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
  /** The session chart (machine definition) this supervisor's sessions run, e.g. for drawing it. */
  readonly sessionChart: AnyStateMachine;
  private readonly table = new SessionTable<SupervisedSession<TServer>>();
  private readonly actor: SupervisorActor;
  private readonly actors: SessionActors;
  private readonly host: SessionHost;
  private readonly announcer: Announcer;
  private readonly drain: Drain;
  private readonly servers: ServerLifecycle<TServer>;
  private readonly hibernation: Hibernation;
  private admission: Admission | undefined;
  private stopped: Promise<void> | undefined;
  /** Servers `createServer` returned that belong to something else: never closed by a release. */
  protected readonly borrowedServers = new WeakSet<object>();
  /** Refusals after the supervisor actor has stopped, when it can no longer count them itself. */
  private rejectedAfterStop = 0;
  /** Set by the drain's `awaitReleases`: the last disposal is then reported to the supervisor actor. */
  private awaitingReleases = false;

  constructor(options: SessionSupervisorOptions<TServer> = {}) {
    this.options = resolveCoreOptions(options);
    if (this.options.v8Pretenuring === 'off') {
      // Before the first session, while V8 has decided nothing about xstate's allocation sites.
      // A process-wide change: said at info each time a supervisor is created.
      if (turnOffAllocationSitePretenuring() === 'turned-off') {
        options.logger?.info(
          { v8Pretenuring: 'off' },
          "V8's allocation-site pretenuring turned off for this process",
        );
      }
    }
    const clock = this.options.clock;
    const now = (): number => clock.now();
    const { initTimeout, idleTimeout, maxLifetime, disposeTimeout, hibernateAfter } = this.options;
    // One frozen object shared by every session's context: timeouts are the same for all.
    const timeouts: SessionTimeouts = Object.freeze({
      initTimeout,
      idleTimeout,
      maxLifetime,
      disposeTimeout,
      hibernateAfter,
    });
    this.announcer = new Announcer(options.logger, now);
    this.drain = new Drain(now);
    this.servers = new ServerLifecycle({
      createServer: options.createServer,
      serverCreated: (session, server) => this.onServerCreated(session, server),
      borrowed: this.borrowedServers,
      now,
    });
    const table = this.table;
    this.host = {
      now,
      logger: options.logger,
      requestStarted: (session) => table.requestStarted(session as SupervisedSession<TServer>),
      requestEnded: (session) => {
        table.requestEnded(session as SupervisedSession<TServer>);
        this.drain.retireIfSettled(session);
      },
      streamsChanged: (session) => table.refreshStreamsOnly(session as SupervisedSession<TServer>),
      awaken: (session) => this.hibernation.awaken(session),
      endAsleep: (session, close) => this.hibernation.endAsleep(session, close),
    };
    const inspect = options.inspect;
    this.actors = new SessionActors({
      clock,
      timeouts,
      streamsCountAsActivity: this.options.streamsCountAsActivity,
      inspect,
      hooks: {
        entered: (session, context, to, trigger) =>
          this.sessionEntered(session as SupervisedSession<TServer> | undefined, context, to, trigger),
        prepare: (session, self) => this.servers.prepare(session as SupervisedSession<TServer>, self),
        release: (session, self) => this.servers.release(session as SupervisedSession<TServer>, self),
        hibernate: (session) => this.hibernation.requested(session),
      },
    });
    this.sessionChart = this.actors.chart;
    const actors = this.actors;
    this.hibernation = new Hibernation({
      clock,
      idleTimeout,
      maxLifetime,
      restore: (session, snapshot) => actors.restore(session, snapshot),
      placeholder: () => actors.placeholder(),
      release: (session) => this.servers.releaseServerOnly(session as SupervisedSession<TServer>),
      rebuild: (session) => this.servers.rebuild(session as SupervisedSession<TServer>),
      // An inspector should see a hibernated session wake and end: then an actor is restored.
      actorlessLogic: () => (inspect ? undefined : actors.machine),
      standIn: (session, send) => actors.standIn(session, send),
    });
    this.actor = startSupervisorActor(
      {
        maxSessions: this.options.maxSessions,
        whenFull: this.options.whenFull,
        maxSessionsPerPrincipal: this.options.maxSessionsPerPrincipal,
      },
      { clock, inspect },
      {
        approve: (sessionId) => {
          if (this.admission?.sessionId === sessionId) this.admission.approved = true;
        },
        reject: (sessionId, code) => {
          if (this.admission?.sessionId === sessionId) this.admission.rejected = code;
          if (this.announcer.listened) this.announcer.emit({ type: 'rejected', code, at: now() });
        },
        evictLeastRecentlyActiveIdle: (at) => table.registry.leastRecentlyActiveIdle()?.end('evicted', at),
        // Its streams close with its transport; the client re-initializes on the 404 that follows.
        evictLeastRecentlyActiveStreamsOnly: (at) =>
          table.registry.leastRecentlyActiveStreamsOnly()?.end('evicted', at),
        retireSettledSessions: () => this.drain.begin(table.registry.live()),
        retireAllSessions: () => this.drain.retireAll(table.registry.live()),
        awaitReleases: (supervisor) => {
          this.awaitingReleases = true;
          if (table.counts.expired === 0) supervisor.send({ type: 'SESSIONS.RELEASED' });
        },
      },
    );
  }

  /**
   * Admits a new session, or throws a `SupervisorError`: `capacity-exceeded` when every slot is
   * taken and nothing can be evicted, `draining` once shutdown has begun. Admission is synchronous:
   * the slot is reserved before this returns; the server is built afterwards (see `ready()`).
   */
  open(options: OpenSessionOptions = {}): SupervisedSession<TServer> {
    const { clock, retryAfter } = this.options;
    if (this.phase === 'stopped') {
      this.rejectedAfterStop += 1;
      if (this.announcer.listened)
        this.announcer.emit({ type: 'rejected', code: 'draining', at: clock.now() });
      throw notAdmitting('stopped', retryAfter);
    }
    const admission: Admission = {
      sessionId: options.sessionId ?? flat(uuidv4()),
      metadata: options.metadata,
      principal: options.principal,
      rejected: undefined,
      approved: false,
    };
    const { registry } = this.table;
    this.admission = admission;
    try {
      // Two written-out literals, not a conditional spread: a spread into a literal is a runtime
      // call per admission (CopyDataProperties) and gives the event a map of its own.
      this.actor.send(
        options.principal === undefined
          ? {
              type: 'ADMIT',
              sessionId: admission.sessionId,
              at: clock.now(),
              idleSessions: registry.idle.size,
              streamsOnlySessions: registry.streamsOnly.size,
            }
          : {
              type: 'ADMIT',
              sessionId: admission.sessionId,
              at: clock.now(),
              idleSessions: registry.idle.size,
              streamsOnlySessions: registry.streamsOnly.size,
              principalSessions: this.table.heldBy(options.principal),
            },
      );
    } finally {
      this.admission = undefined;
    }
    if (admission.approved) return this.startSession(admission);
    throw refusal(admission.rejected, this.options);
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
    const { listeners } = this.announcer;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** The live session with that id, or `undefined` (unknown, expired or disposed). Not activity. */
  get(sessionId: string): SupervisedSession<TServer> | undefined {
    const session = this.table.get(sessionId);
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
    return Array.from(this.table.registry.live(), (session) => session.info());
  }

  /** Number of live sessions, O(1). */
  get size(): number {
    return this.actor.getSnapshot().context.live;
  }

  get phase(): 'running' | 'draining' | 'stopped' {
    const snapshot = this.actor.getSnapshot();
    if (snapshot.status !== 'active') return 'stopped';
    // `draining` has two steps (retiring, then releasing); the phase is the same for both.
    return snapshot.value === 'running' ? 'running' : 'draining';
  }

  getStatistics(): SupervisorStatistics {
    const context = this.actor.getSnapshot().context;
    const { table } = this;
    return readStatistics({
      phase: this.phase,
      live: context.live,
      admitted: context.admitted,
      rejected: context.rejected + this.rejectedAfterStop,
      ended: context.ended,
      disposed: table.disposed,
      byState: table.counts,
      requestsInFlight: table.inFlight,
      maxSessions: this.options.maxSessions,
      idleTimeout: this.options.idleTimeout,
      oldest: table.registry.oldest(),
      newest: table.registry.newest(),
      hibernation: this.hibernation.counts(),
    });
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

  /**
   * Wakes a hibernated session for a request: its actor is restored from its snapshot and its
   * server rebuilt (once, however many requests arrive together). Resolves at once for a session
   * that is not hibernated. A failed rebuild ends the session with reason `failed`.
   *
   * @example
   * ```ts
   * const session = supervisor.get(id);
   * if (session?.hibernation) await supervisor.wake(session);
   * ```
   */
  wake(session: SupervisedSession<TServer>): Promise<void> {
    return this.hibernation.wake(session);
  }

  /**
   * Calls `listener` with the latency (ms, actor restored → server rebuilt) of every wake-up of a
   * hibernated session, for a histogram; the statistics keep only bucket counts. Returns the
   * function that unsubscribes it.
   *
   * @example
   * ```ts
   * supervisor.subscribeWakeUps((ms) => wakeUpSeconds.observe(ms / 1000));
   * ```
   */
  subscribeWakeUps(listener: (latencyMs: number) => void): () => void {
    this.hibernation.wakeUpListeners.add(listener);
    return () => {
      this.hibernation.wakeUpListeners.delete(listener);
    };
  }

  /**
   * Extension point for embedding layers: runs after `createServer`, before the session counts as
   * prepared (a throw ends the session with reason `failed`). The MCP layer connects the session's
   * transport here and registers its release in `session.cleanups`.
   */
  protected async onServerCreated(_session: SupervisedSession<TServer>, _server: TServer): Promise<void> {}

  private startSession(admission: Admission): SupervisedSession<TServer> {
    const { sessionId, metadata, principal } = admission;
    const createdAt = this.options.clock.now();
    const actor = this.actors.create(sessionId, createdAt);
    const session = new SupervisedSession<TServer>(
      sessionId,
      createdAt,
      metadata,
      principal,
      actor,
      this.host,
    );
    this.table.add(session);
    this.actors.start(actor, session);
    return session;
  }

  private sessionEntered(
    session: SupervisedSession<TServer> | undefined,
    context: SessionMachineContext,
    to: SessionStateName,
    trigger: string,
  ): void {
    if (!session) return;
    const from = this.table.moved(session, to, trigger);
    if (from === undefined) {
      // The initial `created` was counted by admission itself; `idle` re-entered restarts its timer.
      if (to === 'created') this.announcer.transition(session, context, undefined, to, trigger);
      return;
    }
    if (to === 'expired') session.settleEnded();
    if (to === 'disposed') {
      session.settleDisposed({
        sessionId: context.sessionId,
        reason: context.reason ?? 'failed',
        createdAt: context.createdAt,
        endedAt: context.endedAt ?? context.lastActivityAt,
        requests: session.requests,
      });
    }
    this.announcer.transition(session, context, from, to, trigger);
    if (to === 'expired') {
      this.actor.send({ type: 'SESSION.ENDED', sessionId: session.id, reason: context.reason ?? 'failed' });
    } else if (to === 'disposed') {
      // Disposals are no admission news: a running supervisor actor never hears of them.
      if (this.awaitingReleases && this.table.counts.expired === 0)
        this.actor.send({ type: 'SESSIONS.RELEASED' });
    } else if (to === 'idle') {
      this.drain.retireIfSettled(session);
    }
  }
}
