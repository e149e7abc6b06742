/**
 * Prometheus metrics over a real socket: a supervisor behind node:http on 127.0.0.1 with a
 * `/metrics` endpoint, sessions opened, used and deleted by the MCP SDK's own client, and every
 * scraped number checked against `getStatistics()`. Timers run on a `SimulatedClock`, so the
 * expiry (and the durations the histograms observe) happen exactly when the test says.
 */
import http from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionEndReason, StateCounts } from '../src/index.js';
import { createSupervisorMetrics, metricsHandler } from '../src/metrics.js';
import {
  closeServer,
  connectClient,
  createSupervisorUnderTest,
  type HarnessOptions,
  IDLE_TIMEOUT_MS,
  initializeBody,
  listenOnLoopback,
  mcpHeaders,
  openRawSession,
  ping,
  post,
  type Send,
  type SupervisorUnderTest,
  stopSupervisor,
  toRequestInit,
} from './support/http-harness.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Demo extends SupervisorUnderTest {
  readonly mcpUrl: URL;
  readonly metricsUrl: URL;
}

/** The demo's shape: `/mcp` and `/metrics` on one node:http server. */
async function startDemo(options: HarnessOptions = {}): Promise<Demo> {
  const under = createSupervisorUnderTest(options);
  const { registry, stop } = createSupervisorMetrics(under.supervisor);
  const scrape = metricsHandler(registry);
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') void scrape(req, res);
    else void under.supervisor.handleRequest(req, res);
  });
  const mcpUrl = await listenOnLoopback(server);
  cleanups.push(async () => {
    stop();
    await stopSupervisor(under.supervisor, under.clock);
    await closeServer(server);
  });
  return { ...under, mcpUrl, metricsUrl: new URL('/metrics', mcpUrl) };
}

async function connect(url: URL) {
  const connected = await connectClient(url);
  cleanups.push(() => connected.client.close());
  return connected;
}

/** One sample of the text exposition format: `name{label="value",…} number`. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      if (key !== undefined && value !== undefined) labels[key] = value;
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** Scrapes over HTTP; `value(name, labels)` reads one sample and fails when it is missing. */
async function scrape(url: URL) {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parseExposition(await response.text());
  return {
    value(name: string, labels: Record<string, string> = {}): number {
      const sample = samples.find(
        (candidate) =>
          candidate.name === name &&
          Object.keys(labels).length === Object.keys(candidate.labels).length &&
          Object.entries(labels).every(([key, value]) => candidate.labels[key] === value),
      );
      if (!sample) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
      return sample.value;
    },
  };
}

const STATES: ReadonlyArray<keyof StateCounts> = ['created', 'active', 'idle', 'expired'];
const REASONS: readonly SessionEndReason[] = [
  'init-timeout',
  'idle-timeout',
  'lifetime',
  'deleted',
  'evicted',
  'shutdown',
  'failed',
];

/** Every gauge and counter that mirrors `getStatistics()` equals it. */
async function expectMetricsToMatchStatistics(demo: Demo): Promise<void> {
  const metrics = await scrape(demo.metricsUrl);
  const statistics = demo.supervisor.getStatistics();
  for (const state of STATES) {
    expect(metrics.value('mcp_session_in_state', { state }), state).toBe(statistics.byState[state]);
  }
  for (const reason of REASONS) {
    expect(metrics.value('mcp_session_ended_total', { reason }), reason).toBe(
      statistics.endedByReason[reason],
    );
  }
  expect(metrics.value('mcp_session_admitted_total')).toBe(statistics.totals.admitted);
  expect(metrics.value('mcp_session_capacity')).toBe(statistics.maxSessions);
  expect(metrics.value('mcp_session_requests_in_flight')).toBe(statistics.requestsInFlight);
  const rejected = ['capacity', 'principal-capacity', 'draining'].reduce(
    (sum, code) => sum + metrics.value('mcp_session_rejected_total', { code }),
    0,
  );
  expect(rejected).toBe(statistics.totals.rejected);
}

const stateOf = (demo: Demo, sessionId: string) =>
  demo.supervisor.sessions().find((session) => session.id === sessionId)?.state;

describe('createSupervisorMetrics behind /metrics', () => {
  it('reports sessions by state, admissions, refusals, ends and capacity exactly as getStatistics()', async () => {
    const demo = await startDemo({ maxSessions: 3, whenFull: 'reject' });
    await expectMetricsToMatchStatistics(demo);

    const first = await connect(demo.mcpUrl);
    const second = await connect(demo.mcpUrl);
    const third = await connect(demo.mcpUrl);
    await first.client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    // Full: the fourth initialize is refused.
    const refused = await fetch(demo.mcpUrl, post(initializeBody()));
    await refused.text();
    expect(refused.status).toBe(503);
    await second.transport.terminateSession();
    await third.client.close();
    await vi.waitFor(() => expect(stateOf(demo, third.sessionId)).toBe('idle'), { timeout: 5_000 });

    await expectMetricsToMatchStatistics(demo);
    const metrics = await scrape(demo.metricsUrl);
    expect(metrics.value('mcp_session_admitted_total')).toBe(3);
    expect(metrics.value('mcp_session_rejected_total', { code: 'capacity' })).toBe(1);
    expect(metrics.value('mcp_session_ended_total', { reason: 'deleted' })).toBe(1);
    expect(metrics.value('mcp_session_capacity')).toBe(3);
    expect(metrics.value('mcp_session_in_state', { state: 'idle' })).toBe(1);
  });

  it('observes lifetime and idle time in the histograms when a session expires', async () => {
    const demo = await startDemo();
    const { client, sessionId } = await connect(demo.mcpUrl);
    await client.callTool({ name: 'echo', arguments: { text: 'once' } });
    await client.close();
    await vi.waitFor(() => expect(stateOf(demo, sessionId)).toBe('idle'), { timeout: 5_000 });

    demo.clock.increment(IDLE_TIMEOUT_MS);

    expect(demo.supervisor.has(sessionId)).toBe(false);
    await expectMetricsToMatchStatistics(demo);
    const metrics = await scrape(demo.metricsUrl);
    const idleTimeout = { reason: 'idle-timeout' };
    expect(metrics.value('mcp_session_ended_total', idleTimeout)).toBe(1);
    expect(metrics.value('mcp_session_lifetime_seconds_count', idleTimeout)).toBe(1);
    // The simulated clock never moved before the expiry: admitted at 0, last active at 0.
    expect(metrics.value('mcp_session_lifetime_seconds_sum', idleTimeout)).toBe(IDLE_TIMEOUT_MS / 1000);
    expect(metrics.value('mcp_session_idle_before_end_seconds_count', idleTimeout)).toBe(1);
    expect(metrics.value('mcp_session_idle_before_end_seconds_sum', idleTimeout)).toBe(
      IDLE_TIMEOUT_MS / 1000,
    );
  });

  it('tells an operator how idle sessions were when evicted or deleted', async () => {
    const demo = await startDemo({ maxSessions: 1 });
    const send: Send = (request) => fetch(demo.mcpUrl, toRequestInit(request));
    const first = await openRawSession(send);
    // Idle for a tenth of the idle timeout, then evicted to make room for a newcomer.
    demo.clock.increment(IDLE_TIMEOUT_MS / 10);
    const second = await openRawSession(send);
    expect(demo.supervisor.has(first)).toBe(false);
    // Deleted straight after a call: idle for no time at all.
    expect((await ping(send, second)).status).toBe(200);
    await (await send({ method: 'DELETE', headers: mcpHeaders(second) })).text();

    const metrics = await scrape(demo.metricsUrl);
    const evicted = { reason: 'evicted' };
    expect(metrics.value('mcp_session_idle_before_end_seconds_count', evicted)).toBe(1);
    expect(metrics.value('mcp_session_idle_before_end_seconds_sum', evicted)).toBe(
      IDLE_TIMEOUT_MS / 10 / 1000,
    );
    const deleted = { reason: 'deleted' };
    expect(metrics.value('mcp_session_idle_before_end_seconds_count', deleted)).toBe(1);
    expect(metrics.value('mcp_session_idle_before_end_seconds_sum', deleted)).toBe(0);
  });

  it('says truthfully what requests_in_flight counts, and has no stuttering names', async () => {
    const demo = await startDemo();
    const text = await (await fetch(demo.metricsUrl)).text();
    const help = text.split('\n').find((line) => line.startsWith('# HELP mcp_session_requests_in_flight'));
    expect(help).toMatch(/not counted/);
    expect(help).not.toMatch(/counted streams/);
    expect(text).not.toMatch(/mcp_session_session/);
    expect(text).not.toMatch(/idle_before_expiry/);
  });

  it('starts its counters from the totals of a supervisor that already ran, and stops counting on stop()', async () => {
    const { supervisor, clock } = createSupervisorUnderTest();
    cleanups.push(() => stopSupervisor(supervisor, clock));
    supervisor.close(supervisor.open().id);
    supervisor.open();

    const registry = new Registry();
    const metrics = createSupervisorMetrics(supervisor, { registry, prefix: 'demo_' });
    expect(metrics.registry).toBe(registry);
    const read = async (name: string, labels: Record<string, string> = {}) =>
      (await registry.getSingleMetric(name)?.get())?.values.find((value) =>
        Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
      )?.value;

    expect(await read('demo_admitted_total')).toBe(2);
    expect(await read('demo_ended_total', { reason: 'deleted' })).toBe(1);

    metrics.stop();
    supervisor.open();
    expect(await read('demo_admitted_total')).toBe(2);
    // Gauges read the supervisor at scrape time, subscribed or not.
    expect(await read('demo_in_state', { state: 'created' })).toBe(2);
  });

  it('keeps its metrics off the global registry', async () => {
    const { register } = await import('prom-client');
    const { supervisor, clock } = createSupervisorUnderTest();
    cleanups.push(() => stopSupervisor(supervisor, clock));

    const { registry } = createSupervisorMetrics(supervisor);

    expect(registry).not.toBe(register);
    expect(register.getSingleMetric('mcp_session_in_state')).toBeUndefined();
  });
});
