import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/**
 * The demo's tools for 2026-07-28 clients, on SDK v2: the same tools as the sessions' server
 * (tools.ts, SDK v1), built per request by `createMcpHandler`. No session: `whoami` says so, and
 * tells what the request carried.
 */
export function createModernDemoServer(): McpServer {
  const server = new McpServer({ name: 'mcp-session-supervisor-demo', version: '0.1.0' });

  server.registerTool(
    'echo',
    { description: 'Echoes its input back.', inputSchema: z.object({ text: z.string() }) },
    async ({ text: value }) => text(value),
  );

  server.registerTool(
    'add',
    { description: 'Adds two numbers.', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => text(String(a + b)),
  );

  server.registerTool(
    'sleep',
    {
      description: 'Waits (a 2026-07-28 request holds no session while it runs).',
      inputSchema: z.object({ seconds: z.number().min(0).max(60) }),
    },
    async ({ seconds }, ctx) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        ctx.mcpReq.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text(`slept ${seconds}s`);
    },
  );

  server.registerTool('whoami', { description: 'Tells the caller what it is talking to.' }, async (ctx) =>
    text(
      JSON.stringify({
        sessionId: null,
        era: '2026-07-28',
        userAgent: ctx.http?.req?.headers.get('user-agent') ?? null,
      }),
    ),
  );

  return server;
}
