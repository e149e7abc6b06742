/**
 * Hibernation figures (issue 10), side by side in one run:
 *
 * - heap per live idle session INCLUDING its McpServer and transport (handshake done through
 *   `supervisor.fetch`, no sockets) vs per hibernated session, same sessions, same process;
 * - wake-up latency over HTTP on loopback: a tools/call to a hibernated session (actor restored,
 *   server rebuilt, handshake replayed) vs the same call to an awake one, p50/p99;
 * - many hibernated sessions (the actor layer alone, no createServer) with the per-session figure
 *   and its extrapolation to 1 000 000, then their expiry storm on real timers (longest loop stall).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SimulatedClock } from 'xstate';
import { createSessionSupervisor, type McpSessionSupervisor } from '../src/index.js';
import { createBenchMcpServer } from './http-tools.js';
import { progress } from './report.js';
import { type GcPauses, heapUsedAfterGc, median, msSince, now, watchGcPauses } from './timing.js';

const HIBERNATE_AFTER = 1_000;
const ACCEPT = 'application/json, text/event-stream';

const initializeBody = (id: number): string =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
  });

async function post(
  send: (request: Request) => Promise<Response>,
  body: string,
  sessionId?: string,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT };
  if (sessionId) {
    headers['mcp-session-id'] = sessionId;
    headers['mcp-protocol-version'] = '2025-06-18';
  }
  const response = await send(new Request('http://127.0.0.1/mcp', { method: 'POST', headers, body }));
  await response.text();
  return response;
}

/** initialize + notifications/initialized, as a client does; returns the session id. */
async function handshake(send: (request: Request) => Promise<Response>, id: number): Promise<string> {
  const answer = await post(send, initializeBody(id));
  const sessionId = answer.headers.get('mcp-session-id');
  if (answer.status !== 200 || !sessionId) throw new Error(`initialize answered ${answer.status}`);
  await post(send, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), sessionId);
  return sessionId;
}

const toolCall = (id: number): string =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'x' } },
  });

function hibernatingSupervisor(clock: SimulatedClock): McpSessionSupervisor {
  return createSessionSupervisor({
    createServer: createBenchMcpServer,
    clock,
    maxSessions: 1_000_000,
    idleTimeout: '1h',
    hibernateAfter: HIBERNATE_AFTER,
  });
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

export interface HibernationResults {
  readonly sessions: number;
  readonly liveIdleBytes: number;
  readonly hibernatedBytes: number;
  readonly wakeP50Ms: number;
  readonly wakeP99Ms: number;
  readonly awakeP50Ms: number;
  readonly awakeP99Ms: number;
  readonly wakeSamples: number;
  readonly manySessions: number;
  readonly manyBytes: number;
  readonly stormLongestStallMs: number;
  /** GC pauses while the storm was watched, longest by kind. */
  readonly stormGc: GcPauses;
  readonly stormDisposed: number;
}

/** Heap per session, live idle with server + transport, then hibernated. */
async function heapFigures(sessions: number): Promise<{ live: number; hibernated: number }> {
  const clock = new SimulatedClock();
  const supervisor = hibernatingSupervisor(clock);
  const send = (request: Request) => supervisor.fetch(request);
  const handshakes = async (from: number, count: number) => {
    for (let i = 0; i < count; i += 100) {
      const batch = Math.min(100, count - i);
      await Promise.all(Array.from({ length: batch }, (_, k) => handshake(send, from + i + k)));
    }
  };
  // A warm-up batch as large as the measured one, hibernated before the baseline: the SDK modules
  // the first createServer loads and the code compiled and optimised on the way (~5 MB, once per
  // process, measured with heap snapshots) are no per-session cost; counted in, they added ~2.4 KB
  // per session at 2 000 sessions. What the second batch adds is the marginal cost of a session.
  const warmUpSessions = sessions;
  await handshakes(-warmUpSessions, warmUpSessions);
  clock.increment(HIBERNATE_AFTER);
  await settle();
  const empty = heapUsedAfterGc();
  await handshakes(0, sessions);
  const live = (heapUsedAfterGc() - empty) / sessions;
  clock.increment(HIBERNATE_AFTER);
  await settle();
  const { hibernated } = supervisor.getStatistics().hibernation;
  if (hibernated !== sessions + warmUpSessions) {
    throw new Error(`${hibernated} of ${sessions + warmUpSessions} sessions hibernated`);
  }
  const asleep = (heapUsedAfterGc() - empty) / sessions;
  await supervisor.shutdown({ grace: 0 });
  return { live, hibernated: asleep };
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** tools/call latency over loopback: to hibernated sessions (each wakes), then to the same, awake. */
async function wakeLatency(samples: number): Promise<{ wake: number[]; awake: number[] }> {
  const clock = new SimulatedClock();
  const supervisor = hibernatingSupervisor(clock);
  const server = http.createServer((req, res) => {
    void supervisor.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/mcp`;
  const send = (request: Request) =>
    fetch(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      duplex: 'half',
    } as RequestInit);
  const ids: string[] = [];
  for (let i = 0; i < samples; i++) ids.push(await handshake(send, i));
  clock.increment(HIBERNATE_AFTER);
  await settle();
  const wake: number[] = [];
  const awake: number[] = [];
  for (const [index, id] of ids.entries()) {
    let started = now();
    const woken = await post(send, toolCall(index), id);
    wake.push(msSince(started));
    if (woken.status !== 200) throw new Error(`woken session answered ${woken.status}`);
    started = now();
    await post(send, toolCall(index), id);
    awake.push(msSince(started));
  }
  await supervisor.shutdown({ grace: 0 });
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  return { wake, awake };
}

/**
 * The actor layer alone: many sessions hibernated on real timers, then their expiry storm. Every
 * session is marked initialized in one loop after all are built, so their idle deadlines fall
 * together (the worst case); the idle timeout leaves room for all of them to hibernate first.
 */
async function manyHibernated(
  count: number,
): Promise<{ bytes: number; stall: number; disposed: number; gc: GcPauses }> {
  // Room for every session to hibernate before the first deadline: ~45 s per 100 000 at most.
  const idleTimeoutMs = Math.max(45_000, Math.ceil(count / 100_000) * 45_000);
  const supervisor = createSessionSupervisor({
    maxSessions: 2_000_000,
    idleTimeout: idleTimeoutMs,
    initTimeout: '10m',
    hibernateAfter: 500,
  });
  const empty = heapUsedAfterGc();
  const sessions = [];
  for (let i = 0; i < count; i += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, count - i) }, () => supervisor.open());
    await Promise.all(batch.map((session) => session.ready()));
    sessions.push(...batch);
  }
  const armedAt = now();
  for (const session of sessions) session.markInitialized();
  sessions.length = 0;
  progress(`hibernation: ${count} sessions idle; waiting for them to hibernate`);
  while (supervisor.getStatistics().hibernation.hibernated < count) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (msSince(armedAt) > idleTimeoutMs - 2_000) throw new Error('sessions did not all hibernate in time');
  }
  const bytes = (heapUsedAfterGc() - empty) / count;
  progress('hibernation: waiting for the expiry storm');
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const gc = watchGcPauses();
  let last = now();
  let stall = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const at = now();
      stall = Math.max(stall, Number(at - last) / 1e6 - 1);
      last = at;
      const { liveSessions, byState } = supervisor.getStatistics();
      if (liveSessions === 0 && byState.expired === 0) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  histogram.disable();
  const pauses = gc.stop();
  const disposed = supervisor.getStatistics().totals.disposed;
  await supervisor.shutdown({ grace: 0 });
  return { bytes, stall: Math.max(stall, histogram.max / 1e6), disposed, gc: pauses };
}

export async function runHibernationCase(options: {
  heapSessions: number;
  wakeSamples: number;
  manySessions: number;
}): Promise<HibernationResults> {
  progress(
    `hibernation: heap of ${options.heapSessions} sessions with their MCP server, awake then hibernated`,
  );
  const heap = await heapFigures(options.heapSessions);
  progress(`hibernation: wake-up latency over HTTP, ${options.wakeSamples} sessions`);
  const latency = await wakeLatency(options.wakeSamples);
  progress(`hibernation: ${options.manySessions} hibernated sessions and their expiry storm`);
  const many = await manyHibernated(options.manySessions);
  return {
    sessions: options.heapSessions,
    liveIdleBytes: heap.live,
    hibernatedBytes: heap.hibernated,
    wakeP50Ms: median(latency.wake),
    wakeP99Ms: percentile(latency.wake, 99),
    awakeP50Ms: median(latency.awake),
    awakeP99Ms: percentile(latency.awake, 99),
    wakeSamples: latency.wake.length,
    manySessions: options.manySessions,
    manyBytes: many.bytes,
    stormLongestStallMs: many.stall,
    stormGc: many.gc,
    stormDisposed: many.disposed,
  };
}
