import { TIMER_SLICE_BUDGET_MS } from './clock.js';

/**
 * Applies `visit` to every item, yielding to the event loop (`setImmediate`) whenever a slice has
 * run for `budgetMs` as `now` measures it. The first slice runs synchronously; a drain of 100 000
 * sessions never holds the loop for more than a slice at a time.
 *
 * `now` is the supervisor's clock, not `performance.now`: on a clock that does not move while
 * code runs (xstate's `SimulatedClock`) a sweep is never cut, so its outcome cannot depend on how
 * busy the machine is (a sweep cut by a wall-clock budget let timers due later in the same
 * `increment` end sessions the sweep should have ended).
 *
 * @example
 * ```ts
 * forEachInSlices(sessions, (session) => session.end('shutdown', clock.now()), clock.now);
 * ```
 */
export function forEachInSlices<T>(
  items: readonly T[],
  visit: (item: T) => void,
  now: () => number,
  budgetMs: number = TIMER_SLICE_BUDGET_MS,
): void {
  let next = 0;
  const slice = (): void => {
    const started = now();
    while (next < items.length) {
      visit(items[next] as T);
      next += 1;
      if (now() - started > budgetMs) break;
    }
    if (next < items.length) setImmediate(slice);
  };
  slice();
}
