/**
 * Scale-out on a real Redis: a redis-server started here on a free loopback port, and cluster nodes
 * in separate processes (test/fixtures/cluster-node.ts) sharing it. Skipped with a message where
 * redis-server is missing, unless CI is set (then they must run). Everything started here is
 * stopped in `afterAll`, also when a test fails.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterLimits,
  type ClusterMessage,
  RedisClusterRegistry,
  type StoredInitialize,
} from '../src/cluster/index.js';
import { ClusterNodeProcess, type NodeEnvironment, RoundRobin } from './support/cluster-processes.js';
import {
  firstText,
  initializeBody,
  type JsonRpcMessage,
  openRawSession,
  ping,
  post,
  type Send,
  toRequestInit,
} from './support/http-harness.js';
import { RedisServer, redisTestsSkipReason } from './support/redis-server.js';

const skipReason = redisTestsSkipReason();
if (skipReason) console.warn(`[cluster.redis.test] ${skipReason}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(
  attempt: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const sendTo =
  (node: ClusterNodeProcess): Send =>
  (request) =>
    fetch(node.url, toRequestInit(request));

/** Starting three node processes through tsx takes seconds on an idle machine, many more on a loaded one. */
const NODES_START_TIMEOUT_MS = 60_000;

let prefixes = 0;

/** Starts `count` nodes on `redis` with one key prefix (a cluster of its own). */
async function startNodes(
  redis: RedisServer,
  count: number,
  env: Partial<NodeEnvironment> = {},
): Promise<ClusterNodeProcess[]> {
  prefixes += 1;
  const prefix = `test-${process.pid}-${prefixes}:`;
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      ClusterNodeProcess.start({
        REDIS_URL: redis.url,
        NODE_ID: `node-${index}`,
        KEY_PREFIX: prefix,
        ...env,
      }),
    ),
  );
}

async function stopAll(nodes: readonly ClusterNodeProcess[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.stop()));
}

/** A real SDK client whose requests go round-robin across the nodes. */
async function connectRoundRobin(nodes: readonly ClusterNodeProcess[]) {
  const balancer = new RoundRobin(nodes.map((node) => node.url));
  const first = nodes[0];
  if (!first) throw new Error('no nodes');
  const transport = new StreamableHTTPClientTransport(new URL(first.url), {
    fetch: balancer.fetch,
    // A GET stream cut by a hand-off is not reopened on its own: timers would outlive the test.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1,
      maxReconnectionDelay: 1,
      reconnectionDelayGrowFactor: 1,
    },
  });
  const client = new Client({ name: 'round-robin-client', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, balancer };
}

async function whoami(client: Client): Promise<string | undefined> {
  return firstText(await client.callTool({ name: 'whoami', arguments: {} }));
}

async function readBody(response: Response): Promise<JsonRpcMessage | undefined> {
  try {
    return JSON.parse(await response.text()) as JsonRpcMessage;
  } catch {
    return undefined;
  }
}

describe.skipIf(skipReason !== undefined)('cluster on Redis, nodes in separate processes', () => {
  let redis: RedisServer;
  const started: ClusterNodeProcess[][] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(started.map(stopAll));
    await redis?.stop();
  });

  describe('RedisClusterRegistry scripts', () => {
    const INIT: StoredInitialize = {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'script-test', version: '1.0.0' },
    };
    const limits = (overrides: Partial<ClusterLimits> = {}): ClusterLimits => ({
      maxSessions: 100,
      whenFull: 'reject',
      maxSessionsPerPrincipal: undefined,
      ttlMs: 60_000,
      ...overrides,
    });
    const registries: RedisClusterRegistry[] = [];
    const connect = async (keyPrefix: string): Promise<RedisClusterRegistry> => {
      const registry = new RedisClusterRegistry({ url: redis.url, keyPrefix });
      registries.push(registry);
      await registry.ready();
      return registry;
    };
    afterAll(async () => {
      await Promise.all(registries.map((registry) => registry.close()));
    });
    const keysUnder = async (registry: RedisClusterRegistry, prefix: string) =>
      registry.client.keys(`${prefix}*`);

    it('admits atomically: 120 concurrent admissions over 4 connections never exceed the cap', async () => {
      const prefix = `atomic-${process.pid}:`;
      const connections = await Promise.all([0, 1, 2, 3].map(() => connect(prefix)));
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, index) =>
          (connections[index % 4] as RedisClusterRegistry).admit({
            sessionId: `s-${index}`,
            nodeId: `node-${index % 4}`,
            principal: undefined,
            initialize: INIT,
            limits: limits({ maxSessions: 10 }),
          }),
        ),
      );
      expect(results.filter((result) => result.admitted)).toHaveLength(10);
      expect(await (connections[0] as RedisClusterRegistry).count()).toBe(10);
    });

    it('keeps nothing in Redis once an abandoned session outlives its TTL', async () => {
      const prefix = `ttl-${process.pid}:`;
      const registry = await connect(prefix);
      const admitted = await registry.admit({
        sessionId: 'abandoned',
        nodeId: 'gone',
        principal: 'alice',
        initialize: INIT,
        limits: limits({ ttlMs: 300, maxSessionsPerPrincipal: 5 }),
      });
      expect(admitted.admitted).toBe(true);
      expect((await keysUnder(registry, prefix)).length).toBeGreaterThan(0);
      await sleep(450);
      expect(await keysUnder(registry, prefix)).toEqual([]);
      expect(await registry.count()).toBe(0);
    });

    it('moves ownership on claim, tells the previous owner, and refuses other principals', async () => {
      const prefix = `claim-${process.pid}:`;
      const registry = await connect(prefix);
      const messages: ClusterMessage[] = [];
      const stop = await registry.listen('a', { message: (message) => messages.push(message) });
      try {
        await registry.admit({
          sessionId: 's',
          nodeId: 'a',
          principal: 'alice',
          initialize: INIT,
          limits: limits(),
        });
        const base = { sessionId: 's', nodeId: 'b', ttlMs: 60_000 };
        expect(await registry.claim({ ...base, principal: 'mallory' })).toBeUndefined();
        expect(await registry.claim({ ...base, principal: undefined })).toBeUndefined();
        const claimed = await registry.claim({ ...base, principal: 'alice' });
        expect(claimed?.previousOwner).toBe('a');
        expect(claimed?.record.initialize).toEqual(INIT);
        expect((await registry.lookup('s'))?.owner).toBe('b');
        await eventually(async () => (messages.length > 0 ? true : undefined), 'moved message');
        expect(messages).toEqual([{ type: 'moved', sessionId: 's', to: 'b' }]);
        // What each node learns when it reports activity.
        const touch = (node: string) =>
          registry.touch(node, [{ sessionId: 's', state: 'idle', idleForMs: 0 }], 60_000);
        expect(await touch('b')).toEqual([{ status: 'ok' }]);
        expect(await touch('a')).toEqual([{ status: 'moved' }]);
        expect(await registry.release('s', 'a', 'deleted', 60_000)).toBe(false);
        expect(await registry.release('s', 'b', 'deleted', 60_000)).toBe(true);
        expect(await touch('b')).toEqual([{ status: 'ended', reason: 'deleted' }]);
        const lost = {
          sessionId: 'lost',
          state: 'idle' as const,
          idleForMs: 5,
          ageMs: 10,
          principal: undefined,
        };
        expect(await registry.touch('b', [lost], 60_000)).toEqual([{ status: 'missing' }]);
        expect(await registry.reassert('b', [{ ...lost, initialize: INIT }], 60_000)).toEqual([
          { status: 'recreated' },
        ]);
        expect((await registry.lookup('lost'))?.owner).toBe('b');
      } finally {
        await stop();
      }
    });

    it('evicts the least recently active idle session and tells its owner', async () => {
      const prefix = `lru-${process.pid}:`;
      const registry = await connect(prefix);
      const messages: ClusterMessage[] = [];
      const stop = await registry.listen('b', { message: (message) => messages.push(message) });
      try {
        const admit = (sessionId: string, nodeId: string) =>
          registry.admit({
            sessionId,
            nodeId,
            principal: undefined,
            initialize: INIT,
            limits: limits({ maxSessions: 2, whenFull: 'evict-idle-lru' }),
          });
        await admit('old', 'b');
        await admit('recent', 'a');
        await registry.touch('b', [{ sessionId: 'old', state: 'idle', idleForMs: 5_000 }], 60_000);
        await registry.touch('a', [{ sessionId: 'recent', state: 'idle', idleForMs: 10 }], 60_000);
        expect(await admit('new', 'a')).toEqual({
          admitted: true,
          evicted: { sessionId: 'old', owner: 'b' },
        });
        await eventually(async () => (messages.length > 0 ? true : undefined), 'ended message');
        expect(messages).toEqual([{ type: 'ended', sessionId: 'old', reason: 'evicted' }]);
        // Busy sessions are never evicted: with both remaining ones active, the cap refuses.
        await registry.touch('a', [{ sessionId: 'recent', state: 'active', idleForMs: 0 }], 60_000);
        expect(await admit('refused', 'a')).toEqual({ admitted: false, code: 'capacity' });
      } finally {
        await stop();
      }
    });
  });

  describe('three nodes, one session served round-robin', () => {
    let nodes: ClusterNodeProcess[] = [];

    beforeAll(async () => {
      nodes = await startNodes(redis, 3);
      started.push(nodes);
    }, NODES_START_TIMEOUT_MS);

    it('keeps one SDK client session working with tools/call landing on every node', async () => {
      const { client, transport } = await connectRoundRobin(nodes);
      try {
        const servedBy = new Set<string>();
        for (let call = 0; call < 9; call += 1) {
          const node = await whoami(client);
          if (node) servedBy.add(node);
          const echoed = await client.callTool({ name: 'echo', arguments: { text: `call ${call}` } });
          expect(firstText(echoed)).toBe(`call ${call}`);
        }
        expect([...servedBy].sort()).toEqual(['node-0', 'node-1', 'node-2']);
        expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['echo', 'whoami']);
        // One live copy in the whole cluster once the hand-offs settled.
        const held = await eventually(async () => {
          const counts = await Promise.all(nodes.map(async (node) => (await node.health()).sessions));
          const total = counts.reduce((sum, n) => sum + n, 0);
          return total === 1 ? total : undefined;
        }, 'one copy left');
        expect(held).toBe(1);
      } finally {
        await transport.terminateSession().catch(() => {});
        await client.close();
      }
    });

    it('answers 404 for an unknown session on every node', async () => {
      for (const node of nodes) {
        expect((await ping(sendTo(node), '7b1b8c8e-0000-4000-8000-000000000000')).status).toBe(404);
      }
    });

    it('ends a session on every node with one DELETE', async () => {
      const [a, b, c] = nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
      const sessionId = await openRawSession(sendTo(a));
      expect((await ping(sendTo(c), sessionId)).status).toBe(200); // now held by c
      const deleted = await fetch(b.url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
      await deleted.text();
      expect(deleted.status).toBe(200);
      for (const node of nodes) expect((await ping(sendTo(node), sessionId)).status).toBe(404);
    });

    it('continues the session on the other nodes after its owner is killed (SIGKILL)', async () => {
      const { client, transport, balancer } = await connectRoundRobin(nodes);
      try {
        const owner = await whoami(client);
        const victim = nodes.find((node) => node.nodeId === owner);
        if (!victim) throw new Error(`no node ${owner}`);
        await victim.kill();
        const servedBy = new Set<string>();
        for (let call = 0; call < 6; call += 1) {
          const node = await whoami(client);
          if (node) servedBy.add(node);
        }
        expect(servedBy.has(victim.nodeId)).toBe(false);
        expect(servedBy.size).toBe(2);
        expect(balancer.served.length).toBeGreaterThan(6);
        for (const node of nodes) if (node !== victim) expect(node.alive).toBe(true);
      } finally {
        await client.close();
      }
      void transport;
    });
  });

  describe('cluster-wide capacity', () => {
    it('never admits more than maxSessions across nodes in a storm of initializes', {
      timeout: NODES_START_TIMEOUT_MS,
    }, async () => {
      const nodes = await startNodes(redis, 3, { MAX_SESSIONS: '7', WHEN_FULL: 'reject' });
      started.push(nodes);
      const answers = await Promise.all(
        Array.from({ length: 45 }, async (_, index) => {
          const node = nodes[index % nodes.length] as ClusterNodeProcess;
          const response = await fetch(node.url, post(initializeBody()));
          await response.text();
          return response.status;
        }),
      );
      expect(answers.filter((status) => status === 200)).toHaveLength(7);
      expect(answers.filter((status) => status === 503)).toHaveLength(38);
      const local = await Promise.all(nodes.map(async (node) => (await node.health()).sessions));
      expect(local.reduce((sum, n) => sum + n, 0)).toBe(7);
    });

    it('evicts the least recently active idle session cluster-wide; its owner retires it', {
      timeout: NODES_START_TIMEOUT_MS,
    }, async () => {
      const prefix = `lru-nodes-${process.pid}:`;
      const nodes = await startNodes(redis, 3, { MAX_SESSIONS: '3', KEY_PREFIX: prefix });
      started.push(nodes);
      const [a, b, c] = nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
      const first = await openRawSession(sendTo(a));
      const second = await openRawSession(sendTo(b));
      const third = await openRawSession(sendTo(c));
      await sleep(150);
      expect((await ping(sendTo(a), first)).status).toBe(200); // first: more recent than second
      // The nodes report activity in the background (every 50 ms, later on a loaded machine): wait
      // until Redis has seen all three idle again, `second` the least recently active.
      const observer = new RedisClusterRegistry({ url: redis.url, keyPrefix: prefix });
      try {
        await observer.ready();
        await eventually(async () => {
          const [one, two, three] = await Promise.all(
            [first, second, third].map((id) => observer.lookup(id)),
          );
          const idle = [one, two, three].every((record) => record?.state === 'idle');
          const secondIsOldest =
            two !== undefined &&
            [one, three].every((record) => record && record.lastActivityAt > two.lastActivityAt);
          return idle && secondIsOldest ? true : undefined;
        }, 'activity reported');
      } finally {
        await observer.close();
      }
      const fourth = await openRawSession(sendTo(c));
      await eventually(
        async () => ((await b.health()).sessionIds.includes(second) ? undefined : true),
        'b retires',
      );
      for (const node of nodes) expect((await ping(sendTo(node), second)).status).toBe(404);
      expect((await ping(sendTo(a), first)).status).toBe(200);
      expect((await ping(sendTo(c), third)).status).toBe(200);
      expect((await ping(sendTo(c), fourth)).status).toBe(200);
    });
  });

  describe('Redis lost and back', () => {
    let nodes: ClusterNodeProcess[] = [];

    beforeAll(async () => {
      nodes = await startNodes(redis, 3, { IDLE_TIMEOUT: '5m' });
      started.push(nodes);
    }, NODES_START_TIMEOUT_MS);

    it('answers 503 (JSON-RPC) while Redis is down, never crashes, and recovers its sessions after a restart', async () => {
      const [a, b] = nodes as [ClusterNodeProcess, ClusterNodeProcess];
      const sessionId = await openRawSession(sendTo(a));
      await redis.stop();
      for (const node of nodes) {
        const response = await fetch(node.url, post(initializeBody()));
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).not.toBeNull();
        const body = await readBody(response);
        expect(body?.error?.code).toBe(-32000);
        expect(body?.error?.message).toMatch(/registry is unavailable/);
      }
      // The owner still serves what it holds; a takeover needs the registry.
      expect((await ping(sendTo(a), sessionId)).status).toBe(200);
      expect((await ping(sendTo(b), sessionId)).status).toBe(503);
      await redis.restart();
      // Back: the owner put its session back into the empty Redis; any node serves it again.
      await eventually(
        async () => ((await ping(sendTo(b), sessionId)).status === 200 ? true : undefined),
        'takeover after restart',
      );
      for (const node of nodes) expect((await ping(sendTo(node), sessionId)).status).toBe(200);
      const fresh = await eventually(async () => openRawSession(sendTo(b)), 'admission after restart');
      expect((await ping(sendTo(a), fresh)).status).toBe(200);
      for (const node of nodes) expect(node.alive).toBe(true);
    });

    it('rides out dropped connections: only 200 or 503 meanwhile, then back to normal', async () => {
      const [a, b, c] = nodes as [ClusterNodeProcess, ClusterNodeProcess, ClusterNodeProcess];
      const sessionId = await openRawSession(sendTo(a));
      const admin = new RedisClusterRegistry({ url: redis.url, keyPrefix: 'admin-unused:' });
      try {
        await admin.ready();
        await admin.client.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        await admin.client.client('KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
        const statuses = await Promise.all(
          nodes.map(async (node) => {
            const response = await fetch(node.url, post(initializeBody()));
            await response.text();
            return response.status;
          }),
        );
        for (const status of statuses) expect([200, 503]).toContain(status);
        await eventually(
          async () => ((await ping(sendTo(b), sessionId)).status === 200 ? true : undefined),
          'takeover after drop',
        );
        // Pub/sub is back too: the hand-off reached `a`, which retired its copy.
        await eventually(
          async () => ((await a.health()).sessionIds.includes(sessionId) ? undefined : true),
          'a hands off',
        );
        expect((await ping(sendTo(c), sessionId)).status).toBe(200);
        for (const node of nodes) expect(node.alive).toBe(true);
      } finally {
        await admin.close();
      }
    });

    it('exits cleanly (0) on SIGTERM', async () => {
      const exits = await Promise.all(nodes.map((node) => node.stop()));
      expect(exits).toEqual(nodes.map(() => ({ code: 0, signal: null })));
    });
  });
});
