/**
 * Property-based tests of the supervisor runtime: fast-check generates sequences of commands
 * (open, initialize, requests, streams, close, lookups, time steps, shutdown), runs them against
 * `createSessionSupervisor` on a `SimulatedClock`, and after every command compares the runtime
 * with a small model of the spec's lifecycle table.
 *
 * Each `it` states one law. Every run also checks the model's own integrity (each session is in
 * the state the lifecycle table predicts, with the counts and last activity the model expects;
 * admissions succeed or fail as predicted): if that fails, either the model or the lifecycle is
 * wrong, and every law fails with it.
 *
 * Reading a counterexample: commands name their target by an index into a list, taken modulo
 * its length, each list in opening order: `live[i]` the live sessions, `created[i]` those whose
 * server is built and whose handshake has not happened, `requests[i]` / `streams[i]` the requests
 * and streams not yet ended (of live or ended sessions), `all[i]` every admitted session. After
 * the commands, each run winds down with `Shutdown(grace=1), Advance(10000), Advance(1000)`.
 *
 * Timing: all steps are multiples of 10 ms and each timeout has its own remainder modulo 10, so
 * no two kinds of timer ever fall due at the same instant (the order of such ties is up to the
 * clock's sort). Besides random small and large steps, `AdvanceTo` steps to the grid point just
 * before or just after the next deadline, so each timeout is checked at its edge. Remember that
 * `SimulatedClock.increment` runs every due timer at the *new* time: a timer started during that
 * flush (the dispose deadline of a session that just timed out) starts at the new time, so chained
 * timeouts take separate steps.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createSessionSupervisor,
  isSupervisorError,
  type SessionEndReason,
  type SessionOutput,
  type SessionStateName,
  type SessionSupervisor,
  type SupervisedSession,
  type WhenFull,
} from '../src/index.js';

const STEP = 10;
const INIT_TIMEOUT = 303; // ≡ 3 (mod 10)
const IDLE_TIMEOUT = 1_000; // ≡ 0: idle timers start at multiples of 10
const MAX_LIFETIME = 5_005; // ≡ 5
const DISPOSE_TIMEOUT = 207; // ≡ 7
const graceOf = (units: number): number => units * STEP + 1; // ≡ 1

const SEED = 20_261_123;
const NUM_RUNS = 200;

// ---------------------------------------------------------------------------------------------
// The world: configuration, the real supervisor and the model
// ---------------------------------------------------------------------------------------------

type Phase = 'running' | 'draining' | 'stopped';
type Build = 'sync' | 'async' | 'fail' | 'hang';
type Release = 'ok' | 'throw' | 'hang';

interface Config {
  readonly maxSessions: number;
  readonly whenFull: WhenFull;
  readonly streamsCountAsActivity: boolean;
  readonly maxLifetime: number | undefined;
}

/** What a session's metadata tells the test's `createServer`: how to build, how `close()` behaves. */
type Metadata = {
  readonly build: Build;
  readonly release: Release;
  readonly client: string;
  readonly tags: readonly number[];
};

/** The laws a test checks; the model's integrity is always checked. */
type Law = 'admission' | 'counts' | 'totals' | 'in-flight' | 'disposal';

interface TestServer {
  readonly sessionId: string;
  closes: number;
  close(): Promise<void>;
}

interface ModelSession {
  readonly id: string;
  readonly ordinal: number;
  readonly handle: SupervisedSession<TestServer>;
  readonly metadata: Metadata;
  readonly createdAt: number;
  state: SessionStateName;
  /** The server was built (the session was prepared) before the session ended. */
  built: boolean;
  lastActivityAt: number;
  /** Order of the last activity among all sessions' activities (ties in time are still ordered). */
  lastActivitySeq: number;
  /** When the current idle timer started (entering `idle`, or re-entering it). */
  idleTimerStart: number;
  inFlight: number;
  streams: number;
  requests: number;
  reason: SessionEndReason | undefined;
  /** Clock time at which the session entered `expired` (its dispose deadline starts then). */
  expiredAt: number | undefined;
  /**
   * The `endedAt` its output must report: the deadline of its own timer (init, idle, lifetime),
   * else the clock time of the event that ended it (a close, an eviction, the drain's grace).
   */
  endedAt: number | undefined;
  // Observed on the real session:
  resolutions: number;
  output: SessionOutput | undefined;
  disposedSeenAt: number | undefined;
}

interface RequestHandle {
  readonly session: ModelSession;
  readonly done: () => void;
  ended: boolean;
}

interface StreamHandle {
  readonly session: ModelSession;
  readonly close: () => void;
  closed: boolean;
}

const LIVE: ReadonlySet<SessionStateName> = new Set(['created', 'active', 'idle']);
const isLive = (s: ModelSession): boolean => LIVE.has(s.state);

class Model {
  now = 0;
  phase: Phase = 'running';
  shutdownAt: number | undefined;
  grace = 0;
  graceFired = false;
  admitted = 0;
  refused = 0;
  readonly sessions: ModelSession[] = [];
  readonly requests: RequestHandle[] = [];
  readonly streams: StreamHandle[] = [];
  readonly ended: Record<SessionEndReason, number> = {
    'init-timeout': 0,
    'idle-timeout': 0,
    lifetime: 0,
    deleted: 0,
    evicted: 0,
    shutdown: 0,
    failed: 0,
    moved: 0,
  };

  constructor(
    readonly config: Config,
    readonly laws: ReadonlySet<Law>,
  ) {}

  live(): ModelSession[] {
    return this.sessions.filter(isLive);
  }

  idle(): ModelSession[] {
    return this.sessions.filter((s) => s.state === 'idle');
  }

  /** Active sessions with no request in flight, kept active by open GET streams only. */
  streamsOnly(): ModelSession[] {
    return this.sessions.filter((s) => s.state === 'active' && s.inFlight === 0 && s.streams > 0);
  }

  /** Sessions that can still answer `initialize`: created, and their server is built. */
  initializable(): ModelSession[] {
    return this.sessions.filter((s) => s.state === 'created' && s.built);
  }

  openRequests(): RequestHandle[] {
    return this.requests.filter((r) => !r.ended);
  }

  openStreams(): StreamHandle[] {
    return this.streams.filter((s) => !s.closed);
  }

  /** What `open()` must do now. */
  expectedAdmission(): 'admit' | 'evict' | 'capacity-exceeded' | 'draining' {
    if (this.phase !== 'running') return 'draining';
    if (this.live().length < this.config.maxSessions) return 'admit';
    if (this.config.whenFull !== 'evict-idle-lru') return 'capacity-exceeded';
    // Idle sessions first, then those kept only by streams; never one with a request in flight.
    if (this.idle().length > 0 || this.streamsOnly().length > 0) return 'evict';
    return 'capacity-exceeded';
  }

  private activities = 0;

  nextActivity(): number {
    this.activities += 1;
    return this.activities;
  }

  /** Client activity on a session: a request or stream starting or ending, the handshake. */
  touch(s: ModelSession): void {
    s.lastActivityAt = this.now;
    s.lastActivitySeq = this.nextActivity();
  }

  busy(s: ModelSession): boolean {
    return s.inFlight > 0 || (this.config.streamsCountAsActivity && s.streams > 0);
  }

  enterIdle(s: ModelSession): void {
    s.state = 'idle';
    s.idleTimerStart = this.now;
  }

  end(s: ModelSession, reason: SessionEndReason, endedAt: number = this.now): void {
    s.state = 'expired';
    s.reason = reason;
    s.expiredAt = this.now;
    s.endedAt = endedAt;
    this.ended[reason] += 1;
  }

  /** A release that hangs holds the session in `expired` until its dispose deadline. */
  releaseHangs(s: ModelSession): boolean {
    return s.built && s.metadata.release === 'hang';
  }

  /** While draining, a live session with nothing in flight is retired at once. */
  retireSettled(): void {
    if (this.phase !== 'draining') return;
    for (const s of this.live()) if (s.inFlight === 0) this.end(s, 'shutdown');
  }

  /** Every pending timer: when it falls due, and what it does then. */
  timers(): { at: number; fire: () => void }[] {
    const timers: { at: number; fire: () => void }[] = [];
    for (const s of this.sessions) {
      const timeout = (at: number, reason: SessionEndReason): void => {
        timers.push({ at, fire: () => isLive(s) && this.end(s, reason, at) });
      };
      if (s.state === 'created') timeout(s.createdAt + INIT_TIMEOUT, 'init-timeout');
      if (s.state === 'idle') timeout(s.idleTimerStart + IDLE_TIMEOUT, 'idle-timeout');
      if (isLive(s) && this.config.maxLifetime !== undefined)
        timeout(s.createdAt + this.config.maxLifetime, 'lifetime');
      if (s.state === 'expired' && this.releaseHangs(s) && s.expiredAt !== undefined) {
        timers.push({ at: s.expiredAt + DISPOSE_TIMEOUT, fire: () => this.dispose(s) });
      }
    }
    if (this.phase === 'draining' && !this.graceFired && this.shutdownAt !== undefined) {
      const fire = (): void => {
        this.graceFired = true;
        for (const s of this.live()) this.end(s, 'shutdown');
      };
      timers.push({ at: this.shutdownAt + this.grace, fire });
    }
    return timers;
  }

  /**
   * Advances the model's clock, firing every timer due by the new time in deadline order, each
   * at the new time (as `SimulatedClock` does).
   */
  advance(ms: number): void {
    const target = this.now + ms;
    const due = this.timers().filter((timer) => timer.at <= target);
    this.now = target;
    for (const { fire } of due.sort((a, b) => a.at - b.at)) fire();
  }

  dispose(s: ModelSession): void {
    if (s.state === 'expired') s.state = 'disposed';
  }

  /** After promise work has run: releases that do not hang are done; a drained supervisor stops. */
  settle(): void {
    for (const s of this.sessions) if (s.state === 'expired' && !this.releaseHangs(s)) this.dispose(s);
    if (this.phase === 'draining' && this.sessions.every((s) => s.state === 'disposed')) {
      this.phase = 'stopped';
    }
  }
}

interface Real {
  readonly clock: SimulatedClock;
  readonly supervisor: SessionSupervisor<TestServer>;
  readonly servers: Map<string, TestServer>;
  /** Transitions into `disposed` per session id, as reported to `subscribe()` listeners. */
  readonly disposals: Map<string, number>;
  /** `rejected` events reported to `subscribe()` listeners. */
  rejections: number;
  shutdown: Promise<void> | undefined;
  shutdownResolved: boolean;
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

function createReal(config: Config): Real {
  const clock = new SimulatedClock();
  const servers = new Map<string, TestServer>();
  const disposals = new Map<string, number>();
  const build = (sessionId: string, release: Release): TestServer => {
    const server: TestServer = {
      sessionId,
      closes: 0,
      close() {
        server.closes += 1;
        if (release === 'throw') return Promise.reject(new Error('close failed'));
        if (release === 'hang') return never();
        return Promise.resolve();
      },
    };
    servers.set(sessionId, server);
    return server;
  };
  const supervisor = createSessionSupervisor<TestServer>({
    clock,
    maxSessions: config.maxSessions,
    whenFull: config.whenFull,
    streamsCountAsActivity: config.streamsCountAsActivity,
    initTimeout: INIT_TIMEOUT,
    idleTimeout: IDLE_TIMEOUT,
    disposeTimeout: DISPOSE_TIMEOUT,
    ...(config.maxLifetime === undefined ? {} : { maxLifetime: config.maxLifetime }),
    createServer: ({ sessionId, metadata }) => {
      const { build: how, release } = metadata as unknown as Metadata;
      switch (how) {
        case 'sync':
          return build(sessionId, release);
        case 'async':
          return new Promise<TestServer>((resolve) => setImmediate(() => resolve(build(sessionId, release))));
        case 'fail':
          throw new Error('createServer failed');
        case 'hang':
          return never();
      }
    },
  });
  const real: Real = {
    clock,
    supervisor,
    servers,
    disposals,
    rejections: 0,
    shutdown: undefined,
    shutdownResolved: false,
  };
  supervisor.subscribe((event) => {
    if (event.type === 'rejected') real.rejections += 1;
    else if (event.to === 'disposed')
      disposals.set(event.sessionId, (disposals.get(event.sessionId) ?? 0) + 1);
  });
  return real;
}

/** Lets promise work (server builds, releases) run to completion. */
async function flush(): Promise<void> {
  for (let i = 0; i < 2; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

// ---------------------------------------------------------------------------------------------
// Checks after every command
// ---------------------------------------------------------------------------------------------

type What = string | (() => string);
const text = (what: What): string => (typeof what === 'string' ? what : what());

// vitest's `expect` costs microseconds a call and these checks run ~10⁶ times a file: compare
// first, and call `expect` only to report a failure with its usual diff.
function same<T>(actual: T, expected: T, what: What): void {
  if (!Object.is(actual, expected)) expect(actual, text(what)).toBe(expected);
}

function equal<T>(actual: T, expected: T, what: What): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual, text(what)).toEqual(expected);
}

function atMost(actual: number, limit: number, what: What): void {
  if (!(actual <= limit)) expect(actual, text(what)).toBeLessThanOrEqual(limit);
}

const describeSession = (s: ModelSession): string => `session #${s.ordinal} (${s.state})`;

function checkIntegrity(model: Model, real: Real): void {
  same(real.clock.now(), model.now, 'clock');
  same(real.supervisor.phase, model.phase, 'supervisor phase');
  for (const s of model.sessions) {
    same(s.handle.state, s.state, () => `state of session #${s.ordinal}`);
    if (!isLive(s)) continue;
    const info = s.handle.info();
    same(info.lastActivityAt, s.lastActivityAt, () => `lastActivityAt of ${describeSession(s)}`);
    same(info.requestsInFlight, s.inFlight, () => `requestsInFlight of ${describeSession(s)}`);
    same(info.openStreams, s.streams, () => `openStreams of ${describeSession(s)}`);
    same(info.requests, s.requests, () => `requests of ${describeSession(s)}`);
    same(info.metadata, s.metadata, () => `metadata of ${describeSession(s)}`);
  }
}

function checkLaws(model: Model, real: Real): void {
  const { supervisor } = real;
  const stats = supervisor.getStatistics();
  const has = (law: Law): boolean => model.laws.has(law);

  if (has('admission')) {
    atMost(stats.activeSessions, model.config.maxSessions, 'activeSessions ≤ maxSessions');
    atMost(supervisor.size, model.config.maxSessions, 'size ≤ maxSessions');
    for (const s of model.sessions) {
      const reported = s.output?.reason;
      if (reported !== undefined && (reported === 'evicted' || s.reason === 'evicted')) {
        same(reported, s.reason, () => `whenDisposed() reason of ${describeSession(s)}`);
      }
    }
  }

  if (has('counts')) {
    const listed = supervisor.sessions();
    const count = (state: SessionStateName): number => listed.filter((i) => i.state === state).length;
    same(stats.byState.created, count('created'), 'byState.created');
    same(stats.byState.active, count('active'), 'byState.active');
    same(stats.byState.idle, count('idle'), 'byState.idle');
    same(
      stats.byState.expired,
      model.sessions.filter((s) => s.state === 'expired').length,
      'byState.expired',
    );
    same(stats.activeSessions, listed.length, 'activeSessions');
    same(supervisor.size, listed.length, 'size');
    equal(
      listed.map((i) => i.id),
      model.live().map((s) => s.id),
      'sessions(): the live sessions, oldest first',
    );
    same(stats.oldestSession?.id, listed[0]?.id, 'oldestSession');
    same(stats.newestSession?.id, listed.at(-1)?.id, 'newestSession');

    const { ended } = model;
    equal(stats.endedByReason, ended, 'endedByReason');
    same(stats.totals.evicted, ended.evicted, 'totals.evicted');
    same(stats.totals.deleted, ended.deleted, 'totals.deleted');
    same(stats.totals.failed, ended.failed, 'totals.failed');
    same(stats.totals.shutdown, ended.shutdown, 'totals.shutdown');
    same(
      stats.totals.expired,
      ended['init-timeout'] + ended['idle-timeout'] + ended.lifetime,
      'totals.expired',
    );
    same(
      stats.totals.disposed,
      model.sessions.filter((s) => s.state === 'disposed').length,
      'totals.disposed',
    );
  }

  if (has('totals')) {
    same(stats.totals.admitted, model.admitted, 'totals.admitted = successful opens');
    same(stats.totals.rejected, model.refused, 'totals.rejected = refused opens');
    same(real.rejections, model.refused, "'rejected' events = refused opens");
  }

  if (has('in-flight')) {
    const open = model.live().reduce((sum, s) => sum + s.inFlight, 0);
    same(stats.requestsInFlight, open, 'requestsInFlight = open requests of live sessions');
  }

  if (has('disposal')) {
    for (const s of model.sessions) {
      const disposed = s.state === 'disposed' ? 1 : 0;
      same(s.resolutions, disposed, () => `whenDisposed() resolutions of ${describeSession(s)}`);
      same(
        real.disposals.get(s.id) ?? 0,
        disposed,
        () => `transitions into disposed of ${describeSession(s)}`,
      );
      const server = real.servers.get(s.id);
      if (server)
        same(server.closes, isLive(s) ? 0 : 1, () => `server.close() calls of ${describeSession(s)}`);
      if (!s.output || s.disposedSeenAt === undefined) continue;
      equal(
        s.output,
        {
          sessionId: s.id,
          reason: s.reason,
          createdAt: s.createdAt,
          endedAt: s.endedAt,
          requests: s.requests,
        },
        () => `output of ${describeSession(s)}`,
      );
      atMost(
        s.output.endedAt,
        s.disposedSeenAt,
        () => `endedAt of ${describeSession(s)} ≤ when it was disposed`,
      );
    }
    same(real.shutdownResolved, model.phase === 'stopped', 'shutdown() resolved ⇔ phase stopped');
  }
}

async function settleAndCheck(model: Model, real: Real, flushed = false): Promise<void> {
  if (!flushed) await flush();
  model.settle();
  checkIntegrity(model, real);
  checkLaws(model, real);
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<Model, Real>;

const pick = <T>(items: readonly T[], index: number): T => {
  const item = items[index % items.length];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
};

/** `await ready()` then `markInitialized()`: the handshake of a created session is done. */
async function handshake(model: Model, real: Real, s: ModelSession): Promise<void> {
  const server = await s.handle.ready();
  same(server, real.servers.get(s.id), 'ready() resolves with the server createServer built');
  s.handle.markInitialized();
  model.touch(s);
  if (model.busy(s)) s.state = 'active';
  else model.enterIdle(s);
  model.retireSettled();
}

/** `open()`, its server built; with `thenInitialize`, the handshake follows at once. */
class Open implements Cmd {
  constructor(
    readonly metadata: Metadata,
    readonly thenInitialize: boolean,
  ) {}
  check = (): boolean => true;

  async run(model: Model, real: Real): Promise<void> {
    const expected = model.expectedAdmission();
    const liveBefore = model.live();
    const idleBefore = model.idle();
    const streamsOnlyBefore = model.streamsOnly();
    let session: SupervisedSession<TestServer> | undefined;
    let error: unknown;
    try {
      session = real.supervisor.open({ metadata: this.metadata });
    } catch (caught) {
      error = caught;
    }

    // Who left the live states while `open()` ran.
    const victims = liveBefore.filter((s) => !s.handle.isLive);
    if (expected === 'admit' || expected === 'evict') {
      if (error !== undefined)
        expect(error, `open() with ${liveBefore.length} live sessions`).toBeUndefined();
      same(victims.length, expected === 'evict' ? 1 : 0, 'sessions evicted by this open()');
    } else {
      same(session, undefined, `open() should throw '${expected}'`);
      same(
        isSupervisorError(error, expected),
        true,
        () => `open() threw ${String(error)}, not '${expected}'`,
      );
      if (isSupervisorError(error, 'draining'))
        same<string>(error.data.phase, model.phase, 'draining error: phase');
      same(victims.length, 0, 'sessions evicted by a refused open()');
    }
    if (model.laws.has('admission') && model.config.whenFull === 'reject') {
      equal(victims, [], "'reject' never evicts");
    }
    const victim = victims[0];
    if (victim) {
      const candidates = idleBefore.length > 0 ? idleBefore : streamsOnlyBefore;
      const kind = idleBefore.length > 0 ? 'idle' : 'kept by streams only';
      same(candidates.includes(victim), true, `the evicted session was ${kind}`);
      same(victim.inFlight, 0, 'the evicted session had no request in flight');
      if (model.laws.has('admission')) {
        // Its last activity is what made it idle or streams-only (or restarted its idle timer).
        const [lru] = [...candidates].sort((a, b) => a.lastActivitySeq - b.lastActivitySeq);
        if (lru !== victim) {
          expect(
            `#${victim.ordinal}, last active at ${victim.lastActivityAt}`,
            `evicted the least recently active session ${kind}`,
          ).toBe(`#${lru?.ordinal}, last active at ${lru?.lastActivityAt}`);
        }
      }
      model.end(victim, 'evicted');
    }

    if (session) {
      model.admitted += 1;
      const s: ModelSession = {
        id: session.id,
        ordinal: model.sessions.length,
        handle: session,
        metadata: this.metadata,
        createdAt: model.now,
        state: 'created',
        built: false,
        lastActivityAt: model.now,
        lastActivitySeq: model.nextActivity(),
        idleTimerStart: model.now,
        inFlight: 0,
        streams: 0,
        requests: 0,
        reason: undefined,
        expiredAt: undefined,
        endedAt: undefined,
        resolutions: 0,
        output: undefined,
        disposedSeenAt: undefined,
      };
      model.sessions.push(s);
      session.whenDisposed().then((output) => {
        s.resolutions += 1;
        s.output = output;
        s.disposedSeenAt = real.clock.now();
      });
      await flush();
      if (this.metadata.build === 'fail') model.end(s, 'failed');
      if (this.metadata.build === 'sync' || this.metadata.build === 'async') s.built = true;
      if (this.thenInitialize && s.built) await handshake(model, real, s);
      await settleAndCheck(model, real, true);
    } else {
      model.refused += 1;
      await settleAndCheck(model, real);
    }
  }

  toString(): string {
    const then = this.thenInitialize ? ', then initialize' : '';
    return `Open(build=${this.metadata.build}, release=${this.metadata.release}${then})`;
  }
}

class Initialize implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>): boolean => model.initializable().length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const s = pick(model.initializable(), this.index);
    await handshake(model, real, s);
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `Initialize(created[${this.index}])`;
  }
}

class BeginRequest implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>): boolean => model.live().length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const s = pick(model.live(), this.index);
    const done = s.handle.beginRequest();
    model.requests.push({ session: s, done, ended: false });
    s.inFlight += 1;
    s.requests += 1;
    model.touch(s);
    if (s.state === 'idle') s.state = 'active';
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `BeginRequest(live[${this.index}])`;
  }
}

/** Ends one open request, of a live session or of one that has ended since (its handler finishes). */
class EndRequest implements Cmd {
  constructor(
    readonly index: number,
    readonly twice: boolean,
  ) {}
  check = (model: Readonly<Model>): boolean => model.openRequests().length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const request = pick(model.openRequests(), this.index);
    const s = request.session;
    request.done();
    if (this.twice) request.done(); // a second call is a no-op
    request.ended = true;
    if (isLive(s)) {
      s.inFlight -= 1;
      model.touch(s);
      if (s.state === 'active' && !model.busy(s)) model.enterIdle(s);
      model.retireSettled();
    }
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `EndRequest(requests[${this.index}]${this.twice ? ', twice' : ''})`;
  }
}

class OpenStream implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>): boolean => model.live().length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const s = pick(model.live(), this.index);
    const close = s.handle.openStream();
    model.streams.push({ session: s, close, closed: false });
    s.streams += 1;
    model.touch(s);
    if (s.state === 'idle') {
      // A counted stream makes the session active; an uncounted one restarts the idle timer.
      if (model.config.streamsCountAsActivity) s.state = 'active';
      else model.enterIdle(s);
    }
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `OpenStream(live[${this.index}])`;
  }
}

class CloseStream implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>): boolean => model.openStreams().length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const stream = pick(model.openStreams(), this.index);
    const s = stream.session;
    stream.close();
    stream.closed = true;
    if (isLive(s)) {
      s.streams -= 1;
      model.touch(s);
      // Closing a stream is activity: from `idle` (an uncounted stream) it restarts the idle timer.
      if (s.state === 'idle' || (s.state === 'active' && !model.busy(s))) model.enterIdle(s);
    }
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `CloseStream(streams[${this.index}])`;
  }
}

/** `close(id)`: true for a live session (it ends with reason `deleted`), false otherwise. */
class Close implements Cmd {
  constructor(readonly index: number | 'unknown') {}
  check = (model: Readonly<Model>): boolean => this.index === 'unknown' || model.sessions.length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const s = this.index === 'unknown' ? undefined : pick(model.sessions, this.index);
    const target = s ? `#${s.ordinal}, ${s.state}` : 'unknown id';
    const id = s?.id ?? '00000000-0000-4000-8000-000000000000';
    const live = s !== undefined && isLive(s);
    same(real.supervisor.close(id), live, () => `close(${target})`);
    if (s && live) {
      model.end(s, 'deleted');
      model.retireSettled();
    }
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `Close(${this.index === 'unknown' ? 'an unknown id' : `all[${this.index}]`})`;
  }
}

/** `get(id)` / `has(id)` find live sessions only, and are not activity. */
class Lookup implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>): boolean => model.sessions.length > 0;

  async run(model: Model, real: Real): Promise<void> {
    const s = pick(model.sessions, this.index);
    const target = `#${s.ordinal}, ${s.state}`;
    const live = isLive(s);
    same(real.supervisor.get(s.id), live ? s.handle : undefined, () => `get(${target})`);
    same(real.supervisor.has(s.id), live, () => `has(${target})`);
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `Lookup(all[${this.index}])`;
  }
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = (): boolean => true;

  async run(model: Model, real: Real): Promise<void> {
    real.clock.increment(this.ms);
    model.advance(this.ms);
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `Advance(${this.ms})`;
  }
}

/**
 * Steps to the grid point (a multiple of 10 ms) just before or just after the next pending
 * deadline, so that timeouts are checked at their edges, not only somewhere past them.
 */
class AdvanceToDeadline implements Cmd {
  constructor(readonly edge: 'before' | 'after') {}
  check = (model: Readonly<Model>): boolean => this.stepFrom(model) !== undefined;

  stepFrom(model: Readonly<Model>): number | undefined {
    const next = Math.min(...model.timers().map((timer) => timer.at));
    if (!Number.isFinite(next)) return undefined;
    const target =
      this.edge === 'after' ? Math.ceil(next / STEP) * STEP : Math.ceil(next / STEP) * STEP - STEP;
    return target > model.now ? target - model.now : undefined;
  }

  async run(model: Model, real: Real): Promise<void> {
    const ms = this.stepFrom(model);
    if (ms === undefined) throw new Error('AdvanceToDeadline ran without a deadline ahead');
    await new Advance(ms).run(model, real);
  }

  toString(): string {
    return `AdvanceTo(${this.edge} the next deadline)`;
  }
}

class Shutdown implements Cmd {
  constructor(readonly graceUnits: number) {}
  check = (): boolean => true;

  async run(model: Model, real: Real): Promise<void> {
    const grace = graceOf(this.graceUnits);
    const promise = real.supervisor.shutdown({ grace });
    if (real.shutdown) {
      same(promise, real.shutdown, 'shutdown() called again returns the same promise');
    } else {
      real.shutdown = promise;
      promise.then(() => {
        real.shutdownResolved = true;
      });
      model.phase = 'draining';
      model.shutdownAt = model.now;
      model.grace = grace;
      model.retireSettled();
    }
    await settleAndCheck(model, real);
  }

  toString(): string {
    return `Shutdown(grace=${graceOf(this.graceUnits)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries and the property runner
// ---------------------------------------------------------------------------------------------

const metadataArb: fc.Arbitrary<Metadata> = fc.record({
  build: fc.oneof(
    { arbitrary: fc.constant<Build>('sync'), weight: 4 },
    { arbitrary: fc.constant<Build>('async'), weight: 3 },
    { arbitrary: fc.constant<Build>('fail'), weight: 1 },
    { arbitrary: fc.constant<Build>('hang'), weight: 1 },
  ),
  release: fc.oneof(
    { arbitrary: fc.constant<Release>('ok'), weight: 4 },
    { arbitrary: fc.constant<Release>('throw'), weight: 1 },
    { arbitrary: fc.constant<Release>('hang'), weight: 1 },
  ),
  client: fc.string({ maxLength: 6 }),
  tags: fc.array(fc.integer(), { maxLength: 3 }),
});

const indexArb = fc.nat({ max: 7 });

const advanceArb = fc.oneof(
  // small steps: within one timeout
  { arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => new Advance(n * STEP)), weight: 3 },
  // large steps: past the idle, init and dispose timeouts, and towards the lifetime
  { arbitrary: fc.integer({ min: 100, max: 600 }).map((n) => new Advance(n * STEP)), weight: 1 },
);

/** Shutdown is rare, so that most runs spend most of their commands running. */
const commandArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        metadataArb,
        fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
      )
      .map(([metadata, thenInitialize]) => new Open(metadata, thenInitialize)),
    weight: 12,
  },
  { arbitrary: indexArb.map((i) => new Initialize(i)), weight: 6 },
  { arbitrary: indexArb.map((i) => new BeginRequest(i)), weight: 8 },
  { arbitrary: fc.tuple(indexArb, fc.boolean()).map(([i, twice]) => new EndRequest(i, twice)), weight: 8 },
  { arbitrary: indexArb.map((i) => new OpenStream(i)), weight: 4 },
  { arbitrary: indexArb.map((i) => new CloseStream(i)), weight: 4 },
  {
    arbitrary: fc.oneof(indexArb, fc.constant<'unknown'>('unknown')).map((i) => new Close(i)),
    weight: 4,
  },
  { arbitrary: indexArb.map((i) => new Lookup(i)), weight: 2 },
  { arbitrary: advanceArb, weight: 8 },
  {
    arbitrary: fc
      .constantFrom<'before' | 'after'>('before', 'after')
      .map((edge) => new AdvanceToDeadline(edge)),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 0, max: 200 }).map((n) => new Shutdown(n)), weight: 1 },
);

const commandsArb = fc.commands([commandArb], { maxCommands: 60, size: 'max' });

/** Small capacities, so that the cap is hit often; both `whenFull` modes, streams counted or not. */
const configArb: fc.Arbitrary<Config> = fc.record({
  maxSessions: fc.integer({ min: 1, max: 4 }),
  whenFull: fc.constantFrom<WhenFull>('evict-idle-lru', 'reject'),
  streamsCountAsActivity: fc.boolean(),
  maxLifetime: fc.option(fc.constant(MAX_LIFETIME), { nil: undefined }),
});

/**
 * Runs the commands, then winds the supervisor down (shutdown, then time steps long enough for the
 * grace period and every dispose deadline), checking the laws after each step.
 */
async function runScenario(config: Config, commands: Iterable<Cmd>, laws: readonly Law[]): Promise<void> {
  const model = new Model(config, new Set(laws));
  const real = createReal(config);
  await fc.asyncModelRun(() => ({ model, real }), commands);
  const windDown = [new Shutdown(0), new Advance(10_000), new Advance(1_000)];
  try {
    for (const step of windDown) await step.run(model, real);
    if (model.laws.has('disposal')) {
      const stats = real.supervisor.getStatistics();
      for (const s of model.sessions) {
        same(s.resolutions, 1, () => `whenDisposed() of session #${s.ordinal} resolved once`);
      }
      same(stats.totals.disposed, model.admitted, 'totals.disposed = admitted');
      const ends = Object.values(stats.endedByReason).reduce((sum, n) => sum + n, 0);
      same(ends, model.admitted, 'sum of endedByReason = admitted');
      equal(stats.byState, { created: 0, active: 0, idle: 0, expired: 0 }, 'byState once all are disposed');
      same(real.supervisor.phase, 'stopped', 'phase after the drain');
      same(real.shutdownResolved, true, 'shutdown() resolved');
    }
  } catch (error) {
    if (error instanceof Error) error.message = `winding down with ${windDown.join(', ')}: ${error.message}`;
    throw error;
  }
}

const runs = { seed: SEED, numRuns: NUM_RUNS } as const;

const property = (laws: readonly Law[]) =>
  fc.asyncProperty(configArb, commandsArb, async (config, commands) => {
    await runScenario(config, commands, laws);
  });

// ---------------------------------------------------------------------------------------------
// The laws
// ---------------------------------------------------------------------------------------------

describe('supervisor runtime under random command sequences', () => {
  it("admits while a slot is free, evicts the least recently active idle session (else the least recently active one kept by streams only) when full ('evict-idle-lru'), otherwise refuses with the right code, and never holds more than maxSessions live", async () => {
    await fc.assert(property(['admission']), runs);
  });

  it('reports counts by state and by end reason equal to a recount of the sessions', async () => {
    await fc.assert(property(['counts']), runs);
  });

  it('counts every successful open in totals.admitted and every refused open in totals.rejected', async () => {
    await fc.assert(property(['totals']), runs);
  });

  it('reports requestsInFlight equal to the open requests of live sessions', async () => {
    await fc.assert(property(['in-flight']), runs);
  });

  it('disposes every admitted session exactly once, with the reason and time of its end, closing its server once, then stops', async () => {
    await fc.assert(property(['disposal']), runs);
  });
});
