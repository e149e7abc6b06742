import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { SessionContext } from '../../src/index.js';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

// Built once, not per session: the SDK takes a ready object schema as it is, while a raw shape
// costs a zod object per tool and session (bench:http's profiles: zod was ~0.2 of an Ajv's cost).
// Zod schemas are immutable, so every session's server can share them.
const echoInput = z.object({ text: z.string() });
const addInput = z.object({ a: z.number(), b: z.number() });
const sleepInput = z.object({ seconds: z.number().min(0).max(60) });

/** The demo's MCP server: one per session, a few tools worth poking at from an MCP client. */
export function createDemoServer(context: SessionContext): McpServer {
  const server = new McpServer({ name: 'mcp-session-supervisor-demo', version: '0.1.0' });

  server.registerTool(
    'echo',
    { description: 'Echoes its input back.', inputSchema: echoInput },
    async ({ text: value }) => text(value),
  );

  server.registerTool('add', { description: 'Adds two numbers.', inputSchema: addInput }, async ({ a, b }) =>
    text(String(a + b)),
  );

  server.registerTool(
    'sleep',
    {
      description: 'Waits, keeping the session active meanwhile (watch it in the logs).',
      inputSchema: sleepInput,
    },
    async ({ seconds }, extra) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text(`slept ${seconds}s`);
    },
  );

  server.registerTool('whoami', { description: 'Tells this session its id and client.' }, async () =>
    text(JSON.stringify({ sessionId: context.sessionId, ...context.metadata })),
  );

  return server;
}
