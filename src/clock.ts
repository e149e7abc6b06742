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

interface SlicedTimer {
  timer: NodeJS.Timeout | undefined;
  callback: (() => void) | undefined;
}

/**
 * Runs timer callbacks in slices of at most `budgetMs`. Node runs every due timer of a turn back
 * to back, without polling I/O in between, so 100 000 sessions whose idle timers fall due together
 * would stall the server for seconds; here a callback that comes due once the slice is spent waits
 * for `setImmediate`, after the poll phase has served the sockets.
 */
export class TimerSlicer {
  private sliceStartedAt: number | undefined;
  private readonly waiting: SlicedTimer[] = [];
  private drainScheduled = false;

  constructor(private readonly budgetMs: number = TIMER_SLICE_BUDGET_MS) {}

  /** Timers whose callback is due but deferred to a later turn. */
  get backlog(): number {
    return this.waiting.length;
  }

  schedule(callback: () => void, ms: number): SlicedTimer {
    const entry: SlicedTimer = { timer: undefined, callback };
    entry.timer = setTimeout(() => this.due(entry), Math.min(Math.max(0, ms), MAX_TIMER_DELAY));
    entry.timer.unref();
    return entry;
  }

  cancel(entry: SlicedTimer): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    // A deferred entry stays queued but will not run.
    entry.callback = undefined;
  }

  private due(entry: SlicedTimer): void {
    entry.timer = undefined;
    const now = performance.now();
    if (this.sliceStartedAt === undefined) {
      this.sliceStartedAt = now;
      this.scheduleDrain();
    }
    if (this.waiting.length > 0 || now - this.sliceStartedAt > this.budgetMs) {
      this.waiting.push(entry);
      return;
    }
    this.run(entry);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => this.drain()).unref();
  }

  private drain(): void {
    this.drainScheduled = false;
    const started = performance.now();
    this.sliceStartedAt = started;
    let next = 0;
    while (next < this.waiting.length && performance.now() - started <= this.budgetMs) {
      const entry = this.waiting[next] as SlicedTimer;
      next += 1;
      this.run(entry);
    }
    this.waiting.splice(0, next);
    this.sliceStartedAt = undefined;
    if (this.waiting.length > 0) {
      this.sliceStartedAt = performance.now();
      this.scheduleDrain();
    }
  }

  private run(entry: SlicedTimer): void {
    const callback = entry.callback;
    entry.callback = undefined;
    callback?.();
  }
}

/**
 * Wall-clock time with unref'd, sliced timers: a pending session timeout never keeps a process
 * alive on its own (the HTTP server does that), and a crowd of timeouts falling due together
 * never blocks the event loop for more than about {@link TIMER_SLICE_BUDGET_MS} at a time.
 */
export function createSystemClock(budgetMs: number = TIMER_SLICE_BUDGET_MS): Clock {
  const slicer = new TimerSlicer(budgetMs);
  return {
    now: () => Date.now(),
    setTimeout: (callback, ms) => slicer.schedule(callback, ms),
    clearTimeout: (handle) => slicer.cancel(handle as SlicedTimer),
  };
}

/** The default clock of every supervisor. */
export const systemClock: Clock = createSystemClock();
