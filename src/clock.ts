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
}

/** Node clamps larger delays to 1 ms; we clamp to the largest delay it honours instead. */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** How long timer callbacks may run back to back before the rest wait for the next loop turn. */
export const TIMER_SLICE_BUDGET_MS = 10;

/** Width of one bucket of the timer wheel: timers fire up to this much late, never early. */
export const TIMER_RESOLUTION_MS = 10;

/** Bucket of a timer that was due at once and waits in the current drain, not in a bucket. */
const DUE_NOW = -1;

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
  constructor(
    public callback: (() => void) | undefined,
    readonly bucket: number,
  ) {}
}

/**
 * Session timeouts on a coarse timer wheel, run in slices.
 *
 * - Deadlines are rounded UP to the next {@link TIMER_RESOLUTION_MS} bucket and each bucket owns
 *   one unref'd Node timer, so 100 000 sessions cost a handful of Node timers, not 100 000 (about
 *   a tenth of the memory per pending timeout). The trade-off: a timeout fires up to one bucket
 *   late, never early.
 * - Node runs every due timer of a turn back to back without polling I/O in between; here a due
 *   bucket only moves its callbacks to a queue, which runs for at most `budgetMs` per loop turn
 *   (`setImmediate` between slices), so a crowd of sessions expiring together never stalls the
 *   server's sockets for long.
 * - A callback scheduled with no delay from inside a drained callback runs right after it, in the
 *   same slice (it is due, so never early). A hibernated session woken at its idle deadline asks
 *   for its expiry that way: queued behind every other wake-up instead, 100 000 woken actors waited
 *   at once for their turn (a few hundred MB of young objects the scavenger copied and promoted).
 */
export class TimerWheel {
  private readonly buckets = new Map<number, { timers: Set<WheelTimer>; handle: NodeJS.Timeout }>();
  private queue: WheelTimer[] = [];
  private head = 0;
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
    return this.queue.length - this.head + this.dueNow.length;
  }

  schedule(callback: () => void, ms: number): WheelTimer {
    if (this.draining && ms <= 0) {
      const timer = new WheelTimer(callback, DUE_NOW);
      this.dueNow.push(timer);
      return timer;
    }
    const due = this.now() + Math.min(Math.max(0, ms), MAX_TIMER_DELAY);
    const bucket = Math.ceil(due / this.resolutionMs);
    const timer = new WheelTimer(callback, bucket);
    let slot = this.buckets.get(bucket);
    if (!slot) {
      const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, bucket * this.resolutionMs - this.now()));
      const handle = setTimeout(() => this.fire(bucket), delay);
      handle.unref();
      slot = { timers: new Set(), handle };
      this.buckets.set(bucket, slot);
    }
    slot.timers.add(timer);
    return timer;
  }

  cancel(timer: WheelTimer): void {
    timer.callback = undefined;
    const slot = this.buckets.get(timer.bucket);
    if (!slot?.timers.delete(timer) || slot.timers.size > 0) return;
    clearTimeout(slot.handle);
    this.buckets.delete(timer.bucket);
  }

  private fire(bucket: number): void {
    const slot = this.buckets.get(bucket);
    if (!slot) return;
    this.buckets.delete(bucket);
    for (const timer of slot.timers) this.queue.push(timer);
    if (!this.draining) this.drain();
  }

  private drain(): void {
    this.draining = true;
    const started = performance.now();
    while (this.dueNow.length > 0 || this.head < this.queue.length) {
      let timer = this.dueNow.shift();
      if (timer === undefined) {
        timer = this.queue[this.head] as WheelTimer;
        this.head += 1;
      }
      const callback = timer.callback;
      timer.callback = undefined;
      try {
        callback?.();
      } catch (error) {
        // Reported without wedging the wheel: later callbacks still run.
        this.onError(error);
      }
      if (performance.now() - started > this.budgetMs) break;
    }
    if (this.dueNow.length > 0 || this.head < this.queue.length) {
      setImmediate(() => this.drain()).unref();
      return;
    }
    this.queue = [];
    this.head = 0;
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
    clearTimeout: (handle) => wheel.cancel(handle as WheelTimer),
  };
}

/** The default clock of every supervisor. */
export const systemClock: Clock = createSystemClock();
