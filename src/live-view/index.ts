import type { IncomingMessage, ServerResponse } from 'node:http';
import { SupervisorError } from '../errors.js';
import { LOOPBACK_HOSTS } from '../http/host-validation.js';
import type { SessionSupervisor } from '../supervisor.js';
import { refusal } from './access.js';
import { loadLayoutEngine } from './chart-layout.js';
import { liveCharts, machinesOf } from './charts.js';
import { LiveEventStream } from './event-stream.js';
import { countModernTraffic } from './modern-traffic.js';
import { LIVE_VIEW_CSP, LIVE_VIEW_PAGE } from './page.js';
import { takeSnapshot } from './snapshot.js';

export type { ChartDrawing, PlacedState, PlacedTransition } from './chart-layout.js';
export type { ChartsDocument, StateCounts } from './charts.js';
export type { LiveModernTraffic } from './modern-traffic.js';
export type { LiveChartState, LiveEvent, LiveSession, LiveSnapshot } from './snapshot.js';
export { type ChartState, type ChartTransition, describeMachine, type Statechart } from './statechart.js';

/** Options of {@link createLiveView}. */
export interface LiveViewOptions {
  /** Where the view lives: the page at `<basePath>/`. Default `'/live'`. */
  basePath?: string;
  /**
   * Serve peers that are not on loopback. Default `false`: the view lists session ids, which
   * address sessions, so only this machine may see it unless you put your own auth in front.
   */
  allowRemote?: boolean;
  /**
   * Host names accepted in `Host` (DNS-rebinding protection). Default: `LOOPBACK_HOSTS` unless
   * `allowRemote` is set, then no check.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Most pages streaming at once; more get 503. Default 8. */
  maxClients?: number;
  /** Most sessions listed in a snapshot (the newest; counts stay exact). Default 500. */
  maxListedSessions?: number;
  /** Keep-alive comment interval on the event stream, in ms. Default 15 000. */
  heartbeatMs?: number;
}

/**
 * A node:http handler: answers (and returns `true`) for paths under its base, returns `false`
 * without touching the response for anything else. `close()` ends every open event stream and
 * stops counting the sessionless (2026-07-28) traffic.
 */
export interface LiveViewHandler {
  (req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
  /** Pages streaming now. */
  readonly clients: number;
}

const invalid = (option: string, value: unknown, expected: string) =>
  new SupervisorError(
    'invalid-option',
    { option, value, expected },
    `Invalid option ${option} (expected ${expected})`,
  );

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) throw invalid(option, value, 'a whole number ≥ 1');
  return resolved;
}

function normalizeBase(basePath: string): string {
  if (!basePath.startsWith('/')) throw invalid('basePath', basePath, "a path starting with '/'");
  return basePath.replace(/\/+$/, '');
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

function answer(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS, ...headers })
    .end(`${text}\n`);
}

/**
 * A read-only web page that shows a supervisor as it runs: counts per state, each live session
 * with its state and age, and a timeline of recent transitions, pushed to the page over
 * server-sent events as they happen. No framework, no external resources. A supervisor serving
 * both eras (`modern` handler) also gets a panel of its sessionless 2026-07-28 traffic: requests by
 * method and by status class, and the recent rate, counted from the view's creation.
 *
 * Both machines are drawn from their definitions (laid out by the optional peer dependency
 * `elkjs`, which must be installed: `createLiveView` throws `missing-peer-dependency` otherwise),
 * with the sessions in each state and the times each arrow was taken; below them one swimlane
 * per recent session, the session table and the list of transitions.
 *
 * Routes under `basePath` (default `/live`): `GET /live/` the page, `GET /live/events` the event
 * stream (a snapshot, then batches of transitions), `GET /live/snapshot.json` one snapshot,
 * `GET /live/charts.json` the laid-out statecharts.
 * Loopback peers and loopback `Host` names only, unless configured otherwise.
 *
 * @example
 * ```ts
 * import { createLiveView } from 'mcp-session-supervisor';
 * const live = createLiveView(supervisor);              // http://127.0.0.1:3000/live/
 * http.createServer((req, res) => {
 *   if (live(req, res)) return;
 *   void supervisor.handleRequest(req, res);
 * });
 * ```
 */
export function createLiveView(
  supervisor: SessionSupervisor<unknown>,
  options: LiveViewOptions = {},
): LiveViewHandler {
  const base = normalizeBase(options.basePath ?? '/live');
  const allowRemote = options.allowRemote ?? false;
  const rules = {
    allowRemote,
    allowedHosts: 'allowedHosts' in options ? options.allowedHosts : allowRemote ? undefined : LOOPBACK_HOSTS,
  };
  const maxListedSessions = positiveInteger('maxListedSessions', options.maxListedSessions, 500);
  // Fails here, at start-up, naming the package, rather than on the first page load.
  loadLayoutEngine();
  // The charts the supervisor's actors run, read from their definitions.
  const charts = liveCharts(machinesOf(supervisor));
  // Counted from now on, page open or not (O(1) per request): a page opened later still sees totals.
  const traffic = countModernTraffic(supervisor);
  const stream = new LiveEventStream(
    supervisor,
    charts,
    {
      maxClients: positiveInteger('maxClients', options.maxClients, 8),
      maxListedSessions,
      heartbeatMs: positiveInteger('heartbeatMs', options.heartbeatMs, 15_000),
    },
    traffic.tally,
  );

  const handler = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== base && !path.startsWith(`${base}/`)) return false;
    const refused = refusal(req, rules);
    if (refused !== undefined) {
      answer(res, 403, `Forbidden: ${refused}`);
      return true;
    }
    if (req.method !== 'GET') {
      answer(res, 405, 'Method not allowed', { allow: 'GET' });
      return true;
    }
    const route = path.slice(base.length);
    if (route === '') {
      // The page addresses its stream relatively, so it must be served from `<base>/`.
      res.writeHead(308, { location: `${base}/`, ...SECURITY_HEADERS }).end();
    } else if (route === '/') {
      // The page asks for charts.json next: start laying out now (once per process).
      charts.drawings().catch(() => {});
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': LIVE_VIEW_CSP,
          'x-frame-options': 'DENY',
          ...SECURITY_HEADERS,
        })
        .end(LIVE_VIEW_PAGE);
    } else if (route === '/snapshot.json') {
      res
        .writeHead(200, { 'content-type': 'application/json', ...SECURITY_HEADERS })
        .end(
          JSON.stringify(
            takeSnapshot(
              supervisor,
              charts,
              new Map(),
              0,
              maxListedSessions,
              traffic.tally.summary(Date.now()),
            ),
          ),
        );
    } else if (route === '/charts.json') {
      charts.drawings().then(
        (drawings) =>
          res
            .writeHead(200, { 'content-type': 'application/json', ...SECURITY_HEADERS })
            .end(JSON.stringify(drawings)),
        (error: unknown) => answer(res, 500, `Could not lay out the statecharts: ${String(error)}`),
      );
    } else if (route === '/events') {
      if (!stream.add(res)) answer(res, 503, 'Too many live views open', { 'retry-after': '5' });
    } else {
      answer(res, 404, 'Not found');
    }
    return true;
  };
  return Object.defineProperties(handler, {
    close: {
      value: () => {
        stream.close();
        traffic.stop();
      },
    },
    clients: { get: () => stream.size },
  }) as LiveViewHandler;
}
