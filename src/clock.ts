/**
 * Time as the supervisor sees it. The same object drives the actors' delayed transitions and the
 * timestamps in events, so tests can swap in xstate's `SimulatedClock` and advance time exactly.
 *
 * @example
 * ```ts
 * import { SimulatedClock } from 'xstate';
 * const clock = new SimulatedClock();
 * const supervisor = createSessionSupervisor({ clock, idleTimeout: '1m' });
 * clock.increment(60_000); // idle sessions expire now
 * ```
 */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * Optional: `callback(arg)` after `ms`, cancelled with `clearTimeout`. One shared callback for
   * many timers, so a timer kept for a long time (a hibernated session's wake-up) costs no closure
   * and context of its own (~100 B and two heap objects the collector marks each cycle).
   */
  setTimeoutFor?<T>(callback: (arg: T) => void, ms: number, arg: T): unknown;
}

/** Node clamps larger delays to 1 ms; we clamp to the largest delay it honours instead. */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * How long timer callbacks may run back to back before the rest wait for the next loop turn. A
 * collection that falls inside a slice adds to it (an expiry storm of 1 000 000 hibernated sessions
 * scavenges every ~25 ms, 7–11 ms each, and takes incremental marking steps of up to ~25 ms), so
 * the slice itself is kept short: 5 ms (was 10; each loop turn between slices costs microseconds).
 */
export const TIMER_SLICE_BUDGET_MS = 5;

/** Width of one bucket of the timer wheel: timers fire up to this much late, never early. */
export const TIMER_RESOLUTION_MS = 10;

/**
 * One 10 ms slot of the wheel: its pending timers as an intrusive doubly linked list (in the order
 * they were scheduled) and the unref'd Node timer that fires it.
 */
class Bucket {
  head: WheelTimer | undefined = undefined;
  tail: WheelTimer | undefined = undefined;
  size = 0;
  /** Fell due: its timers are being drained from its head (see `TimerWheel.next`). */
  fired = false;
  constructor(
    readonly key: number,
    readonly handle: NodeJS.Timeout,
  ) {}
}

/**
 * A scheduled callback; `callback` is cleared once it ran or was cancelled.
 *
 * A class, not an object literal, on purpose: V8 pretenures an object literal's allocation site once
 * most of what it allocated survived (every idle session's timer does), so each re-armed timer was
 * then born in old space, kept the young callback it points to alive through scavenges, and both
 * waited for a mark-compact. `new` has no allocation site to pretenure. Measured on 100 000 idle
 * sessions: 200 000 request begin/end pairs on one session left 405 MB of old-space garbage with a
 * literal, 358 MB with the class (the rest is xstate's own literals).
 */
class WheelTimer {
  /** The bucket it waits in (a fired one until its turn); `undefined` once running, cancelled, or due at once. */
  bucket: Bucket | undefined = undefined;
  previous: WheelTimer | undefined = undefined;
  next: WheelTimer | undefined = undefined;
  constructor(
    public callback: ((arg: unknown) => void) | undefined,
    /** What `callback` is called with (see `Clock.setTimeoutFor`). */
    public arg: unknown,
  ) {}
}

/**
 * Session timeouts on a coarse timer wheel, run in slices.
 *
 * - Deadlines are rounded UP to the next {@link TIMER_RESOLUTION_MS} bucket and each bucket owns
 *   one unref'd Node timer, so 100 000 sessions cost a handful of Node timers, not 100 000 (about
 *   a tenth of the memory per pending timeout). The trade-off: a timeout fires up to one bucket
 *   late, never early.
 * - Scheduling and cancelling are O(1) with no hashing of the timer: a bucket keeps its timers on
 *   an intrusive linked list and each timer knows its bucket, so a cancel touches the timer and
 *   its two neighbours only (a `Set` per bucket cost a hash delete per cancel, slower in the large
 *   buckets a fill leaves behind: 0.16 µs per cancel + schedule with 1 000 pending timers, 0.54 µs
 *   with 100 000).
 * - A bucket emptied by a cancel stays, with its Node timer, until another bucket empties: a
 *   session busy with requests re-arms its idle timer into the same bucket many times in 10 ms,
 *   and deleting then re-creating the bucket each time (a `Map` delete + set of the same key, a
 *   Node timer cleared and set) cost 1.8 µs per request with 100 000 timers pending, 0.45 µs with
 *   1 000. Only one empty bucket is kept, so memory stays bounded by the pending timers.
 * - Node runs every due timer of a turn back to back without polling I/O in between; here a due
 *   bucket only joins the queue of due buckets, drained for at most `budgetMs` per loop turn
 *   (`setImmediate` between slices), so a crowd of sessions expiring together never stalls the
 *   server's sockets for long.
 * - A callback scheduled with no delay from inside a drained callback runs right after it, in the
 *   same slice (it is due, so never early). A hibernated session woken at its idle deadline asks
 *   for its expiry that way: queued behind every other wake-up instead, 100 000 woken actors waited
 *   at once for their turn (a few hundred MB of young objects the scavenger copied and promoted).
 */
export class TimerWheel {
  private readonly buckets = new Map<number, Bucket>();
  /** The one bucket kept although a cancel emptied it (see the class comment). */
  private keptEmpty: Bucket | undefined = undefined;
  /**
   * Buckets that fell due, oldest first; the drain takes their timers one at a time from the head,
   * so a bucket of 1 000 000 timers (a hibernated expiry storm) is never walked in one go to copy it
   * into a queue (~130 ms for that loop alone).
   */
  private fired: Bucket[] = [];
  /** Timers still waiting in fired buckets. */
  private pending = 0;
  /** Due-now callbacks scheduled by the callback that is running; they run before the queue goes on. */
  private dueNow: WheelTimer[] = [];
  private draining = false;

  constructor(
    private readonly budgetMs: number = TIMER_SLICE_BUDGET_MS,
    private readonly resolutionMs: number = TIMER_RESOLUTION_MS,
    /** Where a throwing callback's error goes; by default it is raised as uncaught, as a plain timer's. */
    private readonly onError: (error: unknown) => void = (error) =>
      queueMicrotask(() => {
        throw error;
      }),
    private readonly now: () => number = Date.now,
  ) {}

  /** Callbacks that are due but wait for a later slice. */
  get backlog(): number {
    return this.pending + this.dueNow.length;
  }

  /** Node timers held by the wheel (one per bucket with a pending timer, plus at most one empty). */
  get bucketCount(): number {
    return this.buckets.size;
  }

  /** `callback(arg)` once `ms` have passed (`arg` lets timers share one callback, see `Clock.setTimeoutFor`). */
  schedule<T>(callback: (arg: T) => void, ms: number, arg?: T): WheelTimer {
    const timer = new WheelTimer(callback as (arg: unknown) => void, arg);
    if (this.draining && ms <= 0) {
      this.dueNow.push(timer);
      return timer;
    }
    const due = this.now() + Math.min(Math.max(0, ms), MAX_TIMER_DELAY);
    const key = Math.ceil(due / this.resolutionMs);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, key * this.resolutionMs - this.now()));
      const handle = setTimeout(() => this.fire(key), delay);
      handle.unref();
      bucket = new Bucket(key, handle);
      this.buckets.set(key, bucket);
    }
    timer.bucket = bucket;
    timer.previous = bucket.tail;
    if (bucket.tail) bucket.tail.next = timer;
    else bucket.head = timer;
    bucket.tail = timer;
    bucket.size += 1;
    return timer;
  }

  cancel(timer: WheelTimer): void {
    timer.callback = undefined;
    timer.arg = undefined;
    const bucket = timer.bucket;
    if (!bucket) return;
    timer.bucket = undefined;
    const { previous, next } = timer;
    if (previous) previous.next = next;
    else bucket.head = next;
    if (next) next.previous = previous;
    else bucket.tail = previous;
    timer.previous = undefined;
    timer.next = undefined;
    bucket.size -= 1;
    if (bucket.fired) {
      this.pending -= 1;
      return;
    }
    if (bucket.size > 0 || bucket === this.keptEmpty) return;
    const dropped = this.keptEmpty;
    this.keptEmpty = bucket;
    if (dropped && dropped.size === 0 && this.buckets.get(dropped.key) === dropped) {
      clearTimeout(dropped.handle);
      this.buckets.delete(dropped.key);
    }
  }

  private fire(key: number): void {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    this.buckets.delete(key);
    if (bucket === this.keptEmpty) this.keptEmpty = undefined;
    bucket.fired = true;
    if (bucket.size > 0) {
      this.fired.push(bucket);
      this.pending += bucket.size;
    }
    if (!this.draining) this.drain();
  }

  /** The next due timer: one scheduled due-now by the running callback first, then the fired buckets'. */
  private next(): WheelTimer | undefined {
    const dueNow = this.dueNow.shift();
    if (dueNow !== undefined) return dueNow;
    for (let bucket = this.fired[0]; bucket; bucket = this.fired[0]) {
      const timer = bucket.head;
      if (timer === undefined) {
        this.fired.shift();
        continue;
      }
      bucket.head = timer.next;
      if (bucket.head) bucket.head.previous = undefined;
      else bucket.tail = undefined;
      bucket.size -= 1;
      this.pending -= 1;
      timer.bucket = undefined;
      timer.next = undefined;
      return timer;
    }
    return undefined;
  }

  private drain(): void {
    this.draining = true;
    const started = performance.now();
    for (let timer = this.next(); timer !== undefined; timer = this.next()) {
      const { callback, arg } = timer;
      timer.callback = undefined;
      timer.arg = undefined;
      try {
        callback?.(arg);
      } catch (error) {
        // Reported without wedging the wheel: later callbacks still run.
        this.onError(error);
      }
      if (performance.now() - started > this.budgetMs) break;
    }
    if (this.backlog > 0) {
      // Referenced: an unref'd immediate does not stop libuv from blocking in its poll, so on a quiet
      // server the next slice waited for unrelated I/O or a timer (a 1 000 000 expiry storm spent
      // ~10 % of its time idle in poll; with nothing else pending it stopped after two slices). Due
      // callbacks keep the process alive only until they have run.
      setImmediate(() => this.drain());
      return;
    }
    this.fired = [];
    this.draining = false;
  }
}

/**
 * Wall-clock time on a {@link TimerWheel}: a pending session timeout never keeps a process alive on
 * its own (the HTTP server does that), costs no Node timer of its own, and a crowd of timeouts
 * falling due together never blocks the event loop for more than about a slice at a time.
 */
export function createSystemClock(
  budgetMs: number = TIMER_SLICE_BUDGET_MS,
  resolutionMs: number = TIMER_RESOLUTION_MS,
): Clock {
  const wheel = new TimerWheel(budgetMs, resolutionMs);
  return {
    now: () => Date.now(),
    setTimeout: (callback, ms) => wheel.schedule(callback, ms),
    setTimeoutFor: (callback, ms, arg) => wheel.schedule(callback, ms, arg),
    clearTimeout: (handle) => wheel.cancel(handle as WheelTimer),
  };
}

/** The default clock of every supervisor. */
export const systemClock: Clock = createSystemClock();
