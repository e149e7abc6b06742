/**
 * Same-process A/B of two compiled builds of the actor layer: the build this file belongs to
 * against a copy of an earlier `dist/` (e.g. `cp -r dist /tmp/base` before a change, then rebuild).
 * Both builds share one `xstate` (the copy resolves it from this repository's node_modules when it
 * lives inside the repository, e.g. `scratch/base`), each has its own supervisor filled to the same
 * number of idle sessions, and their batches alternate (the side that starts moves every round), so
 * load from other processes and the collector land on both. CPU time per operation, medians, and the
 * median of the per-round ratios.
 *
 *   npm run build:apps && node --expose-gc dist/bench/actors-ab.js scratch/base 1000 21
 *   BENCH_AB_FIRST=new …   # fill and load this build first (run both orders: the side filled
 *                          # second read ~5 % cheaper in A/A runs of one build against itself)
 *   BENCH_AB_WORKLOADS=cycle,rotation,hot   # default cycle,rotation
 *
 * A reading aid for a change, not a target: the verdicts live in actors.bench.ts.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { num, print, ratio, table } from './report.js';
import * as current from './supervisor-case.js';
import { collectGarbage, median } from './timing.js';

type Case = typeof current;

interface Side {
  readonly name: 'base' | 'new';
  readonly bench: Case;
  readonly supervisor: current.Supervisor;
  readonly pool: current.LivePool;
  offset: number;
}

interface Workload {
  readonly opsPerBatch: number;
  /** Events per operation (a begin/end pair is two). */
  readonly eventsPerOp: number;
  run(side: Side, ops: number): Promise<void> | void;
}

const WORKLOADS: Readonly<Record<string, Workload>> = {
  cycle: {
    opsPerBatch: 1_000,
    eventsPerOp: 1,
    run: (side, ops) => side.bench.admitInitializeDispose(side.supervisor, ops),
  },
  rotation: {
    opsPerBatch: 10_000,
    eventsPerOp: 2,
    run: (side, ops) => {
      side.bench.activityPairs(side.supervisor, side.pool, ops, side.offset);
      side.offset += ops;
    },
  },
  hot: {
    opsPerBatch: 10_000,
    eventsPerOp: 2,
    run: (side, ops) => side.bench.hotActivityPairs(side.supervisor, side.pool.ids[0] as string, ops),
  },
};

const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function sideOf(name: Side['name'], bench: Case, size: number): Promise<Side> {
  const supervisor = bench.benchSupervisor();
  const pool = new bench.LivePool();
  await bench.fillIdle(supervisor, pool, size);
  return { name, bench, supervisor, pool, offset: 0 };
}

async function main(): Promise<void> {
  const [baseDir, sizeArg = '1000', roundsArg = '21'] = process.argv.slice(2);
  if (!baseDir) throw new Error('usage: actors-ab.js <base dist dir> [live sessions] [rounds]');
  const size = Number(sizeArg);
  const rounds = Number(roundsArg);
  const names = (process.env.BENCH_AB_WORKLOADS ?? 'cycle,rotation').split(',');
  for (const name of names) if (!WORKLOADS[name]) throw new Error(`BENCH_AB_WORKLOADS: unknown ${name}`);
  const baseUrl = pathToFileURL(resolve(baseDir, 'bench/supervisor-case.js'));
  const base = (await import(baseUrl.href)) as Case;
  const newFirst = process.env.BENCH_AB_FIRST === 'new';
  const sides = newFirst
    ? [await sideOf('new', current, size), await sideOf('base', base, size)]
    : [await sideOf('base', base, size), await sideOf('new', current, size)];
  const cpu = new Map<string, { base: number[]; new: number[]; ratios: number[] }>();
  for (const name of names) {
    const workload = WORKLOADS[name] as Workload;
    for (const side of sides) await workload.run(side, workload.opsPerBatch / 2);
    cpu.set(name, { base: [], new: [], ratios: [] });
  }
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const workload = WORKLOADS[name] as Workload;
      const perEvent: Partial<Record<Side['name'], number>> = {};
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(round + k) % sides.length] as Side;
        collectGarbage();
        const started = cpuMicros();
        await workload.run(side, workload.opsPerBatch);
        perEvent[side.name] = (cpuMicros() - started) / workload.opsPerBatch / workload.eventsPerOp;
      }
      const samples = cpu.get(name);
      samples?.base.push(perEvent.base ?? Number.NaN);
      samples?.new.push(perEvent.new ?? Number.NaN);
      samples?.ratios.push((perEvent.new ?? Number.NaN) / (perEvent.base ?? Number.NaN));
    }
  }
  print(
    table(
      `A/B of two builds, ${size} live idle sessions each, ${rounds} alternating rounds (${newFirst ? 'new' : 'base'} filled first)`,
      ['workload', 'base CPU µs', 'new CPU µs', 'new / base', 'median of round ratios'],
      names.map((name) => {
        const samples = cpu.get(name) ?? { base: [], new: [], ratios: [] };
        return [
          name,
          num(median(samples.base)),
          num(median(samples.new)),
          ratio(median(samples.new) / median(samples.base)),
          ratio(median(samples.ratios)),
        ];
      }),
    ),
  );
  // Two supervisors full of hour-long idle sessions: nothing left to measure, so no drain of them.
  process.exit(0);
}

await main();
