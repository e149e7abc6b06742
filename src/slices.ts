import { TIMER_SLICE_BUDGET_MS } from './clock.js';

/**
 * Applies `visit` to every item, yielding to the event loop (`setImmediate`) whenever a slice has
 * run for `budgetMs`. The first slice runs synchronously, so small sets are done before this
 * returns; a drain of 100 000 sessions never holds the loop for more than a slice at a time.
 */
export function forEachInSlices<T>(
  items: readonly T[],
  visit: (item: T) => void,
  budgetMs: number = TIMER_SLICE_BUDGET_MS,
): void {
  let next = 0;
  const slice = (): void => {
    const started = performance.now();
    while (next < items.length) {
      visit(items[next] as T);
      next += 1;
      if (performance.now() - started > budgetMs) break;
    }
    if (next < items.length) setImmediate(slice);
  };
  slice();
}
