/**
 * initialize → notifications/initialized → DELETE churn, CPU per session of the supervisor, the
 * supervisor's HTTP layer alone (`http-layer`) and the bare SDK server, all in ONE process, in
 * alternating batches, through each server's own node:http handler with in-memory requests and
 * responses (no sockets: the kernel and node's HTTP parser cost the same for every server, and a
 * load generator in the same process would blur what is measured).
 *
 * Why a second churn bench beside `bench:http`: there each server is its own process, measured in
 * its own windows, and on a shared machine a window's CPU per session moves by up to 2× with what
 * else runs then; comparing profiles of different processes (even in units of each one's ajv time)
 * left ~0.9 units of the supervisor's gap over `http-layer` "unexplained". Batches of 400 sessions
 * alternating within one process see the same load, the same JIT and the same heap, so the paired
 * ratios hold still, and with `BENCH_CHURN_CPU_PROF=<file>` one CPU profile is split by batch and
 * each server's self time is grouped by whose code it is (xstate, the actor layer, the HTTP/MCP
 * layer, GC, the rest), in units of that server's ajv time as `http-profile-groups` does.
 *
 *   npm run build:apps && node --expose-gc dist/bench/http-churn-cpu.js
 *   node --expose-gc --single-threaded-gc dist/bench/http-churn-cpu.js   # GC on the profiled thread
 *
 * Knobs: BENCH_CHURN_SESSIONS (per batch, 400), BENCH_CHURN_ROUNDS (10), BENCH_CHURN_SERVERS
 * (supervisor,http-layer,bare; also demo, demo-minimal and bare-demo: the demo's supervisor with all
 * its features and `info` logging, with none, and a bare server with the demo's tools),
 * BENCH_CHURN_CONCURRENCY (sessions in flight, 10 as bench:http), BENCH_CHURN_HEAP_PROF=<file> (a
 * sampling heap profile of the measured rounds that keeps what the collector freed, i.e. where the
 * bytes allocated per session come from; run one server at a time for it, samples carry no time).
 *
 * Besides CPU per session, each server's batches print their main thread's part and the JS heap they
 * allocated per session. Read the main thread: the process's helper threads (V8's sweeping and
 * marking after each batch's forced collection, compilers) spent ~900 µs per session alike for every
 * server in one run, which pulls every all-threads ratio toward 1.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { Readable } from 'node:stream';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import pino from 'pino';
import { demoSessionSettings } from '../examples/demo/app.js';
import { createModernDemoServer } from '../examples/demo/modern-tools.js';
import { createDemoServer } from '../examples/demo/tools.js';
import { createSessionSupervisor } from '../src/index.js';
import { createLiveView } from '../src/live-view/index.js';
import { createSupervisorMetrics } from '../src/metrics.js';
import { createBareSdkServer } from './bare-sdk-server.js';
import { GcMeter } from './http-gc-meter.js';
import { createHttpLayerServer } from './http-layer-server.js';
import { initializeBody } from './http-load.js';
import { createBenchMcpServer } from './http-tools.js';
import { mainThreadCpu } from './proc-cpu.js';
import { collectGarbage, median } from './timing.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const envInt = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1`);
  return value;
};

const SESSIONS = envInt('BENCH_CHURN_SESSIONS', 400);
const ROUNDS = envInt('BENCH_CHURN_ROUNDS', 10);
const CONCURRENCY = envInt('BENCH_CHURN_CONCURRENCY', 10);
const WARMUP_SESSIONS = 3_000;
const PROFILE = process.env.BENCH_CHURN_CPU_PROF;
const HEAP_PROFILE = process.env.BENCH_CHURN_HEAP_PROF;
const ACCEPT = 'application/json, text/event-stream';
const INITIALIZE = Buffer.from(initializeBody(1));
const INITIALIZED = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

/** What node's parser hands a handler: method, url, headers both ways, and the body as a stream. */
function incoming(
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
): IncomingMessage {
  const all: Record<string, string> = { host: '127.0.0.1:3000', ...headers };
  if (body) all['content-length'] = String(body.length);
  const req = Readable.from(body ? [body] : [], { objectMode: false }) as unknown as Record<string, unknown>;
  Object.assign(req, {
    method,
    url: '/mcp',
    headers: all,
    rawHeaders: Object.entries(all).flat(),
    socket: { encrypted: false },
    httpVersion: '1.1',
  });
  return req as unknown as IncomingMessage;
}

/** The part of `ServerResponse` the three servers use; `close` follows `end` as node's does. */
class MemoryResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableFinished = false;
  destroyed = false;
  readonly headers: Record<string, unknown> = {};
  constructor(private readonly done: (res: MemoryResponse) => void) {
    super();
  }
  writeHead(status: number, head?: Record<string, unknown>): this {
    this.statusCode = status;
    if (head) Object.assign(this.headers, head);
    this.headersSent = true;
    return this;
  }
  setHeader(name: string, value: unknown): void {
    this.headers[name.toLowerCase()] = value;
  }
  getHeader(name: string): unknown {
    return this.headers[name.toLowerCase()];
  }
  flushHeaders(): void {
    this.headersSent = true;
  }
  write(_chunk: unknown): boolean {
    return true;
  }
  end(chunk?: unknown): this {
    if (chunk !== undefined && typeof chunk !== 'function') this.write(chunk);
    this.writableFinished = true;
    process.nextTick(() => {
      this.emit('finish');
      this.emit('close');
      this.done(this);
    });
    return this;
  }
  destroy(): void {
    this.destroyed = true;
    process.nextTick(() => {
      this.emit('close');
      this.done(this);
    });
  }
}

function exchange(
  handler: Handler,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<MemoryResponse> {
  return new Promise((resolve) => {
    const res = new MemoryResponse(resolve);
    void handler(incoming(method, headers, body), res as unknown as ServerResponse);
  });
}

/** One session's life as a client lives it; throws on any answer a real client would not accept. */
async function churnOne(handler: Handler): Promise<void> {
  const json = { accept: ACCEPT, 'content-type': 'application/json' };
  const opened = await exchange(handler, 'POST', json, INITIALIZE);
  const sessionId = opened.headers['mcp-session-id'];
  if (opened.statusCode !== 200 || typeof sessionId !== 'string') {
    throw new Error(`initialize answered ${opened.statusCode}`);
  }
  const inSession = { 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  const initialized = await exchange(handler, 'POST', { ...json, ...inSession }, INITIALIZED);
  if (initialized.statusCode !== 202) throw new Error(`initialized answered ${initialized.statusCode}`);
  const deleted = await exchange(handler, 'DELETE', inSession);
  if (deleted.statusCode !== 200) throw new Error(`DELETE answered ${deleted.statusCode}`);
}

async function churn(handler: Handler, sessions: number): Promise<void> {
  let left = sessions;
  const worker = async () => {
    while (left-- > 0) await churnOne(handler);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // Releases still running after the last DELETE belong to this batch.
  await new Promise((resolve) => setImmediate(resolve));
}

/** Supervisors built, so that main() can shut them down. */
const supervisors: { shutdown(): Promise<void> }[] = [];
const supervised = <T extends { shutdown(): Promise<void> }>(supervisor: T): T => {
  supervisors.push(supervisor);
  return supervisor;
};

/**
 * The demo's supervisor as `npm start` builds it (examples/demo/app.ts): its sessions, tools and
 * limits, with every optional feature (era routing, metrics, live view, hibernation) and `info`
 * logging to /dev/null, or (`minimal`) none of them and no logging. In one process beside
 * `bare-demo`, the features' price reads without bench:http's cross-process noise.
 */
function demoSupervisor(minimal: boolean) {
  const supervisor = supervised(
    createSessionSupervisor({
      ...demoSessionSettings(minimal ? { HIBERNATE_AFTER: 'off' } : {}),
      ...(minimal ? {} : { modern: createMcpHandler(createModernDemoServer, { legacy: 'reject' }) }),
      // Written as the demo writes its stdout when it is not a terminal (examples/demo/app.ts).
      logger: pino(
        { level: minimal ? 'silent' : 'info' },
        pino.destination({ dest: '/dev/null', sync: true }),
      ),
    }),
  );
  if (!minimal) {
    createSupervisorMetrics(supervisor);
    createLiveView(supervisor, { basePath: '/live' });
  }
  return supervisor;
}

/** Built only when asked for, so that a run of some servers carries none of the others' state. */
const FACTORIES: Record<string, () => Handler> = {
  supervisor: () => {
    const supervisor = supervised(
      createSessionSupervisor({
        createServer: createBenchMcpServer,
        maxSessions: 1_000_000,
        idleTimeout: '1h',
      }),
    );
    return (req, res) => supervisor.handleRequest(req, res);
  },
  'http-layer': () => {
    const layer = createHttpLayerServer(createBenchMcpServer);
    return (req, res) => layer.handleRequest(req, res);
  },
  bare: () => {
    const bare = createBareSdkServer(createBenchMcpServer);
    return (req, res) => bare.handleRequest(req, res);
  },
  demo: () => {
    const supervisor = demoSupervisor(false);
    return (req, res) => supervisor.handleRequest(req, res);
  },
  'demo-minimal': () => {
    const supervisor = demoSupervisor(true);
    return (req, res) => supervisor.handleRequest(req, res);
  },
  'bare-demo': () => {
    const bare = createBareSdkServer(() =>
      createDemoServer({ sessionId: randomUUID(), metadata: undefined, logger: undefined }),
    );
    return (req, res) => bare.handleRequest(req, res);
  },
};
const kinds = (process.env.BENCH_CHURN_SERVERS ?? 'supervisor,http-layer,bare').split(',');
for (const kind of kinds) if (!(kind in FACTORIES)) throw new Error(`unknown server ${kind}`);
const HANDLERS: Record<string, Handler> = Object.fromEntries(
  kinds.map((kind) => [kind, (FACTORIES[kind] as () => Handler)()]),
);

interface Batch {
  readonly kind: string;
  /** Monotonic µs, the clock of the profile's sample times. */
  readonly start: number;
  readonly end: number;
  readonly cpuUs: number;
  /** The main thread's part of `cpuUs` (NaN off Linux); the rest is V8's helper threads' (GC, compilers). */
  readonly mainThreadUs: number;
  /** JS heap bytes allocated during the batch (bench/http-gc-meter.ts). */
  readonly allocatedBytes: number;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

async function measure(): Promise<Batch[]> {
  const batches: Batch[] = [];
  const meter = new GcMeter();
  const mainThread = () => mainThreadCpu(process.pid) ?? Number.NaN;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating order, so neither server always runs right after a collection the other caused.
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
      collectGarbage();
      const handler = HANDLERS[kind] as Handler;
      const start = monotonicUs();
      const allocatedBefore = meter.read().allocatedBytes;
      const mainBefore = mainThread();
      const before = process.cpuUsage();
      await churn(handler, SESSIONS);
      const { user, system } = process.cpuUsage(before);
      batches.push({
        kind,
        start,
        end: monotonicUs(),
        cpuUs: user + system,
        mainThreadUs: mainThread() - mainBefore,
        allocatedBytes: meter.read().allocatedBytes - allocatedBefore,
      });
    }
  }
  return batches;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Whose code a frame is; a builtin (no url) is charged to the JS function that called it. */
function ownerOf(url: string, functionName: string): string {
  if (url.includes('node_modules/xstate/')) return 'xstate';
  if (url.includes('node_modules/ajv/')) return 'ajv';
  if (
    /\/dist\/src\/(http|mcp)\/|\/dist\/src\/mcp-supervisor\.js|\/dist\/bench\/(http-layer|bare-sdk)-server/.test(
      url,
    )
  )
    return 'HTTP + MCP layer';
  if (/\/dist\/(src|machines)\//.test(url)) return 'actor layer';
  if (url.includes('node_modules/')) return 'other packages';
  if (url.startsWith('node:')) return 'node';
  if (url === '') return functionName;
  return 'bench';
}

function groupByServer(profile: CpuProfile, batches: readonly Batch[]): Map<string, Map<string, number>> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const groups = new Map<string, Map<string, number>>(kinds.map((kind) => [kind, new Map()]));
  let time = profile.startTime;
  profile.samples.forEach((id, index) => {
    time += profile.timeDeltas[index] ?? 0;
    const batch = batches.find((candidate) => time >= candidate.start && time < candidate.end);
    let node = byId.get(id);
    if (batch === undefined || node === undefined || node.callFrame.functionName === '(idle)') return;
    while (node && node.callFrame.url === '' && !node.callFrame.functionName.startsWith('(')) {
      const up = parent.get(node.id);
      node = up === undefined ? undefined : byId.get(up);
    }
    const owner = node ? ownerOf(node.callFrame.url, node.callFrame.functionName) : '(native)';
    const group = groups.get(batch.kind) as Map<string, number>;
    group.set(owner, (group.get(owner) ?? 0) + (profile.timeDeltas[index + 1] ?? 0));
  });
  return groups;
}

function printGroups(groups: Map<string, Map<string, number>>): void {
  const names = new Set<string>();
  for (const group of groups.values()) for (const name of group.keys()) names.add(name);
  const busy = (group: Map<string, number>) => [...group.values()].reduce((sum, value) => sum + value, 0);
  const rows = [...names].sort(
    (a, b) => (groups.get(kinds[0] as string)?.get(b) ?? 0) - (groups.get(kinds[0] as string)?.get(a) ?? 0),
  );
  console.log(`\nself time in units of each server's ajv time (profile split by batch)`);
  console.log(`${'group'.padEnd(28)}${kinds.map((kind) => kind.padStart(12)).join('')}`);
  const row = (name: string, value: (group: Map<string, number>) => number) => {
    const cells = kinds.map((kind) => {
      const group = groups.get(kind) as Map<string, number>;
      return (value(group) / (group.get('ajv') || Number.NaN)).toFixed(3).padStart(12);
    });
    console.log(`${name.padEnd(28)}${cells.join('')}`);
  };
  row('busy (all but idle)', busy);
  for (const name of rows) row(name, (group) => group.get(name) ?? 0);
}

async function main(): Promise<void> {
  for (const kind of kinds) await churn(HANDLERS[kind] as Handler, WARMUP_SESSIONS);
  const inspector = PROFILE || HEAP_PROFILE ? new Session() : undefined;
  inspector?.connect();
  if (inspector && PROFILE) {
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
  }
  if (inspector && HEAP_PROFILE) {
    await inspector.post('HeapProfiler.enable');
    // Both flags keep the samples of objects the collector freed: allocation, not what stays.
    await inspector.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
  }
  const batches = await measure();
  console.log(
    `churn CPU µs per session, one process, ${ROUNDS} rounds × ${SESSIONS} sessions, ${CONCURRENCY} in flight` +
      ` (load ${process.platform === 'linux' ? (await import('node:os')).loadavg()[0]?.toFixed(1) : '?'})`,
  );
  const perSession = (kind: string) =>
    batches.filter((batch) => batch.kind === kind).map((batch) => batch.cpuUs / SESSIONS);
  for (const kind of kinds) {
    const values = perSession(kind);
    console.log(
      `${kind.padEnd(12)} median ${median(values).toFixed(1).padStart(8)}   rounds ${values.map((v) => v.toFixed(0)).join(' ')}`,
    );
  }
  // The client's work (in-memory requests and responses) is in every figure above, alike for all.
  console.log(
    '\nper session, medians: main thread µs, helper threads µs (GC, compilers), JS heap allocated KB',
  );
  for (const kind of kinds) {
    const own = batches.filter((batch) => batch.kind === kind);
    const main = median(own.map((batch) => batch.mainThreadUs / SESSIONS));
    const helpers = median(own.map((batch) => (batch.cpuUs - batch.mainThreadUs) / SESSIONS));
    const allocated = median(own.map((batch) => batch.allocatedBytes / SESSIONS / 1024));
    console.log(
      `${kind.padEnd(12)} ${main.toFixed(0).padStart(8)} ${helpers.toFixed(0).padStart(8)} ${allocated.toFixed(1).padStart(8)}`,
    );
  }
  for (const [own, partner] of [
    ['supervisor', 'bare'],
    ['http-layer', 'bare'],
    ['supervisor', 'http-layer'],
    ['demo', 'bare-demo'],
    ['demo-minimal', 'bare-demo'],
    ['demo', 'demo-minimal'],
  ] as const) {
    if (!kinds.includes(own) || !kinds.includes(partner)) continue;
    const a = perSession(own);
    const b = perSession(partner);
    const paired = median(a.map((value, index) => (b[index] ?? Number.NaN) / value));
    console.log(
      `${partner} / ${own} CPU per session (read as throughput, higher is better): paired median ${paired.toFixed(3)}`,
    );
  }
  if (inspector && HEAP_PROFILE) {
    const { profile } = await inspector.post('HeapProfiler.stopSampling');
    writeFileSync(HEAP_PROFILE, JSON.stringify(profile));
  }
  if (inspector && PROFILE) {
    const { profile } = (await inspector.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    writeFileSync(PROFILE, JSON.stringify(profile));
    printGroups(groupByServer(profile, batches));
  }
  await Promise.all(supervisors.map((supervisor) => supervisor.shutdown()));
}

await main();
process.exit(0);
