/**
 * The demo application, shared by `npm start` (server.ts) and `npm run demo:inspect` (inspect.ts):
 * an MCP server on loopback that serves both protocol eras on `/mcp` (2025 clients in supervised
 * sessions, 2026-07-28 clients sessionless through SDK v2's handler), with the live view, metrics
 * and statistics beside it, and a graceful drain on SIGTERM/SIGINT.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler } from '@modelcontextprotocol/server';
import pino from 'pino';
import type { InspectionObserver } from '../../src/index.js';
import { createSessionSupervisor, LOOPBACK_HOSTS } from '../../src/index.js';
import { createLiveView } from '../../src/live-view/index.js';
import { createSupervisorMetrics, metricsHandler } from '../../src/metrics.js';
import { createModernDemoServer } from './modern-tools.js';
import { createDemoServer } from './tools.js';

type Settings = Readonly<Record<string, string | undefined>>;
const env = (name: string, fallback: string, settings: Settings = process.env): string =>
  settings[name] ?? fallback;
/** `MODERN`, `METRICS`, `LIVE_VIEW`: `off` leaves a feature out (bench:http measures what each costs). */
const enabled = (name: string): boolean => env(name, 'on') !== 'off';

/**
 * The demo's sessions, tools and limits as its environment sets them (`MAX_SESSIONS`, `IDLE_TIMEOUT`,
 * `INIT_TIMEOUT`, `HIBERNATE_AFTER`, `HOST`): one place, so that bench:http's `supervisor-demo`
 * serves exactly what the demo serves, without the demo's process, logger and routes around it.
 *
 * @example
 * createSessionSupervisor({ ...demoSessionSettings({ HIBERNATE_AFTER: 'off' }), logger: pino() });
 */
export function demoSessionSettings(settings: Settings = process.env) {
  const host = env('HOST', '127.0.0.1', settings);
  const hibernateAfter = env('HIBERNATE_AFTER', '20s', settings);
  return {
    createServer: createDemoServer,
    maxSessions: Number(env('MAX_SESSIONS', '100', settings)),
    idleTimeout: env('IDLE_TIMEOUT', '60s', settings),
    initTimeout: env('INIT_TIMEOUT', '10s', settings),
    // Idle sessions with nothing open keep ~1 KB after this; their server is rebuilt on the next request.
    ...(hibernateAfter === 'off' ? {} : { hibernateAfter }),
    // DNS-rebinding protection: only loopback host names, since that is where the demo listens.
    allowedHosts: host === '127.0.0.1' || host === 'localhost' ? LOOPBACK_HOSTS : undefined,
  };
}

/** The path of a request target; the MCP endpoint's own target is recognised without building a URL. */
const pathOf = (target: string): string =>
  target === '/mcp' || target.startsWith('/mcp?') ? '/mcp' : new URL(target, 'http://localhost').pathname;

export interface DemoOptions {
  /** XState inspection observer for the supervisor and every session (see inspect.ts). */
  inspect?: InspectionObserver;
  /** Runs after the drain, before the process exits. */
  afterStop?: () => Promise<void>;
}

/** Starts the demo and returns where it listens; SIGTERM/SIGINT drain it and exit 0. */
export async function startDemo(options: DemoOptions = {}): Promise<{ origin: string }> {
  const port = Number(env('PORT', '3000'));
  const host = env('HOST', '127.0.0.1');
  const logger = pino(
    { level: env('LOG_LEVEL', 'info') },
    process.stdout.isTTY
      ? pino.transport({ target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } })
      : // Written as it is logged: pino's default stdout stream hands each line to an asynchronous
        // write of its own when lines come one at a time, as a server's do (~53 µs a line, half of it
        // on libuv's pool, against ~20 µs written at once; two lines a session).
        pino.destination({ dest: 1, sync: true }),
  );

  const supervisor = createSessionSupervisor({
    ...demoSessionSettings(),
    // Both eras on /mcp: 2025 clients get supervised sessions, 2026-07-28 clients the v2 handler.
    ...(enabled('MODERN') ? { modern: createMcpHandler(createModernDemoServer, { legacy: 'reject' }) } : {}),
    logger,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });

  const scrapeMetrics = enabled('METRICS')
    ? metricsHandler(createSupervisorMetrics(supervisor).registry)
    : undefined;
  // Refuses peers that are not on loopback and non-loopback Host names, wherever the demo listens.
  const liveView = enabled('LIVE_VIEW') ? createLiveView(supervisor, { basePath: '/live' }) : undefined;

  const server = http.createServer((req, res) => {
    const path = pathOf(req.url ?? '/');
    if (path === '/mcp') {
      void supervisor.handleRequest(req, res);
      return;
    }
    if (liveView?.(req, res)) return;
    if (scrapeMetrics && path === '/metrics' && req.method === 'GET') {
      void scrapeMetrics(req, res);
      return;
    }
    if (path === '/stats' && req.method === 'GET') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(supervisor.getStatistics()));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('Not found: the MCP endpoint is /mcp (also /live/, /metrics, /stats)\n');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // The port bound, which PORT=0 leaves to the OS.
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  logger.info(
    { url: `${origin}/mcp`, live: `${origin}/live/`, metrics: `${origin}/metrics`, stats: `${origin}/stats` },
    'demo server listening',
  );

  let stopping = false;
  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining sessions');
    await supervisor.shutdown({ grace: env('SHUTDOWN_GRACE', '10s') });
    liveView?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await options.afterStop?.();
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  }
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return { origin };
}
