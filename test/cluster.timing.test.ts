/**
 * Indistinguishable misses in a cluster (SPEC "HTTP behaviour"): on the node that holds a session,
 * another principal's request for it and a request for an unknown id take the same path (one
 * registry round trip, refused there), so a prober cannot tell from the timing that the id exists.
 *
 * Tested statistically on a real redis-server: interleaved pairs (random order within each pair)
 * timed on the web-standard entry point; under "same path" the other principal's request is the
 * slower of its pair about half the time (a sign test). Taking the shortcut of answering a local
 * session at once made it the faster one in nearly every pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinCluster, RedisClusterRegistry } from '../src/cluster/index.js';
import { createSessionSupervisor, type McpSessionSupervisor, type Principal } from '../src/index.js';
import { initializeBody, MCP_ACCEPT, rpcRequest, toolServerFactory } from './support/http-harness.js';
import { RedisServer, redisTestsSkipReason } from './support/redis-server.js';

const skipReason = redisTestsSkipReason();
if (skipReason) console.warn(`[cluster.timing.test] ${skipReason}`);

const PAIRS = 300;
const WARM_UP = 30;

function request(body: string, principal: string, sessionId?: string): Request {
  return new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: {
      accept: MCP_ACCEPT,
      'content-type': 'application/json',
      authorization: `Bearer ${principal}`,
      ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
    },
    body,
  });
}

const authenticate = (incoming: Request): Principal | undefined => {
  const token = incoming.headers.get('authorization')?.replace(/^Bearer /, '');
  return token === undefined ? undefined : { id: token };
};

describe.skipIf(skipReason !== undefined)(
  'another principal’s session id vs an unknown id, on the node holding it',
  () => {
    let redis: RedisServer;
    let registry: RedisClusterRegistry;
    let supervisor: McpSessionSupervisor;
    let held: string;

    beforeAll(async () => {
      redis = await RedisServer.start();
      registry = new RedisClusterRegistry({ url: redis.url, keyPrefix: `timing-${process.pid}:` });
      await registry.ready();
      supervisor = createSessionSupervisor({
        createServer: toolServerFactory(),
        authenticate,
        cluster: joinCluster({ registry, nodeId: 'holder' }),
      });
      await supervisor.cluster?.ready();
      const opened = await supervisor.fetch(request(initializeBody(), 'alice'));
      await opened.text();
      held = opened.headers.get('mcp-session-id') ?? '';
      expect(held).not.toBe('');
    }, 30_000);

    afterAll(async () => {
      await supervisor?.shutdown({ grace: 0 });
      await registry?.close();
      await redis?.stop();
    });

    async function timed(sessionId: string): Promise<number> {
      const started = performance.now();
      const response = await supervisor.fetch(request(rpcRequest('ping'), 'mallory', sessionId));
      await response.text();
      const elapsed = performance.now() - started;
      expect(response.status).toBe(404);
      return elapsed;
    }

    it('gets the same 404, no faster or slower, in a sign test over interleaved pairs', async () => {
      const unknown = () => crypto.randomUUID();
      for (let index = 0; index < WARM_UP; index += 1) {
        await timed(held);
        await timed(unknown());
      }
      let otherSlower = 0;
      for (let index = 0; index < PAIRS; index += 1) {
        let other: number;
        let missing: number;
        if (Math.random() < 0.5) {
          other = await timed(held);
          missing = await timed(unknown());
        } else {
          missing = await timed(unknown());
          other = await timed(held);
        }
        if (other > missing) otherSlower += 1;
      }
      // Same distribution: Binomial(PAIRS, 1/2), σ = √PAIRS / 2 ≈ 8.7; 4σ either side.
      const sigma = Math.sqrt(PAIRS) / 2;
      expect(otherSlower).toBeGreaterThan(PAIRS / 2 - 4 * sigma);
      expect(otherSlower).toBeLessThan(PAIRS / 2 + 4 * sigma);
      // The session itself was left alone: still here, still alice's.
      expect(supervisor.get(held)?.principal).toBe('alice');
    }, 60_000);
  },
);
