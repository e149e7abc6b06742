/**
 * The demo: an MCP server on 127.0.0.1 whose sessions are supervised, with every lifecycle
 * transition logged. Short default timeouts so you can watch sessions go idle and expire.
 *
 *   npm start                      # http://127.0.0.1:3000/mcp
 *   PORT=4000 IDLE_TIMEOUT=5m MAX_SESSIONS=500 npm start
 *
 *   http://127.0.0.1:3000/live/    live view of the sessions (loopback clients only)
 *   http://127.0.0.1:3000/metrics  Prometheus metrics
 *   http://127.0.0.1:3000/stats    getStatistics() as JSON
 */
import http from 'node:http';
import pino from 'pino';
import {
  createLiveView,
  createSessionSupervisor,
  createSupervisorMetrics,
  LOOPBACK_HOSTS,
  metricsHandler,
} from '../../src/index.js';
import { createDemoServer } from './tools.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;

const port = Number(env('PORT', '3000'));
const host = env('HOST', '127.0.0.1');
const logger = pino(
  { level: env('LOG_LEVEL', 'debug') },
  process.stdout.isTTY
    ? pino.transport({ target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } })
    : undefined,
);

const supervisor = createSessionSupervisor({
  createServer: createDemoServer,
  maxSessions: Number(env('MAX_SESSIONS', '100')),
  idleTimeout: env('IDLE_TIMEOUT', '60s'),
  initTimeout: env('INIT_TIMEOUT', '10s'),
  logger,
  // DNS-rebinding protection: only loopback host names, since that is where the demo listens.
  allowedHosts: host === '127.0.0.1' || host === 'localhost' ? LOOPBACK_HOSTS : undefined,
});

const { registry } = createSupervisorMetrics(supervisor);
const scrapeMetrics = metricsHandler(registry);
// Refuses peers that are not on loopback and non-loopback Host names, wherever the demo listens.
const liveView = createLiveView(supervisor, { basePath: '/live' });

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/mcp') {
    void supervisor.handleRequest(req, res);
    return;
  }
  if (liveView(req, res)) return;
  if (path === '/metrics' && req.method === 'GET') {
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

server.listen(port, host, () => {
  const origin = `http://${host}:${port}`;
  logger.info(
    { url: `${origin}/mcp`, live: `${origin}/live/`, metrics: `${origin}/metrics`, stats: `${origin}/stats` },
    'demo server listening',
  );
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: draining sessions');
  await supervisor.shutdown({ grace: env('SHUTDOWN_GRACE', '10s') });
  liveView.close();
  server.closeAllConnections();
  server.close(() => {
    logger.info('stopped');
    logger.flush();
    process.exit(0);
  });
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
