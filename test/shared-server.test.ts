import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { createSessionSupervisor } from '../src/index.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const initialize = () =>
  new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });

describe('a createServer that returns one shared server (a misuse)', () => {
  it('fails the second session without ending the first', async () => {
    const shared = new McpServer({ name: 'shared', version: '1' });
    const supervisor = createSessionSupervisor({ createServer: () => shared });
    const first = await supervisor.fetch(initialize());
    await first.body?.cancel();
    const firstId = first.headers.get('mcp-session-id') as string;

    const second = await supervisor.fetch(initialize());
    await second.body?.cancel();
    await new Promise((resolve) => setImmediate(resolve));

    expect({
      second: second.status,
      firstStillLive: supervisor.has(firstId),
      connected: shared.isConnected(),
    }).toEqual({
      second: 500,
      firstStillLive: true,
      connected: true,
    });
    await supervisor.shutdown({ grace: 0 });
  });
});
