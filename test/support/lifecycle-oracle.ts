/**
 * The session lifecycle of the spec (SPEC.md, "Session lifecycle"), written out as a small
 * executable model that knows nothing of `sessionMachine`: it imports no machine and no xstate.
 * Model-based tests generate their paths from the real machine, but they take what must happen
 * from here, so that a wrong guard, delay, count or stamp in the machine makes them fail.
 *
 * What it encodes, rule by rule (each is the spec's, or the obvious reading of it where the spec
 * is silent; none was read off the machine):
 *
 * - `created`: admitted, the server is being built. Requests and streams may start (the
 *   `initialize` request is one). The handshake completes only once the server is built; then the
 *   session is `active` if anything keeps it busy, else `idle`. A failed build ends it (`failed`);
 *   so does `initTimeout` measured from admission (`init-timeout`).
 * - Busy = a request in flight, or an open GET stream when streams count as activity.
 * - `active` ⇄ `idle` by the busy count. Every client act (handshake, request start or end, stream
 *   open or close) is activity: the idle deadline is the last activity + `idleTimeout`, so an act
 *   that leaves the session idle (an uncounted stream) starts the idle wait again.
 * - `maxLifetime`, when set, ends any live session at admission + `maxLifetime` (`lifetime`).
 * - A close (`deleted`, `evicted`, `shutdown`, …) ends a live session at once; once ended, the
 *   first reason stands and nothing a client does counts any more.
 * - `expired` releases the resources: release done or failed → `disposed`; not done within
 *   `disposeTimeout` → `disposed` at that deadline. A session whose server was never built holds
 *   nothing, so it is disposed the moment it expires.
 * - Hibernation (`hibernateAfter`): an idle session with nothing open (no request, no stream) for
 *   `hibernateAfter` keeps only its snapshot. It is still `idle` for everything the spec lets anyone
 *   see, its idle deadline unchanged; any client act wakes it. Its server is gone, so if it ends
 *   while hibernated there is nothing to release: it is disposed the moment it expires.
 * - `endedAt` is when the session left the live states: the deadline of the timer that ended it,
 *   or the moment of the close or failure. `requests` counts every request started, in any state.
 */

/** The five lifecycle states, as the spec names them. */
export type LifecycleState = 'created' | 'active' | 'idle' | 'expired' | 'disposed';

export type EndReason =
  | 'init-timeout'
  | 'idle-timeout'
  | 'lifetime'
  | 'deleted'
  | 'evicted'
  | 'shutdown'
  | 'failed';

export interface LifecycleTimeouts {
  readonly initTimeout: number;
  readonly idleTimeout: number;
  readonly maxLifetime: number | undefined;
  readonly disposeTimeout: number;
}

export interface LifecycleConfig {
  readonly createdAt: number;
  readonly timeouts: LifecycleTimeouts;
  readonly streamsCountAsActivity: boolean;
  /** Idle time with nothing open after which the session hibernates; none: never. */
  readonly hibernateAfter?: number | undefined;
}

/** What happens to a session, in the spec's terms (no machine event names). */
export type SpecAction =
  | { readonly kind: 'initialized' }
  | { readonly kind: 'request-start' }
  | { readonly kind: 'request-end' }
  | { readonly kind: 'stream-open' }
  | { readonly kind: 'stream-close' }
  /** The client sent only notifications (no request): activity past the handshake, counted nowhere. */
  | { readonly kind: 'notification' }
  | { readonly kind: 'close'; readonly reason: EndReason }
  /** Time runs until the next deadline, whichever it is. */
  | { readonly kind: 'timeout' }
  /** `prepare`: the server factory settles; `release`: freeing the resources settles. */
  | { readonly kind: 'settle'; readonly actor: 'prepare' | 'release'; readonly outcome: 'done' | 'error' };

export type TimerName = 'initTimeout' | 'idleTimeout' | 'maxLifetime' | 'disposeTimeout' | 'hibernateAfter';

export interface Deadline {
  readonly timer: TimerName;
  readonly at: number;
}

/** What the spec lets anyone observe of the session. */
export interface OracleView {
  readonly state: LifecycleState;
  readonly requestsInFlight: number;
  readonly openStreams: number;
}

export interface OracleOutput {
  readonly reason: EndReason;
  readonly createdAt: number;
  readonly endedAt: number;
  readonly requests: number;
}

const TIMER_REASON: Readonly<Record<Exclude<TimerName, 'disposeTimeout' | 'hibernateAfter'>, EndReason>> = {
  initTimeout: 'init-timeout',
  idleTimeout: 'idle-timeout',
  maxLifetime: 'lifetime',
};

const LIVE: ReadonlySet<LifecycleState> = new Set(['created', 'active', 'idle']);

export class LifecycleOracle {
  state: LifecycleState = 'created';
  now: number;
  requestsInFlight = 0;
  openStreams = 0;
  requests = 0;
  lastActivityAt: number;
  /** How the server factory settled, if it has. */
  build: 'pending' | 'built' | 'failed' = 'pending';
  release: 'pending' | 'done' | 'failed' | 'overdue' = 'pending';
  /** Idle with only its snapshot kept: its server is released until a client act wakes it. */
  hibernated = false;
  hibernations = 0;
  reason: EndReason | undefined;
  endedAt: number | undefined;
  /** When the session entered `expired`: the release deadline counts from here. */
  private expiredAt: number | undefined;
  /** When the session last went idle or was active in idle: the idle deadline counts from here. */
  private idleSince: number | undefined;

  constructor(readonly config: LifecycleConfig) {
    this.now = config.createdAt;
    this.lastActivityAt = config.createdAt;
  }

  get isLive(): boolean {
    return LIVE.has(this.state);
  }

  private get busy(): boolean {
    return this.requestsInFlight > 0 || (this.config.streamsCountAsActivity && this.openStreams > 0);
  }

  view(): OracleView {
    return { state: this.state, requestsInFlight: this.requestsInFlight, openStreams: this.openStreams };
  }

  /** The disposed session's report; `undefined` before it is disposed. */
  output(): OracleOutput | undefined {
    if (this.state !== 'disposed' || this.reason === undefined || this.endedAt === undefined)
      return undefined;
    return {
      reason: this.reason,
      createdAt: this.config.createdAt,
      endedAt: this.endedAt,
      requests: this.requests,
    };
  }

  /** Every timer pending now, with the instant it falls due. */
  deadlines(): Deadline[] {
    const { createdAt, timeouts } = this.config;
    const pending: Deadline[] = [];
    if (this.isLive && timeouts.maxLifetime !== undefined) {
      pending.push({ timer: 'maxLifetime', at: createdAt + timeouts.maxLifetime });
    }
    if (this.state === 'created')
      pending.push({ timer: 'initTimeout', at: createdAt + timeouts.initTimeout });
    if (this.state === 'idle' && this.idleSince !== undefined) {
      pending.push({ timer: 'idleTimeout', at: this.idleSince + timeouts.idleTimeout });
      const { hibernateAfter } = this.config;
      if (
        hibernateAfter !== undefined &&
        !this.hibernated &&
        this.requestsInFlight + this.openStreams === 0
      ) {
        pending.push({ timer: 'hibernateAfter', at: this.idleSince + hibernateAfter });
      }
    }
    if (this.state === 'expired' && this.expiredAt !== undefined) {
      pending.push({ timer: 'disposeTimeout', at: this.expiredAt + timeouts.disposeTimeout });
    }
    return pending;
  }

  /** The next timer to fall due. Two falling due together is an error: their order is not specified. */
  nextDeadline(): Deadline | undefined {
    const pending = this.deadlines().sort((a, b) => a.at - b.at);
    const [first, second] = pending;
    if (first && second && first.at === second.at) {
      throw new Error(
        `${first.timer} and ${second.timer} fall due together at ${first.at}: the order is unspecified`,
      );
    }
    return first;
  }

  /** Lets time pass up to `at`; no timer may fall due on the way (use {@link fireNextTimer}). */
  waitUntil(at: number): void {
    const next = this.nextDeadline();
    if (at < this.now) throw new Error(`Time cannot go back from ${this.now} to ${at}`);
    if (next && next.at <= at) throw new Error(`Waiting until ${at} would pass ${next.timer} at ${next.at}`);
    this.now = at;
  }

  /**
   * Lets time pass up to `at`, firing every timer that falls due on the way, each at its deadline
   * (so a timer it starts counts from that deadline).
   */
  advanceTo(at: number): void {
    if (at < this.now) throw new Error(`Time cannot go back from ${this.now} to ${at}`);
    for (let next = this.nextDeadline(); next && next.at <= at; next = this.nextDeadline())
      this.fireNextTimer();
    this.now = at;
  }

  /** Time runs to the next deadline and its timer fires. Returns which it was. */
  fireNextTimer(): Deadline {
    const next = this.nextDeadline();
    if (!next) throw new Error(`Nothing is pending in ${this.state}: time passing changes nothing`);
    this.now = next.at;
    if (next.timer === 'disposeTimeout') {
      this.release = 'overdue';
      this.state = 'disposed';
    } else if (next.timer === 'hibernateAfter') {
      this.hibernated = true;
      this.hibernations += 1;
    } else {
      this.end(TIMER_REASON[next.timer]);
    }
    return next;
  }

  /**
   * Applies `action` at the current time. Returns false when the spec says it changes nothing (an
   * act on an ended session, a handshake before the server exists, an end without a start).
   */
  apply(action: SpecAction): boolean {
    switch (action.kind) {
      case 'timeout':
        this.fireNextTimer();
        return true;
      case 'close':
        if (!this.isLive) return false;
        this.end(action.reason);
        return true;
      case 'settle':
        return action.actor === 'prepare'
          ? this.settleBuild(action.outcome)
          : this.settleRelease(action.outcome);
      case 'initialized':
        if (this.state !== 'created' || this.build !== 'built') return false;
        this.activity();
        this.state = this.busy ? 'active' : 'idle';
        if (this.state === 'idle') this.idleSince = this.now;
        return true;
      case 'request-start':
        if (!this.isLive) return false;
        this.requestsInFlight += 1;
        this.requests += 1;
        this.afterActivity();
        return true;
      case 'request-end':
        if (!this.isLive || this.requestsInFlight === 0) return false;
        this.requestsInFlight -= 1;
        this.afterActivity();
        return true;
      case 'stream-open':
        if (!this.isLive) return false;
        this.openStreams += 1;
        this.afterActivity();
        return true;
      case 'stream-close':
        if (!this.isLive || this.openStreams === 0) return false;
        this.openStreams -= 1;
        this.afterActivity();
        return true;
      case 'notification':
        // Before the handshake it is part of it; after the end there is no session to notify.
        if (!this.isLive || this.state === 'created') return false;
        this.afterActivity();
        return true;
    }
  }

  private activity(): void {
    this.lastActivityAt = this.now;
    // Woken up: its server is rebuilt (a failed rebuild is not modelled).
    this.hibernated = false;
  }

  /** A client act: recorded as activity; past the handshake, the busy count decides active or idle. */
  private afterActivity(): void {
    this.activity();
    if (this.state === 'created') return;
    this.state = this.busy ? 'active' : 'idle';
    this.idleSince = this.state === 'idle' ? this.now : undefined;
  }

  private settleBuild(outcome: 'done' | 'error'): boolean {
    if (this.build !== 'pending') return false;
    if (this.state !== 'created') {
      // Built after the session ended: the runtime throws the server away; the session is unchanged.
      return false;
    }
    if (outcome === 'done') {
      this.build = 'built';
    } else {
      this.build = 'failed';
      this.end('failed');
    }
    return true;
  }

  private settleRelease(outcome: 'done' | 'error'): boolean {
    if (this.state !== 'expired') return false;
    this.release = outcome === 'done' ? 'done' : 'failed';
    this.state = 'disposed';
    return true;
  }

  private end(reason: EndReason): void {
    this.reason = reason;
    this.endedAt = this.now;
    this.expiredAt = this.now;
    this.idleSince = undefined;
    this.state = 'expired';
    // Nothing was built, or it was released on hibernation: nothing needs releasing.
    const holdsNothing = this.build !== 'built' || this.hibernated;
    this.hibernated = false;
    if (holdsNothing) {
      this.release = 'done';
      this.state = 'disposed';
    }
  }
}

/** Caps on what a session holds at once while exploring, so that exploration terminates. */
export interface ExplorationBounds {
  readonly requestsInFlight: number;
  readonly openStreams: number;
  /** Requests and streams together. */
  readonly busy: number;
}

/** The spec's state of a session, without time: what decides which acts are possible. */
function explorationKey(oracle: LifecycleOracle): string {
  const { state, build, requestsInFlight, openStreams } = oracle;
  if (!oracle.isLive) return JSON.stringify([state, oracle.reason, oracle.release]);
  return JSON.stringify([state, build, requestsInFlight, openStreams]);
}

/** Every act a runtime can perform on the session as it stands, within `bounds`. */
function possibleActions(oracle: LifecycleOracle, bounds: ExplorationBounds): SpecAction[] {
  const actions: SpecAction[] = [];
  const { requestsInFlight, openStreams } = oracle;
  const busy = requestsInFlight + openStreams;
  if (oracle.state === 'created' && oracle.build === 'pending') {
    actions.push(
      { kind: 'settle', actor: 'prepare', outcome: 'done' },
      { kind: 'settle', actor: 'prepare', outcome: 'error' },
    );
  }
  if (oracle.state === 'created' && oracle.build === 'built') actions.push({ kind: 'initialized' });
  if (oracle.isLive) {
    if (requestsInFlight < bounds.requestsInFlight && busy < bounds.busy)
      actions.push({ kind: 'request-start' });
    if (requestsInFlight > 0) actions.push({ kind: 'request-end' });
    if (openStreams < bounds.openStreams && busy < bounds.busy) actions.push({ kind: 'stream-open' });
    if (openStreams > 0) actions.push({ kind: 'stream-close' });
    if (oracle.state !== 'created') actions.push({ kind: 'notification' });
    actions.push({ kind: 'close', reason: 'deleted' });
  }
  if (oracle.state === 'expired') {
    actions.push(
      { kind: 'settle', actor: 'release', outcome: 'done' },
      { kind: 'settle', actor: 'release', outcome: 'error' },
    );
  }
  if (oracle.deadlines().length > 0) actions.push({ kind: 'timeout' });
  return actions;
}

function cloneOracle(oracle: LifecycleOracle): LifecycleOracle {
  return Object.assign(Object.create(LifecycleOracle.prototype) as LifecycleOracle, oracle);
}

/**
 * Paths generated from the spec itself, not from the machine: breadth-first from the session that
 * `prefix` leads to, the shortest sequence of acts through every edge of the (bounded) state graph
 * of the spec. A machine that drops a transition the spec has (so that no path generated from the
 * machine takes it) is still caught by these. Time is left out of the key: acts happen at the same
 * instant and `timeout` jumps to the next deadline, which depends only on the key's state.
 */
export function exploreSpec(
  config: LifecycleConfig,
  prefix: readonly SpecAction[],
  bounds: ExplorationBounds,
): SpecAction[][] {
  const start = new LifecycleOracle(config);
  for (const action of prefix) start.apply(action);
  const visited = new Set<string>([explorationKey(start)]);
  const queue: Array<{ oracle: LifecycleOracle; actions: SpecAction[] }> = [{ oracle: start, actions: [] }];
  const paths: SpecAction[][] = [];
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const action of possibleActions(next.oracle, bounds)) {
      const after = cloneOracle(next.oracle);
      after.apply(action);
      const actions = [...next.actions, action];
      paths.push([...prefix, ...actions]);
      const key = explorationKey(after);
      if (!visited.has(key)) {
        visited.add(key);
        queue.push({ oracle: after, actions });
      }
    }
  }
  return paths;
}
