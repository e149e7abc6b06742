/**
 * The demo with the Stately inspector: an inspector relay on 127.0.0.1, then the demo MCP server
 * (same tools, same defaults as `npm start`) streaming every supervisor and session event to it.
 *
 *   npm run demo:inspect           # MCP on http://127.0.0.1:3000/mcp, inspector page on http://127.0.0.1:8080/
 *   PORT=4000 INSPECT_PORT=9000 IDLE_TIMEOUT=20s npm run demo:inspect
 *
 * Open the printed page in a browser: it embeds the hosted inspector (https://stately.ai/inspect),
 * so that browser needs internet access; the relay and the MCP server themselves stay on loopback.
 * Connect any MCP client to the MCP URL and watch sessions go created → active → idle → expired.
 */
import http from 'node:http';
import pino from 'pino';
import { createSessionSupervisor, LOOPBACK_HOSTS } from '../../src/index.js';
import { createStatelyInspection, startInspectorRelay } from '../../src/inspection.js';
import { createDemoServer } from './tools.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;

const host = '127.0.0.1';
const port = Number(env('PORT', '3000'));
const logger = pino(
  { level: env('LOG_LEVEL', 'info') },
  process.stdout.isTTY
    ? pino.transport({ target: 'pino-pretty', options: { singleLine: true, ignore: 'pid,hostname' } })
    : undefined,
);

const relay = await startInspectorRelay({ host, port: Number(env('INSPECT_PORT', '8080')) });
const inspection = createStatelyInspection({ url: relay.url });

const supervisor = createSessionSupervisor({
  createServer: createDemoServer,
  maxSessions: Number(env('MAX_SESSIONS', '100')),
  idleTimeout: env('IDLE_TIMEOUT', '60s'),
  initTimeout: env('INIT_TIMEOUT', '10s'),
  logger,
  allowedHosts: LOOPBACK_HOSTS,
  inspect: inspection.inspect,
});

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/mcp') {
    void supervisor.handleRequest(req, res);
    return;
  }
  if (path === '/stats' && req.method === 'GET') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ ...supervisor.getStatistics(), inspection: inspection.stats() }));
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the MCP endpoint is /mcp\n');
});

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, host, () => resolve());
});

process.stdout.write(
  [
    '',
    `  MCP endpoint:      http://${host}:${port}/mcp`,
    `  statistics:        http://${host}:${port}/stats`,
    `  Stately inspector: ${relay.pageUrl}   <- open in a browser (needs internet: it embeds https://stately.ai/inspect)`,
    '',
    '',
  ].join('\n'),
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: draining sessions');
  await supervisor.shutdown({ grace: env('SHUTDOWN_GRACE', '10s') });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // Let the last transitions (every session `disposed`) reach the inspector before the socket closes.
  await Promise.race([inspection.whenIdle(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
  inspection.stop();
  await relay.close();
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
