/**
 * End-to-end benchmark over loopback: `npm run bench:http` (builds, then runs the COMPILED
 * benchmark, dist/bench/http.bench.js: servers are measured as users run them, not through tsx).
 *
 * Side by side in one run, each server in its own process so that the load generator
 * (autocannon, in this process) has the other core:
 * - `bare`: the MCP SDK's stateful pattern on node:http, a Map of transports, no lifecycle
 *   (bench/bare-sdk-server.ts); `supervisor`: `createSessionSupervisor(...).handleRequest` on
 *   node:http. Both build the same McpServer per session (bench/http-tools.ts).
 * - `demo`: the demo exactly as `npm start` runs it (same command line, default log level, stdout
 *   to a file), against `bare-demo`, a bare server with the demo's tools; `demo-silent`, the demo at
 *   LOG_LEVEL=silent, so the cost of logging is measured rather than guessed; `demo-minimal`, every
 *   optional feature off (era routing, metrics, live view, hibernation, logging). With
 *   `BENCH_HTTP_SERVERS=features`, also the demo without each feature in turn (`demo-no-modern`,
 *   `demo-no-metrics`, `demo-no-live-view`, `demo-no-hibernation`): demo / demo-no-X is X's price.
 * - `bare-twin` (on request): the bare server again, in processes of its own. bare-twin / bare is an
 *   A/A pair: what the run reads for no difference at all, printed with every other ratio and, for
 *   churn, checked (npm run bench:http:churn, bench/http-churn.bench.ts, measures it by default).
 * - `supervisor-fetch` (on request): the supervisor's `fetch` served by @hono/node-server.
 * - `bare-pretenuring-off`: the bare server in a process with V8's allocation-site pretenuring off,
 *   as a supervisor's process has it by default (`v8Pretenuring: 'off'`): supervisor / it is the
 *   library's price with the flag on both sides, it / bare what the flag alone gives an SDK server.
 * - `supervisor-pretenuring-keep` (on request): the supervisor with `v8Pretenuring: 'keep'` (node's
 *   pretenuring left on): `BENCH_HTTP_WORKLOADS=churn BENCH_HTTP_SERVERS=bare,supervisor,
 *   supervisor-pretenuring-keep,bare-pretenuring-off npm run bench:http`.
 * - `http-layer` (on request): the supervisor's own HTTP layer over a Map of sessions with no actor
 *   layer (bench/http-layer-server.ts). supervisor / http-layer is the actor layer's price end to end,
 *   http-layer / bare what the library's HTTP path saves against the SDK's, both from the same run:
 *   `BENCH_HTTP_WORKLOADS=churn BENCH_HTTP_SERVERS=bare,supervisor,http-layer npm run bench:http`.
 *
 * All servers run at once (idle but one) and are measured in short windows whose order alternates
 * (A B C, C B A, …), so each sees the same background load: (a) `tools/call` throughput on ONE
 * initialized session per server; (b) churn, initialize → notifications/initialized → DELETE.
 * Then, in a fresh process per forked server, (c) heap per live session, MCP server included. A
 * verdict uses the median of the per-round paired ratios (server window / its partner's window of
 * the same round, seconds apart): one window hit by a burst of background load cannot tip it. Each
 * throughput verdict has a twin read from the servers' own CPU per operation (partner / own, paired
 * the same way), which the scheduler's favours between processes on 2 shared cores do not move. A
 * missed target is reported, not an exit code; a crash exits non-zero.
 *
 * Environment: BENCH_HTTP_ROUNDS (rounds, default 8), BENCH_HTTP_SECONDS (seconds per window,
 * default 2), BENCH_HTTP_SERVERS (comma list, or `features`; default
 * bare,supervisor,bare-demo,demo,demo-silent,demo-minimal),
 * BENCH_HTTP_TOOLS_CONNECTIONS (default 16), BENCH_HTTP_CHURN_CONNECTIONS (default 10),
 * BENCH_HTTP_CHURN_WARMUP_SECONDS and BENCH_HTTP_CHURN_WARMUP_SESSIONS (churn per server process
 * before any window: at least this long and this many sessions, default 6 s and 5 000),
 * BENCH_HTTP_CHURN_PRIME_SECONDS (unmeasured churn of a process right before each of its windows, 1),
 * BENCH_HTTP_WORKLOADS (`tools`, `churn` or both, the default: a workload left out is not measured
 * and has no verdict, e.g. `churn` alone halves the run while iterating on churn),
 * BENCH_HTTP_CPU_PROF=<dir> (every server process, forked child or demo, writes a `--cpu-prof` profile to
 * <dir>/<server>/; `node dist/bench/http-profile-groups.js <dir>` sums self time by package per server),
 * BENCH_HTTP_PROCESSES (server processes per server, default 2, measured in turn two rounds each),
 * BENCH_HTTP_SIMULTANEOUS=1 (the servers of a round loaded at the same time, not one after the other),
 * BENCH_HTTP_BASELINE=<dir> (another checkout's dist/, built with `npm run build:apps`: the server
 * `supervisor-baseline` is its supervisor, so `BENCH_HTTP_SERVERS=bare,supervisor,supervisor-baseline`
 * A/Bs a change in one run, and the same build on both sides shows the noise an A/B must beat).
 *
 * Besides the ratios, each window's server CPU is split into its kernel part, and each side's share
 * of a core is printed with the load generator's own CPU: a window where the server got much less
 * than a core was starved (by the scheduler, or by a load generator that could not keep up).
 * The collector table splits it again: the main thread against V8's helper threads (parallel
 * scavenges, concurrent marking; a `--cpu-prof` profile does not see them), the main thread's GC
 * pauses, and the JS heap allocated and promoted per operation (bench/http-gc-meter.ts): the
 * allocation holds to ±1 % from window to window of a run, and every scavenge copies what survives
 * it, so allocated KB per session says which server makes the collector work (bare 247 KB,
 * supervisor 306 KB at load ~2; both ~10 % more in a run at load ~4.5, where windows starve).
 *
 * Why more than one process per server: a process keeps the code V8 optimised for it, so one
 * process can run a few percent faster or slower than another of the same server for its whole
 * life. Two processes of the SAME supervisor, churned in alternating windows like these for 20
 * rounds (a scratch harness, load 2–4), differed by 8 % in CPU per session (paired median 1.084),
 * most rounds on the same side; spread over 4 processes each, 1.036. With one process per server
 * that luck alone can tip a 0.90 verdict; rounds spread over processes average it out.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoProcess } from './http-demo.js';
import type { GcReading } from './http-gc-meter.js';
import {
  type ChildKind,
  type ChildMessage,
  DEMO_VARIANTS,
  type DemoKind,
  isChildKind,
  isDemoKind,
  isServerKind,
  type ParentMessage,
  SERVER_LABELS,
  type ServerKind,
} from './http-ipc.js';
import {
  callToolOnce,
  deleteSession,
  initializeSession,
  type McpSession,
  openSessions,
  type RunOptions,
  type RunResult,
  runChurn,
  runToolsCall,
} from './http-load.js';
import { mainThreadCpu } from './proc-cpu.js';
import { int, kib, num, print, progress, ratio, table, type Verdict, verdictTable } from './report.js';
import { median, medianInterval, msSince, now } from './timing.js';

if (import.meta.url.endsWith('.ts')) {
  throw new Error('run the compiled benchmark: npm run bench:http (node dist/bench/http.bench.js)');
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1`);
  return value;
}

const DEFAULT_SERVERS: readonly ServerKind[] = [
  'bare',
  'supervisor',
  'bare-pretenuring-off',
  'bare-demo',
  'demo',
  'demo-silent',
  'demo-minimal',
];
/** `BENCH_HTTP_SERVERS=features`: the demo with one feature left out at a time, to price each one. */
const FEATURE_SERVERS: readonly ServerKind[] = [
  'bare-demo',
  'demo',
  'demo-silent',
  'demo-no-modern',
  'demo-no-metrics',
  'demo-no-live-view',
  'demo-no-hibernation',
  'demo-minimal',
];

function envServers(): readonly ServerKind[] {
  const raw = process.env.BENCH_HTTP_SERVERS;
  if (raw === undefined || raw === '') return DEFAULT_SERVERS;
  if (raw === 'features') return FEATURE_SERVERS;
  const kinds = raw.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !isServerKind(kind));
  if (unknown.length > 0) throw new Error(`BENCH_HTTP_SERVERS: unknown ${unknown.join(', ')}`);
  return kinds as ServerKind[];
}

const WORKLOADS = ['tools', 'churn'] as const;
type Workload = (typeof WORKLOADS)[number];

function envWorkloads(): ReadonlySet<Workload> {
  const raw = process.env.BENCH_HTTP_WORKLOADS;
  if (raw === undefined || raw === '') return new Set(WORKLOADS);
  const named = raw.split(',').map((name) => name.trim());
  const unknown = named.filter((name) => !(WORKLOADS as readonly string[]).includes(name));
  if (unknown.length > 0 || named.length === 0) {
    throw new Error(`BENCH_HTTP_WORKLOADS: unknown ${unknown.join(', ')} (known: ${WORKLOADS.join(', ')})`);
  }
  return new Set(named as Workload[]);
}

const ROUNDS = envInt('BENCH_HTTP_ROUNDS', 8);
const MEASURED = envWorkloads();
const WINDOW_SECONDS = envInt('BENCH_HTTP_SECONDS', 2);
const SERVERS = envServers();
const TOOLS_CONNECTIONS = envInt('BENCH_HTTP_TOOLS_CONNECTIONS', 16);
const CHURN_CONNECTIONS = envInt('BENCH_HTTP_CHURN_CONNECTIONS', 10);
const TOOLS: RunOptions = { connections: TOOLS_CONNECTIONS, seconds: WINDOW_SECONDS };
const TOOLS_WARMUP: RunOptions = { connections: TOOLS_CONNECTIONS, seconds: 2 };
const CHURN: RunOptions = { connections: CHURN_CONNECTIONS, seconds: WINDOW_SECONDS };
/**
 * Churn runs code per session that a fresh process has not optimised yet: a server process churned
 * in 2 s windows from its start costs 2.5× its settled CPU per session in the first window and 1.7×
 * in the second, for bare and supervisor alike (scratch run, load 1.1–1.3), so 2 s of warm-up left a
 * process's first measured rounds warming up. Default 6 s.
 */
const CHURN_WARMUP: RunOptions = {
  connections: CHURN_CONNECTIONS,
  seconds: envInt('BENCH_HTTP_CHURN_WARMUP_SECONDS', 6),
};
/**
 * …and at least this many sessions: what settles a process is the work it has done, not the time it
 * took. At load 4–6 a 6 s warm-up churned ~1 500–2 000 sessions, and the supervisor, which has more
 * code for V8 to optimise, went on costing 2–2.5× its settled CPU per session for its next ~3 000
 * (24 rounds of 1 s: 3 300–3 600 µs in its first windows, 1 150–1 500 in its last; bare 2 000 → 1 000),
 * which read as a churn ratio of 0.63 over the first half of the rounds and 0.85 over the second.
 * A time-only warm-up is a bias against the heavier server that grows with the machine's load.
 */
const CHURN_WARMUP_SESSIONS = envInt('BENCH_HTTP_CHURN_WARMUP_SESSIONS', 5_000);
/**
 * Unmeasured churn of the same process right before each of its windows: a server that waited idle
 * while the others ran is not the one a busy production server is. In one run the bare server's two
 * processes, warmed first and then idle ~50 s through the other processes' warm-ups, cost 2 200–2 900
 * µs a session in their first four windows each and 1 350–1 650 afterwards, while the supervisor and
 * the second bare server, warmed later, were settled from the start (an A/A of bare-twin / bare read
 * 1.60 over the first half of the rounds and 1.02 over the second). V8 shrinks an idle process's heap
 * (memory reducer) and ages its unused bytecode; a window right after such a rest measures the rest.
 */
const CHURN_PRIME: RunOptions = {
  connections: CHURN_CONNECTIONS,
  seconds: envInt('BENCH_HTTP_CHURN_PRIME_SECONDS', 1),
};
/** Sessions each process churned before its first window (the report prints the range). */
const warmedSessions: number[] = [];

/**
 * Churns every process in turn, 2 s each, until each has had both the warm-up's time and its session
 * count. In turn, not one process after the other: warmed one after the other, the first processes
 * waited idle ~50 s through the others' warm-ups and came back to their first windows unsettled (see
 * CHURN_PRIME); in turn, no process rests longer than the rounds themselves leave it.
 */
async function warmUpChurn(instances: readonly Instance[]): Promise<void> {
  const done = instances.map(() => ({ sessions: 0, seconds: 0 }));
  const warm = ({ sessions, seconds }: { sessions: number; seconds: number }) =>
    seconds >= CHURN_WARMUP.seconds && sessions >= CHURN_WARMUP_SESSIONS;
  while (!done.every(warm)) {
    progress(`churn warm-up: ${int(Math.min(...done.map((d) => d.sessions)))} sessions per process so far`);
    for (const [index, { server }] of instances.entries()) {
      const so = done[index] as { sessions: number; seconds: number };
      if (warm(so)) continue;
      const run = await runChurn(server.url, { connections: CHURN_CONNECTIONS, seconds: 2 });
      if (run.operations === 0) throw new Error(`churn warm-up of ${server.kind}: no session in 2 s`);
      so.sessions += run.operations;
      so.seconds += run.seconds;
    }
  }
  warmedSessions.push(...done.map((d) => d.sessions));
}
const HEAP_SESSIONS = 1_000;
const HEAP_WARMUP_SESSIONS = 50;
const SETUP_CONCURRENCY = 10;
const CPU_PROF_DIR = process.env.BENCH_HTTP_CPU_PROF;
const PROCESSES = envInt('BENCH_HTTP_PROCESSES', 2);
/**
 * BENCH_HTTP_SIMULTANEOUS=1: the servers of a round are loaded at the same time, each by its own
 * connections, instead of one after the other. Each server's CPU per operation is then read over
 * the very seconds its partner's is, under the same background load at every instant; the servers
 * compete with each other too, but alike. The load generator's CPU per operation is then the whole
 * generator's over each server's operations (not a per-server figure).
 */
const SIMULTANEOUS = process.env.BENCH_HTTP_SIMULTANEOUS === '1';
/** `supervisor-baseline`: BENCH_HTTP_BASELINE is another checkout's dist/ (built with `npm run build:apps`). */
function baselineEntry(): string {
  const dist = process.env.BENCH_HTTP_BASELINE;
  if (dist === undefined || dist === '') {
    throw new Error('supervisor-baseline needs BENCH_HTTP_BASELINE=<another build’s dist directory>');
  }
  return join(dist, 'bench', 'http-server.js');
}
const SERVER_ENTRY = fileURLToPath(new URL('./http-server.js', import.meta.url));

/** SPEC.md "Performance targets", end to end over loopback. */
const TOOLS_TARGET = 0.95;
const CHURN_TARGET = 0.9;
const CHURN_GOAL = 0.95;
/**
 * The A/A pair (bare-twin / bare) must read within this of 1 for the run to tell a churn ratio of
 * 0.90 from one of 0.85 or 0.95: a run that cannot tell a server from itself gives no verdict to trust.
 */
const AA_TOLERANCE = 0.05;
/** The issue reads each target on the median of at least this many alternating rounds. */
const MIN_VERDICT_ROUNDS = 5;
/** At info, a session writes its creation and its end: two lines. */
const LOG_LINES_PER_SESSION = 2;
/** Logging must not be what separates the demo from a bare server: at most this much of its rate. */
const LOGGING_COST_TARGET = 0.95;

/** Which server each one is compared with, and why. */
const PARTNERS: readonly { kind: ServerKind; partner: ServerKind }[] = [
  { kind: 'supervisor', partner: 'bare' },
  // A/A: the same bare server in other processes. Whatever this pair reads apart from 1 is the run's
  // noise (load, scheduler, per-process JIT luck), the floor under which no other ratio means anything.
  { kind: 'bare-twin', partner: 'bare' },
  { kind: 'supervisor-fetch', partner: 'bare' },
  // Where the gap is: the library's HTTP path against the SDK's, then what the actor layer adds to it.
  { kind: 'http-layer', partner: 'bare' },
  { kind: 'supervisor', partner: 'http-layer' },
  // A/B of a change: this build's supervisor against another build's, same run, same load.
  { kind: 'supervisor', partner: 'supervisor-baseline' },
  // V8's allocation-site pretenuring under churn: the SDK's per-session objects (ajv, zod) and
  // xstate's get tenured, dead old objects keep young ones alive through scavenges, ~40 KB a session
  // is promoted. What turning it off gives the supervisor, and what it would give a bare server.
  // The supervisor turns it off for its process by default: its price with the flag on both sides,
  // what the flag alone gives a bare server, and the supervisor with node's pretenuring kept.
  { kind: 'supervisor', partner: 'bare-pretenuring-off' },
  { kind: 'bare-pretenuring-off', partner: 'bare' },
  { kind: 'supervisor-pretenuring-keep', partner: 'bare' },
  { kind: 'supervisor', partner: 'supervisor-pretenuring-keep' },
  { kind: 'demo', partner: 'bare-demo' },
  { kind: 'demo-silent', partner: 'bare-demo' },
  { kind: 'demo-minimal', partner: 'bare-demo' },
  // The demo's own price (process, routes) apart from its sessions' settings and tools, and the library's
  // with the demo's settings: demo-minimal / bare-demo is the product of these two.
  { kind: 'demo-minimal', partner: 'supervisor-demo' },
  { kind: 'supervisor-demo', partner: 'bare-demo' },
  // Each feature's cost: the whole demo against the demo without it (below 1: the feature costs).
  { kind: 'demo', partner: 'demo-silent' },
  { kind: 'demo', partner: 'demo-no-modern' },
  { kind: 'demo', partner: 'demo-no-metrics' },
  { kind: 'demo', partner: 'demo-no-live-view' },
  { kind: 'demo', partner: 'demo-no-hibernation' },
  { kind: 'demo', partner: 'demo-minimal' },
];

/** With BENCH_HTTP_CPU_PROF, every server process (forked child or demo) writes a profile per process. */
const cpuProfileFlags = (profileName: string): string[] =>
  CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(CPU_PROF_DIR, profileName)}`] : [];

/** A server under load, whatever process shape it has. */
interface BenchServer {
  readonly kind: ServerKind;
  readonly url: string;
  /** Server-process CPU so far, µs. */
  cpu(): Promise<CpuTime>;
  /** Live sessions as the server counts them. */
  sessions(): Promise<number>;
  /** Lines logged so far, where the server logs (the demo). */
  logLines(): number | undefined;
  stop(): Promise<void>;
}

/** One forked server child (bench/http-server.ts), spoken to over IPC. */
class ServerChild implements BenchServer {
  private readonly waiting = new Map<ChildMessage['type'], (message: ChildMessage) => void>();
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  url = '';

  private constructor(
    readonly kind: ChildKind,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (message: ChildMessage) => {
      const resolve = this.waiting.get(message.type);
      this.waiting.delete(message.type);
      resolve?.(message);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.failure = new Error(`${kind} server exited (code ${code}, signal ${signal})`);
        // Waiters see `failure` and reject.
        for (const deliver of this.waiting.values()) deliver({ type: 'ready', port: -1 });
        this.waiting.clear();
        resolve();
      });
    });
  }

  static async start(kind: ChildKind, profileName: string): Promise<ServerChild> {
    // The A/B partner: the same `supervisor` server, from the other build's compiled benchmark.
    const baseline = kind === 'supervisor-baseline';
    const entry = baseline ? baselineEntry() : SERVER_ENTRY;
    const processHandle = fork(entry, [baseline ? 'supervisor' : kind], {
      execArgv: [
        ...process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof')),
        ...cpuProfileFlags(profileName),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new ServerChild(kind, processHandle);
    const ready = await child.next('ready');
    child.url = `http://127.0.0.1:${ready.port}/mcp`;
    return child;
  }

  private next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure) {
        reject(this.failure);
        return;
      }
      this.waiting.set(type, (message) => {
        if (this.failure) reject(this.failure);
        else resolve(message as Extract<ChildMessage, { type: T }>);
      });
    });
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }

  async cpu(): Promise<CpuTime> {
    const reply = this.next('cpu');
    this.send({ type: 'cpu' });
    const { type: _, ...reading } = await reply;
    return { ...reading, mainThread: mainThreadCpu(this.child.pid) };
  }

  async heap(): Promise<{ heapUsed: number; sessions: number }> {
    const reply = this.next('heap');
    this.send({ type: 'heap' });
    return reply;
  }

  async sessions(): Promise<number> {
    return (await this.heap()).sessions;
  }

  logLines(): undefined {
    return undefined;
  }

  async stop(): Promise<void> {
    if (!this.failure) this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The demo as `npm start` runs it (bench/http-demo.ts). */
class DemoServer implements BenchServer {
  private constructor(
    readonly kind: ServerKind,
    private readonly demo: DemoProcess,
  ) {}

  static async start(kind: DemoKind, profileName: string): Promise<DemoServer> {
    return new DemoServer(kind, await DemoProcess.start(DEMO_VARIANTS[kind], cpuProfileFlags(profileName)));
  }

  get url(): string {
    return this.demo.url;
  }

  async cpu(): Promise<CpuTime> {
    return this.demo.cpu();
  }

  sessions(): Promise<number> {
    return this.demo.sessions();
  }

  logLines(): number {
    return this.demo.logLines();
  }

  stop(): Promise<void> {
    return this.demo.stop();
  }
}

function startServer(kind: ServerKind, profileName: string): Promise<BenchServer> {
  if (isChildKind(kind)) return ServerChild.start(kind, profileName);
  if (isDemoKind(kind)) return DemoServer.start(kind, profileName);
  throw new Error(`no way to start ${kind}`);
}

/**
 * CPU time of a process so far, µs, as `process.cpuUsage()` reports it; its main thread's part
 * (Linux); and, from a forked server, its heap's allocation and collections (bench/http-gc-meter.ts).
 */
interface CpuTime extends Partial<GcReading> {
  readonly user: number;
  readonly system: number;
  readonly mainThread?: number | undefined;
}

interface Measured extends RunResult {
  /** Server-process CPU (all threads) per operation, µs. */
  readonly serverCpuUs: number;
  /** The kernel's part of it (socket writes on loopback also run the receiving side's TCP work). */
  readonly serverSystemUs: number;
  /** Server CPU over the window's wall time: near 1, the server had a core to itself all along. */
  readonly serverCoreShare: number;
  /** The load generator's (this process's) CPU per operation, µs. */
  readonly clientCpuUs: number;
  /** The load generator's CPU over the window's wall time: near 1, the client may be what limits. */
  readonly clientCoreShare: number;
  /** Lines logged per operation, for servers that log. */
  readonly logLinesPerOp: number | undefined;
  /** The main thread's CPU per operation, µs (NaN off Linux); the rest ran on V8's and libuv's helper threads. */
  readonly mainThreadUs: number;
  /** JS heap bytes allocated per operation, bytes promoted to the old generation, main-thread GC pause µs (NaN for the demo). */
  readonly allocatedBytes: number;
  readonly promotedBytes: number;
  readonly gcPauseUs: number;
}

/** One timed window of one workload on one server. */
interface WindowResult {
  readonly round: number;
  readonly kind: ServerKind;
  readonly result: Measured;
}

interface HeapResult {
  readonly kind: ServerKind;
  readonly bytesPerSession: number;
  readonly opened: number;
}

/** One server process with its tools/call session. */
interface Instance {
  readonly server: BenchServer;
  /** The session the tools/call windows use; opened again once the server's idle timeout ended it. */
  session: McpSession;
}

/** Tools sessions opened again because the server's idle timeout had ended them (see `liveSession`). */
let sessionsReopened = 0;

/**
 * Makes sure the instance's tools session is still there, outside any measured window, as an SDK
 * client does on a 404: the demo's idle timeout (60 s) ends a session that waits through the other
 * servers' warm-ups and windows (12 server processes × 6 s of churn warm-up already exceed it).
 */
async function liveSession(instance: Instance): Promise<McpSession> {
  try {
    await callToolOnce(instance.server.url, instance.session);
  } catch (error) {
    if (!String(error).includes('answered 404')) throw error;
    instance.session = await initializeSession(instance.server.url);
    sessionsReopened += 1;
    await callToolOnce(instance.server.url, instance.session);
  }
  return instance.session;
}

/**
 * One server kind: its processes, measured in turn, two rounds each (rounds 1–2 the first, 3–4 the
 * next, …), so that each process is measured in both orders of the alternation.
 */
interface Running {
  readonly kind: ServerKind;
  readonly instances: readonly Instance[];
}

const instanceFor = (entry: Running, round: number): Instance =>
  entry.instances[Math.floor((round - 1) / 2) % entry.instances.length] as Instance;

async function measured(server: BenchServer, run: () => Promise<RunResult>): Promise<Measured> {
  const before = await server.cpu();
  const linesBefore = server.logLines();
  const clientBefore = process.cpuUsage();
  const started = now();
  const result = await run();
  const wallUs = msSince(started) * 1000;
  const client = process.cpuUsage(clientBefore);
  const after = await server.cpu();
  const linesAfter = server.logLines();
  const operations = Math.max(1, result.operations);
  const serverUs = after.user + after.system - before.user - before.system;
  const perOp = (pick: (time: CpuTime) => number | undefined): number => {
    const [from, to] = [pick(before), pick(after)];
    return from === undefined || to === undefined ? Number.NaN : (to - from) / operations;
  };
  return {
    ...result,
    serverCpuUs: serverUs / operations,
    serverSystemUs: (after.system - before.system) / operations,
    serverCoreShare: serverUs / wallUs,
    clientCpuUs: (client.user + client.system) / operations,
    clientCoreShare: (client.user + client.system) / wallUs,
    logLinesPerOp:
      linesBefore === undefined || linesAfter === undefined
        ? undefined
        : (linesAfter - linesBefore) / operations,
    mainThreadUs: perOp((time) => time.mainThread),
    allocatedBytes: perOp((time) => time.allocatedBytes),
    promotedBytes: perOp((time) => time.promotedBytes),
    gcPauseUs: perOp((time) => time.gcPauseUs),
  };
}

let running: Running[] = [];

/** Exact log lines per whole session and per call, where windows cut at a deadline blur the count. */
interface LogCount {
  readonly kind: ServerKind;
  readonly perSession: number;
  readonly perCall: number;
}

const LOG_COUNT_SESSIONS = 100;
const LOG_COUNT_CALLS = 200;

async function countLogLines({ server }: Instance): Promise<LogCount | undefined> {
  if (server.logLines() === undefined) return undefined;
  // A fresh session: the demo's idle timeout (60 s) may have ended the one the windows used.
  const session = await initializeSession(server.url);
  progress(`log lines: ${SERVER_LABELS[server.kind]}`);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
  await settle();
  const start = server.logLines() ?? 0;
  for (let i = 0; i < LOG_COUNT_SESSIONS; i += 1) {
    await deleteSession(server.url, await initializeSession(server.url));
  }
  await settle();
  const afterSessions = server.logLines() ?? 0;
  for (let i = 0; i < LOG_COUNT_CALLS; i += 1) await callToolOnce(server.url, session);
  await settle();
  const afterCalls = server.logLines() ?? 0;
  return {
    kind: server.kind,
    perSession: (afterSessions - start) / LOG_COUNT_SESSIONS,
    perCall: (afterCalls - afterSessions) / LOG_COUNT_CALLS,
  };
}

/** A B C, C B A, A B C, …: each server is measured early and late equally often. */
const orderOf = (round: number): readonly Running[] => (round % 2 === 1 ? running : [...running].reverse());

async function startAll(): Promise<void> {
  for (const kind of SERVERS) {
    progress(`start: ${SERVER_LABELS[kind]} (${PROCESSES} process${PROCESSES === 1 ? '' : 'es'})`);
    const instances: Instance[] = [];
    for (let index = 0; index < PROCESSES; index += 1) {
      const server = await startServer(kind, kind);
      instances.push({ server, session: await initializeSession(server.url) });
    }
    running.push({ kind, instances });
  }
  const instances = running.flatMap((entry) => entry.instances);
  for (const instance of instances) {
    const { server } = instance;
    progress(`warm up: ${SERVER_LABELS[server.kind]}`);
    const session = await liveSession(instance);
    if (MEASURED.has('tools')) await runToolsCall(server.url, session, TOOLS_WARMUP);
    const warm = await initializeSession(server.url);
    await deleteSession(server.url, warm);
  }
  if (MEASURED.has('churn')) await warmUpChurn(instances);
}

async function stopAll(): Promise<void> {
  const stopping = running;
  running = [];
  await Promise.all(stopping.flatMap((entry) => entry.instances).map(({ server }) => server.stop()));
}

/** One-minute load average at the start of each round, printed with the report. */
const loadDuringWindows: number[] = [];

async function runWindows(
  label: string,
  run: (instance: Instance) => Promise<RunResult>,
  /** Runs before each window, outside its measurement. */
  prepare?: (instance: Instance) => Promise<unknown>,
): Promise<WindowResult[]> {
  const windows: WindowResult[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    progress(`${label}: round ${round}/${ROUNDS}`);
    loadDuringWindows.push(loadavg()[0] ?? Number.NaN);
    if (SIMULTANEOUS) {
      const entries = orderOf(round);
      const instances = entries.map((entry) => instanceFor(entry, round));
      if (prepare) await Promise.all(instances.map(prepare));
      const results = await Promise.all(
        instances.map((instance) => measured(instance.server, () => run(instance))),
      );
      results.forEach((result, index) => {
        windows.push({ round, kind: (entries[index] as Running).kind, result });
      });
      continue;
    }
    for (const entry of orderOf(round)) {
      const instance = instanceFor(entry, round);
      await prepare?.(instance);
      const result = await measured(instance.server, () => run(instance));
      windows.push({ round, kind: entry.kind, result });
    }
  }
  return windows;
}

async function runHeap(kind: ChildKind): Promise<HeapResult> {
  progress(`heap: ${SERVER_LABELS[kind]}, ${int(HEAP_SESSIONS)} sessions`);
  const child = await ServerChild.start(kind, `${kind}-heap`);
  try {
    // Lazily built state (module caches, JIT, sockets) is allocated before the baseline reading.
    for (const session of await openSessions(child.url, HEAP_WARMUP_SESSIONS, SETUP_CONCURRENCY)) {
      await deleteSession(child.url, session);
    }
    const before = await child.heap();
    await openSessions(child.url, HEAP_SESSIONS, SETUP_CONCURRENCY);
    const after = await child.heap();
    return {
      kind,
      bytesPerSession: (after.heapUsed - before.heapUsed) / HEAP_SESSIONS,
      opened: after.sessions - before.sessions,
    };
  } finally {
    await child.stop();
  }
}

const ms = (value: number): string => `${num(value)} ms`;

const windowsOf = (windows: readonly WindowResult[], kind: ServerKind): Measured[] =>
  windows.filter((w) => w.kind === kind).map((w) => w.result);

const medianOf = (windows: readonly WindowResult[], kind: ServerKind, pick: (m: Measured) => number) =>
  median(windowsOf(windows, kind).map(pick));

function runTable(title: string, unit: string, windows: readonly WindowResult[]): string {
  const rows = SERVERS.map((kind) => {
    const own = windowsOf(windows, kind);
    const rates = own.map((m) => m.perSecond);
    const lines = own.map((m) => m.logLinesPerOp).filter((value) => value !== undefined);
    return [
      SERVER_LABELS[kind],
      int(median(rates)),
      `${int(Math.min(...rates))}–${int(Math.max(...rates))}`,
      int(medianOf(windows, kind, (m) => m.requestsPerSecond)),
      ms(medianOf(windows, kind, (m) => m.p50)),
      ms(medianOf(windows, kind, (m) => m.p99)),
      num(medianOf(windows, kind, (m) => m.serverCpuUs)),
      lines.length > 0 ? median(lines).toFixed(2) : '',
      int(own.reduce((sum, m) => sum + m.operations, 0)),
      int(own.reduce((sum, m) => sum + m.failures, 0)),
    ];
  });
  const perWindow = SERVERS.flatMap((kind) => {
    const own = windowsOf(windows, kind);
    const byRound = (pick: (m: Measured) => string) => own.map(pick).join(' ');
    return [
      `   ${kind} ${unit}/s by round: ${byRound((m) => int(m.perSecond))}`,
      `   ${kind} server CPU µs/${unit} by round (system part), core share: ${byRound(
        (m) => `${int(m.serverCpuUs)}(${int(m.serverSystemUs)})/${m.serverCoreShare.toFixed(2)}`,
      )}`,
    ];
  });
  // Where a window's time went: a server short of a core (share well under 1) was starved by the
  // scheduler or waited on the load generator, whose own share says which.
  const shares = table(
    `   where the windows' time went (medians): the server's kernel part, each side's share of a core, the load generator's CPU per ${unit}`,
    [
      'server',
      `server CPU µs/${unit}`,
      'of it system',
      'server core share',
      `load generator CPU µs/${unit}`,
      'load generator core share',
    ],
    SERVERS.map((kind) => [
      SERVER_LABELS[kind],
      num(medianOf(windows, kind, (m) => m.serverCpuUs)),
      num(medianOf(windows, kind, (m) => m.serverSystemUs)),
      medianOf(windows, kind, (m) => m.serverCoreShare).toFixed(2),
      num(medianOf(windows, kind, (m) => m.clientCpuUs)),
      medianOf(windows, kind, (m) => m.clientCoreShare).toFixed(2),
    ]),
  );
  // What the collector costs each server: allocation per operation holds to ±1 % across a run's
  // windows, and every scavenge copies what survives it, so allocated KB/op says who makes the
  // collector work.
  const collector = table(
    `   the collector (medians): the server's CPU on its main thread and on helper threads (V8's parallel GC, concurrent marking, compilers), main-thread GC pauses, JS heap allocated and promoted per ${unit}`,
    [
      'server',
      `main thread µs/${unit}`,
      `helper threads µs/${unit}`,
      `GC pause µs/${unit}`,
      `allocated KB/${unit}`,
      `promoted KB/${unit}`,
    ],
    SERVERS.map((kind) => [
      SERVER_LABELS[kind],
      num(medianOf(windows, kind, (m) => m.mainThreadUs)),
      num(medianOf(windows, kind, (m) => m.serverCpuUs - m.mainThreadUs)),
      num(medianOf(windows, kind, (m) => m.gcPauseUs)),
      (medianOf(windows, kind, (m) => m.allocatedBytes) / 1024).toFixed(1),
      (medianOf(windows, kind, (m) => m.promotedBytes) / 1024).toFixed(1),
    ]),
  );
  return [
    table(
      title,
      [
        'server',
        `${unit}/s (median)`,
        'min–max',
        'HTTP req/s',
        'p50',
        'p99',
        `server CPU µs/${unit}`,
        `log lines/${unit}`,
        `${unit}s`,
        'failures',
      ],
      rows,
    ),
    ...perWindow,
    shares,
    collector,
  ].join('\n');
}

/** kind / partner for each round (adjacent windows, same background load). */
function pairedRatios(windows: readonly WindowResult[], kind: ServerKind, partner: ServerKind): number[] {
  return paired(windows, kind, partner, (own, other) => own.perSecond / other.perSecond);
}

/**
 * The same comparison read from the servers' own CPU: the partner's CPU per operation over this
 * server's, per round. Like the throughput ratio, above 1 means cheaper than the partner; unlike it,
 * it does not depend on which process the scheduler favoured while the window ran (on 2 shared
 * cores the load generator, the server and everyone else's jobs take turns).
 */
function pairedCpuRatios(windows: readonly WindowResult[], kind: ServerKind, partner: ServerKind): number[] {
  return paired(windows, kind, partner, (own, other) => other.serverCpuUs / own.serverCpuUs);
}

function paired(
  windows: readonly WindowResult[],
  kind: ServerKind,
  partner: ServerKind,
  compare: (own: Measured, other: Measured) => number,
): number[] {
  const at = (k: ServerKind, round: number) => windows.find((w) => w.kind === k && w.round === round);
  const values: number[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const own = at(kind, round);
    const other = at(partner, round);
    if (own && other) values.push(compare(own.result, other.result));
  }
  return values;
}

const both = (kind: ServerKind, partner: ServerKind) => SERVERS.includes(kind) && SERVERS.includes(partner);

function verdicts(
  tools: readonly WindowResult[],
  churn: readonly WindowResult[],
  logCounts: readonly LogCount[],
): Verdict[] {
  const out: Verdict[] = [];
  const paired = (windows: readonly WindowResult[], kind: ServerKind, partner: ServerKind) =>
    median(pairedRatios(windows, kind, partner));
  const byCpu = (windows: readonly WindowResult[], kind: ServerKind, partner: ServerKind) =>
    median(pairedCpuRatios(windows, kind, partner));
  const atLeast = (target: string, value: number, floor: number): Verdict => ({
    target: `${target} ≥ ${floor}×`,
    measured: value.toFixed(3),
    pass: value >= floor,
  });
  if (both('supervisor', 'bare')) {
    const toolsRatio = paired(tools, 'supervisor', 'bare');
    const churnRatio = paired(churn, 'supervisor', 'bare');
    const churnByCpu = byCpu(churn, 'supervisor', 'bare');
    out.push(
      atLeast('supervisor / bare: tools/call in a session', toolsRatio, TOOLS_TARGET),
      atLeast('supervisor / bare: initialize→DELETE churn', churnRatio, CHURN_TARGET),
      atLeast('supervisor / bare: churn, goal', churnRatio, CHURN_GOAL),
      atLeast(
        'supervisor / bare, by server CPU: tools/call',
        byCpu(tools, 'supervisor', 'bare'),
        TOOLS_TARGET,
      ),
      atLeast('supervisor / bare, by server CPU: churn', churnByCpu, CHURN_TARGET),
      atLeast('supervisor / bare, by server CPU: churn, goal', churnByCpu, CHURN_GOAL),
      // The two readings part by up to 0.08 in one run (throughput follows the scheduler's favours on a
      // loaded machine, CPU time the host's): met only when both meet it, so a lucky reading cannot pass.
      atLeast(
        'supervisor / bare: churn, the lower of both readings',
        Math.min(churnRatio, churnByCpu),
        CHURN_TARGET,
      ),
    );
  }
  if (both('supervisor', 'bare-pretenuring-off')) {
    // The supervisor turns V8's pretenuring off for its process, which makes any SDK server cheaper:
    // the same targets against a bare server given the same flag say what the library itself costs.
    out.push(
      atLeast(
        'supervisor / bare-pretenuring-off (the flag on both sides), by server CPU: tools/call',
        byCpu(tools, 'supervisor', 'bare-pretenuring-off'),
        TOOLS_TARGET,
      ),
      atLeast(
        'supervisor / bare-pretenuring-off (the flag on both sides), by server CPU: churn',
        byCpu(churn, 'supervisor', 'bare-pretenuring-off'),
        CHURN_TARGET,
      ),
    );
  }
  if (both('supervisor', 'bare') && churn.length > 0) {
    // The median alone moves with a run's luck; its interval's low end clears the target only when the
    // rounds agree. The spec's target is read on the median; this line says whether the run is sure of it.
    const [low] = medianInterval(pairedCpuRatios(churn, 'supervisor', 'bare'));
    out.push(
      atLeast(
        "supervisor / bare, by server CPU: churn, low end of the median's 95 % interval",
        low,
        CHURN_TARGET,
      ),
    );
  }
  if (both('supervisor', 'bare') && both('bare-twin', 'bare') && churn.length > 0) {
    // Both bare servers as the reference (geometric mean of their CPU per session in the round): twice
    // the processes behind the reference, so one bare process's JIT luck moves it half as much. Two
    // runs of one build read supervisor / bare 0.892 and 0.843 and, pooled, 0.882 and 0.876.
    const cpuOf = (kind: ServerKind, round: number) =>
      churn.find((w) => w.kind === kind && w.round === round)?.result.serverCpuUs ?? Number.NaN;
    const pooled: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const value = Math.sqrt(cpuOf('bare', round) * cpuOf('bare-twin', round)) / cpuOf('supervisor', round);
      if (!Number.isNaN(value)) pooled.push(value);
    }
    const [low, high] = medianInterval(pooled);
    out.push({
      target: `supervisor / both bare servers (pooled), by server CPU: churn ≥ ${CHURN_TARGET}×`,
      measured: `${median(pooled).toFixed(3)} (95 % ${low.toFixed(2)}–${high.toFixed(2)})`,
      pass: median(pooled) >= CHURN_TARGET,
    });
  }
  if (both('bare-twin', 'bare') && churn.length > 0) {
    const pairs = pairedCpuRatios(churn, 'bare-twin', 'bare');
    const [low, high] = medianInterval(pairs);
    out.push({
      target: `A/A noise floor: bare-twin / bare, by server CPU: churn within ${1 - AA_TOLERANCE}–${1 + AA_TOLERANCE}×`,
      measured: `${median(pairs).toFixed(3)} (95 % ${low.toFixed(2)}–${high.toFixed(2)})`,
      pass: Math.abs(median(pairs) - 1) <= AA_TOLERANCE,
    });
  }
  for (const kind of ['demo', 'demo-minimal'] as const) {
    if (!both(kind, 'bare-demo')) continue;
    const name = kind === 'demo' ? 'demo as `npm start`' : 'demo, every feature off';
    out.push(
      atLeast(`${name} / bare-demo: tools/call`, paired(tools, kind, 'bare-demo'), TOOLS_TARGET),
      atLeast(`${name} / bare-demo: churn`, paired(churn, kind, 'bare-demo'), CHURN_TARGET),
      atLeast(
        `${name} / bare-demo, by server CPU: tools/call`,
        byCpu(tools, kind, 'bare-demo'),
        TOOLS_TARGET,
      ),
      atLeast(`${name} / bare-demo, by server CPU: churn`, byCpu(churn, kind, 'bare-demo'), CHURN_TARGET),
    );
  }
  const demoLogs = logCounts.find((count) => count.kind === 'demo');
  if (demoLogs) {
    out.push(
      {
        target: `demo at its default level: log lines per session (initialize → DELETE) ≤ ${LOG_LINES_PER_SESSION}`,
        measured: demoLogs.perSession.toFixed(2),
        pass: demoLogs.perSession <= LOG_LINES_PER_SESSION,
      },
      {
        target: 'demo at its default level: log lines per tools/call = 0',
        measured: demoLogs.perCall.toFixed(2),
        pass: demoLogs.perCall === 0,
      },
    );
  }
  if (both('demo', 'demo-silent')) {
    out.push(
      atLeast(
        'demo / demo-silent (logging cost): tools/call',
        paired(tools, 'demo', 'demo-silent'),
        LOGGING_COST_TARGET,
      ),
      atLeast(
        'demo / demo-silent (logging cost): churn',
        paired(churn, 'demo', 'demo-silent'),
        LOGGING_COST_TARGET,
      ),
      atLeast(
        'demo / demo-silent (logging cost), by server CPU: churn',
        byCpu(churn, 'demo', 'demo-silent'),
        LOGGING_COST_TARGET,
      ),
    );
  }
  // A workload left out (BENCH_HTTP_WORKLOADS) has no windows, so its ratios are NaN: no verdict.
  return out.filter((verdict) => verdict.measured !== 'NaN');
}

function printReport(
  tools: readonly WindowResult[],
  churn: readonly WindowResult[],
  leftover: readonly string[],
  heaps: readonly HeapResult[],
  logCounts: readonly LogCount[],
): void {
  if (tools.length > 0) {
    print(
      runTable(
        `(a) tools/call on one session — ${TOOLS.connections} connections, ${ROUNDS} rounds × ${TOOLS.seconds} s per server over ${PROCESSES} process${PROCESSES === 1 ? '' : 'es'} each, after a ${TOOLS_WARMUP.seconds} s warm-up`,
        'call',
        tools,
      ),
    );
    if (sessionsReopened > 0) {
      print(
        `   (tools sessions opened again between windows, as a client does on 404, after a server's idle timeout ended them: ${sessionsReopened})`,
      );
    }
  }
  if (churn.length > 0) {
    print(
      runTable(
        `(b) churn: initialize → notifications/initialized → DELETE — ${CHURN.connections} connections, ${ROUNDS} rounds × ${CHURN.seconds} s per server over ${PROCESSES} process${PROCESSES === 1 ? '' : 'es'} each, each right after ${CHURN_PRIME.seconds} s of unmeasured churn of the same process, after a warm-up of ≥ ${CHURN_WARMUP.seconds} s and ≥ ${int(CHURN_WARMUP_SESSIONS)} sessions per process (${int(Math.min(...warmedSessions))}–${int(Math.max(...warmedSessions))})`,
        'session',
        churn,
      ),
    );
    print(
      `   (sessions still live after all churn windows, the tools/call session included: ${leftover.join(', ')}; ` +
        `each window cut at its deadline can leave up to ${CHURN.connections})`,
    );
  }
  const bareHeap = heaps.find((h) => h.kind === 'bare');
  if (heaps.length > 0) {
    print(
      table(
        `(c) heap per live session, MCP server included — fresh process, gc, open ${int(HEAP_SESSIONS)} sessions, gc, divide`,
        ['server', 'heap / session', 'sessions opened', 'vs bare'],
        heaps.map((h) => [
          SERVER_LABELS[h.kind],
          kib(h.bytesPerSession),
          int(h.opened),
          bareHeap ? ratio(h.bytesPerSession / bareHeap.bytesPerSession) : '',
        ]),
      ),
    );
  }

  const perSecond = (m: Measured) => m.perSecond;
  const cpu = (m: Measured) => m.serverCpuUs;
  const list = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const ratioRows: string[][] = [];
  for (const { kind, partner } of PARTNERS.filter((p) => both(p.kind, p.partner))) {
    for (const [label, windows] of [
      ['tools/call per s', tools],
      ['churned sessions per s', churn],
    ] as const) {
      if (windows.length === 0) continue;
      const pairs = pairedRatios(windows, kind, partner);
      const cpuPairs = pairedCpuRatios(windows, kind, partner);
      const [low, high] = medianInterval(cpuPairs);
      ratioRows.push([
        `${kind} / ${partner}: ${label}`,
        (medianOf(windows, kind, perSecond) / medianOf(windows, partner, perSecond)).toFixed(3),
        median(pairs).toFixed(3),
        list(pairs),
        (medianOf(windows, kind, cpu) / medianOf(windows, partner, cpu)).toFixed(3),
        median(cpuPairs).toFixed(3),
        `${low.toFixed(2)}–${high.toFixed(2)}`,
        // Drift: the first half of the rounds against the second. Apart by more than the A/A's spread,
        // a server was still warming up (or the load changed its kind) while the run measured it.
        `${median(cpuPairs.slice(0, cpuPairs.length >> 1)).toFixed(2)} | ${median(cpuPairs.slice(cpuPairs.length >> 1)).toFixed(2)}`,
        list(cpuPairs),
      ]);
    }
  }
  if (logCounts.length > 0) {
    print(
      table(
        `(d) log lines, counted exactly: ${LOG_COUNT_SESSIONS} sessions initialize → DELETE one after another, then ${LOG_COUNT_CALLS} tools/calls`,
        ['server', 'lines / session', 'lines / tools/call'],
        logCounts.map((c) => [SERVER_LABELS[c.kind], c.perSession.toFixed(2), c.perCall.toFixed(2)]),
      ),
    );
  }
  print(
    table(
      'Ratios — throughput: ratio of the medians, median of the per-round pairs (the verdict), each pair; server CPU per operation, own / partner (lower is better); and read as throughput, partner / own CPU per operation, median of the per-round pairs (higher is better, the "by server CPU" verdicts) with its distribution-free 95 % interval and its medians over the first and second half of the rounds',
      [
        'ratio',
        'of medians',
        'paired median',
        'per round',
        'server CPU',
        'by CPU, paired',
        '95 % of median',
        'halves',
        'by CPU, per round',
      ],
      ratioRows,
    ),
  );
  const cores = availableParallelism();
  print(
    `   (load average, 1 min, at the start of the rounds: ${Math.min(...loadDuringWindows).toFixed(1)}–` +
      `${Math.max(...loadDuringWindows).toFixed(1)}, median ${median(loadDuringWindows).toFixed(1)}; ${cores} cores)`,
  );
  // On this class of machine (a 2-vCPU VM) the same fixed piece of JavaScript took 68–137 ms of CPU
  // from one second to the next while others ran: CPU time per operation is not load-proof either.
  // An A/A run (BENCH_HTTP_BASELINE: the same supervisor on both sides) read 0.98–1.01 at load 1.8,
  // and 0.87 (by CPU 0.90) at load 4.6, per-round pairs 0.72–1.84.
  if (median(loadDuringWindows) > cores) {
    print(
      `   LOADED: the median load exceeded the ${cores} cores; windows then cost up to 2× their quiet CPU per operation, unevenly, so pairs scatter (an A/A run of one build read 0.87 at load 4.6). Rerun quiet before reading a verdict near its target.`,
    );
  }
  print(
    verdictTable(
      'Targets (SPEC.md "Performance targets", end to end over loopback)',
      verdicts(tools, churn, logCounts),
    ),
  );
  if (ROUNDS < MIN_VERDICT_ROUNDS) {
    print(
      `   NOT A VERDICT: ${ROUNDS} rounds; the targets are read on the median of at least ${MIN_VERDICT_ROUNDS}.`,
    );
  }
}

async function main(): Promise<void> {
  const started = now();
  const [load1, load5] = loadavg();
  print(
    `# End-to-end HTTP benchmark — node ${process.version}, ${process.arch}, compiled JavaScript, ` +
      `servers: ${SERVERS.join(', ')} (${PROCESSES} process${PROCESSES === 1 ? '' : 'es'} each); workloads: ${[...MEASURED].join(', ')}; load average at start ${load1?.toFixed(1)} / ${load5?.toFixed(1)}`,
  );
  if (CPU_PROF_DIR) print(`   (server children write CPU profiles to ${CPU_PROF_DIR})`);
  let tools: WindowResult[];
  let churn: WindowResult[];
  const leftover: string[] = [];
  const logCounts: LogCount[] = [];
  try {
    await startAll();
    tools = MEASURED.has('tools')
      ? await runWindows(
          'tools/call',
          ({ server, session }) => runToolsCall(server.url, session, TOOLS),
          liveSession,
        )
      : [];
    churn = MEASURED.has('churn')
      ? await runWindows(
          'churn',
          ({ server }) => runChurn(server.url, CHURN),
          ({ server }) => runChurn(server.url, CHURN_PRIME),
        )
      : [];
    for (const { kind, instances } of running) {
      const live = await Promise.all(instances.map(({ server }) => server.sessions()));
      leftover.push(`${kind} ${live.join('+')}`);
    }
    for (const entry of running) {
      const count = await countLogLines(entry.instances[0] as Instance);
      if (count) logCounts.push(count);
    }
  } finally {
    await stopAll();
  }
  const heaps: HeapResult[] = [];
  for (const kind of SERVERS) if (kind === 'bare' || kind === 'supervisor') heaps.push(await runHeap(kind));
  printReport(tools, churn, leftover, heaps, logCounts);
  const [endLoad1] = loadavg();
  print(
    `\nTotal bench time: ${(msSince(started) / 1000).toFixed(1)} s; load average at end ${endLoad1?.toFixed(1)}`,
  );
}

await main();
