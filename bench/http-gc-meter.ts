/**
 * What a server process allocates and what its collector costs, counted for the end-to-end
 * benchmark's windows: bytes allocated on the JS heap, bytes promoted to the old generation by
 * scavenges, and the collector's pauses on the main thread, all cumulative since the meter started.
 *
 * Why: a server's CPU per churned session moves by up to 2× between windows on a shared machine,
 * while the bytes it allocates per session hold to ±0.5 % across a run's windows (bare SDK 247 KB,
 * supervisor 306 KB at load ~2; ~10 % more for both at load ~4.5, where windows starve), and on this
 * workload every scavenge copies the ~2 MB that survive it whatever the server is, so each KB
 * allocated per session costs a share of that copying (~0.6 µs per KB at the time of writing). The
 * allocation figure tells which server makes the collector work.
 *
 * How: `v8.GCProfiler` reports each collection with heap statistics before and after it; the heap
 * grown between one collection's end and the next one's start is what was allocated, and the old
 * space grown across a scavenge is what it promoted. The profiler is restarted at each reading, so
 * its list never grows past one window's collections.
 *
 * @example
 * ```ts
 * const meter = new GcMeter();
 * // … serve a window …
 * const { allocatedBytes, gcPauseUs } = meter.read();
 * ```
 */
import v8 from 'node:v8';

/** Cumulative since the meter was created. */
export interface GcReading {
  /** Bytes allocated on the JS heap. */
  readonly allocatedBytes: number;
  /** Bytes scavenges moved to the old generation. */
  readonly promotedBytes: number;
  /** Main-thread pauses of every collection, µs (helper threads' share is not in it). */
  readonly gcPauseUs: number;
}

/** The part of a `GCProfiler` result this reads. */
interface HeapAt {
  readonly heapStatistics: { readonly usedHeapSize: number };
  readonly heapSpaceStatistics: readonly { readonly spaceName: string; readonly spaceUsedSize: number }[];
}
interface Collection {
  readonly gcType: string;
  /** µs. */
  readonly cost: number;
  readonly beforeGC: HeapAt;
  readonly afterGC: HeapAt;
}

const oldSpaceUsed = (heap: HeapAt): number =>
  heap.heapSpaceStatistics.find((space) => space.spaceName === 'old_space')?.spaceUsedSize ?? 0;

export class GcMeter {
  private profiler = new v8.GCProfiler();
  /** Heap in use when the current profiler started (or at the end of its last collection). */
  private usedAtStart = v8.getHeapStatistics().used_heap_size;
  private total: GcReading = { allocatedBytes: 0, promotedBytes: 0, gcPauseUs: 0 };

  constructor() {
    this.profiler.start();
  }

  read(): GcReading {
    const result = this.profiler.stop() as { statistics?: readonly Collection[] } | undefined;
    const usedNow = v8.getHeapStatistics().used_heap_size;
    this.profiler = new v8.GCProfiler();
    this.profiler.start();
    let { allocatedBytes, promotedBytes, gcPauseUs } = this.total;
    let used = this.usedAtStart;
    for (const collection of result?.statistics ?? []) {
      allocatedBytes += collection.beforeGC.heapStatistics.usedHeapSize - used;
      used = collection.afterGC.heapStatistics.usedHeapSize;
      gcPauseUs += collection.cost;
      if (collection.gcType === 'Scavenge') {
        promotedBytes += oldSpaceUsed(collection.afterGC) - oldSpaceUsed(collection.beforeGC);
      }
    }
    allocatedBytes += usedNow - used;
    this.usedAtStart = usedNow;
    this.total = { allocatedBytes, promotedBytes, gcPauseUs };
    return this.total;
  }
}
