/**
 * Hibernation figures (issue 10), side by side in one run:
 *
 * - heap per live idle session INCLUDING its McpServer and transport (handshake done through
 *   `supervisor.fetch`, no sockets) vs per hibernated session, same sessions, same process;
 * - wake-up latency over HTTP on loopback: a tools/call to a hibernated session (actor restored,
 *   server rebuilt, handshake replayed) vs the same call to an awake one, p50/p99;
 * - many hibernated sessions (the actor layer alone, no createServer) with the per-session figure
 *   and its extrapolation to 1 000 000, then their expiry storm on real timers, all due at once:
 *   longest loop stall against a quiet second's floor, longest GC pauses, load averages.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SimulatedClock } from 'xstate';
import { type Clock, TIMER_RESOLUTION_MS, TIMER_SLICE_BUDGET_MS, TimerWheel } from '../src/clock.js';
import { createSessionSupervisor, type McpSessionSupervisor } from '../src/index.js';
import { createBenchMcpServer } from './http-tools.js';
import { progress } from './report.js';
import {
  type GcPauses,
  heapUsedAfterGc,
  median,
  msSince,
  now,
  watchGcPauses,
  yieldToEventLoop,
} from './timing.js';

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
  /** Many hibernated sessions (actor layer) and their expiry storm. */
  readonly storm: StormResults;
  /**
   * The same storm with `v8Pretenuring: 'keep'` (V8's allocation-site pretenuring left on, as node
   * starts), when measured: what the supervisor's default spares a process.
   */
  readonly stormWithPretenuring?: StormResults;
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

/** A timer the standing clock holds back until it runs (see {@link standingClock}). */
class HeldTimer {
  handle: unknown = undefined;
  constructor(
    readonly callback: (arg: unknown) => void,
    readonly due: number,
    readonly arg: unknown = undefined,
  ) {}
}

/**
 * A clock for building many hibernated sessions whose idle deadlines fall together. It stands
 * still while the sessions are built: every session's idle deadline is the same instant. Timers
 * due within a second run on the production {@link TimerWheel} at once (each batch hibernates,
 * `hibernateAfter` = 1 ms, before the next is built, so the build never holds 1 000 000 awake
 * actors: 3.7 GB against a default heap limit of ~4.3 GB); later ones are held back. `run(lead)`
 * then moves the clock to `lead` ms before the earliest held deadline, lets it run at real speed
 * and hands every held timer to the wheel: all the wake-ups land in one 10 ms bucket, the worst
 * case of an expiry storm, however long the build took.
 */
function standingClock(): Clock & { run(leadMs: number): void } {
  const resolution = TIMER_RESOLUTION_MS;
  let standing = Math.ceil(Date.now() / resolution) * resolution;
  let ranFrom: number | undefined;
  const read = (): number => (ranFrom === undefined ? standing : standing + (Date.now() - ranFrom));
  const wheel = new TimerWheel(TIMER_SLICE_BUDGET_MS, resolution, undefined, read);
  let held: Set<HeldTimer> | undefined = new Set();
  // As the system clock: a shared callback and an argument where the caller offers them.
  const schedule = <T>(callback: (arg: T) => void, ms: number, arg: T): HeldTimer => {
    const timer = new HeldTimer(callback as (arg: unknown) => void, read() + ms, arg);
    if (held === undefined || ms <= 1_000) timer.handle = wheel.schedule(callback, ms, arg);
    else held.add(timer);
    return timer;
  };
  return {
    now: read,
    setTimeout: (callback, ms) => schedule(callback, ms, undefined),
    setTimeoutFor: schedule,
    clearTimeout: (handle) => {
      const timer = handle as HeldTimer;
      if (timer.handle === undefined) held?.delete(timer);
      else wheel.cancel(timer.handle as Parameters<TimerWheel['cancel']>[0]);
    },
    run: (leadMs) => {
      const timers = held ?? new Set<HeldTimer>();
      held = undefined;
      let earliest = Number.POSITIVE_INFINITY;
      for (const timer of timers) earliest = Math.min(earliest, timer.due);
      if (Number.isFinite(earliest)) standing = earliest - leadMs;
      ranFrom = Date.now();
      for (const timer of timers)
        timer.handle = wheel.schedule(timer.callback, timer.due - read(), timer.arg);
    },
  };
}

/** The longest gap between two ticks of a loop probe, beyond the tick's own 1 ms. */
interface LongestGap {
  readonly ms: number;
  /** Where it began and ended, on `performance.now()`'s scale (what GC entries carry). */
  readonly from: number;
  readonly to: number;
}

/** Longest gap (ms) between ticks of a 1 ms interval beyond its 1 ms, until `stop()`. */
function loopLagProbe(): { stop(): LongestGap } {
  let last = performance.now();
  let longest: LongestGap = { ms: 0, from: last, to: last };
  const timer = setInterval(() => {
    const at = performance.now();
    if (at - last - 1 > longest.ms) longest = { ms: at - last - 1, from: last, to: at };
    last = at;
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return longest;
    },
  };
}

const loadAverage = (): string =>
  os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');

export interface StormResults {
  readonly sessions: number;
  /** Heap per hibernated session (actor layer, no createServer), after a full collection. */
  readonly bytes: number;
  /** Seconds to build and hibernate them. */
  readonly buildSeconds: number;
  /** Seconds from the first expiry to the last disposal. */
  readonly stormSeconds: number;
  /**
   * How late the sessions ended (left the live states), in seconds after their common idle
   * deadline: the first, the one that made half of them ended, the last (read every 5 ms).
   */
  readonly lag: { readonly first: number; readonly half: number; readonly last: number };
  /** Longest loop stall while they expire (1 ms probe and monitorEventLoopDelay, the larger). */
  readonly stall: number;
  /** GC pause time inside the probe's longest gap: the rest of the gap was something else. */
  readonly stallGcMs: number;
  /** The same probe over a quiet second before the storm: what the machine's load alone does. */
  readonly floorStall: number;
  readonly gc: GcPauses;
  readonly disposed: number;
  /** Sessions that expired with no actor restored (the machine run on their snapshot). */
  readonly endedAsleep: number;
  /** Load averages (1, 5, 15 min) when the storm began. */
  readonly load: string;
}

/**
 * The actor layer alone: `count` sessions hibernated, then their expiry storm on real timers, all
 * idle deadlines in one bucket of the timer wheel (see {@link standingClock}).
 */
export async function hibernatedStorm(count: number, v8Pretenuring?: 'off' | 'keep'): Promise<StormResults> {
  const clock = standingClock();
  const supervisor = createSessionSupervisor({
    clock,
    maxSessions: count + 1_000,
    idleTimeout: '30m',
    initTimeout: '1h',
    hibernateAfter: 1,
    ...(v8Pretenuring ? { v8Pretenuring } : {}),
  });
  const statistics = () => supervisor.getStatistics();
  const empty = heapUsedAfterGc();
  const builtFrom = now();
  const batch = 1_000;
  for (let built = 0; built < count; built += batch) {
    const sessions = Array.from({ length: Math.min(batch, count - built) }, () => supervisor.open());
    await Promise.all(sessions.map((session) => session.ready()));
    for (const session of sessions) session.markInitialized();
    // At most ~50 000 awake at a time.
    while (built - statistics().hibernation.hibernated > 50_000) await yieldToEventLoop();
    if (built % 100_000 === 0) progress(`hibernation storm: ${built} of ${count} sessions built`);
  }
  while (statistics().hibernation.hibernated < count) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const buildSeconds = msSince(builtFrom) / 1000;
  // The floor: the same probe over a quiet second, the sessions hibernated and nothing due.
  const quiet = loopLagProbe();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const floorStall = quiet.stop().ms;
  // Their wake-ups go to the wheel now, due together in a few seconds; the heap then holds what
  // production holds per hibernated session.
  const leadMs = 5_000 + Math.ceil(count / 100_000) * 1_000;
  const ranAt = now();
  clock.run(leadMs);
  const bytes = (heapUsedAfterGc() - empty) / count;
  progress(`hibernation storm: ${count} hibernated after ${buildSeconds.toFixed(0)} s; their deadline comes`);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, leadMs - msSince(ranAt) - 200)));
  const load = loadAverage();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const gc = watchGcPauses();
  const probe = loopLagProbe();
  let firstExpiry: bigint | undefined;
  // How late sessions end: seconds from their (common) idle deadline, read every 5 ms.
  const deadlineAt = ranAt + BigInt(leadMs) * 1_000_000n;
  const lagSince = (at: bigint): number => Number(at - deadlineAt) / 1e9;
  const lag = { first: Number.NaN, half: Number.NaN, last: Number.NaN };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const { liveSessions, byState } = statistics();
      const at = now();
      if (firstExpiry === undefined && liveSessions < count) {
        firstExpiry = at;
        lag.first = lagSince(at);
        histogram.enable();
      }
      if (Number.isNaN(lag.half) && liveSessions <= count / 2) lag.half = lagSince(at);
      if (Number.isNaN(lag.last) && liveSessions === 0) lag.last = lagSince(at);
      if (liveSessions === 0 && byState.expired === 0) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  histogram.disable();
  const longest = probe.stop();
  const stall = Math.max(longest.ms, histogram.max / 1e6);
  const stallGcMs = gc.pausedWithin(longest.from, longest.to);
  const pauses = gc.stop();
  const stormSeconds = firstExpiry === undefined ? 0 : msSince(firstExpiry) / 1000;
  const { totals, hibernation } = statistics();
  await supervisor.shutdown({ grace: 0 });
  return {
    sessions: count,
    bytes,
    buildSeconds,
    stormSeconds,
    lag,
    stall,
    stallGcMs,
    floorStall,
    gc: pauses,
    disposed: totals.disposed,
    endedAsleep: hibernation.endedAsleep,
    load,
  };
}

/**
 * {@link hibernatedStorm} in a process of its own, started as node starts by default: a heap
 * nothing else used, and V8 flags (allocation-site pretenuring above all: see the README on what
 * it does to an expiry storm of 1 000 000 hibernated sessions) that nothing before it changed.
 */
export async function hibernatedStormInChild(
  count: number,
  v8Pretenuring?: 'off' | 'keep',
): Promise<StormResults> {
  const entry = fileURLToPath(new URL('./hibernation-storm.js', import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', entry], {
    env: {
      ...process.env,
      HIBERNATION_SESSIONS: String(count),
      HIBERNATION_V8_PRETENURING: v8Pretenuring ?? '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const last = output.trim().split('\n').pop();
  if (code !== 0 || last === undefined) throw new Error(`the storm process exited with ${code}`);
  return JSON.parse(last) as StormResults;
}

export async function runHibernationCase(options: {
  heapSessions: number;
  wakeSamples: number;
  manySessions: number;
  /**
   * Run the storm in processes of its own: once with the supervisor's defaults (the verdict), once
   * with `v8Pretenuring: 'keep'` (the figure beside it, never the verdict). Otherwise in this process.
   */
  stormProcesses?: boolean;
}): Promise<HibernationResults> {
  progress(
    `hibernation: heap of ${options.heapSessions} sessions with their MCP server, awake then hibernated`,
  );
  const heap = await heapFigures(options.heapSessions);
  progress(`hibernation: wake-up latency over HTTP, ${options.wakeSamples} sessions`);
  const latency = await wakeLatency(options.wakeSamples);
  progress(`hibernation: ${options.manySessions} hibernated sessions and their expiry storm`);
  const storm = options.stormProcesses
    ? await hibernatedStormInChild(options.manySessions)
    : await hibernatedStorm(options.manySessions);
  let stormWithPretenuring: StormResults | undefined;
  if (options.stormProcesses) {
    progress("hibernation: the same storm again with v8Pretenuring: 'keep'");
    stormWithPretenuring = await hibernatedStormInChild(options.manySessions, 'keep');
  }
  return {
    sessions: options.heapSessions,
    liveIdleBytes: heap.live,
    hibernatedBytes: heap.hibernated,
    wakeP50Ms: median(latency.wake),
    wakeP99Ms: percentile(latency.wake, 99),
    awakeP50Ms: median(latency.awake),
    awakeP99Ms: percentile(latency.awake, 99),
    wakeSamples: latency.wake.length,
    storm,
    ...(stormWithPretenuring ? { stormWithPretenuring } : {}),
  };
}
