import type { Actor } from 'xstate';
import type {
  AnySessionMachine,
  SessionEndReason,
  SessionOutput,
  SessionStateName,
} from '../machines/session.machine.js';
import { sessionNotFound } from './errors.js';
import type { Logger } from './logging.js';
import type { RecencyList, RegistryEntry } from './registry.js';

/** A point-in-time description of one session, safe to serialize. */
export interface SessionInfo {
  readonly id: string;
  readonly state: SessionStateName;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  readonly requestsInFlight: number;
  readonly openStreams: number;
  /** Requests started over the session's life. */
  readonly requests: number;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
}

/** What `createServer` receives for each session. */
export interface SessionContext {
  readonly sessionId: string;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** A child of the supervisor's logger bound to `sessionId` (created on first use). */
  readonly logger: Logger | undefined;
  /**
   * True when the server is being rebuilt for a session that hibernated: its handshake is replayed,
   * but server state changed after the handshake (log level, subscriptions, pending server→client
   * requests) is not restored.
   */
  readonly restored?: boolean;
}

/** The runtime side a session needs; implemented by the supervisor. */
export interface SessionHost {
  now(): number;
  logger: Logger | undefined;
  requestStarted(session: SupervisedSession<unknown>): void;
  requestEnded(session: SupervisedSession<unknown>): void;
  /** A stream opened or closed: the session may have become (or stopped being) kept only by streams. */
  streamsChanged(session: SupervisedSession<unknown>): void;
  /** Restores a hibernated session's actor (synchronously) before anything is sent to it. */
  awaken(session: SupervisedSession<unknown>): void;
  /** Ends a hibernated session with `close` without restoring its actor; `false` if it needs one. */
  endAsleep(
    session: SupervisedSession<unknown>,
    close: { type: 'CLOSE'; reason: SessionEndReason; at: number; requests: number },
  ): boolean;
}

export type SessionActor = Actor<AnySessionMachine>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** `mayReject`: whether `reject` is ever called (a handler is attached then, see below). */
function deferred<T>(mayReject: boolean): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A session that ends before anyone awaited it must not raise an unhandled rejection. A promise
  // that only ever resolves needs no handler (one more promise and closure per awaited session).
  if (mayReject) promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * A handle on one supervised session. Requests report through it, so the session knows when it
 * is busy and when it may go idle; everything else (timeouts, eviction, disposal) happens to it.
 *
 * @example
 * ```ts
 * const session = supervisor.open({ metadata: { client: 'inspector' } });
 * const server = await session.ready();
 * session.markInitialized();
 * const done = session.beginRequest();
 * try { await handle(server); } finally { done(); }
 * ```
 */
export class SupervisedSession<TServer = unknown> implements RegistryEntry {
  // Declared first, in this order, on purpose: the fields every request reads or writes sit together
  // in the object (after the constructor's parameters), so a request to a session whose object is
  // cold in the cache (a rotation through 100 000 sessions) misses fewer cache lines.
  state: SessionStateName = 'created';
  /**
   * Set while the session hibernates: its persisted snapshot (compact JSON). Its actor is stopped;
   * {@link SessionHost.awaken} restores it. Two fields, not one object holding both: one heap object
   * less per hibernated session (a million of them are what an expiry storm's collector marks).
   */
  hibernation: string | undefined = undefined;
  /**
   * Exact activity counts, kept here rather than in the actor: the machine is told only the edges
   * (none → some requests, some → none), so a request nested in a busy session costs two integer
   * updates and no macrostep. {@link info} reads these.
   */
  private inFlight = 0;
  private started = 0;
  private streams = 0;
  private lastActivity: number;

  lessRecent: RegistryEntry | undefined = undefined;
  moreRecent: RegistryEntry | undefined = undefined;
  recencyList: RecencyList<RegistryEntry> | undefined = undefined;
  server: TServer | undefined = undefined;
  olderLive: RegistryEntry | undefined = undefined;
  newerLive: RegistryEntry | undefined = undefined;
  onLiveList = false;
  /** While hibernated: the clock handle of its wake-up at its deadline. */
  wakeUp: unknown = undefined;
  /** Set while a woken session's server is being rebuilt; concurrent requests share it. */
  waking: Promise<void> | undefined = undefined;
  /** True while `createServer` rebuilds the server of a woken session. */
  restoring = false;
  /** Why the session ended, set as it starts releasing; `undefined` while it is live. */
  endReason: SessionEndReason | undefined = undefined;
  /** Release steps registered by the embedding layer (transport, event store), run last-in first-out. */
  cleanups: Array<() => unknown> | undefined = undefined;
  private readyState: Deferred<TServer | undefined> | undefined = undefined;
  private disposal: Deferred<SessionOutput> | undefined = undefined;
  private output: SessionOutput | undefined = undefined;
  private childLogger: Logger | undefined = undefined;
  private prepared = false;
  constructor(
    readonly id: string,
    readonly createdAt: number,
    readonly metadata: Readonly<Record<string, unknown>> | undefined,
    /** Who opened the session; requests from anyone else are answered as if it did not exist. */
    readonly principal: string | undefined,
    /** Replaced when a hibernated session wakes up (a new actor from its persisted snapshot). */
    public actor: SessionActor,
    private readonly host: SessionHost,
  ) {
    this.lastActivity = createdAt;
  }

  /** True while the session can serve requests (created, active or idle). */
  get isLive(): boolean {
    return this.state === 'created' || this.state === 'active' || this.state === 'idle';
  }

  /** Requests in flight right now (exact, nested ones included). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Open GET streams right now. */
  get openStreams(): number {
    return this.streams;
  }

  /** Requests started over the session's life. */
  get requests(): number {
    return this.started;
  }

  /**
   * The machine stamps the handshake, streams and the end of each busy spell; the start of a spell
   * and nested requests are stamped here only. Both are clock times of activities, so the later one
   * is the last activity.
   */
  get lastActivityAt(): number {
    return Math.max(this.lastActivity, this.actor.getSnapshot().context.lastActivityAt);
  }

  /** A logger bound to this session's id; `undefined` when the supervisor has none. */
  get logger(): Logger | undefined {
    if (this.childLogger === undefined && this.host.logger !== undefined) {
      this.childLogger = this.host.logger.child({ sessionId: this.id });
    }
    return this.childLogger;
  }

  get context(): SessionContext {
    const session = this;
    return {
      sessionId: this.id,
      metadata: this.metadata,
      // Built when `createServer` asks for it: a pino child per session cost 11–16 µs even when silent.
      get logger() {
        return session.logger;
      },
      restored: this.restoring,
    };
  }

  info(): SessionInfo {
    return {
      id: this.id,
      state: this.state,
      createdAt: this.createdAt,
      lastActivityAt: this.lastActivityAt,
      requestsInFlight: this.inFlight,
      openStreams: this.streams,
      requests: this.started,
      metadata: this.metadata,
    };
  }

  /**
   * Counts a request as in flight until the returned function is called (calling it again is a
   * no-op). Throws `session-not-found` if the session is no longer live.
   */
  beginRequest(): () => void {
    this.assertLive();
    if (this.hibernation) this.wakeOrThrow();
    const at = this.host.now();
    this.started += 1;
    this.lastActivity = at;
    this.inFlight += 1;
    // Only the first request of a busy spell is news to the machine, and none before the handshake:
    // `INITIALIZED` carries the count then. Every event carries the exact count, so the machine
    // counts nothing itself (its idle → active move then copies no context).
    if (this.inFlight === 1 && this.state !== 'created') {
      this.actor.send({ type: 'REQUEST.START', at, requests: this.started, requestsInFlight: 1 });
    }
    this.host.requestStarted(this as SupervisedSession<unknown>);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      // Once the session has ended, its open requests were written off with it.
      if (!this.isLive) return;
      const endedAt = this.host.now();
      this.lastActivity = endedAt;
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.state !== 'created') {
        this.actor.send({ type: 'REQUEST.END', at: endedAt, requests: this.started, requestsInFlight: 0 });
      }
      this.host.requestEnded(this as SupervisedSession<unknown>);
    };
  }

  /**
   * Records client activity that is no request: a POST of notifications only (or of the client's
   * answers to the server's requests), which the transport answers `202` at once. An idle session
   * stays `idle` and its idle timer starts again, in one step of its machine (`ACTIVITY`); a busy
   * one records nothing more (its machine stamps the end of the busy spell). Counted neither in
   * `requests` nor in `requestsInFlight`. Throws `session-not-found` if the session is not live.
   *
   * @example
   * ```ts
   * session.recordActivity(); // a notifications/initialized POST
   * ```
   */
  recordActivity(): void {
    this.assertLive();
    if (this.hibernation) this.wakeOrThrow();
    const at = this.host.now();
    this.lastActivity = at;
    if (this.state === 'idle') this.actor.send({ type: 'ACTIVITY', at });
  }

  /** Counts an open GET (SSE) stream until the returned function is called. */
  openStream(): () => void {
    this.assertLive();
    if (this.hibernation) this.wakeOrThrow();
    const at = this.host.now();
    this.lastActivity = at;
    this.streams += 1;
    this.actor.send({ type: 'STREAM.OPEN', at, requestsInFlight: this.inFlight });
    this.host.streamsChanged(this as SupervisedSession<unknown>);
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      if (!this.isLive) return;
      const closedAt = this.host.now();
      this.lastActivity = closedAt;
      this.streams -= 1;
      this.actor.send({ type: 'STREAM.CLOSE', at: closedAt, requestsInFlight: this.inFlight });
      this.host.streamsChanged(this as SupervisedSession<unknown>);
    };
  }

  /** @internal Ends the session (the supervisor's `close`); the machine records the exact request total. */
  end(reason: SessionEndReason, at: number): void {
    const close = { type: 'CLOSE', reason, at, requests: this.started } as const;
    // A hibernated session ends on its snapshot, with no actor restored, whenever it can.
    if (this.hibernation && this.host.endAsleep(this as SupervisedSession<unknown>, close)) return;
    if (this.hibernation) this.host.awaken(this as SupervisedSession<unknown>);
    this.actor.send(close);
  }

  /** Reports that the `initialize` handshake completed; ignored until {@link ready} has resolved. */
  markInitialized(): void {
    // A handshake cannot have completed on a server that was not built yet.
    if (!this.prepared) return;
    this.actor.send({ type: 'INITIALIZED', at: this.host.now(), requestsInFlight: this.inFlight });
  }

  /** Resolves with the session's server once it is built; rejects if the session ends first. */
  ready(): Promise<TServer | undefined> {
    if (this.prepared) return Promise.resolve(this.server);
    if (!this.isLive) return Promise.reject(sessionNotFound(this.id));
    this.readyState ??= deferred(true);
    return this.readyState.promise;
  }

  /** Resolves with the session's output once it is disposed. */
  whenDisposed(): Promise<SessionOutput> {
    if (this.output) return Promise.resolve(this.output);
    // Never rejected: a session is always disposed in the end.
    this.disposal ??= deferred(false);
    return this.disposal.promise;
  }

  /**
   * @internal Called by the runtime once the server is built and connected: whoever awaits
   * {@link ready} may call {@link markInitialized} at once.
   */
  settlePrepared(): void {
    this.prepared = true;
    this.readyState?.resolve(this.server);
    // Settled for good: `ready()` answers from `prepared` from now on, so the idle session keeps no promise.
    this.readyState = undefined;
  }

  /**
   * @internal The session hibernated: its stopped actor is dropped for `placeholder` (one shared,
   * never-started actor), so nothing of it stays in memory but the persisted snapshot; `ready()`
   * waits for the server's rebuild.
   */
  settleHibernated(placeholder: SessionActor): void {
    this.lastActivity = this.lastActivityAt;
    this.actor = placeholder;
    this.prepared = false;
  }

  /** @internal Called by the runtime when the session leaves the live states. */
  settleEnded(): void {
    // Built only when someone waits: most sessions end long after anybody awaited `ready()`.
    if (this.readyState && !this.prepared) this.readyState.reject(sessionNotFound(this.id));
  }

  /** @internal Called by the runtime when the session is disposed. */
  settleDisposed(output: SessionOutput): void {
    this.output = output;
    this.disposal?.resolve(output);
  }

  /** Restores the hibernated actor; a wake-up at or past a deadline ends the session instead. */
  private wakeOrThrow(): void {
    this.host.awaken(this as SupervisedSession<unknown>);
    this.assertLive();
  }

  private assertLive(): void {
    if (!this.isLive) throw sessionNotFound(this.id);
  }
}
