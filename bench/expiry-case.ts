/**
 * Section 6: event-loop blocking while many idle sessions expire at the same moment, on real
 * timers (systemClock). All sessions are marked initialized in one synchronous loop: Node stamps
 * every timer created in one loop turn with the same cached loop time, so every idle timer falls
 * due at the same instant and Node runs all of them in one timers phase — the worst case.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { progress } from './report.js';
import { benchSupervisor, type Supervisor } from './supervisor-case.js';
import { collectGarbage, msSince, now, watchGcPauses } from './timing.js';

export interface ExpiryResults {
  readonly sessions: number;
  readonly idleTimeoutMs: number;
  /** How long the synchronous markInitialized loop took (setup, not measured as blocking). */
  readonly armMs: number;
  /** Longest gap between two 1 ms heartbeats, minus the 1 ms period. */
  readonly longestGapMs: number;
  /** Sessions that reached `expired` during that longest gap. */
  readonly expiredInLongestGap: number;
  /**
   * Gap of the heartbeat in which the first expiry was seen: the timers phase in which Node fires
   * every due idle timer back to back (the clock's slicing can only act inside each callback).
   */
  readonly firstExpiryGapMs: number;
  /** Longest single GC pause in the window, and all GC pauses added up (PerformanceObserver 'gc'). */
  readonly longestGcMs: number;
  readonly totalGcMs: number;
  readonly gcCount: number;
  /**
   * Longest pause by kind: a scavenge (young generation) and a mark-compact (whole heap). Tells a
   * storm's own garbage (scavenges, every few MB of allocation) from a full collection of the heap.
   */
  readonly longestScavengeMs: number;
  readonly longestMarkCompactMs: number;
  /**
   * Process CPU time (all threads, GC helpers included) over wall time in the window. Well below 1
   * on a shared machine means the process waited for a core: stalls then include time descheduled.
   */
  readonly cpuPerWall: number;
  /** Max of `monitorEventLoopDelay` (1 ms resolution) over the same window. */
  readonly histogramMaxMs: number;
  readonly histogramP99Ms: number;
  /** From the first expiry seen to the last disposal. */
  readonly expiryWindowMs: number;
  readonly gapsOver50ms: number;
  readonly disposed: number;
  readonly timedOut: boolean;
}

/** Opens `count` sessions, waits for every server, then arms every idle timer in one loop turn. */
async function armSimultaneousExpiry(supervisor: Supervisor, count: number): Promise<number> {
  const sessions = Array.from({ length: count }, () => supervisor.open());
  await Promise.all(sessions.map((session) => session.ready()));
  collectGarbage();
  const started = now();
  for (const session of sessions) session.markInitialized();
  return msSince(started);
}

interface Heartbeat {
  longestGapMs: number;
  firstExpiryGapMs: number;
  expiredInLongestGap: number;
  gapsOver50ms: number;
  firstExpiryAt: bigint | undefined;
}

/** Polls every 1 ms until every session is disposed (or the deadline passes); records the longest stall. */
function watchExpiry(
  supervisor: Supervisor,
  count: number,
  deadlineMs: number,
): Promise<Heartbeat & { timedOut: boolean }> {
  const beat: Heartbeat = {
    longestGapMs: 0,
    firstExpiryGapMs: Number.NaN,
    expiredInLongestGap: 0,
    gapsOver50ms: 0,
    firstExpiryAt: undefined,
  };
  const started = now();
  let last = started;
  let lastExpired = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const at = now();
      const gapMs = Number(at - last) / 1e6 - 1;
      const { totals, liveSessions, byState } = supervisor.getStatistics();
      if (gapMs > beat.longestGapMs) {
        beat.longestGapMs = gapMs;
        beat.expiredInLongestGap = totals.expired - lastExpired;
      }
      if (gapMs > 50) beat.gapsOver50ms += 1;
      if (totals.expired > 0 && beat.firstExpiryAt === undefined) {
        beat.firstExpiryAt = last;
        beat.firstExpiryGapMs = gapMs;
      }
      last = at;
      lastExpired = totals.expired;
      const done = liveSessions === 0 && byState.expired === 0 && totals.disposed >= count;
      const timedOut = msSince(started) > deadlineMs;
      if (done || timedOut) {
        clearInterval(timer);
        resolve({ ...beat, timedOut: !done });
      }
    }, 1);
  });
}

export async function runExpiryCase(count: number, idleTimeoutMs: number): Promise<ExpiryResults> {
  const supervisor = benchSupervisor({ idleTimeout: idleTimeoutMs, initTimeout: '10m' });
  progress(`expiry: opening ${count} sessions, idle timeout ${idleTimeoutMs} ms`);
  const armMs = await armSimultaneousExpiry(supervisor, count);
  progress(`expiry: ${count} idle timers armed in ${armMs.toFixed(0)} ms; waiting for them to fire`);
  // Started right after arming, in the same turn: no timer can fire before the watchers are in place.
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const gc = watchGcPauses();
  const cpuBefore = process.cpuUsage();
  const wallBefore = now();
  const beat = await watchExpiry(supervisor, count, idleTimeoutMs + 120_000);
  histogram.disable();
  const pauses = gc.stop();
  const ended = now();
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPerWall = (cpu.user + cpu.system) / 1e3 / (Number(ended - wallBefore) / 1e6);
  const { totals } = supervisor.getStatistics();
  await supervisor.shutdown({ grace: '1s' });
  return {
    sessions: count,
    idleTimeoutMs,
    armMs,
    longestGapMs: beat.longestGapMs,
    expiredInLongestGap: beat.expiredInLongestGap,
    firstExpiryGapMs: beat.firstExpiryGapMs,
    longestGcMs: pauses.longestMs,
    totalGcMs: pauses.totalMs,
    gcCount: pauses.count,
    longestScavengeMs: pauses.longestScavengeMs,
    longestMarkCompactMs: pauses.longestMarkCompactMs,
    cpuPerWall,
    histogramMaxMs: histogram.max / 1e6,
    histogramP99Ms: histogram.percentile(99) / 1e6,
    expiryWindowMs: beat.firstExpiryAt === undefined ? Number.NaN : Number(ended - beat.firstExpiryAt) / 1e6,
    gapsOver50ms: beat.gapsOver50ms,
    disposed: totals.disposed,
    timedOut: beat.timedOut,
  };
}
