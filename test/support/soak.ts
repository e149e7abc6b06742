/**
 * The soak run shared by `test/hardening.soak.test.ts` (short) and `bench/soak.ts` (long): real
 * node:http servers on 127.0.0.1, the real wall clock with short timeouts, and storms of raw-HTTP
 * MCP sessions at a small cap, under both `whenFull` modes. Sessions are opened, used (one
 * `tools/call`), then some are DELETEd, some hang up a GET stream, and most are simply abandoned,
 * as 92–99 % are in the field. Once the storms are over the run waits for idle expiry and takes
 * its readings: live sessions, totals, requests in flight, pending library timers, heap after gc.
 *
 * Nothing here imports vitest: the benchmark script runs it under plain node.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import pino from 'pino';
import { type Clock, createSystemClock } from '../../src/clock.js';
import {
  createSessionSupervisor,
  type McpSessionSupervisor,
  type SupervisorStatistics,
  type WhenFull,
} from '../../src/index.js';
import { closeServer, initializeBody, listenOnLoopback, MCP_ACCEPT, rpcRequest } from './http-harness.js';

// ---------------------------------------------------------------------------------------------
// Observing the library's timers and the heap without touching src/
// ---------------------------------------------------------------------------------------------

/**
 * The system clock (sliced, unref'd timers), counting the timers the library asks for: every
 * `setTimeout` is pending until it fires or is cleared. Passed as the supervisor's `clock`, it
 * sees every session timer (init, idle, lifetime, dispose) and the shutdown grace.
 */
export class CountingClock implements Clock {
  scheduled = 0;
  fired = 0;
  cleared = 0;
  private readonly inner = createSystemClock();
  private readonly pending = new Set<unknown>();

  /** Timers scheduled and neither fired nor cleared. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  now(): number {
    return this.inner.now();
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle: unknown = this.inner.setTimeout(() => {
      if (this.pending.delete(handle)) this.fired += 1;
      callback();
    }, ms);
    this.pending.add(handle);
    this.scheduled += 1;
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (this.pending.delete(handle)) this.cleared += 1;
    this.inner.clearTimeout(handle);
  }
}

/**
 * `gc()` whether or not the process was started with `--expose-gc`: vitest's fork workers are
 * not, so the flag is set at run time and the function taken from a fresh context, where V8
 * installs it once the flag is on (Node documents setting flags after start-up as unsupported;
 * `--expose-gc` is the one that works, and it only adds a global).
 */
export function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Heap in use after full collections: only what is still reachable. */
export async function heapAfterGc(gc: () => void): Promise<number> {
  // Let sockets, streams and finalizers settle between passes.
  for (let pass = 0; pass < 3; pass += 1) {
    gc();
    await sleep(10);
  }
  gc();
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------
// The MCP server of each session
// ---------------------------------------------------------------------------------------------

/** One JSON Schema validator for every session: the SDK would otherwise build an Ajv per server. */
const sharedValidator = new AjvJsonSchemaValidator();

/**
 * A real MCP server (the SDK's low-level `Server`) with one `echo` tool. Leaner than `McpServer`
 * (no zod schemas or Ajv per session), so the storms measure the supervisor, not tool plumbing.
 */
export function createEchoServer(): Server {
  const server = new Server(
    { name: 'soak', version: '1.0.0' },
    { capabilities: { tools: {} }, jsonSchemaValidator: sharedValidator },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: 'echo',
        description: 'Answers with its input',
        inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) => ({
    content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }],
  }));
  return server;
}

// ---------------------------------------------------------------------------------------------
// One supervisor per whenFull mode, each behind its own node:http server
// ---------------------------------------------------------------------------------------------

export interface SoakOptions {
  /** Sessions admitted per storm (the storm retries refused initializes until it has them). */
  readonly sessionsPerStorm: number;
  /** The cap, small so that every storm runs at it. */
  readonly maxSessions: number;
  /** Initialize→use→leave sequences in flight at once. */
  readonly concurrency: number;
  readonly idleTimeoutMs: number;
  /** Fraction of admitted sessions the client DELETEs. */
  readonly deleteShare: number;
  /** Fraction that open a GET (SSE) stream and hang it up before leaving. */
  readonly hangUpShare: number;
  /** A storm that takes longer than this fails the run (bounded, whatever happens). */
  readonly stormDeadlineMs: number;
}

/**
 * A storm runs at the cap when the sessions its clients leave idle outlive their idle timeout:
 * with 32 clients and a cap of 48, 16 idle sessions suffice, i.e. 32 sessions a second at 500 ms
 * (this machine does 60–150). The clients never hold more than the cap busy, so eviction always
 * finds an idle session and refusals in `evict-idle-lru` mode would be a fault.
 */
export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  sessionsPerStorm: 1_000,
  maxSessions: 48,
  concurrency: 32,
  idleTimeoutMs: 500,
  deleteShare: 0.2,
  hangUpShare: 0.1,
  stormDeadlineMs: 120_000,
};

/** HTTP answers seen by the clients of one storm. */
export interface StormTally {
  admitted: number;
  /** 503 answers to initialize. */
  refused: number;
  /** 503 answers that had no Retry-After header. */
  refusedWithoutRetryAfter: number;
  deleted: number;
  hungUp: number;
  abandoned: number;
  /**
   * Requests inside a session answered 404: it expired or was evicted between two requests of a
   * client slower than the idle timeout (a loaded machine), as the spec says it must.
   */
  lostToExpiry: number;
  /** Anything else: a status or a failure a client should never see. */
  unexpected: string[];
}

export interface StormReport {
  readonly mode: WhenFull;
  readonly tally: StormTally;
  readonly durationMs: number;
  readonly peakLive: number;
  /** The supervisor's own count of refusals during the storm (`totals.rejected` grew by this). */
  readonly rejectedCounted: number;
}

export interface Readings {
  readonly statistics: SupervisorStatistics;
  readonly pendingTimers: number;
  /** Lines the supervisor logged at warn or error. */
  readonly problemLines: readonly string[];
}

export interface SoakTarget {
  readonly mode: WhenFull;
  readonly supervisor: McpSessionSupervisor;
  readonly clock: CountingClock;
  readonly server: http.Server;
  readonly url: URL;
  /** The clients' keep-alive connection pool. */
  readonly agent: http.Agent;
  readonly problemLines: string[];
  /** Most live sessions seen at once since the last {@link SoakTarget.resetPeak}. */
  peakLive: number;
  resetPeak(): void;
}

export async function startSoakTarget(mode: WhenFull, options: SoakOptions): Promise<SoakTarget> {
  const clock = new CountingClock();
  const problemLines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void problemLines.push(line) });
  const supervisor = createSessionSupervisor({
    clock,
    logger,
    createServer: createEchoServer,
    maxSessions: options.maxSessions,
    whenFull: mode,
    idleTimeout: options.idleTimeoutMs,
    initTimeout: options.idleTimeoutMs * 10,
    disposeTimeout: options.idleTimeoutMs * 2,
    retryAfter: '1s',
  });
  const server = http.createServer((req, res) => {
    void supervisor.handleRequest(req, res);
  });
  // Loopback clients reconnect at will; a short keep-alive keeps idle sockets from piling up.
  server.keepAliveTimeout = 1_000;
  const url = await listenOnLoopback(server);
  const target: SoakTarget = {
    mode,
    supervisor,
    clock,
    server,
    url,
    agent: new http.Agent({ keepAlive: true, maxSockets: options.concurrency * 2 }),
    problemLines,
    peakLive: 0,
    resetPeak: () => {
      target.peakLive = 0;
    },
  };
  supervisor.subscribe((event) => {
    if (event.type === 'transition' && event.to === 'created') {
      target.peakLive = Math.max(target.peakLive, supervisor.size);
    }
  });
  return target;
}

export async function stopSoakTarget(target: SoakTarget): Promise<void> {
  target.agent.destroy();
  await target.supervisor.shutdown({ grace: 1 });
  await closeServer(target.server);
}

// ---------------------------------------------------------------------------------------------
// A storm of sessions
// ---------------------------------------------------------------------------------------------

/** A tally with nothing counted yet. */
export const newTally = (): StormTally => ({
  admitted: 0,
  refused: 0,
  refusedWithoutRetryAfter: 0,
  deleted: 0,
  hungUp: 0,
  abandoned: 0,
  lostToExpiry: 0,
  unexpected: [],
});

type Departure = 'delete' | 'hang-up' | 'abandon';

/** Spreads departures evenly over session numbers (deterministic: the same run every time). */
function departureOf(index: number, options: SoakOptions): Departure {
  const position = (index * 0.618_033_988_75) % 1;
  if (position < options.deleteShare) return 'delete';
  if (position < options.deleteShare + options.hangUpShare) return 'hang-up';
  return 'abandon';
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

const JSON_HEADERS = { accept: MCP_ACCEPT, 'content-type': 'application/json' } as const;

/** One HTTP exchange over a keep-alive node:http agent: lighter than fetch, so the server gets the CPU. */
function exchange(
  target: SoakTarget,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(target.url, { method, headers, agent: target.agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Opens a GET (SSE) stream and hangs up as soon as its headers are in; resolves with the status. */
function hangUpStream(target: SoakTarget, sessionId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      target.url,
      {
        method: 'GET',
        headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId },
        agent: target.agent,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        response.on('error', () => {});
        if (status === 200) request.destroy();
        else response.resume();
        resolve(status);
      },
    );
    request.on('error', (error) => {
      if (!request.destroyed) reject(error);
    });
    request.end();
  });
}

/**
 * One client: initialize (its SSE answer read to the end), one `tools/call`, then its departure.
 * Resolves with whether the session was admitted.
 */
async function oneSession(target: SoakTarget, index: number, options: SoakOptions, tally: StormTally) {
  const initialize = await exchange(target, 'POST', JSON_HEADERS, initializeBody());
  if (initialize.status === 503) {
    if (initialize.headers['retry-after'] === undefined) tally.refusedWithoutRetryAfter += 1;
    tally.refused += 1;
    return false;
  }
  const sessionId = initialize.headers['mcp-session-id'];
  if (initialize.status !== 200 || typeof sessionId !== 'string' || !initialize.body.includes('"result"')) {
    tally.unexpected.push(`initialize ${initialize.status}`);
    return false;
  }
  tally.admitted += 1;
  const inSession = { ...JSON_HEADERS, 'mcp-session-id': sessionId };
  const answered = (step: string, status: number): boolean => {
    if (status === 200) return true;
    // Expected only when the client was slower than the idle timeout or its session was evicted.
    if (status === 404) tally.lostToExpiry += 1;
    else tally.unexpected.push(`${step} ${status}`);
    return false;
  };
  const call = await exchange(
    target,
    'POST',
    inSession,
    rpcRequest('tools/call', { name: 'echo', arguments: { text: `soak ${index}` } }),
  );
  if (!answered('tools/call', call.status)) return true;
  if (!call.body.includes(`soak ${index}`)) tally.unexpected.push('tools/call without its result');

  const departure = departureOf(index, options);
  if (departure === 'delete') {
    const deleted = await exchange(target, 'DELETE', { 'mcp-session-id': sessionId });
    if (answered('DELETE', deleted.status)) tally.deleted += 1;
  } else if (departure === 'hang-up') {
    if (answered('GET', await hangUpStream(target, sessionId))) tally.hungUp += 1;
  } else {
    tally.abandoned += 1;
  }
  return true;
}

/**
 * Runs `options.concurrency` clients until `options.sessionsPerStorm` sessions were admitted. A
 * refused client waits a moment and tries again, as one honouring Retry-After would (shortened).
 */
export async function storm(target: SoakTarget, options: SoakOptions, firstIndex = 0): Promise<StormReport> {
  const tally = newTally();
  const started = performance.now();
  const deadline = started + options.stormDeadlineMs;
  let claimed = 0;
  let next = firstIndex;
  const rejectedBefore = target.supervisor.getStatistics().totals.rejected;
  target.resetPeak();
  const client = async (): Promise<void> => {
    while (claimed < options.sessionsPerStorm && tally.unexpected.length === 0) {
      if (performance.now() > deadline) {
        tally.unexpected.push(`storm deadline of ${options.stormDeadlineMs} ms passed`);
        return;
      }
      claimed += 1;
      const index = next;
      next += 1;
      let admitted = false;
      try {
        admitted = await oneSession(target, index, options, tally);
      } catch (error) {
        tally.unexpected.push(`client failure: ${(error as Error).message}`);
      }
      if (!admitted) {
        claimed -= 1;
        await sleep(5 + (index % 10));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return {
    mode: target.mode,
    tally,
    durationMs: performance.now() - started,
    peakLive: target.peakLive,
    rejectedCounted: target.supervisor.getStatistics().totals.rejected - rejectedBefore,
  };
}

/**
 * Waits (bounded) until every session has expired and been disposed and no library timer is
 * pending, then takes the readings.
 */
export async function settle(target: SoakTarget, options: SoakOptions): Promise<Readings> {
  const { supervisor, clock } = target;
  const deadline = performance.now() + options.idleTimeoutMs * 20 + 5_000;
  const settled = (): boolean => {
    const statistics = supervisor.getStatistics();
    return (
      statistics.activeSessions === 0 &&
      statistics.totals.disposed === statistics.totals.admitted &&
      clock.pendingTimers === 0
    );
  };
  while (!settled() && performance.now() < deadline) await sleep(25);
  return {
    statistics: supervisor.getStatistics(),
    pendingTimers: clock.pendingTimers,
    problemLines: [...target.problemLines],
  };
}

/** Drops the keep-alive sockets of both sides, so heap readings compare like with like. */
export async function dropConnections(target: SoakTarget): Promise<void> {
  target.agent.destroy();
  target.server.closeAllConnections();
  await sleep(20);
}

/**
 * A warm-up storm just past the cap (JIT, socket pools, lazily built SDK state, the eviction or
 * refusal path), then settled and disconnected.
 */
export async function warmUp(target: SoakTarget, options: SoakOptions): Promise<void> {
  await storm(target, { ...options, sessionsPerStorm: options.maxSessions + options.concurrency }, 1_000_000);
  await settle(target, options);
  await dropConnections(target);
}

/** What a settled target must read after any number of storms; each entry is a violation. */
export function violations(readings: Readings): string[] {
  const { statistics, pendingTimers, problemLines } = readings;
  const found: string[] = [];
  if (statistics.activeSessions !== 0) found.push(`${statistics.activeSessions} sessions still live`);
  if (statistics.totals.disposed !== statistics.totals.admitted) {
    found.push(`disposed ${statistics.totals.disposed} of ${statistics.totals.admitted} admitted`);
  }
  if (statistics.requestsInFlight !== 0) found.push(`${statistics.requestsInFlight} requests in flight`);
  if (pendingTimers !== 0) found.push(`${pendingTimers} library timers pending`);
  if (problemLines.length > 0) found.push(`${problemLines.length} lines at warn/error: ${problemLines[0]}`);
  return found;
}
