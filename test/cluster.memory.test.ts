/**
 * Cluster semantics with three supervisors in this process sharing a MemoryClusterRegistry: the
 * same wiring as the Redis cluster (admission, takeover by replaying `initialize`, hand-off,
 * cluster-wide cap and LRU, DELETE everywhere), fast and without Redis. The multi-process tests
 * against a real redis-server are in cluster.redis.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { joinCluster, MemoryClusterRegistry } from '../src/cluster/index.js';
import {
  createSessionSupervisor,
  type McpSessionSupervisor,
  type McpSessionSupervisorOptions,
  type SessionEndReason,
} from '../src/index.js';
import {
  firstText,
  initializeBody,
  openRawSession,
  ping,
  post,
  readAllMessages,
  rpcRequest,
  type Send,
  SlowTool,
  sendToFetchEntry,
  toolServerFactory,
} from './support/http-harness.js';

interface TestNode {
  readonly id: string;
  readonly supervisor: McpSessionSupervisor;
  readonly send: Send;
  readonly ended: Array<{ sessionId: string; reason: SessionEndReason | undefined }>;
}

let nodes: TestNode[] = [];
let slow = new SlowTool();

type ClusterTestOptions = Omit<McpSessionSupervisorOptions, 'createServer' | 'cluster'>;

async function startCluster(options: ClusterTestOptions = {}, count = 3): Promise<MemoryClusterRegistry> {
  const registry = new MemoryClusterRegistry();
  slow = new SlowTool();
  nodes = Array.from({ length: count }, (_, index) => {
    const id = String.fromCharCode(97 + index);
    const supervisor = createSessionSupervisor({
      idleTimeout: '1m',
      ...options,
      createServer: toolServerFactory(slow),
      cluster: joinCluster({ registry, nodeId: id, touchInterval: 10 }),
    });
    const ended: TestNode['ended'] = [];
    supervisor.subscribe((event) => {
      if (event.type === 'transition' && event.to === 'expired') {
        ended.push({ sessionId: event.sessionId, reason: event.reason });
      }
    });
    return { id, supervisor, send: sendToFetchEntry(supervisor), ended };
  });
  await Promise.all(nodes.map((node) => node.supervisor.cluster?.ready()));
  return registry;
}

const node = (index: number): TestNode => {
  const found = nodes[index];
  if (!found) throw new Error(`no node ${index}`);
  return found;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

async function callTool(send: Send, sessionId: string, name: string, args: Record<string, unknown> = {}) {
  const response = await send(post(rpcRequest('tools/call', { name, arguments: args }), sessionId));
  const messages = response.status === 200 ? await readAllMessages(response) : [];
  if (response.status !== 200) await response.text().catch(() => {});
  return { status: response.status, text: firstText(messages[0]?.result) };
}

/**
 * A request body that stops after its first half until `finish()`: `reading` resolves once the
 * supervisor reads it, i.e. after the request found its session and before it is served.
 */
function heldBody(text: string) {
  const bytes = new TextEncoder().encode(text);
  const half = Math.floor(bytes.byteLength / 2);
  let started: () => void = () => {};
  let finish: () => void = () => {};
  const reading = new Promise<void>((resolve) => {
    started = resolve;
  });
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        pulls += 1;
        if (pulls === 1) {
          controller.enqueue(bytes.slice(0, half));
          started();
          return;
        }
        await finished;
        controller.enqueue(bytes.slice(half));
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, reading, finish };
}

afterEach(async () => {
  slow.releaseAll();
  await Promise.all(nodes.map((each) => each.supervisor.shutdown({ grace: 1 })));
  nodes = [];
});

describe('cluster (in-process registry)', () => {
  it('serves one session on every node, moving it on each request and retiring the old copy', async () => {
    const registry = await startCluster();
    const sessionId = await openRawSession(node(0).send);
    for (const index of [1, 2, 0, 2]) {
      const result = await callTool(node(index).send, sessionId, 'echo', { text: `on ${index}` });
      expect(result).toEqual({ status: 200, text: `on ${index}` });
      expect((await registry.lookup(sessionId))?.owner).toBe(node(index).id);
      expect(node(index).supervisor.has(sessionId)).toBe(true);
    }
    await eventually(() => nodes.filter((each) => each.supervisor.has(sessionId)).length === 1);
    // Node 0 held it twice (from admission, and on the third request), node 1 once.
    expect(node(0).ended.map((end) => end.reason)).toEqual(['moved', 'moved']);
    expect(node(1).ended.map((end) => end.reason)).toEqual(['moved']);
    expect(await registry.count()).toBe(1);
  });

  it('answers 404 for an unknown session on every node', async () => {
    await startCluster();
    for (const each of nodes) {
      expect((await ping(each.send, '7b1b8c8e-0000-4000-8000-000000000000')).status).toBe(404);
    }
  });

  it('ends a session everywhere on DELETE through any node', async () => {
    const registry = await startCluster();
    const sessionId = await openRawSession(node(0).send);
    const deleted = await node(1).send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
    await deleted.text();
    expect(deleted.status).toBe(200);
    for (const each of nodes) expect((await ping(each.send, sessionId)).status).toBe(404);
    expect(await registry.count()).toBe(0);
    await eventually(() => nodes.every((each) => !each.supervisor.has(sessionId)));
  });

  it('never admits more than maxSessions across nodes, however the initializes interleave', async () => {
    const registry = await startCluster({ maxSessions: 4, whenFull: 'reject' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, index) => {
        const response = await node(index % 3).send(post(initializeBody()));
        await response.text();
        return response.status;
      }),
    );
    expect(answers.filter((status) => status === 200)).toHaveLength(4);
    expect(answers.filter((status) => status === 503)).toHaveLength(8);
    expect(await registry.count()).toBe(4);
    expect(nodes.reduce((sum, each) => sum + each.supervisor.size, 0)).toBe(4);
  });

  it('evicts the least recently active idle session cluster-wide; its owner retires it', async () => {
    const registry = await startCluster({ maxSessions: 3 });
    const first = await openRawSession(node(0).send);
    const second = await openRawSession(node(1).send);
    const third = await openRawSession(node(2).send);
    await sleep(30);
    expect((await ping(node(0).send, first)).status).toBe(200); // `first` is now more recent than `second`
    // The nodes report activity in the background: wait until the registry has seen all three
    // idle again, `second` the least recently active.
    await eventually(async () => {
      const [a, b, c] = await Promise.all([first, second, third].map((id) => registry.lookup(id)));
      const idle = [a, b, c].every((record) => record?.state === 'idle');
      return (
        idle &&
        b !== undefined &&
        [a, c].every((record) => record && record.lastActivityAt > b.lastActivityAt)
      );
    });
    const fourth = await openRawSession(node(0).send);
    await eventually(() => !node(1).supervisor.has(second));
    expect(node(1).ended).toEqual([{ sessionId: second, reason: 'evicted' }]);
    for (const each of nodes) expect((await ping(each.send, second)).status).toBe(404);
    for (const id of [first, third, fourth]) expect((await ping(node(0).send, id)).status).toBe(200);
  });

  it('lets a request in flight on the old owner finish after another node takes the session over', async () => {
    await startCluster();
    const sessionId = await openRawSession(node(0).send);
    const pending = callTool(node(0).send, sessionId, 'slow');
    await slow.whenStarted(1);
    expect((await ping(node(1).send, sessionId)).status).toBe(200);
    // The old copy waits for its call, not for the grace.
    expect(node(0).supervisor.has(sessionId)).toBe(true);
    slow.releaseAll();
    expect(await pending).toEqual({ status: 200, text: 'done' });
    await eventually(() => !node(0).supervisor.has(sessionId));
    expect(node(0).ended).toEqual([{ sessionId, reason: 'moved' }]);
    expect((await ping(node(2).send, sessionId)).status).toBe(200);
  });

  it('takes a session back into a copy still finishing its requests, without rebuilding it', async () => {
    await startCluster();
    const sessionId = await openRawSession(node(0).send);
    const pending = callTool(node(0).send, sessionId, 'slow');
    await slow.whenStarted(1);
    expect((await ping(node(1).send, sessionId)).status).toBe(200);
    expect((await ping(node(0).send, sessionId)).status).toBe(200); // back to node 0's live copy
    slow.releaseAll();
    await pending;
    await eventually(() => !node(1).supervisor.has(sessionId));
    expect(node(0).ended).toEqual([]);
    expect(node(1).ended).toEqual([{ sessionId, reason: 'moved' }]);
  });

  it('serves a request whose session moved to another node while its body was arriving', async () => {
    const registry = await startCluster();
    const sessionId = await openRawSession(node(0).send);
    const body = heldBody(rpcRequest('tools/call', { name: 'echo', arguments: { text: 'late' } }));
    const pending = node(0).send({ ...post('', sessionId), body: body.stream });
    await body.reading;
    // Another request (the client's GET stream, a POST through another balancer) lands on node 1.
    expect((await ping(node(1).send, sessionId)).status).toBe(200);
    // Node 0's copy counted no request yet, so it retired at once.
    await eventually(() => !node(0).supervisor.has(sessionId));
    body.finish();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(firstText((await readAllMessages(response))[0]?.result)).toBe('late');
    expect((await registry.lookup(sessionId))?.owner).toBe('a');
  });

  it('answers 404 to a request whose session was deleted through another node while its body was arriving', async () => {
    const registry = await startCluster();
    const sessionId = await openRawSession(node(0).send);
    const body = heldBody(rpcRequest('tools/call', { name: 'echo', arguments: { text: 'late' } }));
    const pending = node(0).send({ ...post('', sessionId), body: body.stream });
    await body.reading;
    const deleted = await node(1).send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
    await deleted.text();
    expect(deleted.status).toBe(200);
    await eventually(async () => (await registry.count()) === 0);
    body.finish();
    const response = await pending;
    await response.text();
    expect(response.status).toBe(404);
    expect(await registry.count()).toBe(0);
    expect(nodes.some((each) => each.supervisor.has(sessionId))).toBe(false);
  });

  it('keeps the principal binding across nodes', async () => {
    const registry = new MemoryClusterRegistry();
    const make = (nodeId: string) =>
      createSessionSupervisor({
        createServer: toolServerFactory(),
        authenticate: (request) => {
          const who = request.headers.get('x-user');
          return who === null ? undefined : { id: who };
        },
        cluster: joinCluster({ registry, nodeId }),
      });
    const a = make('a');
    const b = make('b');
    nodes = [a, b].map((supervisor, index) => ({
      id: String(index),
      supervisor,
      send: sendToFetchEntry(supervisor),
      ended: [],
    }));
    const as =
      (user: string, send: Send): Send =>
      (request) =>
        send({ ...request, headers: { ...request.headers, 'x-user': user } });
    const sessionId = await openRawSession(as('alice', sendToFetchEntry(a)));
    expect((await ping(as('mallory', sendToFetchEntry(b)), sessionId)).status).toBe(404);
    expect((await registry.lookup(sessionId))?.owner).toBe('a');
    expect((await ping(as('alice', sendToFetchEntry(b)), sessionId)).status).toBe(200);
  });

  it('leaves the sessions of a node that shuts down to the others', async () => {
    const registry = await startCluster();
    const sessionId = await openRawSession(node(0).send);
    await node(0).supervisor.shutdown({ grace: 1 });
    expect(node(0).ended).toEqual([{ sessionId, reason: 'shutdown' }]);
    expect((await ping(node(0).send, sessionId)).status).toBe(503); // draining: go elsewhere
    expect((await ping(node(1).send, sessionId)).status).toBe(200);
    expect((await registry.lookup(sessionId))?.owner).toBe('b');
  });

  it('removes the record when the owner expires the session', async () => {
    const registry = await startCluster({ idleTimeout: 150 });
    const sessionId = await openRawSession(node(0).send);
    expect(await registry.count()).toBe(1);
    await eventually(() => node(0).ended.length === 1);
    expect(node(0).ended).toEqual([{ sessionId, reason: 'idle-timeout' }]);
    await eventually(async () => (await registry.count()) === 0);
    expect((await ping(node(1).send, sessionId)).status).toBe(404);
  });
});
