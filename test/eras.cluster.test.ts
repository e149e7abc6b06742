/**
 * A v2 server's session in a cluster: another node rebuilds it by replaying its `initialize` through
 * SDK v2's own transport, and the rebuilt server's handlers see the real request (`ctx.http.req`);
 * modern (2026-07-28) traffic on a clustered node still takes no slot.
 */
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinCluster, MemoryClusterRegistry } from '../src/cluster/index.js';
import { connectClient, createV2Server, PROBE_HEADER, type Served, serveEras } from './fixtures/eras.js';

describe('a v2 session server in a cluster', () => {
  const served: Served[] = [];
  beforeAll(async () => {
    const registry = new MemoryClusterRegistry();
    for (const nodeId of ['a', 'b']) {
      served.push(
        await serveEras('node:http', 'v2', {
          modern: createMcpHandler(createV2Server, { legacy: 'reject' }),
          cluster: joinCluster({ registry, nodeId, touchInterval: 10 }),
        }),
      );
    }
    await Promise.all(served.map(({ supervisor }) => supervisor.cluster?.ready()));
  });
  afterAll(async () => {
    for (const node of served) await node.close();
  });

  it('is rebuilt on another node, whose tool sees that request', async () => {
    const [a, b] = served as [Served, Served];
    const client = await connectClient('v1', a.url);
    try {
      const sessionId = client.sessionId() ?? '';
      expect(await client.callText('echo', { text: 'on a' })).toBe('on a');
      expect(b.supervisor.get(sessionId)).toBeUndefined();
      const answer = await fetch(b.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
          [PROBE_HEADER]: 'seen on b',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'probe', arguments: {} },
        }),
      });
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('seen on b');
      expect(b.supervisor.get(sessionId)).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it('serves 2026-07-28 clients on either node without a session', async () => {
    const [, b] = served as [Served, Served];
    const before = b.supervisor.getStatistics().activeSessions;
    const client = await connectClient('v2 pinned', b.url);
    try {
      expect(await client.callText('echo', { text: 'modern' })).toBe('modern');
      expect(b.supervisor.getStatistics().activeSessions).toBe(before);
    } finally {
      await client.close();
    }
  });
});
