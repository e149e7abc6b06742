/**
 * Scale-out benchmark over loopback: `npm run bench:cluster`
 * (node --expose-gc --import tsx bench/cluster.bench.ts). Needs `redis-server` on the PATH; starts
 * its own on a free 127.0.0.1 port (no persistence) and stops it at the end.
 *
 * Each node is its own process (bench/cluster-server.ts); the load generator (autocannon) runs
 * here. Variants, one after the other:
 * - `local`: no `cluster` option — today's in-memory supervisor, the baseline of every ratio;
 * - `memory registry ×1`: the cluster wiring on a MemoryClusterRegistry (no network);
 * - `redis ×1`, `redis ×3 sticky`: nodes on one Redis; with 3, each session stays on the node that
 *   admitted it (a balancer with session affinity);
 * - `redis ×3 round-robin`: ONE session whose calls go to the 3 nodes in turn, so nearly every
 *   call is a takeover (rebuild + replayed initialize): the cost of a balancer without affinity.
 * Workloads: `tools/call` throughput, admissions (initialize → initialized → DELETE), and the
 * latency the registry adds per request (one connection, sequential: mean time per operation).
 * On a 2-core machine three nodes, Redis and the load generator share two cores: ×3 shows the
 * cost of coordination, not a speed-up.
 *
 * All variants run at once (idle but one) and are measured in interleaved rounds whose order
 * alternates, so each sees the same background load; ratios are medians of per-round ratios.
 *
 * Environment: BENCH_CLUSTER_SECONDS (seconds per window, default 2), BENCH_CLUSTER_ROUNDS
 * (default 3).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../test/support/redis-server.js';
import type { ClusterChildMessage, ClusterMode, ClusterParentMessage } from './cluster-server.js';
import {
  callToolOnce,
  initializeSession,
  type McpSession,
  type RunOptions,
  type RunResult,
  runChurn,
  runToolsCall,
} from './http-load.js';
import { int, num, print, progress, ratio, table } from './report.js';
import { median } from './timing.js';

const SECONDS = Number(process.env.BENCH_CLUSTER_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 3);
const SERVER_ENTRY = fileURLToPath(new URL('./cluster-server.ts', import.meta.url));
const TOOLS_CONNECTIONS = 15;
const CHURN_CONNECTIONS = 12;

class NodeChild {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static start(mode: ClusterMode, env: Record<string, string>): Promise<NodeChild> {
    const child = fork(SERVER_ENTRY, [], {
      env: { ...process.env, ...env, MODE: mode },
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`node (${mode}) exited with ${code} while starting`)));
      child.once('message', (message: ClusterChildMessage) => {
        if (message.type !== 'ready') return;
        child.removeAllListeners('exit');
        resolve(new NodeChild(child, `http://127.0.0.1:${message.port}/mcp`));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'stop' } satisfies ClusterParentMessage);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
}

interface Variant {
  readonly name: string;
  readonly mode: ClusterMode;
  readonly nodes: number;
  /** One session served by every node in turn instead of one session per node. */
  readonly roundRobin?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'local (no cluster, today)', mode: 'local', nodes: 1 },
  { name: 'memory registry ×1', mode: 'memory', nodes: 1 },
  { name: 'redis ×1', mode: 'redis', nodes: 1 },
  { name: 'redis ×3 sticky', mode: 'redis', nodes: 3 },
  { name: 'redis ×3 round-robin', mode: 'redis', nodes: 3, roundRobin: true },
];

/** One round's readings of one variant. */
interface Reading {
  readonly tools: RunResult;
  readonly churn: RunResult | undefined;
  /** Mean µs per sequential tools/call, and per sequential session (3 requests). */
  readonly toolsUs: number;
  readonly sessionUs: number | undefined;
}

interface Running {
  readonly variant: Variant;
  readonly nodes: readonly NodeChild[];
  readonly urls: readonly string[];
  readonly sessions: ReadonlyMap<string, McpSession>;
}

/** Runs one workload on every node at once (connections split between them) and sums the results. */
async function onAll(
  urls: readonly string[],
  run: (url: string, options: RunOptions) => Promise<RunResult>,
  connections: number,
): Promise<RunResult> {
  const per = Math.max(1, Math.round(connections / urls.length));
  const results = await Promise.all(urls.map((url) => run(url, { connections: per, seconds: SECONDS })));
  const sum = (pick: (result: RunResult) => number) =>
    results.reduce((total, result) => total + pick(result), 0);
  const worst = (pick: (result: RunResult) => number) => Math.max(...results.map(pick));
  return {
    perSecond: sum((result) => result.perSecond),
    operations: sum((result) => result.operations),
    requestsPerSecond: sum((result) => result.requestsPerSecond),
    p50: worst((result) => result.p50),
    p99: worst((result) => result.p99),
    failures: sum((result) => result.failures),
    seconds: SECONDS,
  };
}

async function start(variant: Variant, redis: RedisServer, index: number): Promise<Running> {
  const env = { REDIS_URL: redis.url, KEY_PREFIX: `bench-${process.pid}-${index}:` };
  const nodes = await Promise.all(
    Array.from({ length: variant.nodes }, (_, n) =>
      NodeChild.start(variant.mode, { ...env, NODE_ID: `node-${n}` }),
    ),
  );
  const urls = nodes.map((node) => node.url);
  // One session per node (sticky), or one session for all (round-robin), checked before timing.
  const sessions = new Map<string, McpSession>();
  const shared = variant.roundRobin ? await initializeSession(urls[0] as string) : undefined;
  for (const url of urls) {
    const session = shared ?? (await initializeSession(url));
    sessions.set(url, session);
    await callToolOnce(url, session);
  }
  return { variant, nodes, urls, sessions };
}

async function measure({ variant, urls, sessions }: Running, round: number): Promise<Reading> {
  const tools = (url: string, options: RunOptions) =>
    runToolsCall(url, sessions.get(url) as McpSession, options);
  progress(`round ${round}: ${variant.name}`);
  const toolsResult = await onAll(urls, tools, TOOLS_CONNECTIONS);
  const churn = variant.roundRobin ? undefined : await onAll(urls, runChurn, CHURN_CONNECTIONS);
  // Round-robin: one connection per node on the same session, so consecutive calls change node.
  const sequential = variant.roundRobin
    ? await onAll(urls, tools, urls.length)
    : await onAll([urls[0] as string], tools, 1);
  const sequentialChurn = variant.roundRobin ? undefined : await onAll([urls[0] as string], runChurn, 1);
  return {
    tools: toolsResult,
    churn,
    toolsUs: (1e6 / sequential.perSecond) * (variant.roundRobin ? urls.length : 1),
    sessionUs: sequentialChurn && 1e6 / sequentialChurn.perSecond,
  };
}

/** Median over rounds of a reading, and of its ratio to the baseline of the same round. */
function summary(
  readings: readonly Reading[],
  baseline: readonly Reading[],
  pick: (reading: Reading) => number | undefined,
): { value: number; ratio: number } | undefined {
  const values = readings.map(pick);
  if (values.some((value) => value === undefined)) return undefined;
  const ratios = readings.map((reading, round) => {
    const base = baseline[round];
    return (pick(reading) ?? Number.NaN) / (base === undefined ? Number.NaN : (pick(base) ?? Number.NaN));
  });
  return { value: median(values as number[]), ratio: median(ratios) };
}

const cell = (entry: { value: number; ratio: number } | undefined, format: (value: number) => string) =>
  entry === undefined ? ['—', '—'] : [format(entry.value), ratio(entry.ratio)];

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const running: Running[] = [];
  const readings = new Map<Variant, Reading[]>(VARIANTS.map((variant) => [variant, []]));
  try {
    for (const [index, variant] of VARIANTS.entries()) running.push(await start(variant, redis, index));
    progress('warm-up');
    for (const each of running) await measure(each, 0);
    for (let round = 1; round <= ROUNDS; round += 1) {
      // A B C …, … C B A: every variant is measured early and late equally often.
      const order = round % 2 === 1 ? running : [...running].reverse();
      for (const each of order) readings.get(each.variant)?.push(await measure(each, round));
    }
  } finally {
    await Promise.all(running.flatMap((each) => each.nodes.map((node) => node.stop())));
    await redis.stop();
  }
  const baseline = readings.get(VARIANTS[0] as Variant) ?? [];
  const rows = (build: (readings: readonly Reading[]) => string[] | undefined): string[][] =>
    VARIANTS.flatMap((variant) => {
      const row = build(readings.get(variant) ?? []);
      return row ? [[variant.name, ...row]] : [];
    });
  print(
    `# Cluster benchmark (${ROUNDS} interleaved rounds of ${SECONDS} s windows, loopback, Node ${process.version})`,
  );
  print('Ratios: median over rounds of (variant / local in the same round).');
  print(
    table(
      `tools/call throughput (${TOOLS_CONNECTIONS} connections in total)`,
      ['variant', 'calls/s', 'vs local', 'p50 ms', 'p99 ms', 'failures'],
      rows((list) => {
        const calls = summary(list, baseline, (reading) => reading.tools.perSecond);
        return [
          ...cell(calls, int),
          num(median(list.map((reading) => reading.tools.p50))),
          num(median(list.map((reading) => reading.tools.p99))),
          int(list.reduce((total, reading) => total + reading.tools.failures, 0)),
        ];
      }),
    ),
  );
  print(
    table(
      `admissions: initialize → initialized → DELETE (${CHURN_CONNECTIONS} connections in total)`,
      ['variant', 'sessions/s', 'vs local', 'failures'],
      rows((list) => {
        const sessions = summary(list, baseline, (reading) => reading.churn?.perSecond);
        if (sessions === undefined) return undefined;
        const failures = list.reduce((total, reading) => total + (reading.churn?.failures ?? 0), 0);
        return [...cell(sessions, int), int(failures)];
      }),
    ),
  );
  const baseToolsUs = median(baseline.map((reading) => reading.toolsUs));
  const baseSessionUs = median(baseline.map((reading) => reading.sessionUs ?? Number.NaN));
  print(
    table(
      'latency added per request (one connection, sequential; mean µs per operation)',
      ['variant', 'tools/call µs', 'vs local', 'added µs', 'session µs', 'vs local', 'added µs'],
      rows((list) => {
        const toolsUs = summary(list, baseline, (reading) => reading.toolsUs);
        const sessionUs = summary(list, baseline, (reading) => reading.sessionUs);
        return [
          ...cell(toolsUs, num),
          toolsUs === undefined ? '—' : num(toolsUs.value - baseToolsUs),
          ...cell(sessionUs, num),
          sessionUs === undefined ? '—' : num(sessionUs.value - baseSessionUs),
        ];
      }),
    ),
  );
}

await main();
