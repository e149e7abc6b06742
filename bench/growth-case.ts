/**
 * The growth target (an activity event at the largest live size costs ≤ 1.2× what it costs at the
 * smallest, the sessions alone in the heap) read in several processes of its own, each started as
 * node starts, reporting the median and the spread of the per-process ratios.
 *
 * Why not one reading in the bench's own process: V8's allocation-site pretenuring is decided per
 * process, early, from what survives the first scavenges, and it is sticky. Whether xstate's
 * per-event objects are then born old or young moves an event's cost by up to ~1.4× in both
 * directions (readings of 0.79× to 1.40× for the same build across runs), so one process is one
 * draw. Each child measures both sizes under the same decisions (warm-up, fill to the smallest
 * size, measure; fill to the largest, measure) and the verdict reads the median over processes,
 * which can still fail: a structure that grows with the number of sessions grows in every process.
 *
 *   node --expose-gc dist/bench/growth-child.js sessions 1000,100000   # one child, one JSON line
 *   node --expose-gc dist/bench/growth-child.js floor 1000,100000      # the floor's actors alone
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createActor } from 'xstate';
import { FloorPool, floorHotPairs, floorMachine } from './floor-case.js';
import { int, num, print, progress, ratio, table } from './report.js';
import {
  activityPairs,
  assertIdle,
  benchSupervisor,
  fillIdle,
  hotActivityPairs,
  LivePool,
  type Supervisor,
  warmUpSupervisor,
} from './supervisor-case.js';
import { collectGarbage, median, type Sample, sampleInterleaved } from './timing.js';

export const PAIRS_PER_BATCH = 10_000;

/** Hot and rotation with the sessions alone in the heap, the floor event (one actor) beside them. */
export interface AloneSamples {
  readonly floorAlone: Sample;
  readonly hotAlone: Sample;
  readonly rotationAlone: Sample;
}

/**
 * Times hot and rotation on the sessions of `pool` (alone in the heap but for one floor actor),
 * batches alternating with the floor event. The rotation goes on where the last one stopped.
 * Collect garbage before (not inside: a caller may be watching the collector's pauses).
 */
export async function measureAlone(
  supervisor: Supervisor,
  pool: LivePool,
  cursor: { offset: number },
  batches: number,
): Promise<AloneSamples> {
  const hotId = pool.ids[0] as string;
  const floorActor = createActor(floorMachine).start();
  const samples = await sampleInterleaved(
    {
      floorAlone: (pairs) => floorHotPairs(floorActor, pairs),
      hotAlone: (pairs) => hotActivityPairs(supervisor, hotId, pairs),
      rotationAlone: (pairs) => {
        activityPairs(supervisor, pool, pairs, cursor.offset);
        cursor.offset += pairs;
      },
    },
    { opsPerBatch: PAIRS_PER_BATCH, batches, warmupOps: PAIRS_PER_BATCH / 2 },
  );
  floorActor.stop();
  return samples;
}

/** What one child process reports: CPU µs per event at each size, the sessions alone. */
export interface GrowthChildReport {
  readonly sizes: readonly number[];
  readonly floor: readonly number[];
  readonly hot: readonly number[];
  readonly rotation: readonly number[];
}

/** Batches per size in a child: fewer than the main bench's, there are several children. */
const CHILD_BATCHES = 7;

/** The child's work: warm up as the bench does, then fill and measure each size in turn. */
export async function runGrowthChild(sizes: readonly number[]): Promise<GrowthChildReport> {
  await warmUpSupervisor();
  const supervisor = benchSupervisor();
  const pool = new LivePool();
  const cursor = { offset: 0 };
  const floor: number[] = [];
  const hot: number[] = [];
  const rotation: number[] = [];
  for (const size of sizes) {
    await fillIdle(supervisor, pool, size);
    collectGarbage();
    const samples = await measureAlone(supervisor, pool, cursor, CHILD_BATCHES);
    assertIdle(supervisor, size);
    // A pair is two events.
    floor.push(samples.floorAlone.cpuUs / 2);
    hot.push(samples.hotAlone.cpuUs / 2);
    rotation.push(samples.rotationAlone.cpuUs / 2);
  }
  return { sizes, floor, hot, rotation };
}

/**
 * The XState floor alone at the same sizes, in a process of its own: as many floor actors as there
 * would be sessions, the floor event on one of them and the floor rotation through all of them. What
 * any actor pays at the larger size (a fuller heap, colder actors and timers), with nothing of this
 * library in the process: a reading aid beside the sessions' growth, not a target.
 */
export async function runFloorGrowthChild(sizes: readonly number[]): Promise<FloorGrowthReport> {
  const pool = new FloorPool();
  const hot: number[] = [];
  const rotation: number[] = [];
  // As the sessions' child warms up: the floor's code paths run before the first batch.
  pool.grow(2_000);
  pool.rotate(20_000);
  floorHotPairs(pool.hot, 20_000);
  for (const size of sizes) {
    pool.grow(size);
    collectGarbage();
    const samples = await sampleInterleaved(
      { hot: (pairs) => floorHotPairs(pool.hot, pairs), rotation: (pairs) => pool.rotate(pairs) },
      { opsPerBatch: PAIRS_PER_BATCH, batches: CHILD_BATCHES, warmupOps: PAIRS_PER_BATCH / 2 },
    );
    hot.push(samples.hot.cpuUs / 2);
    rotation.push(samples.rotation.cpuUs / 2);
  }
  return { sizes, hot, rotation };
}

export interface FloorGrowthReport {
  readonly sizes: readonly number[];
  readonly hot: readonly number[];
  readonly rotation: readonly number[];
}

/** Ratios largest size / smallest size, per child process, and their median and range. */
export interface GrowthReadings {
  readonly first: number;
  readonly last: number;
  readonly reports: readonly GrowthChildReport[];
  readonly hot: Spread;
  readonly rotation: Spread;
  readonly floor: Spread;
  /** Processes with the floor's actors alone (see {@link runFloorGrowthChild}). */
  readonly floorReports: readonly FloorGrowthReport[];
  readonly floorAloneHot: Spread;
  readonly floorAloneRotation: Spread;
}

export interface Spread {
  readonly ratios: readonly number[];
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

const growthOf = (values: readonly number[]): number =>
  (values.at(-1) ?? Number.NaN) / (values[0] ?? Number.NaN);

function spreadOf(ratios: readonly number[]): Spread {
  return { ratios, median: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}

const CHILD_SCRIPT = fileURLToPath(new URL('./growth-child.js', import.meta.url));

/** One child process, started as node starts (only --expose-gc), one after the other (2 cores). */
function runChild<R>(kind: 'sessions' | 'floor', sizes: readonly number[]): Promise<R> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD_SCRIPT, kind, sizes.join(',')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`growth child exited with ${code}: ${line}`));
      try {
        resolve(JSON.parse(line) as R);
      } catch (error) {
        reject(new Error(`growth child printed no report: ${String(error)}: ${line}`));
      }
    });
  });
}

/** `processes` children in a row, each measuring the smallest and the largest of `sizes`. */
export async function readGrowth(sizes: readonly number[], processes: number): Promise<GrowthReadings> {
  const first = Math.min(...sizes);
  const last = Math.max(...sizes);
  const reports: GrowthChildReport[] = [];
  const floorReports: FloorGrowthReport[] = [];
  for (let i = 0; i < processes; i++) {
    progress(`growth: process ${i + 1} of ${processes} (${int(first)} then ${int(last)} sessions alone)`);
    reports.push(await runChild<GrowthChildReport>('sessions', [first, last]));
    progress(`growth: floor process ${i + 1} of ${processes} (${int(first)} then ${int(last)} floor actors)`);
    floorReports.push(await runChild<FloorGrowthReport>('floor', [first, last]));
  }
  return {
    first,
    last,
    reports,
    hot: spreadOf(reports.map((r) => growthOf(r.hot))),
    rotation: spreadOf(reports.map((r) => growthOf(r.rotation))),
    floor: spreadOf(reports.map((r) => growthOf(r.floor))),
    floorReports,
    floorAloneHot: spreadOf(floorReports.map((r) => growthOf(r.hot))),
    floorAloneRotation: spreadOf(floorReports.map((r) => growthOf(r.rotation))),
  };
}

export function printGrowth(g: GrowthReadings): void {
  const at = (values: readonly number[], index: number): string => num(values[index] ?? Number.NaN);
  print(
    table(
      `1b. Growth, ${g.reports.length} processes of their own: event CPU µs @${int(g.first)} and @${int(g.last)} live idle sessions, the sessions alone`,
      [
        'process',
        `floor @${int(g.first)}`,
        `floor @${int(g.last)}`,
        'floor ×',
        `hot @${int(g.first)}`,
        `hot @${int(g.last)}`,
        'hot ×',
        `rotation @${int(g.first)}`,
        `rotation @${int(g.last)}`,
        'rotation ×',
      ],
      g.reports.map((r, i) => [
        String(i + 1),
        at(r.floor, 0),
        at(r.floor, 1),
        ratio(g.floor.ratios[i] ?? Number.NaN),
        at(r.hot, 0),
        at(r.hot, 1),
        ratio(g.hot.ratios[i] ?? Number.NaN),
        at(r.rotation, 0),
        at(r.rotation, 1),
        ratio(g.rotation.ratios[i] ?? Number.NaN),
      ]),
    ),
  );
  const line = (name: string, s: Spread): string =>
    `${name} median ${ratio(s.median)} (range ${ratio(s.low)}–${ratio(s.high)})`;
  // The same children also read the per-event ratios to the floor event timed beside the sessions
  // (one floor actor in their heap): the ratio targets across processes, a reading aid beside the
  // main run's single-process verdicts.
  const over = (pick: (r: GrowthChildReport) => readonly number[], index: number): Spread =>
    spreadOf(g.reports.map((r) => (pick(r)[index] ?? Number.NaN) / (r.floor[index] ?? Number.NaN)));
  print(
    `   @${int(g.last)} / @${int(g.first)}: ${line('hot', g.hot)}, ${line('rotation', g.rotation)}; ` +
      `${line('the floor event', g.floor)} (the heap's share).\n` +
      `   The XState floor alone, as many floor actors as sessions, ${g.floorReports.length} processes of its own: ` +
      `${line('floor event', g.floorAloneHot)}, ${line('floor rotation', g.floorAloneRotation)}\n` +
      g.floorReports
        .map(
          (r, i) =>
            `     process ${i + 1}: floor event ${at(r.hot, 0)} → ${at(r.hot, 1)}, floor rotation ${at(r.rotation, 0)} → ${at(r.rotation, 1)} µs CPU`,
        )
        .join('\n') +
      '\n' +
      `   Per event against the floor event beside them, across the processes: @${int(g.first)} ` +
      `${line(
        'hot',
        over((r) => r.hot, 0),
      )}, ${line(
        'rotation',
        over((r) => r.rotation, 0),
      )}; @${int(g.last)} ` +
      `${line(
        'hot',
        over((r) => r.hot, 1),
      )}, ${line(
        'rotation',
        over((r) => r.rotation, 1),
      )}.\n` +
      '   Each process warms up, fills to the smaller size, times floor, hot and rotation in alternating\n' +
      "   batches, then fills to the larger size and times them again: both under that process's own V8\n" +
      '   pretenuring decisions, which differ from process to process. The growth verdict reads the medians.',
  );
}
