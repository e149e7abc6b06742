/**
 * Soak: `npm run soak` (node --expose-gc --import tsx bench/soak.ts). Rounds of session storms
 * against two supervisors behind node:http on 127.0.0.1 (`whenFull` 'evict-idle-lru' and
 * 'reject', alternating), on the real clock with a short idle timeout, until SOAK_SECONDS have
 * passed. After every round it waits for idle expiry and checks that the supervisor is back to
 * nothing: no live session, every admitted one disposed, nothing in flight, no library timer
 * pending, nothing logged at warn/error; it prints the heap after gc, so a leak shows as a trend.
 * Exits 1 on any violation, or if the heap ends more than SOAK_HEAP_MARGIN_MB above its start.
 *
 * Environment (all optional):
 *   SOAK_SECONDS          storm time before the last round ends        (default 60)
 *   SOAK_ROUND_SESSIONS   sessions admitted per round                  (default 2000)
 *   SOAK_MAX_SESSIONS     the cap                                      (default 48)
 *   SOAK_CONCURRENCY      clients at once                              (default 32)
 *   SOAK_IDLE_MS          idle timeout                                 (default 500)
 *   SOAK_HEAP_MARGIN_MB   heap growth allowed at the end               (default 8)
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  DEFAULT_SOAK_OPTIONS,
  dropConnections,
  exposeGc,
  heapAfterGc,
  newTally,
  type SoakOptions,
  type SoakTarget,
  type StormTally,
  settle,
  startSoakTarget,
  stopSoakTarget,
  storm,
  violations,
  warmUp,
} from '../test/support/soak.js';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

const seconds = envNumber('SOAK_SECONDS', 60);
const heapMarginBytes = envNumber('SOAK_HEAP_MARGIN_MB', 8) * 1024 * 1024;
const options: SoakOptions = {
  ...DEFAULT_SOAK_OPTIONS,
  sessionsPerStorm: Math.round(envNumber('SOAK_ROUND_SESSIONS', 2_000)),
  maxSessions: Math.round(envNumber('SOAK_MAX_SESSIONS', DEFAULT_SOAK_OPTIONS.maxSessions)),
  concurrency: Math.round(envNumber('SOAK_CONCURRENCY', DEFAULT_SOAK_OPTIONS.concurrency)),
  idleTimeoutMs: Math.round(envNumber('SOAK_IDLE_MS', DEFAULT_SOAK_OPTIONS.idleTimeoutMs)),
  stormDeadlineMs: Math.max(120_000, seconds * 2_000),
};

const MB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MB).toFixed(2);

const totals: StormTally = newTally();

function add(tally: StormTally): void {
  totals.admitted += tally.admitted;
  totals.refused += tally.refused;
  totals.refusedWithoutRetryAfter += tally.refusedWithoutRetryAfter;
  totals.deleted += tally.deleted;
  totals.hungUp += tally.hungUp;
  totals.abandoned += tally.abandoned;
  totals.lostToExpiry += tally.lostToExpiry;
  totals.unexpected.push(...tally.unexpected);
}

async function main(): Promise<number> {
  const gc = exposeGc();
  console.log(
    `soak: ${seconds} s of storms, ${options.sessionsPerStorm} sessions a round, cap ${options.maxSessions}, ` +
      `${options.concurrency} clients, idle timeout ${options.idleTimeoutMs} ms, ` +
      `${options.deleteShare * 100}% deleted, ${options.hangUpShare * 100}% hang up a GET stream, rest abandoned`,
  );
  const targets: SoakTarget[] = [
    await startSoakTarget('evict-idle-lru', options),
    await startSoakTarget('reject', options),
  ];
  const problems: string[] = [];
  try {
    for (const target of targets) await warmUp(target, options);
    const heapBefore = await heapAfterGc(gc);
    console.log(`heap after warm-up and gc: ${mb(heapBefore)} MB`);

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    let peakLive = 0;
    let stormMs = 0;
    let round = 0;
    let nextIndex = 0;
    const cpuStart = process.cpuUsage();
    while (round === 0 || performance.now() - started < seconds * 1_000) {
      const target = targets[round % targets.length] as SoakTarget;
      round += 1;
      const report = await storm(target, options, nextIndex);
      nextIndex += report.tally.admitted + report.tally.refused + 1;
      stormMs += report.durationMs;
      const settleStarted = performance.now();
      const readings = await settle(target, options);
      const settleMs = performance.now() - settleStarted;
      add(report.tally);
      peakLive = Math.max(peakLive, report.peakLive);
      const found = [...violations(readings), ...report.tally.unexpected.slice(0, 3)];
      if (report.peakLive > options.maxSessions) found.push(`peak ${report.peakLive} above the cap`);
      problems.push(...found.map((problem) => `round ${round} (${target.mode}): ${problem}`));
      const heap = await heapAfterGc(gc);
      console.log(
        `round ${String(round).padStart(3)} ${target.mode.padEnd(14)} ` +
          `${report.tally.admitted} admitted, ${report.tally.refused} refused (503), ` +
          `${(report.tally.admitted / (report.durationMs / 1_000)).toFixed(0)} sessions/s, ` +
          `peak live ${report.peakLive}/${options.maxSessions}, expired in ${settleMs.toFixed(0)} ms; ` +
          `live ${readings.statistics.activeSessions}, in flight ${readings.statistics.requestsInFlight}, ` +
          `timers ${readings.pendingTimers}; heap ${mb(heap)} MB${found.length > 0 ? ` ✗ ${found.join('; ')}` : ''}`,
      );
    }
    const durationMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    loop.disable();
    for (const target of targets) await dropConnections(target);
    const heapAfter = await heapAfterGc(gc);
    const grown = heapAfter - heapBefore;
    if (grown > heapMarginBytes) {
      problems.push(`heap grew ${mb(grown)} MB, more than the ${mb(heapMarginBytes)} MB margin`);
    }
    const admittedByStats = targets.reduce(
      (sum, target) => sum + target.supervisor.getStatistics().totals.admitted,
      0,
    );

    console.log('\nsummary');
    console.table({
      rounds: round,
      'duration (s)': +(durationMs / 1_000).toFixed(1),
      'storm time (s)': +(stormMs / 1_000).toFixed(1),
      'sessions admitted': totals.admitted,
      'admitted incl. warm-up (stats)': admittedByStats,
      'sessions/s (storms)': +(totals.admitted / (stormMs / 1_000)).toFixed(0),
      'refused (503)': totals.refused,
      'refused without Retry-After': totals.refusedWithoutRetryAfter,
      deleted: totals.deleted,
      'hung up a GET stream': totals.hungUp,
      abandoned: totals.abandoned,
      '404 (expired/evicted between requests)': totals.lostToExpiry,
      'unexpected answers': totals.unexpected.length,
      'peak live': peakLive,
      cap: options.maxSessions,
      'CPU ms per session': +((cpu.user + cpu.system) / 1_000 / Math.max(1, totals.admitted)).toFixed(2),
      'event loop delay max (ms)': +(loop.max / 1e6).toFixed(1),
      'event loop delay p99 (ms)': +(loop.percentile(99) / 1e6).toFixed(1),
      'heap before (MB)': +mb(heapBefore),
      'heap after (MB)': +mb(heapAfter),
      'heap growth (MB)': +mb(grown),
      'heap growth per session (bytes)': Math.round(grown / Math.max(1, totals.admitted)),
      'max RSS (MB)': +mb(process.resourceUsage().maxRSS * 1024),
    });
  } finally {
    for (const target of targets) await stopSoakTarget(target);
  }
  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.length} problem(s)`);
    for (const problem of problems.slice(0, 20)) console.error(`  ${problem}`);
    return 1;
  }
  console.log('\nOK: every session expired and was disposed; nothing left in flight or pending.');
  return 0;
}

process.exitCode = await main();
