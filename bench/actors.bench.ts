/**
 * Actor-layer benchmark: `npm run bench` (builds, then runs the compiled dist/bench/actors.bench.js).
 *
 * Everything runs in this process, without sockets: the real supervisor with no `createServer`
 * (what is measured is the actor layer: admission, session actors, timers, registry, accounting),
 * and, at every size and in the same heap, the XState floor (bench/floor-case.ts). Targets are
 * the spec's (SPEC.md "Performance targets"), as ratios to the floor measured in the same run, on
 * CPU time (steadier than wall time on a shared machine). Sizes: 1 000, 10 000, 50 000, 100 000
 * live idle sessions. Access patterns: one hot session, a rotation through all of them, nested
 * requests in a busy session; hot and rotation are timed twice, beside the floor's actors (for the
 * ratios to the floor, same heap) and with the sessions alone (for the growth 1k → 100k, the heap a
 * server has: the floor's actors double it and slow the floor itself as much). Then the storm: 100 000 sessions expiring at once, on real timers;
 * then hibernation (bench/hibernation-case.ts): heap per session awake with its MCP server vs
 * hibernated, wake-up latency over HTTP, many hibernated sessions and their expiry storm.
 *
 * A missed target is reported as FAIL, not an exit code; a crash exits non-zero.
 * `BENCH_NAIVE=1` adds the one-parent `spawnChild` design the library avoids (slow).
 * The growth target is read in `BENCH_GROWTH_PROCESSES` (default 5) processes of its own, median and
 * range (bench/growth-case.ts: V8's pretenuring decisions differ from process to process).
 * `BENCH_ONLY=activity` runs only the activity events (floor, hot, rotation, nested) and skips the
 * cycles, the storm and hibernation; `BENCH_ONLY=cycle` only the cycles (floor, lifecycle floor,
 * open+ready+init+close) and the heap per session; `BENCH_SIZES=1000,50000` picks the live sizes (default all four).
 * Both are for iterating on one section: the full run measures what it always did.
 * `BENCH_V8_PRETENURING=keep` runs the supervisors (and so the whole process, floor included) with
 * V8's allocation-site pretenuring kept on, as node has it, instead of the supervisor's default `'off'`.
 */
import { availableParallelism, loadavg } from 'node:os';
import { createActor } from 'xstate';
import { type ExpiryResults, runExpiryCase } from './expiry-case.js';
import {
  admissionFloorMachine,
  FloorPool,
  floorCycles,
  floorHotPairs,
  lifecycleFloorCycles,
} from './floor-case.js';
import {
  type GrowthReadings,
  measureAlone,
  PAIRS_PER_BATCH,
  printGrowth,
  readGrowth,
} from './growth-case.js';
import { runHibernationCase } from './hibernation-case.js';
import { printHibernation } from './hibernation-report.js';
import { runNaiveCase } from './naive-case.js';
import { int, kib, num, print, progress, ratio, table, type Verdict, verdictTable } from './report.js';
import {
  activityPairs,
  admitInitializeDispose,
  assertIdle,
  BENCH_V8_PRETENURING,
  benchSupervisor,
  fillIdle,
  hotActivityPairs,
  LivePool,
  nestedActivityPairs,
  warmUpSupervisor,
} from './supervisor-case.js';
import {
  collectGarbage,
  type GcPauses,
  heapUsedAfterGc,
  msSince,
  NO_GC_PAUSES,
  now,
  type Sample,
  sampleInterleaved,
  watchGcPauses,
} from './timing.js';

const SIZES: readonly number[] = process.env.BENCH_SIZES
  ? process.env.BENCH_SIZES.split(',').map((size) => {
      const parsed = Number(size.replaceAll('_', ''));
      if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`BENCH_SIZES: not a size: ${size}`);
      return parsed;
    })
  : [1_000, 10_000, 50_000, 100_000];
/** `BENCH_ONLY=activity` / `BENCH_ONLY=cycle`: that section alone (see the file comment). */
const ACTIVITY_ONLY = process.env.BENCH_ONLY === 'activity';
const CYCLE_ONLY = process.env.BENCH_ONLY === 'cycle';
if (process.env.BENCH_ONLY !== undefined && !ACTIVITY_ONLY && !CYCLE_ONLY) {
  throw new Error(`BENCH_ONLY: "activity" or "cycle", not ${process.env.BENCH_ONLY}`);
}
/** What the report shows (NaN) for a section BENCH_ONLY skipped. */
const NOT_RUN: Sample = {
  medianUs: Number.NaN,
  cpuUs: Number.NaN,
  bestUs: Number.NaN,
  worstUs: Number.NaN,
  ops: 0,
  batches: 0,
};
const CYCLES_PER_BATCH = 1_000;
/** Cycle batches alternate between the floor and the case too. */
const CYCLE_BATCHES = 9;
/** Activity batches alternate between the floor and the case (see sampleInterleaved): more, shorter ones. */
const ACTIVITY_BATCHES = 9;
/**
 * `BENCH_GROWTH_PROCESSES`: processes of their own that read the growth target (growth-case.ts),
 * 5 by default; 0 reads it in this process only (one draw of V8's pretenuring decisions).
 */
const GROWTH_PROCESSES = Number(process.env.BENCH_GROWTH_PROCESSES ?? 5);
if (!Number.isInteger(GROWTH_PROCESSES) || GROWTH_PROCESSES < 0) {
  throw new Error(`BENCH_GROWTH_PROCESSES: a count, not ${process.env.BENCH_GROWTH_PROCESSES}`);
}
const EXPIRY_SESSIONS = 100_000;
const EXPIRY_IDLE_TIMEOUT_MS = 2_000;

const TARGET = {
  cycleOverFloor: 3,
  eventOverFloor: 2,
  event100kOver1k: 1.2,
  heapBytesPerSession: 5 * 1024,
  longestBlockMs: 50,
} as const;

interface AtSize {
  readonly size: number;
  readonly heapPerSession: number;
  readonly floorCycle: Sample;
  /** The same lifecycle on the least XState needs for it (see lifecycleFloorMachine). */
  readonly lifecycleFloor: Sample;
  /** One START/END pair (2 events) on one actor. */
  readonly floorPair: Sample;
  /** The same pair round-robin over as many floor actors as live sessions. */
  readonly floorRotation: Sample;
  readonly cycle: Sample;
  readonly hot: Sample;
  readonly rotation: Sample;
  readonly nested: Sample;
  /**
   * Hot and rotation again once the floor's actors are stopped: the sessions alone in the heap, as
   * a server holds them. The growth target reads these; the ratios to the floor need the same heap.
   */
  readonly hotAlone: Sample;
  readonly rotationAlone: Sample;
  /**
   * The floor event (one floor actor, which adds nothing to the heap) beside them: how much an
   * event of XState's alone grows with the sessions in the heap (a reading aid, not a target).
   */
  readonly floorAlone: Sample;
  /** The collector's pauses while hot and rotation ran alone (a reading aid for the growth). */
  readonly aloneGc: AloneGc;
}

/**
 * GC pauses over the "sessions alone" batches, a reading aid for the growth target. A scavenge's
 * pause grows with the old generation even when next to nothing survives it (`--trace-gc-nvp` of
 * hot events: ~0.6 ms at 1 000 idle sessions, 2.7–3.1 ms at 100 000, 2–3 KB surviving), and each
 * XState event allocates ~10 KB: part of an event's growth from 1 000 to 100 000 sessions is V8's,
 * and the floor's own event pays it in the same heap. What survives also depends on V8's
 * allocation-site pretenuring, decided per process: one run at 1 000 kept 1.6 MB alive per
 * scavenge of the same hot events (4.3 ms each) where the next kept 2 KB.
 */
interface AloneGc {
  readonly pauses: GcPauses;
  /** Activity events (floor, hot and rotation, warm-up included) the pauses were spread over. */
  readonly events: number;
}

/** CPU µs per event: samples of pairs count 2 events each. */
const perEvent = (s: Sample): number => s.cpuUs / 2;

type ActivitySamples = Pick<
  AtSize,
  | 'floorPair'
  | 'floorRotation'
  | 'hot'
  | 'rotation'
  | 'nested'
  | 'hotAlone'
  | 'rotationAlone'
  | 'floorAlone'
  | 'aloneGc'
>;

/** What the report shows for the activity section when BENCH_ONLY=cycle skipped it. */
const ACTIVITY_NOT_RUN: ActivitySamples = {
  floorPair: NOT_RUN,
  floorRotation: NOT_RUN,
  hot: NOT_RUN,
  rotation: NOT_RUN,
  nested: NOT_RUN,
  hotAlone: NOT_RUN,
  rotationAlone: NOT_RUN,
  floorAlone: NOT_RUN,
  aloneGc: { pauses: NO_GC_PAUSES, events: 0 },
};

/**
 * The activity events at `size` live sessions: beside as many floor actors (same heap), then with
 * the sessions alone. The rotation goes on where the last one stopped (`cursor`).
 */
async function measureActivity(
  supervisor: ReturnType<typeof benchSupervisor>,
  pool: LivePool,
  size: number,
  cursor: { offset: number },
): Promise<ActivitySamples> {
  // The floor's actors live beside the sessions while both are timed (same heap, same GC load);
  // they are stopped before the next fill so that heap reading counts sessions only.
  progress(`floor pool of ${int(size)} actors`);
  const floorPool = new FloorPool();
  floorPool.grow(size);
  const hotId = pool.ids[0] as string;
  progress(`activity at ${int(size)}: floor and case batches alternating`);
  collectGarbage();
  const activity = await sampleInterleaved(
    {
      floorPair: (pairs) => floorHotPairs(floorPool.hot, pairs),
      floorRotation: (pairs) => floorPool.rotate(pairs),
      hot: (pairs) => hotActivityPairs(supervisor, hotId, pairs),
      rotation: (pairs) => {
        activityPairs(supervisor, pool, pairs, cursor.offset);
        cursor.offset += pairs;
      },
      nested: (pairs) => nestedActivityPairs(supervisor, hotId, pairs),
    },
    { opsPerBatch: PAIRS_PER_BATCH, batches: ACTIVITY_BATCHES, warmupOps: PAIRS_PER_BATCH / 2 },
  );
  floorPool.stop();
  progress(`hot and rotation at ${int(size)}, the sessions alone in the heap`);
  collectGarbage();
  const gc = watchGcPauses();
  const alone = await measureAlone(supervisor, pool, cursor, ACTIVITY_BATCHES);
  // The observer hears of pauses on a later turn of the loop (one setImmediate is not enough).
  await new Promise((resolve) => setTimeout(resolve, 20));
  const aloneGc = {
    pauses: gc.stop(),
    events: 3 * 2 * (PAIRS_PER_BATCH / 2 + ACTIVITY_BATCHES * PAIRS_PER_BATCH),
  };
  return { ...activity, ...alone, aloneGc };
}

async function measureAtSizes(): Promise<AtSize[]> {
  const supervisor = benchSupervisor();
  const pool = new LivePool();
  const heapEmpty = heapUsedAfterGc();
  const results: AtSize[] = [];
  const admission = createActor(admissionFloorMachine).start();
  const cursor = { offset: 0 };
  for (const size of SIZES) {
    progress(`filling to ${int(size)} idle sessions`);
    await fillIdle(supervisor, pool, size);
    const heapPerSession = (heapUsedAfterGc() - heapEmpty) / size;
    progress(`floor cycle and open+ready+init+close at ${int(size)}: batches alternating`);
    collectGarbage();
    // Alternating batches: a burst of load from elsewhere lands on both, not on one side's median.
    const { floorCycle, lifecycleFloor, cycle } = ACTIVITY_ONLY
      ? { floorCycle: NOT_RUN, lifecycleFloor: NOT_RUN, cycle: NOT_RUN }
      : await sampleInterleaved(
          {
            floorCycle: floorCycles,
            lifecycleFloor: (ops) => lifecycleFloorCycles(ops, admission),
            cycle: (ops) => admitInitializeDispose(supervisor, ops),
          },
          { opsPerBatch: CYCLES_PER_BATCH, batches: CYCLE_BATCHES, warmupOps: CYCLES_PER_BATCH / 2 },
        );
    assertIdle(supervisor, size);
    const events = CYCLE_ONLY ? ACTIVITY_NOT_RUN : await measureActivity(supervisor, pool, size, cursor);
    assertIdle(supervisor, size);
    results.push({
      size,
      heapPerSession,
      floorCycle,
      lifecycleFloor,
      cycle,
      ...events,
    });
  }
  admission.stop();
  progress(`shutdown of ${int(pool.sessions.length)} idle sessions`);
  const started = now();
  await supervisor.shutdown({ grace: '1s' });
  print(`   shutdown of ${int(pool.sessions.length)} idle sessions: ${int(msSince(started))} ms`);
  return results;
}

function printSizes(rows: readonly AtSize[]): void {
  print(
    table(
      '1. Per session and per event, CPU µs (median of batches), with the XState floor measured beside it',
      [
        'live idle',
        'floor cycle',
        'lifecycle floor',
        '× floor',
        'open+ready+init+close',
        '× floor',
        '× lifecycle floor',
        'floor event',
        'floor rotation',
        'hot event',
        '× floor',
        'rotation event',
        '× floor',
        '× floor rotation',
        'nested event',
        'heap/session',
      ],
      rows.map((r) => [
        int(r.size),
        num(r.floorCycle.cpuUs),
        num(r.lifecycleFloor.cpuUs),
        ratio(r.lifecycleFloor.cpuUs / r.floorCycle.cpuUs),
        num(r.cycle.cpuUs),
        ratio(r.cycle.cpuUs / r.floorCycle.cpuUs),
        ratio(r.cycle.cpuUs / r.lifecycleFloor.cpuUs),
        num(perEvent(r.floorPair)),
        num(perEvent(r.floorRotation)),
        num(perEvent(r.hot)),
        ratio(perEvent(r.hot) / perEvent(r.floorPair)),
        num(perEvent(r.rotation)),
        ratio(perEvent(r.rotation) / perEvent(r.floorPair)),
        ratio(perEvent(r.rotation) / perEvent(r.floorRotation)),
        num(perEvent(r.nested)),
        kib(r.heapPerSession),
      ]),
    ),
  );
  print(
    '   floor cycle = createActor + start + stop of a 5-state machine with one `after`; lifecycle floor = the\n' +
      '   least XState needs for the lifecycle a session goes through, nothing of this library: admission and\n' +
      '   end on a one-counter actor, and the same 5 states, 3 timers and 3 events with no context, guard or\n' +
      '   runtime (bench/floor-case.ts; a reading aid, the target is against the floor cycle). Floor event = half of\n' +
      '   one START/END pair that re-arms the `after`, on one actor; floor rotation = the same pair round-robin\n' +
      '   over as many floor actors as live sessions, in the same heap (a reading aid: the target is against\n' +
      '   the floor event). Cycle and activity batches alternate floor and case (9 rounds each). Cycle = open() + await ready() + markInitialized() +\n' +
      '   close() + await whenDisposed(), 100 in flight. Event = half of (get(id) + beginRequest() + done()):\n' +
      '   hot = always the same session; rotation = round-robin through every live session; nested = a\n' +
      '   request inside a session that already has one in flight. Wall-time medians (µs):\n' +
      rows
        .map(
          (r) =>
            `   @${int(r.size)}: floor cycle ${num(r.floorCycle.medianUs)}, lifecycle floor ${num(r.lifecycleFloor.medianUs)}, ` +
            `cycle ${num(r.cycle.medianUs)}, ` +
            `floor event ${num(r.floorPair.medianUs / 2)}, floor rotation ${num(r.floorRotation.medianUs / 2)}, ` +
            `hot ${num(r.hot.medianUs / 2)}, ` +
            `rotation ${num(r.rotation.medianUs / 2)}, nested ${num(r.nested.medianUs / 2)}`,
        )
        .join('\n'),
  );
  const first = rows[0];
  const last = rows.at(-1);
  if (first && last && first !== last) {
    const growth = (pick: (r: AtSize) => Sample): string =>
      ratio(perEvent(pick(last)) / perEvent(pick(first)));
    print(
      `   event cost @${int(last.size)} / @${int(first.size)} (CPU), beside the floor's actors: floor event ` +
        `${growth((r) => r.floorPair)}, floor rotation ${growth((r) => r.floorRotation)}, hot ${growth((r) => r.hot)}, ` +
        `rotation ${growth((r) => r.rotation)} (a heap twice as full: the floor's own growth is the heap's)\n` +
        `   event cost @${int(last.size)} / @${int(first.size)} (CPU), the sessions alone in the heap (as a server ` +
        `holds them; one draw of the growth, see 1b): hot ${growth((r) => r.hotAlone)}, rotation ${growth((r) => r.rotationAlone)}; ` +
        `the floor event beside them ${growth((r) => r.floorAlone)} (the heap's share)\n` +
        rows
          .map(
            (r) =>
              `   @${int(r.size)} sessions alone: floor event ${num(perEvent(r.floorAlone))}, hot ${num(perEvent(r.hotAlone))}, ` +
              `rotation ${num(perEvent(r.rotationAlone))} µs CPU; ` +
              gcLine(r.aloneGc),
          )
          .join('\n'),
    );
  }
}

/** GC pauses per event over the "sessions alone" batches, and what one scavenge cost on average. */
function gcLine({ pauses, events }: AloneGc): string {
  const scavenges = pauses.count - pauses.markCompacts;
  const scavengeMs = pauses.totalMs - pauses.markCompactTotalMs;
  return (
    `GC pauses ${num((pauses.totalMs * 1000) / events)} µs per event: ${int(scavenges)} scavenges of ` +
    `${num(scavengeMs / Math.max(1, scavenges))} ms on average, ${int(pauses.markCompacts)} mark-compacts ` +
    `(${int(pauses.markCompactTotalMs)} ms)`
  );
}

function printExpiry(e: ExpiryResults): void {
  print(
    table(
      `2. Expiry storm — ${int(e.sessions)} idle sessions, idle timeout ${int(e.idleTimeoutMs)} ms, real timers (systemClock)`,
      ['measure', 'value'],
      [
        ['idle timers armed in one loop turn (setup)', `${int(e.armMs)} ms`],
        ['longest event-loop stall (1 ms heartbeat gap)', `${num(e.longestGapMs)} ms`],
        ['sessions expired inside that stall', int(e.expiredInLongestGap)],
        ['monitorEventLoopDelay max / p99', `${num(e.histogramMaxMs)} ms / ${num(e.histogramP99Ms)} ms`],
        [
          'GC pauses in the window: longest / total (count)',
          `${num(e.longestGcMs)} ms / ${int(e.totalGcMs)} ms (${int(e.gcCount)})`,
        ],
        [
          'longest GC pause by kind: scavenge / mark-compact',
          `${num(e.longestScavengeMs)} ms / ${num(e.longestMarkCompactMs)} ms`,
        ],
        ['process CPU / wall in the window (< 1: waited for a core)', num(e.cpuPerWall)],
        ['heartbeat gaps > 50 ms', int(e.gapsOver50ms)],
        ['first expiry → last disposal', `${int(e.expiryWindowMs)} ms`],
        ['disposed / expected', `${int(e.disposed)} / ${int(e.sessions)}${e.timedOut ? ' (TIMED OUT)' : ''}`],
      ],
    ),
  );
}

function verdicts(
  rows: readonly AtSize[],
  growth: GrowthReadings | undefined,
  expiry: ExpiryResults | undefined,
): Verdict[] {
  const list: Verdict[] = [];
  for (const r of rows) {
    if (r.cycle === NOT_RUN) continue;
    const cycle = r.cycle.cpuUs / r.floorCycle.cpuUs;
    list.push({
      target: `open+ready+init+close ≤ ${TARGET.cycleOverFloor}× floor cycle @${int(r.size)}`,
      measured: ratio(cycle),
      pass: cycle <= TARGET.cycleOverFloor,
    });
  }
  for (const [name, pick, alone] of [
    ['hot session', (r: AtSize) => r.hot, (r: AtSize) => r.hotAlone],
    ['rotation', (r: AtSize) => r.rotation, (r: AtSize) => r.rotationAlone],
  ] as const) {
    if (rows.some((r) => pick(r) === NOT_RUN)) continue;
    for (const r of rows) {
      const over = perEvent(pick(r)) / perEvent(r.floorPair);
      list.push({
        target: `activity event (${name}) ≤ ${TARGET.eventOverFloor}× floor event @${int(r.size)}`,
        measured: ratio(over),
        pass: over <= TARGET.eventOverFloor,
      });
    }
    const first = rows[0];
    const last = rows.at(-1);
    if (growth) {
      const spread = name === 'hot session' ? growth.hot : growth.rotation;
      list.push({
        target: `activity event (${name}) @${int(growth.last)} ≤ ${TARGET.event100kOver1k}× @${int(growth.first)}, sessions alone, median of ${growth.reports.length} processes`,
        measured: `${ratio(spread.median)} (${ratio(spread.low)}–${ratio(spread.high)})`,
        pass: spread.median <= TARGET.event100kOver1k,
      });
    } else if (first && last) {
      const growthInProcess = perEvent(alone(last)) / perEvent(alone(first));
      list.push({
        target: `activity event (${name}) @${int(last.size)} ≤ ${TARGET.event100kOver1k}× @${int(first.size)}, sessions alone, this process`,
        measured: ratio(growthInProcess),
        pass: growthInProcess <= TARGET.event100kOver1k,
      });
    }
  }
  const heaviest = Math.max(...rows.map((r) => r.heapPerSession));
  list.push({
    target: `heap per idle session actor ≤ ${kib(TARGET.heapBytesPerSession)} (worst size)`,
    measured: kib(heaviest),
    pass: heaviest <= TARGET.heapBytesPerSession,
  });
  if (!expiry) return list;
  const longestBlock = Math.max(expiry.longestGapMs, expiry.histogramMaxMs);
  list.push({
    target: `expiring ${int(expiry.sessions)} at once stalls the loop ≤ ${TARGET.longestBlockMs} ms`,
    measured: `${num(longestBlock)} ms${expiry.timedOut ? ' (timed out)' : ''}`,
    pass: longestBlock <= TARGET.longestBlockMs && !expiry.timedOut,
  });
  return list;
}

/** Other processes on a 2-core machine skew wall times: say so next to the figures. */
function loadLine(label: string): string {
  const [one = 0, five = 0] = loadavg();
  return `${label}: load average ${one.toFixed(2)} (1 min), ${five.toFixed(2)} (5 min) on ${availableParallelism()} cores`;
}

async function main(): Promise<void> {
  if (process.execArgv.some((arg) => arg.includes('tsx'))) {
    throw new Error('run the compiled bench (npm run bench), not through tsx: tsx costs ~18 %');
  }
  const started = now();
  print(`# Actor-layer benchmark — node ${process.version}, ${process.arch}, compiled JavaScript`);
  print(loadLine('at start'));
  print(
    `V8 allocation-site pretenuring: ${BENCH_V8_PRETENURING === 'keep' ? 'kept on (BENCH_V8_PRETENURING=keep)' : "off, the supervisor's default"}; ` +
      'process-wide: the floor beside the sessions runs under it too',
  );
  progress('warming up');
  await warmUpSupervisor();
  const rows = await measureAtSizes();
  const growth =
    !CYCLE_ONLY && GROWTH_PROCESSES > 0 && new Set(SIZES).size > 1
      ? await readGrowth(SIZES, GROWTH_PROCESSES)
      : undefined;
  if (ACTIVITY_ONLY || CYCLE_ONLY) {
    printSizes(rows);
    if (growth) printGrowth(growth);
    print(
      verdictTable(
        `Targets (one section only: BENCH_ONLY=${process.env.BENCH_ONLY})`,
        verdicts(rows, growth, undefined),
      ),
    );
    print(`\n${loadLine('at end (this bench included)')}`);
    return;
  }
  const expiry = await runExpiryCase(EXPIRY_SESSIONS, EXPIRY_IDLE_TIMEOUT_MS);
  const hibernation = await runHibernationCase({
    heapSessions: 2_000,
    wakeSamples: 300,
    manySessions: Number(process.env.HIBERNATION_SESSIONS ?? 100_000),
  });
  printSizes(rows);
  if (growth) printGrowth(growth);
  printExpiry(expiry);
  const hibernationVerdicts = printHibernation(hibernation);
  if (process.env.BENCH_NAIVE === '1') {
    const naive = await runNaiveCase({
      sizes: [1_000, 5_000],
      opsPerBatch: 100,
      batches: 5,
      budgetMs: 3_000,
    });
    print(
      table(
        '3. Naive: every session spawnChild-ed into ONE machine (spawnChild + stopChild)',
        ['live children', 'CPU µs/op'],
        [...naive.churn].map(([size, s]) => [int(size), num(s.cpuUs)]),
      ),
    );
  }
  print(
    verdictTable('Targets (SPEC.md "Performance targets", actor layer and hibernation)', [
      ...verdicts(rows, growth, expiry),
      ...hibernationVerdicts,
    ]),
  );
  print(`\n${loadLine('at end (this bench included)')}`);
  print(`Total bench time: ${(msSince(started) / 1000).toFixed(1)} s`);
}

await main();
