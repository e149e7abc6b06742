/**
 * Both protocol eras on one endpoint, with an SDK v2 server (`@modelcontextprotocol/server`; no v1 SDK
 * needed). One server factory backs both legs: 2025-era clients get a supervised session (idle expiry,
 * capacity, drain), 2026-07-28 clients are served per request by SDK v2's handler and take no slot.
 * Every request passes the same gate (Host/Origin, `authenticate`, body limits) first.
 *
 * It starts the endpoint on a free loopback port, talks to it with the v2 client in its default
 * (2025, session) and pinned 2026-07-28 modes, prints what each got, and exits:
 *
 *   npx tsx examples/both-eras.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { createSessionSupervisor, LOOPBACK_HOSTS } from '../src/index.js';

/** One factory for both eras, so the two can never drift apart. */
function buildServer(): McpServer {
  const server = new McpServer({ name: 'both-eras-example', version: '1.0.0' });
  server.registerTool(
    'greet',
    {
      description: 'Greets, and says what it saw of the HTTP request.',
      inputSchema: z.object({ name: z.string() }),
    },
    async ({ name }, ctx) => ({
      content: [
        {
          type: 'text' as const,
          // With a v2 server the real request reaches the handler on both legs (`ctx.http.req`).
          text: `Hello ${name} (session: ${ctx.sessionId ?? 'none'}, user-agent: ${ctx.http?.req?.headers.get('user-agent')})`,
        },
      ],
    }),
  );
  return server;
}

const supervisor = createSessionSupervisor({
  createServer: buildServer,
  modern: createMcpHandler(buildServer, { legacy: 'reject' }),
  maxSessions: 100,
  idleTimeout: '15m',
  allowedHosts: LOOPBACK_HOSTS,
});
const httpServer = http.createServer((req, res) => void supervisor.handleRequest(req, res));
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const url = new URL(`http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`);

for (const mode of ['legacy', { pin: '2026-07-28' }] as const) {
  const client = new Client({ name: 'both-eras-client', version: '1.0.0' }, { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  const result = await client.callTool({ name: 'greet', arguments: { name: 'world' } });
  const [first] = (result.content ?? []) as Array<{ type: string; text?: string }>;
  console.log(`${typeof mode === 'string' ? '2025 client' : '2026-07-28 client'}: ${first?.text}`);
  console.log(`  live sessions: ${supervisor.getStatistics().activeSessions}`);
  await transport.terminateSession().catch(() => {});
  await client.close();
}

await supervisor.shutdown({ grace: '1s' });
httpServer.close();
