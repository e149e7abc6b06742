/**
 * End to end over real sockets on 127.0.0.1: the MCP SDK's own `Client` and
 * `StreamableHTTPClientTransport` against a supervisor embedded in node:http, Express 5 and Hono.
 * Session timers run on a `SimulatedClock`, so expiry happens exactly when a test advances it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InspectionEvent } from 'xstate';
import type { McpSessionSupervisor } from '../src/index.js';
import {
  closeServer,
  connectClient,
  createSupervisorUnderTest,
  firstText,
  type HarnessOptions,
  IDLE_TIMEOUT_MS,
  initializeBody,
  listenOnLoopback,
  type NodeSupervisor,
  openRawSession,
  ping,
  post,
  readAllMessages,
  rpcErrorCode,
  rpcRequest,
  type Send,
  startNodeSupervisor,
  stopSupervisor,
} from './support/http-harness.js';
import { RPC } from './support/json-rpc.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Everything a test started, stopped in reverse order after it (clients before servers). */
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: HarnessOptions = {}): Promise<NodeSupervisor> {
  const harness = await startNodeSupervisor(options);
  cleanups.push(() => harness.stop());
  return harness;
}

async function connect(url: URL) {
  const connected = await connectClient(url);
  cleanups.push(() => connected.client.close());
  return connected;
}

const stateOf = (supervisor: McpSessionSupervisor, sessionId: string) =>
  supervisor.sessions().find((session) => session.id === sessionId)?.state;

const openStreamsOf = (supervisor: McpSessionSupervisor, sessionId: string) =>
  supervisor.sessions().find((session) => session.id === sessionId)?.openStreams;

/** Waits until the client's GET (SSE) stream is open on the server side. */
async function streamOpened(supervisor: McpSessionSupervisor, sessionId: string): Promise<void> {
  await vi.waitFor(() => expect(openStreamsOf(supervisor, sessionId)).toBe(1));
}

function rawGet(send: Send, sessionId: string) {
  return send({ method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId } });
}

function rawDelete(send: Send, sessionId: string) {
  return send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
}

describe('a session opened by the SDK client over node:http', () => {
  it('gets a uuid v4 Mcp-Session-Id from initialize and is tracked as live', async () => {
    const { supervisor, url } = await start();
    const { sessionId, exchanges } = await connect(url);

    expect(exchanges[0]).toEqual({ method: 'POST', status: 200 });
    expect(sessionId).toMatch(UUID_V4);
    expect(supervisor.has(sessionId)).toBe(true);
    expect(supervisor.getStatistics()).toMatchObject({ activeSessions: 1, totals: { admitted: 1 } });
  });

  it('calls a tool of its own MCP server', async () => {
    const { url } = await start();
    const { client } = await connect(url);

    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } });

    expect(firstText(result)).toBe('hello');
  });

  it('lists the tools of its MCP server', async () => {
    const { url } = await start();
    const { client } = await connect(url);

    const { tools } = await client.listTools();

    expect(tools.map((tool) => tool.name).sort()).toEqual(['echo', 'slow']);
  });
});

describe('the initialize handshake over node:http', () => {
  /** The moves of every session, as `from → to (trigger)`, from the supervisor's own reports. */
  function recordMoves(supervisor: McpSessionSupervisor): string[] {
    const moves: string[] = [];
    const stop = supervisor.subscribe((event) => {
      if (event.type === 'transition') moves.push(`${event.from ?? '∅'} → ${event.to} (${event.trigger})`);
    });
    cleanups.push(async () => stop());
    return moves;
  }

  it('takes a session from created straight to idle when its answer goes out whole', async () => {
    const { supervisor, send } = await start();
    const moves = recordMoves(supervisor);

    const response = await send(post(initializeBody()));
    await readAllMessages(response);

    expect(moves).toEqual(['∅ → created (xstate.init)', 'created → idle (INITIALIZED)']);
  });

  it('counts the initialize request until its answer is out, as one request of the session', async () => {
    const { supervisor, send } = await start();

    const response = await send(post(initializeBody()));
    await readAllMessages(response);
    const sessionId = response.headers.get('mcp-session-id') ?? '';

    expect(supervisor.sessions().find((session) => session.id === sessionId)).toMatchObject({
      state: 'idle',
      requestsInFlight: 0,
      requests: 1,
    });
  });
});

describe('the client GET stream and activity', () => {
  it('keeps the session active, and alive past the idle timeout, while the stream is open', async () => {
    const { supervisor, clock, url } = await start();
    const { sessionId } = await connect(url);
    await streamOpened(supervisor, sessionId);

    clock.increment(IDLE_TIMEOUT_MS * 3);

    expect(stateOf(supervisor, sessionId)).toBe('active');
  });

  it('lets the session go idle once the client closes its stream', async () => {
    const { supervisor, url } = await start();
    const { sessionId, client } = await connect(url);
    await streamOpened(supervisor, sessionId);

    await client.close();

    await vi.waitFor(() => expect(stateOf(supervisor, sessionId)).toBe('idle'));
  });

  it('does not keep the session alive when streamsCountAsActivity is false', async () => {
    const { supervisor, clock, url } = await start({ streamsCountAsActivity: false });
    const { sessionId } = await connect(url);
    await streamOpened(supervisor, sessionId);
    expect(stateOf(supervisor, sessionId)).toBe('idle');

    clock.increment(IDLE_TIMEOUT_MS);

    expect(supervisor.has(sessionId)).toBe(false);
    expect(supervisor.getStatistics().endedByReason['idle-timeout']).toBe(1);
  });
});

describe('terminating a session (DELETE)', () => {
  it('answers 200 and counts the session as deleted', async () => {
    const { supervisor, url } = await start();
    const { transport, exchanges } = await connect(url);

    await transport.terminateSession();

    expect(exchanges.at(-1)).toEqual({ method: 'DELETE', status: 200 });
    expect(supervisor.getStatistics().totals.deleted).toBe(1);
  });

  it.each(['POST', 'GET', 'DELETE'])(
    'answers 404 with code -32001 to a %s with the deleted id',
    async (method) => {
      const { supervisor, url, send } = await start();
      const { transport, sessionId } = await connect(url);
      await transport.terminateSession();

      const response =
        method === 'POST'
          ? await send(post(rpcRequest('ping'), sessionId))
          : method === 'GET'
            ? await rawGet(send, sessionId)
            : await rawDelete(send, sessionId);

      expect(response.status).toBe(404);
      expect(await rpcErrorCode(response)).toBe(RPC.sessionNotFound);
      expect(supervisor.getStatistics().totals.deleted).toBe(1);
    },
  );
});

describe('idle expiry', () => {
  /** A client that made a call, then went away without DELETE (as 92–99 % of clients do). */
  async function abandonedSession(harness: NodeSupervisor): Promise<string> {
    const { client, sessionId } = await connect(harness.url);
    await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    await client.close();
    await vi.waitFor(() => expect(stateOf(harness.supervisor, sessionId)).toBe('idle'));
    return sessionId;
  }

  it('keeps an idle session until the idle timeout has fully elapsed', async () => {
    const harness = await start();
    const sessionId = await abandonedSession(harness);

    harness.clock.increment(IDLE_TIMEOUT_MS - 1);

    expect(harness.supervisor.has(sessionId)).toBe(true);
  });

  it('expires an idle session after idleTimeout; its id then answers 404 with code -32001', async () => {
    const harness = await start();
    const sessionId = await abandonedSession(harness);

    harness.clock.increment(IDLE_TIMEOUT_MS);
    const response = await harness.send(post(rpcRequest('ping'), sessionId));

    expect(response.status).toBe(404);
    expect(await rpcErrorCode(response)).toBe(RPC.sessionNotFound);
    expect(harness.supervisor.getStatistics().endedByReason['idle-timeout']).toBe(1);
  });

  it('admits a fresh initialize after an expiry, and the new session works', async () => {
    const harness = await start({ maxSessions: 1, whenFull: 'reject' });
    const expiredId = await abandonedSession(harness);
    harness.clock.increment(IDLE_TIMEOUT_MS);

    const { client, sessionId } = await connect(harness.url);

    expect(sessionId).not.toBe(expiredId);
    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
  });
});

describe('capacity', () => {
  it("answers 503 with Retry-After and a JSON-RPC error when full and whenFull is 'reject'", async () => {
    const { supervisor, url, send } = await start({ maxSessions: 1, whenFull: 'reject', retryAfter: '7s' });
    await connect(url);

    const response = await send(post(initializeBody()));

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number) } });
    expect(supervisor.getStatistics()).toMatchObject({ activeSessions: 1, totals: { rejected: 1 } });
  });

  describe("whenFull 'evict-idle-lru'", () => {
    /** Fills both slots with idle sessions; the one opened first is then used again. */
    async function fullOfIdleSessions(harness: NodeSupervisor) {
      const first = await openRawSession(harness.send);
      const second = await openRawSession(harness.send);
      // `first` was opened earlier but used last: `second` is now the least recently active.
      expect((await ping(harness.send, first)).status).toBe(200);
      return { recentlyActive: first, leastRecentlyActive: second };
    }

    it('evicts the least recently active idle session: its id answers 404 afterwards', async () => {
      const harness = await start({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      const { leastRecentlyActive } = await fullOfIdleSessions(harness);

      await connect(harness.url);

      expect((await ping(harness.send, leastRecentlyActive)).status).toBe(404);
      expect(harness.supervisor.getStatistics()).toMatchObject({ activeSessions: 2, totals: { evicted: 1 } });
    });

    it('admits a third SDK client at maxSessions 2 by evicting the least recently active session kept only by its GET stream', async () => {
      const harness = await start({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      // SDK clients always open a GET stream: with streams counting as activity, neither goes idle.
      const older = await connect(harness.url);
      await streamOpened(harness.supervisor, older.sessionId);
      const newer = await connect(harness.url);
      await streamOpened(harness.supervisor, newer.sessionId);
      expect([
        stateOf(harness.supervisor, older.sessionId),
        stateOf(harness.supervisor, newer.sessionId),
      ]).toEqual(['active', 'active']);

      const third = await connect(harness.url);

      expect({
        third: firstText(await third.client.callTool({ name: 'echo', arguments: { text: 'in' } })),
        older: stateOf(harness.supervisor, older.sessionId),
        newer: stateOf(harness.supervisor, newer.sessionId),
        olderPing: (await ping(harness.send, older.sessionId)).status,
        evicted: harness.supervisor.getStatistics().totals.evicted,
      }).toEqual({ third: 'in', older: undefined, newer: 'active', olderPing: 404, evicted: 1 });
    });

    it('never evicts a session with a request in flight: 503 when every session is busy with one', async () => {
      const harness = await start({ maxSessions: 1, whenFull: 'evict-idle-lru' });
      const busy = await openRawSession(harness.send);
      const call = harness.send(post(rpcRequest('tools/call', { name: 'slow', arguments: {} }), busy));
      await harness.slow.whenStarted(1);

      const refused = await harness.send(post(initializeBody()));
      await refused.text();
      const stateWhileRefused = stateOf(harness.supervisor, busy);
      harness.slow.releaseAll();
      await (await call).text();

      expect({ status: refused.status, busy: stateWhileRefused }).toEqual({ status: 503, busy: 'active' });
    });

    it('serves the newcomer and keeps the more recently active session', async () => {
      const harness = await start({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      const { recentlyActive } = await fullOfIdleSessions(harness);

      const { client } = await connect(harness.url);

      expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'new' } }))).toBe('new');
      expect((await ping(harness.send, recentlyActive)).status).toBe(200);
    });
  });

  it('never admits more than maxSessions under a storm of 50 concurrent initializes', async () => {
    // Every snapshot of the supervisor actor, seen through inspection: slots held after each transition.
    let mostLiveSeen = 0;
    const inspect = (event: InspectionEvent) => {
      if (event.type !== '@xstate.snapshot') return;
      const live = (event.snapshot as { context?: { live?: number } }).context?.live;
      if (live === undefined) return;
      mostLiveSeen = Math.max(mostLiveSeen, live);
    };
    const { supervisor, send } = await start({ maxSessions: 5, whenFull: 'reject', inspect });

    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const response = await send(post(initializeBody()));
        await response.text();
        return response.status;
      }),
    );

    expect({
      ok: statuses.filter((status) => status === 200).length,
      unavailable: statuses.filter((status) => status === 503).length,
    }).toEqual({ ok: 5, unavailable: 45 });
    expect(mostLiveSeen).toBe(5);
    expect(supervisor.getStatistics()).toMatchObject({
      activeSessions: 5,
      totals: { admitted: 5, rejected: 45 },
    });
  });
});

describe('a client that disconnects mid-request', () => {
  it('brings the session back to idle with nothing in flight', async () => {
    const { supervisor, send, slow } = await start();
    const sessionId = await openRawSession(send);
    const abort = new AbortController();
    const call = send({
      ...post(rpcRequest('tools/call', { name: 'slow', arguments: {} }), sessionId),
      signal: abort.signal,
    }).then((response) => response.text());
    call.catch(() => {});
    await slow.whenStarted();
    expect(supervisor.getStatistics().requestsInFlight).toBe(1);

    abort.abort();

    await vi.waitFor(() => expect(supervisor.getStatistics().requestsInFlight).toBe(0));
    expect(stateOf(supervisor, sessionId)).toBe('idle');
  });
});

describe('embedding in web frameworks', () => {
  it('serves initialize and a tool call from an Express 5 app (express.json() body)', async () => {
    const { supervisor, clock } = createSupervisorUnderTest();
    const app = express();
    app.use(express.json());
    app.all('/mcp', (req, res) => supervisor.handleRequest(req, res, req.body));
    const server = http.createServer(app);
    const url = await listenOnLoopback(server);
    cleanups.push(
      () => closeServer(server),
      () => stopSupervisor(supervisor, clock),
    );

    const { client, sessionId } = await connect(url);

    expect(supervisor.has(sessionId)).toBe(true);
    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'express' } }))).toBe(
      'express',
    );
  });

  it('serves initialize and a tool call from a Hono app (supervisor.fetch) on @hono/node-server', async () => {
    const { supervisor, clock } = createSupervisorUnderTest();
    const app = new Hono();
    app.all('/mcp', (c) => supervisor.fetch(c.req.raw));
    const { server, port } = await new Promise<{ server: http.Server; port: number }>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
        resolve({ server: started as http.Server, port: info.port }),
      );
    });
    cleanups.push(
      () => closeServer(server),
      () => stopSupervisor(supervisor, clock),
    );

    const { client, sessionId } = await connect(new URL(`http://127.0.0.1:${port}/mcp`));

    expect(supervisor.has(sessionId)).toBe(true);
    expect(firstText(await client.callTool({ name: 'echo', arguments: { text: 'hono' } }))).toBe('hono');
  });
});

describe('reading a whole SSE answer', () => {
  it('settles the request: a tool call answered over SSE leaves nothing in flight', async () => {
    const { supervisor, send } = await start();
    const sessionId = await openRawSession(send);

    const response = await send(
      post(rpcRequest('tools/call', { name: 'echo', arguments: { text: 'x' } }), sessionId),
    );
    const [message] = await readAllMessages(response);

    expect(firstText(message?.result)).toBe('x');
    expect(supervisor.getStatistics().requestsInFlight).toBe(0);
  });
});
