/**
 * The allocation meter `npm run bench:http` reads in each server process (bench/http-gc-meter.ts):
 * what it counts is checked against allocations whose size the test knows, across collections.
 */
import { describe, expect, it } from 'vitest';
import { GcMeter } from '../bench/http-gc-meter.js';

/** ~`megabytes` MB of short-lived arrays of 1 000 small integers (~8 KB each), kept only briefly. */
function churnArrays(megabytes: number): number {
  let kept = 0;
  const count = Math.round((megabytes * 1024 * 1024) / 8_000);
  for (let i = 0; i < count; i++) {
    const array = new Array<number>(1_000).fill(i & 0xff);
    kept += array[i % 1_000] as number;
  }
  return kept;
}

describe('GcMeter: JS heap allocation and collections of a process, cumulative', () => {
  it('counts what was allocated, across the scavenges it caused', () => {
    const meter = new GcMeter();
    const before = meter.read();
    churnArrays(64);
    const after = meter.read();
    const allocatedMb = (after.allocatedBytes - before.allocatedBytes) / (1024 * 1024);
    // 64 MB of arrays, more than a young generation holds: collections ran in between.
    expect(allocatedMb).toBeGreaterThan(60);
    expect(allocatedMb).toBeLessThan(80);
    expect(after.gcPauseUs).toBeGreaterThan(before.gcPauseUs);
  });

  it('reads next to nothing new when nothing was allocated in between', () => {
    const meter = new GcMeter();
    churnArrays(8);
    const first = meter.read();
    const second = meter.read();
    // Not zero: V8's heap accounting moves by up to a few hundred KB with concurrent sweeping and the
    // profiler's own result (157 KB once, in the full suite). Next to a churn window's hundreds of MB,
    // and to the 8 MB just allocated, that is nothing.
    expect(second.allocatedBytes - first.allocatedBytes).toBeLessThan(1024 * 1024);
    expect(first.allocatedBytes).toBeGreaterThan(7 * 1024 * 1024);
  });
});
