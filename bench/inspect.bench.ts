/**
 * Inspection overhead: `npm run bench:inspect` (node --expose-gc --import tsx bench/inspect.bench.ts).
 *
 * Times one full session cycle — admit, build, initialize, ACTIVITY request begin/end pairs, close,
 * dispose — on the real supervisor (no createServer: the actor layer alone), with and without an
 * inspection observer. No network: the observers send to in-process adapters. Every timed batch
 * ends only when the inspector's deferred work (one `setTimeout(0)` per event, serialization
 * included) is done, so the figures are the whole cost, not just the part on the request path.
 * All variants run side by side in rotating rounds, so load from elsewhere on a shared machine
 * falls on each alike; read the CPU column first.
 *
 * Variants:
 * - none: no `inspect` option (the floor).
 * - xstate no-op observer: `inspect: () => {}` — what XState itself spends producing events.
 * - createStatelyInspection, no-op adapter: ours (filtered, sanitized), the adapter discards.
 * - createStatelyInspection, JSON adapter: ours, plus the `JSON.stringify` the socket would do.
 * - @statelyai/inspect createInspector, no-op adapter: the library as is (no filter, no sanitizer).
 */
import { createInspector } from '@statelyai/inspect';
import type { InspectionEvent, Observer } from 'xstate';
import { createSessionSupervisor, type SessionSupervisor } from '../src/index.js';
import { createStatelyInspection } from '../src/inspection.js';
import { int, num, print, progress, ratio, table } from './report.js';
import { collectGarbage, median, msSince, now, type Sample, yieldToEventLoop } from './timing.js';

const ACTIVITY = 4;
const CHUNK = 100;
const OPS_PER_BATCH = 2_000;
/** Timed batches per variant, one per round. */
const ROUNDS = 7;
const WARMUP_OPS = 1_000;

type Supervisor = SessionSupervisor<unknown>;

interface Counts {
  readonly forwarded: number;
  readonly skipped: number;
  readonly dropped?: number;
  /** Serialized bytes, when the adapter serializes. */
  readonly bytes?: number;
}

interface Variant {
  readonly name: string;
  /** A fresh observer, and how to wait for its deferred work and read what it did. */
  make(): {
    inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
    idle(): Promise<void>;
    stop(): void;
    counts(): Counts | undefined;
  };
}

/** Waits until a `setTimeout(0)`-deferring inspector has gone a whole timer turn without sending. */
async function untilQuiet(sent: () => number): Promise<void> {
  let last = -1;
  while (sent() !== last) {
    last = sent();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'none',
    make: () => ({ inspect: undefined, idle: async () => {}, stop: () => {}, counts: () => undefined }),
  },
  {
    name: 'xstate no-op observer',
    make: () => {
      let seen = 0;
      return {
        inspect: () => {
          seen += 1;
        },
        idle: async () => {},
        stop: () => {},
        counts: () => ({ forwarded: seen, skipped: 0 }),
      };
    },
  },
  {
    name: 'createStatelyInspection, no-op adapter',
    make: () => {
      const inspection = createStatelyInspection({ adapter: { send: () => {} } });
      return {
        inspect: inspection.inspect,
        idle: () => inspection.whenIdle(),
        stop: () => inspection.stop(),
        counts: () => inspection.stats(),
      };
    },
  },
  {
    name: 'createStatelyInspection, JSON adapter',
    make: () => {
      let bytes = 0;
      const inspection = createStatelyInspection({
        adapter: {
          send: (event) => {
            bytes += JSON.stringify(event).length;
          },
        },
      });
      return {
        inspect: inspection.inspect,
        idle: () => inspection.whenIdle(),
        stop: () => inspection.stop(),
        counts: () => ({ ...inspection.stats(), bytes }),
      };
    },
  },
  {
    name: '@statelyai/inspect createInspector, no-op adapter',
    make: () => {
      let sent = 0;
      let seen = 0;
      const inspector = createInspector({
        send: () => {
          sent += 1;
        },
      });
      return {
        inspect: {
          next: (event: InspectionEvent) => {
            seen += 1;
            inspector.inspect.next?.(event);
          },
        },
        idle: () => untilQuiet(() => sent),
        stop: () => inspector.stop(),
        counts: () => ({ forwarded: seen, skipped: 0 }),
      };
    },
  },
];

/** `ops` whole session lives, CHUNK at a time, as an HTTP client would drive them. */
async function cycles(supervisor: Supervisor, ops: number, idle: () => Promise<void>): Promise<void> {
  for (let done = 0; done < ops; ) {
    const count = Math.min(CHUNK, ops - done);
    const batch = Array.from({ length: count }, () => supervisor.open());
    await Promise.all(batch.map((session) => session.ready()));
    // One event-loop turn per chunk, as a server gets between requests: the inspector's deferred
    // work runs in the timers phase, which a chain of microtasks alone never reaches (it would
    // then pile up to maxPendingEvents and the rest would be dropped, measuring nothing).
    await yieldToEventLoop();
    const disposals = batch.map((session) => {
      session.markInitialized();
      for (let i = 0; i < ACTIVITY; i++) session.beginRequest()();
      supervisor.close(session.id);
      return session.whenDisposed();
    });
    await Promise.all(disposals);
    done += count;
  }
  await idle();
}

interface Result {
  readonly name: string;
  readonly sample: Sample;
  readonly eventsPerCycle: number | undefined;
  readonly skippedPerCycle: number | undefined;
  readonly bytesPerCycle: number | undefined;
  readonly dropped: number | undefined;
}

interface Running {
  readonly variant: Variant;
  readonly observer: ReturnType<Variant['make']>;
  readonly supervisor: Supervisor;
  readonly wallUs: number[];
  readonly cpuUs: number[];
  counted: Counts | undefined;
  cycles: number;
}

/** One timed batch: wall and process-CPU µs per cycle. */
async function timeBatch(run: Running): Promise<void> {
  collectGarbage();
  const before = run.observer.counts();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await cycles(run.supervisor, OPS_PER_BATCH, run.observer.idle);
  run.wallUs.push((msSince(t0) * 1000) / OPS_PER_BATCH);
  const cpu = process.cpuUsage(cpu0);
  run.cpuUs.push((cpu.user + cpu.system) / OPS_PER_BATCH);
  const after = run.observer.counts();
  if (before && after) {
    run.counted = {
      forwarded: (run.counted?.forwarded ?? 0) + after.forwarded - before.forwarded,
      skipped: (run.counted?.skipped ?? 0) + after.skipped - before.skipped,
      dropped: (run.counted?.dropped ?? 0) + (after.dropped ?? 0) - (before.dropped ?? 0),
      ...(after.bytes === undefined
        ? {}
        : { bytes: (run.counted?.bytes ?? 0) + after.bytes - (before.bytes ?? 0) }),
    };
  }
  run.cycles += OPS_PER_BATCH;
}

// Every variant lives side by side, and each round times one batch of each, in a rotating
// order: on a shared machine, load that comes and goes then hits every variant alike.
const runs: Running[] = VARIANTS.map((variant) => {
  const observer = variant.make();
  const supervisor = createSessionSupervisor({
    maxSessions: 1_000_000,
    idleTimeout: '1h',
    ...(observer.inspect ? { inspect: observer.inspect } : {}),
  });
  return { variant, observer, supervisor, wallUs: [], cpuUs: [], counted: undefined, cycles: 0 };
});
for (const run of runs) {
  progress(`warming up: ${run.variant.name}`);
  await cycles(run.supervisor, WARMUP_OPS, run.observer.idle);
}
for (let round = 0; round < ROUNDS; round++) {
  progress(`round ${round + 1} of ${ROUNDS}`);
  for (let i = 0; i < runs.length; i++) await timeBatch(runs[(round + i) % runs.length] as Running);
}
const results: Result[] = [];
for (const run of runs) {
  await run.supervisor.shutdown({ grace: 1 });
  await run.observer.idle();
  run.observer.stop();
  const per = (value: number | undefined) => (value === undefined ? undefined : value / run.cycles);
  results.push({
    name: run.variant.name,
    sample: {
      medianUs: median(run.wallUs),
      bestUs: Math.min(...run.wallUs),
      worstUs: Math.max(...run.wallUs),
      cpuUs: median(run.cpuUs),
      ops: run.cycles,
      batches: run.wallUs.length,
    },
    eventsPerCycle: per(run.counted?.forwarded),
    skippedPerCycle: per(run.counted?.skipped),
    bytesPerCycle: per(run.counted?.bytes),
    dropped: run.counted?.dropped,
  });
}

const floor = results[0]?.sample.medianUs ?? Number.NaN;
const floorCpu = results[0]?.sample.cpuUs ?? Number.NaN;
print(
  table(
    `Inspection overhead — one cycle = open + ready + initialize + ${ACTIVITY}× request begin/end + close + disposed, ${CHUNK} in flight; deferred inspection work included`,
    [
      'observer',
      'µs/cycle',
      'best',
      'worst',
      'CPU µs/cycle',
      'cycles/s',
      'overhead (wall)',
      'overhead (CPU)',
      'events/cycle',
      'skipped/cycle',
      'dropped',
      'JSON bytes/cycle',
    ],
    results.map((r) => [
      r.name,
      num(r.sample.medianUs),
      num(r.sample.bestUs),
      num(r.sample.worstUs),
      num(r.sample.cpuUs),
      int(1e6 / r.sample.medianUs),
      ratio(r.sample.medianUs / floor),
      ratio(r.sample.cpuUs / floorCpu),
      r.eventsPerCycle === undefined ? '—' : num(r.eventsPerCycle),
      r.skippedPerCycle === undefined ? '—' : num(r.skippedPerCycle),
      r.dropped === undefined ? '—' : int(r.dropped),
      r.bytesPerCycle === undefined ? '—' : int(r.bytesPerCycle),
    ]),
  ),
);
const byName = (name: string): Result | undefined => results.find((r) => r.name === name);
const overhead = (r: Result | undefined): string =>
  r === undefined ? '—' : `${ratio(r.sample.medianUs / floor)} wall, ${ratio(r.sample.cpuUs / floorCpu)} CPU`;
print(
  [
    '',
    `   OVERHEAD RATIO createStatelyInspection vs none: ${overhead(byName('createStatelyInspection, no-op adapter'))} (no-op adapter); ` +
      `${overhead(byName('createStatelyInspection, JSON adapter'))} (JSON adapter, what the relay socket costs)`,
    `   @statelyai/inspect createInspector as is, no-op adapter: ${overhead(byName('@statelyai/inspect createInspector, no-op adapter'))}`,
    `   ${ROUNDS} rounds × ${int(OPS_PER_BATCH)} cycles per variant, interleaved; medians. events/cycle: what reached the adapter`,
    '   (xstate no-op: every event XState emitted); skipped: microsteps and actions dropped before any deferred work.',
  ].join('\n'),
);
