import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpenMetricsContentType, PrometheusContentType, Registry } from 'prom-client';
import type { SessionEndReason } from '../machines/session.machine.js';
import type { RejectionCode, TrackedState } from '../machines/supervisor.machine.js';
import type { SupervisorEvent } from './events.js';
import type { TrafficListener } from './http/era-router.js';
import { importPeer } from './peer.js';
import type { SessionSupervisor } from './supervisor.js';

// prom-client is an optional peer dependency: this subpath is the only place that loads it, and
// importing it without prom-client installed fails with a `missing-peer-dependency` error.
const {
  Counter,
  Gauge,
  Histogram,
  Registry: PromRegistry,
} = await importPeer('prom-client', 'mcp-session-supervisor/metrics', () => import('prom-client'));

interface TrafficSource {
  subscribeTraffic(listener: TrafficListener): () => void;
}

/** A prom-client registry of either exposition format. */
export type AnyRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

/** Options of {@link createSupervisorMetrics}. */
export interface SupervisorMetricsOptions<R extends AnyRegistry = Registry> {
  /**
   * Where the metrics are registered. Default: a new `Registry` of its own, never prom-client's
   * global one, so two supervisors (or two test runs) in one process do not collide.
   */
  registry?: R;
  /** Prepended to every metric name. Default `'mcp_session_'`. */
  prefix?: string;
  /** Buckets of the lifetime histogram, in seconds. */
  lifetimeBuckets?: readonly number[];
  /** Buckets of the idle-before-end histogram, in seconds. Default: fractions of the idle timeout. */
  idleBuckets?: readonly number[];
}

/** What {@link createSupervisorMetrics} returns. */
export interface SupervisorMetrics<R extends AnyRegistry = Registry> {
  readonly registry: R;
  /**
   * Unsubscribes from the supervisor: counters and histograms stop moving. The metrics stay
   * registered (the gauges still read the supervisor); `registry.clear()` drops them.
   */
  stop(): void;
}

const TRACKED_STATES: readonly TrackedState[] = ['created', 'active', 'idle', 'expired'];

const END_REASONS: readonly SessionEndReason[] = [
  'init-timeout',
  'idle-timeout',
  'lifetime',
  'deleted',
  'evicted',
  'shutdown',
  'failed',
  'moved',
];

const REJECTION_CODES: readonly RejectionCode[] = ['capacity', 'principal-capacity', 'draining'];

/** From a second to a day: sessions deleted at once up to long-lived IDE connections. */
/** Seconds; a wake-up rebuilds an MCP server, typically a few milliseconds. */
const DEFAULT_WAKE_UP_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const DEFAULT_LIFETIME_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1_800, 3_600, 7_200, 21_600, 86_400];

/**
 * How idle a session was when it ended, as fractions of the idle timeout: evictions near 0 mean
 * the cap is too tight for the traffic, deletions show how long clients linger before DELETE, and
 * idle-timeout ends sit at the timeout itself (0 for a session that ended busy).
 */
function idleBucketsFor(idleTimeoutMs: number): number[] {
  const seconds = idleTimeoutMs / 1000;
  const buckets = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.1].map((fraction) =>
    Number((seconds * fraction).toFixed(3)),
  );
  // Rounding can merge neighbours of a very short timeout; bucket bounds must be distinct and > 0.
  return [...new Set(buckets)].filter((bound) => bound > 0);
}

/**
 * Prometheus metrics of a supervisor, with prom-client.
 *
 * Gauges (`<prefix>in_state{state}`, `<prefix>requests_in_flight`, `<prefix>capacity`) are read
 * from `getStatistics()` at scrape time, so they are exact and cost O(1). Counters and histograms
 * follow `supervisor.subscribe`; `admitted_total` and `ended_total` start from the supervisor's
 * totals, so they equal `getStatistics()` even when attached late (refusals before the call are
 * not known by code and are not counted). Call it once per registry and prefix: prom-client
 * refuses a second metric of the same name.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `<prefix>in_state` | gauge | `state`: created, active, idle, expired (ended, being released) |
 * | `<prefix>admitted_total` | counter | |
 * | `<prefix>rejected_total` | counter | `code`: capacity, principal-capacity, draining |
 * | `<prefix>ended_total` | counter | `reason`: init-timeout, idle-timeout, lifetime, deleted, evicted, shutdown, failed, moved |
 * | `<prefix>lifetime_seconds` | histogram | `reason`; observed when a session ends (admission → end) |
 * | `<prefix>idle_before_end_seconds` | histogram | `reason`; how long it had been idle when it ended (0 if busy) |
 * | `<prefix>requests_in_flight` | gauge | requests being answered; open GET streams are not counted |
 * | `<prefix>capacity` | gauge | `maxSessions` |
 * | `<prefix>hibernated` | gauge | sessions hibernated now (also in `in_state{state="idle"}`); `hibernateAfter` |
 * | `<prefix>hibernations_total`, `<prefix>wake_ups_total` | counter | running totals, read at scrape time |
 * | `<prefix>wake_up_seconds` | histogram | time to wake a hibernated session (actor restored, server rebuilt) |
 * | `<prefix>requests_total` | counter | `era`: modern; `method` (known MCP methods, else `other`), `status`: requests the 2026-07-28 leg served (option `modern`); the 2025 leg is counted by sessions above |
 *
 * @example
 * ```ts
 * import { createSupervisorMetrics, metricsHandler } from 'mcp-session-supervisor/metrics';
 * const { registry } = createSupervisorMetrics(supervisor);
 * const scrape = metricsHandler(registry);
 * http.createServer((req, res) => {
 *   if (req.url === '/metrics') return void scrape(req, res);
 *   void supervisor.handleRequest(req, res);
 * });
 * ```
 */
export function createSupervisorMetrics<R extends AnyRegistry = Registry>(
  supervisor: SessionSupervisor<unknown>,
  options: SupervisorMetricsOptions<R> = {},
): SupervisorMetrics<R> {
  // Without a registry R is its default, `Registry`, so the new one has the type promised.
  const registry = options.registry ?? (new PromRegistry() as R);
  const prefix = options.prefix ?? 'mcp_session_';
  const registers: AnyRegistry[] = [registry];

  new Gauge({
    name: `${prefix}in_state`,
    help: 'Sessions in each lifecycle state (expired: ended, resources being released).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const { byState } = supervisor.getStatistics();
      for (const state of TRACKED_STATES) this.set({ state }, byState[state]);
    },
  });
  new Gauge({
    name: `${prefix}requests_in_flight`,
    help: 'Requests being answered across all sessions (open GET streams are not requests and are not counted).',
    registers,
    collect() {
      this.set(supervisor.getStatistics().requestsInFlight);
    },
  });
  // Hibernation (`hibernateAfter`): read from the statistics at scrape time, O(1).
  const hibernation = (): ReturnType<SessionSupervisor<unknown>['getStatistics']>['hibernation'] =>
    supervisor.getStatistics().hibernation;
  new Gauge({
    name: `${prefix}hibernated`,
    help: 'Sessions hibernated now: idle, only their persisted snapshot kept (also counted as idle).',
    registers,
    collect() {
      this.set(hibernation().hibernated);
    },
  });
  // Running totals kept by the supervisor, exposed as counters (so `rate()` reads them as such).
  const runningTotal = (name: string, help: string, read: () => number): void => {
    new Counter({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  runningTotal('hibernations_total', 'Sessions that hibernated so far.', () => hibernation().hibernations);
  runningTotal(
    'wake_ups_total',
    'Hibernated sessions woken by a request so far (actor restored, server rebuilt).',
    () => hibernation().wakeUps,
  );
  const wakeUpSeconds = new Histogram({
    name: `${prefix}wake_up_seconds`,
    help: 'Time to wake a hibernated session for a request: actor restored, server rebuilt, handshake replayed.',
    buckets: [...DEFAULT_WAKE_UP_BUCKETS],
    registers,
  });
  new Gauge({
    name: `${prefix}capacity`,
    help: 'Most live sessions admitted at once (maxSessions).',
    registers,
    collect() {
      this.set(supervisor.options.maxSessions);
    },
  });

  const admitted = new Counter({
    name: `${prefix}admitted_total`,
    help: 'Sessions admitted.',
    registers,
  });
  const rejected = new Counter({
    name: `${prefix}rejected_total`,
    help: 'Admissions refused, by code.',
    labelNames: ['code'] as const,
    registers,
  });
  const ended = new Counter({
    name: `${prefix}ended_total`,
    help: 'Sessions ended, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const lifetime = new Histogram({
    name: `${prefix}lifetime_seconds`,
    help: 'Session lifetime from admission to its end, by end reason.',
    labelNames: ['reason'] as const,
    buckets: [...(options.lifetimeBuckets ?? DEFAULT_LIFETIME_BUCKETS)],
    registers,
  });
  const idleBeforeEnd = new Histogram({
    name: `${prefix}idle_before_end_seconds`,
    help: 'How long a session had been idle when it ended (0 if busy), by end reason: evictions near 0 mean the cap is too tight.',
    labelNames: ['reason'] as const,
    buckets: [...(options.idleBuckets ?? idleBucketsFor(supervisor.options.idleTimeout))],
    registers,
  });

  // Every label value exists from the start, so `rate()` and `increase()` see the first event.
  const statistics = supervisor.getStatistics();
  admitted.inc(statistics.totals.admitted);
  for (const reason of END_REASONS) ended.inc({ reason }, statistics.endedByReason[reason]);
  for (const code of REJECTION_CODES) rejected.inc({ code }, 0);

  const unsubscribe = supervisor.subscribe((event: SupervisorEvent) => {
    if (event.type === 'rejected') {
      rejected.inc({ code: event.code });
      return;
    }
    if (event.to === 'created' && event.from === undefined) {
      admitted.inc();
      return;
    }
    if (event.to !== 'expired' || event.reason === undefined) return;
    ended.inc({ reason: event.reason });
    lifetime.observe({ reason: event.reason }, Math.max(0, event.at - event.createdAt) / 1000);
    // A session that ended while active (requests in flight, or streams counted as activity) was not idle.
    const idleMs = event.from === 'active' ? 0 : Math.max(0, event.at - event.lastActivityAt);
    idleBeforeEnd.observe({ reason: event.reason }, idleMs / 1000);
  });

  // The modern (2026-07-28) leg opens no session: it is counted per request, by era and method.
  const traffic = trafficSource(supervisor);
  const requests = traffic
    ? new Counter({
        name: `${prefix}requests_total`,
        help: 'Requests answered without a session (2026-07-28 revision), refusals at the gate included, by era, JSON-RPC method and HTTP status.',
        labelNames: ['era', 'method', 'status'] as const,
        registers,
      })
    : undefined;
  const stopTraffic = traffic?.subscribeTraffic((event) =>
    requests?.inc({ era: event.era, method: event.method, status: String(event.status) }),
  );

  const stopWakeUps = supervisor.subscribeWakeUps((ms) => wakeUpSeconds.observe(ms / 1000));

  return {
    registry,
    stop: () => {
      unsubscribe();
      stopTraffic?.();
      stopWakeUps();
    },
  };
}

/** A supervisor serving both eras (`McpSessionSupervisor` with `modern`) reports its modern traffic. */
const trafficSource = (supervisor: SessionSupervisor<unknown>): TrafficSource | undefined =>
  typeof (supervisor as Partial<TrafficSource>).subscribeTraffic === 'function'
    ? (supervisor as unknown as TrafficSource)
    : undefined;

/**
 * A node:http (and Express) handler that answers a scrape of `registry`. Mount it at the path
 * you choose; it answers whatever it is given, so route (and protect) before calling it.
 *
 * @example
 * ```ts
 * const scrape = metricsHandler(registry);
 * app.get('/metrics', scrape);                                   // Express
 * if (path === '/metrics') return void scrape(req, res);          // node:http
 * ```
 */
export function metricsHandler(
  registry: AnyRegistry,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body);
    } catch (error) {
      // A failing collector must answer the scrape, not crash the server that serves it.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  };
}
