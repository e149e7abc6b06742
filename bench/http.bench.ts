/**
 * End-to-end benchmark over loopback: `npm run bench:http`
 * (node --expose-gc --import tsx bench/http.bench.ts).
 *
 * Side by side in one run, each server in its own child process (bench/http-server.ts) so that
 * the load generator (autocannon, in this process) has the other core:
 * - `bare`: the MCP SDK's stateful pattern on node:http, a Map of transports, no lifecycle
 *   (bench/bare-sdk-server.ts);
 * - `supervisor`: `createSessionSupervisor(...).handleRequest` on node:http;
 * - `supervisor-fetch`: the same supervisor's `fetch` served by @hono/node-server.
 * All build the same McpServer per session (bench/http-tools.ts).
 *
 * All servers run at once (idle but one) and are measured in short interleaved windows whose
 * order alternates (A B C, C B A, …), so that each sees the same background load — the machine is
 * shared, and minutes-long drifts would otherwise decide the ratio: (a) `tools/call` throughput
 * and latency on ONE initialized session per server; (b) churn, initialize →
 * notifications/initialized → DELETE. Then, in a fresh process per server, (c) heap per live
 * session, MCP server included. The verdict against the SPEC.md target (≥ 95 % of bare) uses the
 * median of the per-window paired ratios (supervisor window / the bare window of the same round,
 * measured seconds apart): one window hit by a burst of background load cannot tip it, as it can
 * the ratio of the two medians, which is printed alongside. A missed target is reported, not an
 * exit code; a crash exits non-zero.
 *
 * Environment: BENCH_HTTP_ROUNDS (windows per server and workload, default 5),
 * BENCH_HTTP_SECONDS (seconds per window, default 3), BENCH_HTTP_SERVERS (comma list, default
 * all), BENCH_HTTP_CPU_PROF=<dir> (each child writes `--cpu-prof` profiles
 * to <dir>/<server>/; the main thread's is the `.0.001.cpuprofile` one).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChildMessage,
  isServerKind,
  type ParentMessage,
  SERVER_KINDS,
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
import { int, kib, num, print, progress, ratio, table, type Verdict, verdictTable } from './report.js';
import { median, msSince, now } from './timing.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1`);
  return value;
}

function envServers(): readonly ServerKind[] {
  const raw = process.env.BENCH_HTTP_SERVERS;
  if (raw === undefined || raw === '') return SERVER_KINDS;
  const kinds = raw.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !isServerKind(kind));
  if (unknown.length > 0) throw new Error(`BENCH_HTTP_SERVERS: unknown ${unknown.join(', ')}`);
  if (!kinds.includes('bare') || !kinds.includes('supervisor')) {
    throw new Error('BENCH_HTTP_SERVERS must include bare and supervisor');
  }
  return kinds as ServerKind[];
}

const ROUNDS = envInt('BENCH_HTTP_ROUNDS', 5);
const WINDOW_SECONDS = envInt('BENCH_HTTP_SECONDS', 3);
const SERVERS = envServers();
const TOOLS: RunOptions = { connections: 16, seconds: WINDOW_SECONDS };
const TOOLS_WARMUP: RunOptions = { connections: 16, seconds: 2 };
const CHURN: RunOptions = { connections: 10, seconds: WINDOW_SECONDS };
const CHURN_WARMUP: RunOptions = { connections: 10, seconds: 2 };
const HEAP_SESSIONS = 1_000;
const HEAP_WARMUP_SESSIONS = 50;
const SETUP_CONCURRENCY = 10;
const TARGET_RATIO = 0.95;
const CPU_PROF_DIR = process.env.BENCH_HTTP_CPU_PROF;
const SERVER_ENTRY = fileURLToPath(new URL('./http-server.ts', import.meta.url));

/** One server child process, spoken to over IPC. */
class ServerChild {
  private readonly waiting = new Map<ChildMessage['type'], (message: ChildMessage) => void>();
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly kind: ServerKind,
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

  static async start(kind: ServerKind, profileName: string): Promise<{ child: ServerChild; url: string }> {
    // One directory per child: --cpu-prof writes one profile per thread (main + tsx's loader
    // thread), and a fixed --cpu-prof-name would let the loader thread's overwrite the main one.
    const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(CPU_PROF_DIR, profileName)}`] : [];
    const processHandle = fork(SERVER_ENTRY, [kind], {
      execArgv: [...process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof')), ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child = new ServerChild(kind, processHandle);
    const ready = await child.next('ready');
    return { child, url: `http://127.0.0.1:${ready.port}/mcp` };
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

  /** Server CPU time so far (user + system), µs. */
  async cpuMicros(): Promise<number> {
    const reply = this.next('cpu');
    this.send({ type: 'cpu' });
    const { user, system } = await reply;
    return user + system;
  }

  async heap(): Promise<{ heapUsed: number; sessions: number }> {
    const reply = this.next('heap');
    this.send({ type: 'heap' });
    return reply;
  }

  async stop(): Promise<void> {
    if (!this.failure) this.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Measured extends RunResult {
  /** Server-process CPU (all threads) per operation, µs. */
  readonly serverCpuUs: number;
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

interface Running {
  readonly kind: ServerKind;
  readonly child: ServerChild;
  readonly url: string;
  readonly session: McpSession;
}

async function measured(child: ServerChild, run: () => Promise<RunResult>): Promise<Measured> {
  const before = await child.cpuMicros();
  const result = await run();
  const after = await child.cpuMicros();
  return { ...result, serverCpuUs: (after - before) / Math.max(1, result.operations) };
}

/** A B C, C B A, A B C, …: each server is measured early and late equally often. */
const orderOf = (round: number): readonly Running[] => (round % 2 === 1 ? running : [...running].reverse());

let running: Running[] = [];

async function startAll(): Promise<void> {
  for (const kind of SERVERS) {
    progress(`start + warm up: ${SERVER_LABELS[kind]}`);
    const { child, url } = await ServerChild.start(kind, kind);
    running.push({ kind, child, url, session: await initializeSession(url) });
  }
  for (const server of running) {
    await callToolOnce(server.url, server.session);
    await runToolsCall(server.url, server.session, TOOLS_WARMUP);
    const warm = await initializeSession(server.url);
    await deleteSession(server.url, warm);
    await runChurn(server.url, CHURN_WARMUP);
  }
}

async function stopAll(): Promise<void> {
  const stopping = running;
  running = [];
  await Promise.all(stopping.map((server) => server.child.stop()));
}

async function runWindows(
  label: string,
  run: (server: Running) => Promise<RunResult>,
): Promise<WindowResult[]> {
  const windows: WindowResult[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    progress(`${label}: window ${round}/${ROUNDS}`);
    for (const server of orderOf(round)) {
      windows.push({ round, kind: server.kind, result: await measured(server.child, () => run(server)) });
    }
  }
  return windows;
}

async function runHeap(kind: ServerKind): Promise<HeapResult> {
  progress(`heap: ${SERVER_LABELS[kind]}, ${int(HEAP_SESSIONS)} sessions`);
  const { child, url } = await ServerChild.start(kind, `${kind}-heap`);
  try {
    // Lazily built state (module caches, JIT, sockets) is allocated before the baseline reading.
    for (const session of await openSessions(url, HEAP_WARMUP_SESSIONS, SETUP_CONCURRENCY)) {
      await deleteSession(url, session);
    }
    const before = await child.heap();
    await openSessions(url, HEAP_SESSIONS, SETUP_CONCURRENCY);
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
    return [
      SERVER_LABELS[kind],
      int(median(rates)),
      `${int(Math.min(...rates))}–${int(Math.max(...rates))}`,
      int(medianOf(windows, kind, (m) => m.requestsPerSecond)),
      ms(medianOf(windows, kind, (m) => m.p50)),
      ms(medianOf(windows, kind, (m) => m.p99)),
      num(medianOf(windows, kind, (m) => m.serverCpuUs)),
      int(own.reduce((sum, m) => sum + m.operations, 0)),
      int(own.reduce((sum, m) => sum + m.failures, 0)),
    ];
  });
  const perWindow = SERVERS.map(
    (kind) =>
      `   ${kind} ${unit}/s by window: ${windowsOf(windows, kind)
        .map((m) => int(m.perSecond))
        .join(' ')}`,
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
        `${unit}s`,
        'failures',
      ],
      rows,
    ),
    ...perWindow,
  ].join('\n');
}

/** kind / bare for each round (adjacent windows, same background load). */
function pairedRatios(windows: readonly WindowResult[], kind: ServerKind): number[] {
  const at = (k: ServerKind, round: number) => windows.find((w) => w.kind === k && w.round === round);
  const values: number[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const other = at(kind, round);
    const bare = at('bare', round);
    if (other && bare) values.push(other.result.perSecond / bare.result.perSecond);
  }
  return values;
}

function printReport(
  tools: readonly WindowResult[],
  churn: readonly WindowResult[],
  leftover: readonly string[],
  heaps: readonly HeapResult[],
): void {
  print(
    runTable(
      `(a) tools/call on one session — ${TOOLS.connections} connections, ${ROUNDS} windows × ${TOOLS.seconds} s per server, after a ${TOOLS_WARMUP.seconds} s warm-up`,
      'call',
      tools,
    ),
  );
  print(
    runTable(
      `(b) churn: initialize → notifications/initialized → DELETE — ${CHURN.connections} connections, ${ROUNDS} windows × ${CHURN.seconds} s per server, after a ${CHURN_WARMUP.seconds} s warm-up`,
      'session',
      churn,
    ),
  );
  print(
    `   (sessions still live after all churn windows, the tools/call session included: ${leftover.join(', ')}; ` +
      `each window cut at its deadline can leave up to ${CHURN.connections})`,
  );
  const bareHeap = heaps.find((h) => h.kind === 'bare');
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

  const perSecond = (m: Measured) => m.perSecond;
  const ratioRows: string[][] = [];
  const verdicts: Verdict[] = [];
  for (const kind of SERVERS.filter((k) => k !== 'bare')) {
    const toolsRatio = medianOf(tools, kind, perSecond) / medianOf(tools, 'bare', perSecond);
    const churnRatio = medianOf(churn, kind, perSecond) / medianOf(churn, 'bare', perSecond);
    const pairedTools = pairedRatios(tools, kind);
    const pairedChurn = pairedRatios(churn, kind);
    const heap = heaps.find((h) => h.kind === kind);
    const list = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(' ');
    ratioRows.push(
      [
        `${kind} / bare tools/call per s`,
        toolsRatio.toFixed(3),
        median(pairedTools).toFixed(3),
        list(pairedTools),
      ],
      [
        `${kind} / bare churn sessions per s`,
        churnRatio.toFixed(3),
        median(pairedChurn).toFixed(3),
        list(pairedChurn),
      ],
      [
        `${kind} / bare server CPU per tools/call`,
        (medianOf(tools, kind, (m) => m.serverCpuUs) / medianOf(tools, 'bare', (m) => m.serverCpuUs)).toFixed(
          3,
        ),
        '',
        '',
      ],
      [
        `${kind} / bare server CPU per churned session`,
        (medianOf(churn, kind, (m) => m.serverCpuUs) / medianOf(churn, 'bare', (m) => m.serverCpuUs)).toFixed(
          3,
        ),
        '',
        '',
      ],
      [
        `${kind} / bare heap per session`,
        heap && bareHeap ? (heap.bytesPerSession / bareHeap.bytesPerSession).toFixed(3) : 'n/a',
        '',
        '',
      ],
    );
    if (kind === 'supervisor') {
      verdicts.push(
        {
          target: `tools/call throughput ≥ ${TARGET_RATIO} × bare (handleRequest, paired median)`,
          measured: median(pairedTools).toFixed(3),
          pass: median(pairedTools) >= TARGET_RATIO,
        },
        {
          target: `initialize→DELETE churn ≥ ${TARGET_RATIO} × bare (handleRequest, paired median)`,
          measured: median(pairedChurn).toFixed(3),
          pass: median(pairedChurn) >= TARGET_RATIO,
        },
      );
    }
  }
  print(
    table(
      'Ratios vs bare — throughput: ratio of the medians, median of the per-window pairs (the verdict), each pair; server CPU and heap: lower is better',
      ['ratio', 'of medians', 'paired median', 'per window'],
      ratioRows,
    ),
  );
  print(verdictTable('Targets (SPEC.md "Performance targets", end to end over loopback)', verdicts));
}

async function main(): Promise<void> {
  const started = now();
  print(
    `# End-to-end HTTP benchmark — node ${process.version}, ${process.arch}, servers: ${SERVERS.join(', ')}`,
  );
  if (CPU_PROF_DIR) print(`   (server children write CPU profiles to ${CPU_PROF_DIR})`);
  let tools: WindowResult[];
  let churn: WindowResult[];
  const leftover: string[] = [];
  try {
    await startAll();
    tools = await runWindows('tools/call', (server) => runToolsCall(server.url, server.session, TOOLS));
    churn = await runWindows('churn', (server) => runChurn(server.url, CHURN));
    for (const server of running) leftover.push(`${server.kind} ${(await server.child.heap()).sessions}`);
  } finally {
    await stopAll();
  }
  const heaps: HeapResult[] = [];
  for (const kind of SERVERS) heaps.push(await runHeap(kind));
  printReport(tools, churn, leftover, heaps);
  print(`\nTotal bench time: ${(msSince(started) / 1000).toFixed(1)} s`);
}

await main();
