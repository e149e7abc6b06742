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

/**
 * Wall-clock time with unref'd timers: a pending session timeout never keeps a process alive on
 * its own (the HTTP server does that), so an embedding application can exit cleanly.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_DELAY));
    handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
