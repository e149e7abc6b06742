/**
 * The MCP server both end-to-end benchmark servers build per session: the same tools, so the
 * only difference measured is how sessions and HTTP are handled around them.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** The tool the throughput run calls. */
export const BENCH_TOOL = 'echo';

export function createBenchMcpServer(): McpServer {
  const server = new McpServer({ name: 'http-bench', version: '1.0.0' });
  server.registerTool(
    BENCH_TOOL,
    { description: 'Echoes its text', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  );
  return server;
}
