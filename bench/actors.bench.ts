/**
 * Actor-layer benchmark: `npm run bench` (node --expose-gc --import tsx bench/actors.bench.ts).
 *
 * Everything runs in this process, without sockets: the real supervisor, a plain Map baseline
 * (the floor), a naive one-parent `spawnChild` supervisor (the design avoided), and an expiry
 * storm on real timers. Prints one table per section, then the ratios and the spec's targets
 * (SPEC.md "Performance targets") with PASS/FAIL. A missed target is reported, not an exit code;
 * a crash exits non-zero.
 */
import { availableParallelism, loadavg } from 'node:os';
import { type BaselineResults, runBaselineCase } from './baseline-case.js';
import { type ExpiryResults, runExpiryCase } from './expiry-case.js';
import { type NaiveResults, runNaiveCase } from './naive-case.js';
import { int, kib, num, print, progress, ratio, table, type Verdict, verdictTable } from './report.js';
import {
  type CycleName,
  runSupervisorCase,
  type SupervisorResults,
  warmUpSupervisor,
} from './supervisor-case.js';
import { msSince, now, type Sample } from './timing.js';

const CHURN_SIZES = [1_000, 5_000, 10_000, 100_000] as const;
const ACTIVITY_SIZES = [10_000, 100_000] as const;
const HEAP_SIZES = [10_000, 100_000] as const;
const NAIVE_SIZES = [1_000, 5_000] as const;
const BATCHES = 5;
const EXPIRY_SESSIONS = 100_000;
const EXPIRY_IDLE_TIMEOUT_MS = 2_000;

const TARGET = {
  costRatio100kTo1k: 1.5,
  admitDisposePerSecond: 20_000,
  activityEventsPerSecond: 100_000,
  heapBytesPerSession: 5 * 1024,
  longestBlockMs: 50,
} as const;

const opsPerSecond = (s: Sample): number => 1e6 / s.medianUs;
/** Activity samples are per pair; a pair is two events (begin + end). */
const eventsPerSecond = (s: Sample): number => 2e6 / s.medianUs;

function at<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`no measurement at ${String(key)}`);
  return value;
}

function printSupervisor(sup: SupervisorResults, base: BaselineResults): void {
  const rows: string[][] = [];
  for (const [name, bySize] of sup.churn) {
    for (const size of CHURN_SIZES) {
      const s = at(bySize, size);
      rows.push([
        name,
        int(size),
        num(s.medianUs),
        num(s.bestUs),
        num(s.worstUs),
        num(s.cpuUs),
        int(opsPerSecond(s)),
        int(s.ops),
      ]);
    }
  }
  print(
    table(
      '1. Supervisor admit+dispose — 100 cycles in flight; each cycle ends with await whenDisposed()',
      ['cycle', 'live sessions', 'µs/op (median)', 'best', 'worst', 'CPU µs/op', 'ops/s', 'ops timed'],
      rows,
    ),
  );
  print(
    '   open+close = open() + close() + await whenDisposed() (closed while `created`: the pending prepare is aborted)\n' +
      '   open+ready+init+close = open() + await ready() + markInitialized() + close() + await whenDisposed()\n' +
      `   fill rate (open + ready + markInitialized): ${CHURN_SIZES.map((size) => `${int(at(sup.fillRate, size))}/s to ${int(size)}`).join(', ')}\n` +
      `   shutdown of ${int(sup.shutdownSessions)} idle sessions took ${int(sup.shutdownMs)} ms`,
  );
  print(
    table(
      '2. Activity — one event = one beginRequest() or one release(); a pair (lookup by id, begin, release) = 2 events',
      ['live sessions', 'events/s', 'µs/event', 'CPU µs/event', 'pairs timed', 'baseline events/s'],
      ACTIVITY_SIZES.map((size) => {
        const s = at(sup.activity, size);
        return [
          int(size),
          int(eventsPerSecond(s)),
          num(s.medianUs / 2),
          num(s.cpuUs / 2),
          int(s.ops),
          int(eventsPerSecond(at(base.activity, size))),
        ];
      }),
    ),
  );
  print(
    table(
      '3. Heap per idle session actor (heapUsed after gc, minus empty; no createServer)',
      ['live sessions', 'supervisor', 'Map baseline', 'supervisor / baseline'],
      HEAP_SIZES.map((size) => {
        const perSession = at(sup.heapPerSession, size);
        const perEntry = at(base.heapPerEntry, size);
        return [int(size), kib(perSession), kib(perEntry), ratio(perSession / perEntry)];
      }),
    ),
  );
}

/** The cycle the spec's admit+dispose figures and the naive comparison use. */
const QUICK: CycleName = 'open+close';
const FULL: CycleName = 'open+ready+init+close';
const churnOf = (sup: SupervisorResults, cycle: CycleName, size: number): Sample =>
  at(at(sup.churn, cycle), size);

function printBaseline(sup: SupervisorResults, base: BaselineResults): void {
  print(
    table(
      '4. Map baseline (Map<uuid, { createdAt, lastActivityAt }>, the floor) vs supervisor',
      ['live', 'baseline µs/op', 'baseline ops/s', `supervisor µs/op (${QUICK})`, 'supervisor / baseline'],
      CHURN_SIZES.map((size) => {
        const b = at(base.churn, size);
        const s = churnOf(sup, QUICK, size);
        return [
          int(size),
          num(b.medianUs),
          int(opsPerSecond(b)),
          num(s.medianUs),
          ratio(s.medianUs / b.medianUs),
        ];
      }),
    ),
  );
  print(
    '   (baseline op = uuid v4 + Map.set + Map.delete; activity = Map.get + 2 timestamp writes per pair; ' +
      'heap in section 3)',
  );
}

function printNaive(naive: NaiveResults, sup: SupervisorResults): void {
  print(
    table(
      '5. Naive: every session spawnChild-ed into ONE machine — one op = spawnChild + stopChild',
      [
        'live children',
        'µs/op (median)',
        'best',
        'worst',
        'CPU µs/op',
        'ops timed',
        'fill time',
        `supervisor µs/op (${QUICK})`,
        'naive / supervisor',
      ],
      NAIVE_SIZES.map((size) => {
        const n = at(naive.churn, size);
        const fill = at(naive.fill, size);
        const s = churnOf(sup, QUICK, size);
        return [
          int(size),
          num(n.medianUs),
          num(n.bestUs),
          num(n.worstUs),
          num(n.cpuUs),
          `${int(n.ops)} in ${n.batches} batches`,
          `${int(fill.ms)} ms for ${int(fill.spawns)}`,
          num(s.medianUs),
          ratio(n.medianUs / s.medianUs),
        ];
      }),
    ),
  );
  print(
    '   (children = the real sessionMachine, idle, each with its pending timers in the one shared system;\n' +
      '    naive close is a bare stopChild — no expired state, no release, no accounting — so it does less ' +
      `than the supervisor.\n    stop() of the naive parent with ${int(naive.stopChildren)} children took ${int(naive.stopMs)} ms)`,
  );
}

function printExpiry(e: ExpiryResults): void {
  print(
    table(
      `6. Expiry storm — ${int(e.sessions)} idle sessions, idle timeout ${int(e.idleTimeoutMs)} ms, real timers (systemClock)`,
      ['measure', 'value'],
      [
        ['idle timers armed in one loop turn (setup)', `${int(e.armMs)} ms`],
        ['longest event-loop block (1 ms heartbeat gap)', `${num(e.longestGapMs)} ms`],
        ['sessions expired inside that block', int(e.expiredInLongestGap)],
        [
          'block when the timers fell due (Node fires all due timers in one phase)',
          `${num(e.firstExpiryGapMs)} ms`,
        ],
        [
          'GC pauses in the window: longest / total (count)',
          `${num(e.longestGcMs)} ms / ${int(e.totalGcMs)} ms (${int(e.gcCount)})`,
        ],
        ['monitorEventLoopDelay max / p99', `${num(e.histogramMaxMs)} ms / ${num(e.histogramP99Ms)} ms`],
        ['heartbeat gaps > 50 ms', int(e.gapsOver50ms)],
        ['first expiry → last disposal', `${int(e.expiryWindowMs)} ms`],
        ['disposed / expected', `${int(e.disposed)} / ${int(e.sessions)}${e.timedOut ? ' (TIMED OUT)' : ''}`],
      ],
    ),
  );
}

function printRatios(sup: SupervisorResults, base: BaselineResults, naive: NaiveResults): void {
  const rows: string[][] = [];
  for (const cycle of [QUICK, FULL]) {
    for (const size of [10_000, 100_000]) {
      const s = churnOf(sup, cycle, size);
      const small = churnOf(sup, cycle, 1_000);
      rows.push([
        `supervisor ${cycle} cost @${int(size)} / @1,000`,
        ratio(s.medianUs / small.medianUs),
        ratio(s.cpuUs / small.cpuUs),
      ]);
    }
  }
  const naiveAt = (size: number): Sample => at(naive.churn, size);
  rows.push([
    'naive spawnChild cost @5,000 / @1,000',
    ratio(naiveAt(5_000).medianUs / naiveAt(1_000).medianUs),
    ratio(naiveAt(5_000).cpuUs / naiveAt(1_000).cpuUs),
  ]);
  for (const size of NAIVE_SIZES) {
    const s = churnOf(sup, QUICK, size);
    rows.push([
      `naive / supervisor (${QUICK}) cost @${int(size)}`,
      ratio(naiveAt(size).medianUs / s.medianUs),
      ratio(naiveAt(size).cpuUs / s.cpuUs),
    ]);
  }
  for (const size of CHURN_SIZES) {
    const s = churnOf(sup, QUICK, size);
    const b = at(base.churn, size);
    rows.push([
      `supervisor (${QUICK}) / baseline cost @${int(size)}`,
      ratio(s.medianUs / b.medianUs),
      ratio(s.cpuUs / b.cpuUs),
    ]);
  }
  for (const size of ACTIVITY_SIZES) {
    const s = at(sup.activity, size);
    const b = at(base.activity, size);
    rows.push([
      `supervisor / baseline µs per activity event @${int(size)}`,
      ratio(s.medianUs / b.medianUs),
      ratio(s.cpuUs / b.cpuUs),
    ]);
  }
  for (const size of HEAP_SIZES) {
    const heap = ratio(at(sup.heapPerSession, size) / at(base.heapPerEntry, size));
    rows.push([`supervisor / baseline heap per session @${int(size)}`, heap, heap]);
  }
  print(table('Ratios', ['ratio', 'wall time', 'CPU time'], rows));
}

function verdicts(sup: SupervisorResults, expiry: ExpiryResults): Verdict[] {
  const list: Verdict[] = [];
  for (const cycle of [QUICK, FULL]) {
    const big = churnOf(sup, cycle, 100_000);
    const small = churnOf(sup, cycle, 1_000);
    const cpuRatio = big.cpuUs / small.cpuUs;
    list.push({
      target: `${cycle} cost @100k / @1k ≤ ${TARGET.costRatio100kTo1k} (CPU time)`,
      measured: `${ratio(cpuRatio)} (wall ${ratio(big.medianUs / small.medianUs)})`,
      pass: cpuRatio <= TARGET.costRatio100kTo1k,
    });
  }
  for (const cycle of [QUICK, FULL]) {
    const slowest = Math.min(...CHURN_SIZES.map((size) => opsPerSecond(churnOf(sup, cycle, size))));
    list.push({
      target: `≥ ${int(TARGET.admitDisposePerSecond)} ${cycle}/s (slowest of 1k…100k live)`,
      measured: `${int(slowest)} /s`,
      pass: slowest >= TARGET.admitDisposePerSecond,
    });
  }
  const activity10k = eventsPerSecond(at(sup.activity, 10_000));
  list.push({
    target: `≥ ${int(TARGET.activityEventsPerSecond)} activity events/s @10k live`,
    measured: `${int(activity10k)} /s`,
    pass: activity10k >= TARGET.activityEventsPerSecond,
  });
  const heaviest = Math.max(...HEAP_SIZES.map((size) => at(sup.heapPerSession, size)));
  list.push({
    target: `≤ ${kib(TARGET.heapBytesPerSession)} heap per idle session (worst of 10k, 100k)`,
    measured: kib(heaviest),
    pass: heaviest <= TARGET.heapBytesPerSession,
  });
  const longestBlock = Math.max(expiry.longestGapMs, expiry.histogramMaxMs);
  list.push({
    target: `expiring ${int(expiry.sessions)} at once blocks the loop ≤ ${TARGET.longestBlockMs} ms`,
    measured: `${num(longestBlock)} ms${expiry.timedOut ? ' (timed out)' : ''}`,
    pass: longestBlock <= TARGET.longestBlockMs && !expiry.timedOut,
  });
  return list;
}

/**
 * Other processes on a 2-core machine skew wall times (and GC pauses: V8's helper threads starve);
 * say so next to the figures. `own` is the load this bench itself adds when the reading is taken.
 */
function loadLine(label: string, own: number): string {
  const [one = 0, five = 0] = loadavg();
  const cores = availableParallelism();
  const busy =
    one - own > cores - 1
      ? '  ⚠ machine busy: wall times and GC pauses inflated, prefer the CPU-time columns'
      : '';
  return `${label}: load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${cores} cores${busy}`;
}

async function main(): Promise<void> {
  const started = now();
  print(`# Actor-layer benchmark — node ${process.version}, ${process.arch}, pid ${process.pid}`);
  print(loadLine('at start', 0));
  progress('warming up');
  await warmUpSupervisor();
  const sup = await runSupervisorCase({
    churnAt: CHURN_SIZES,
    activityAt: ACTIVITY_SIZES,
    heapAt: HEAP_SIZES,
    churnOpsPerBatch: 1_000,
    activityPairsPerBatch: 20_000,
    batches: BATCHES,
  });
  progress('Map baseline');
  const base = await runBaselineCase({
    churnAt: CHURN_SIZES,
    activityAt: ACTIVITY_SIZES,
    heapAt: HEAP_SIZES,
    opsPerBatch: 100_000,
    batches: BATCHES,
  });
  const naive = await runNaiveCase({
    sizes: NAIVE_SIZES,
    opsPerBatch: 100,
    batches: BATCHES,
    budgetMs: 3_000,
  });
  const expiry = await runExpiryCase(EXPIRY_SESSIONS, EXPIRY_IDLE_TIMEOUT_MS);

  printSupervisor(sup, base);
  printBaseline(sup, base);
  printNaive(naive, sup);
  printExpiry(expiry);
  printRatios(sup, base, naive);
  print(verdictTable('Targets (SPEC.md "Performance targets", actor layer)', verdicts(sup, expiry)));
  print(`\n${loadLine('at end (this bench included)', 1)}`);
  print(`Total bench time: ${(msSince(started) / 1000).toFixed(1)} s`);
}

await main();
