/**
 * Measuring helpers shared by the benchmark cases: a monotonic clock, forced garbage collection,
 * heap readings and repeated-batch sampling with a median (robust to one GC pause in one batch).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextMacrotask } from 'node:timers/promises';

/** Monotonic nanoseconds: unlike Date.now(), never jumps with wall-clock adjustments. */
export const now = (): bigint => process.hrtime.bigint();

export const msSince = (start: bigint): number => Number(now() - start) / 1e6;

/** Lets pending promise callbacks and I/O run, e.g. after a burst of synchronous sends. */
export const yieldToEventLoop = async (): Promise<void> => {
  await nextMacrotask();
};

export function collectGarbage(): void {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc (npm run bench does)');
  // Two passes: objects kept alive only by finalizers or weak callbacks of the first pass go in the second.
  gc();
  gc();
}

/** Heap in use after a full collection, so only reachable objects are counted. */
export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/**
 * A distribution-free 95 % confidence interval for the median of `values`: the k-th smallest and
 * k-th largest, with k the largest rank such that a Binomial(n, ½) falls below it with probability
 * ≤ 2.5 %. It assumes nothing about the shape of the noise (on a shared VM it is skewed, with
 * bursts), only that the values are independent draws. Under 6 values no such interval exists and
 * the whole range is returned.
 *
 * @example medianInterval([0.91, 0.95, 0.88, 0.97, 0.93, 0.90, 0.94, 0.92]) // [0.88, 0.97]
 */
export function medianInterval(values: readonly number[]): readonly [low: number, high: number] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  // P(Bin(n, ½) ≤ j), summed exactly (n is a few dozen at most).
  let k = 0;
  let below = 0;
  let choose = 1;
  for (let j = 0; j < n; j += 1) {
    below += choose / 2 ** n;
    if (below > 0.025) break;
    k = j + 1;
    choose = (choose * (n - j)) / (j + 1);
  }
  if (k === 0) return [sorted[0] ?? Number.NaN, sorted[n - 1] ?? Number.NaN];
  return [sorted[k - 1] ?? Number.NaN, sorted[n - k] ?? Number.NaN];
}

/** Per-operation cost of a workload, from several timed batches. */
export interface Sample {
  /** Median over batches, wall-clock µs per operation. */
  readonly medianUs: number;
  readonly bestUs: number;
  readonly worstUs: number;
  /**
   * Median over batches, process CPU µs (user + system, GC threads included) per operation. Other
   * processes on the machine inflate wall time but hardly this, so it is the steadier cost figure.
   */
  readonly cpuUs: number;
  /** Operations timed (warm-up excluded). */
  readonly ops: number;
  readonly batches: number;
}

export interface SampleOptions {
  readonly opsPerBatch: number;
  readonly batches: number;
  readonly warmupOps: number;
  /** Stop adding batches once this much time was spent timing (slow cases); at least one batch runs. */
  readonly budgetMs?: number;
}

/**
 * Runs `work(ops)` once untimed to warm the JIT at the current size, then `batches` timed times,
 * and reports µs per operation. A median of several batches keeps one GC pause from deciding.
 */
export async function sample(
  work: (ops: number) => unknown,
  { opsPerBatch, batches, warmupOps, budgetMs = Number.POSITIVE_INFINITY }: SampleOptions,
): Promise<Sample> {
  if (warmupOps > 0) await work(warmupOps);
  const perOp: number[] = [];
  const cpuPerOp: number[] = [];
  const started = now();
  while (perOp.length < batches && (perOp.length === 0 || msSince(started) < budgetMs)) {
    const cpu0 = process.cpuUsage();
    const t0 = now();
    await work(opsPerBatch);
    perOp.push((msSince(t0) * 1000) / opsPerBatch);
    const cpu = process.cpuUsage(cpu0);
    cpuPerOp.push((cpu.user + cpu.system) / opsPerBatch);
  }
  return {
    medianUs: median(perOp),
    cpuUs: median(cpuPerOp),
    bestUs: Math.min(...perOp),
    worstUs: Math.max(...perOp),
    ops: perOp.length * opsPerBatch,
    batches: perOp.length,
  };
}

/**
 * Like {@link sample} for several workloads that are compared with each other: their batches
 * alternate (round r runs each workload once, starting one further along each round), so a burst
 * of load from another process, a JIT tier-up or a full collection lands on all of them alike
 * rather than on whichever ran during it. Returns one {@link Sample} per workload.
 */
export async function sampleInterleaved<K extends string>(
  work: Readonly<Record<K, (ops: number) => unknown>>,
  { opsPerBatch, batches, warmupOps }: Omit<SampleOptions, 'budgetMs'>,
): Promise<Record<K, Sample>> {
  const names = Object.keys(work) as K[];
  const wall = new Map<K, number[]>(names.map((name) => [name, []]));
  const cpu = new Map<K, number[]>(names.map((name) => [name, []]));
  if (warmupOps > 0) for (const name of names) await work[name](warmupOps);
  for (let round = 0; round < batches; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length] as K;
      const cpu0 = process.cpuUsage();
      const t0 = now();
      await work[name](opsPerBatch);
      wall.get(name)?.push((msSince(t0) * 1000) / opsPerBatch);
      const used = process.cpuUsage(cpu0);
      cpu.get(name)?.push((used.user + used.system) / opsPerBatch);
    }
  }
  const result = {} as Record<K, Sample>;
  for (const name of names) {
    const perOp = wall.get(name) ?? [];
    result[name] = {
      medianUs: median(perOp),
      cpuUs: median(cpu.get(name) ?? []),
      bestUs: Math.min(...perOp),
      worstUs: Math.max(...perOp),
      ops: perOp.length * opsPerBatch,
      batches: perOp.length,
    };
  }
  return result;
}

/** GC pauses seen while watching: the longest by kind tells young-generation garbage from a full collection. */
export interface GcPauses {
  readonly longestMs: number;
  readonly totalMs: number;
  readonly count: number;
  readonly longestScavengeMs: number;
  readonly longestMarkCompactMs: number;
  /** Full collections seen (mark-compact), and their pauses summed. */
  readonly markCompacts: number;
  readonly markCompactTotalMs: number;
}

/** Bounds the pauses kept for {@link watchGcPauses}'s `pausedWithin` (a 1 000 000 storm takes ~2 600). */
const KEPT_PAUSES = 100_000;

/** No pause at all: what a watch that saw nothing reports, and a section that did not run. */
export const NO_GC_PAUSES: GcPauses = Object.freeze({
  longestMs: 0,
  totalMs: 0,
  count: 0,
  longestScavengeMs: 0,
  longestMarkCompactMs: 0,
  markCompacts: 0,
  markCompactTotalMs: 0,
});

/**
 * Starts recording GC pauses (PerformanceObserver 'gc'); `stop()` ends it and returns what it saw.
 * `pausedWithin(from, to)` (ms on `performance.now()`'s scale) tells how much of a window, e.g. a
 * loop stall, the collector's pauses took: a stall longer than its pauses is something else.
 */
export function watchGcPauses(): { stop(): GcPauses; pausedWithin(fromMs: number, toMs: number): number } {
  const spans: number[] = [];
  const pauses = { ...NO_GC_PAUSES };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pauses.longestMs = Math.max(pauses.longestMs, entry.duration);
      pauses.totalMs += entry.duration;
      pauses.count += 1;
      if (spans.length < 2 * KEPT_PAUSES) spans.push(entry.startTime, entry.startTime + entry.duration);
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR)
        pauses.longestScavengeMs = Math.max(pauses.longestScavengeMs, entry.duration);
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        pauses.longestMarkCompactMs = Math.max(pauses.longestMarkCompactMs, entry.duration);
        pauses.markCompacts += 1;
        pauses.markCompactTotalMs += entry.duration;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      observer.disconnect();
      return { ...pauses };
    },
    pausedWithin: (fromMs, toMs) => {
      let paused = 0;
      for (let i = 0; i < spans.length; i += 2) {
        const overlap = Math.min(toMs, spans[i + 1] as number) - Math.max(fromMs, spans[i] as number);
        if (overlap > 0) paused += overlap;
      }
      return paused;
    },
  };
}
