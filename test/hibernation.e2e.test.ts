/**
 * Hibernation end to end: the real MCP SDK client and server over node:http on 127.0.0.1, session
 * timers on a simulated clock. The client sleeps past `hibernateAfter`; its session hibernates (its
 * McpServer is closed); the next tool call wakes it, the server is rebuilt by replaying the stored
 * initialize, and the call and its notifications arrive as if nothing happened.
 */
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createSessionSupervisor, type SessionContext } from '../src/index.js';
import { closeServer, listenOnLoopback, stopSupervisor } from './support/http-harness.js';

const HIBERNATE_AFTER = 60_000;
const IDLE_TIMEOUT = 30 * 60_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves once `predicate` holds, polling real time (sockets, promise chains); the simulated clock stands still. */
async function until(predicate: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(predicate()).toBe(true), { interval: 2 });
}

async function start() {
  const clock = new SimulatedClock();
  const built: Array<{ restored: boolean; closed: boolean }> = [];
  const supervisor = createSessionSupervisor({
    clock,
    idleTimeout: IDLE_TIMEOUT,
    hibernateAfter: HIBERNATE_AFTER,
    createServer: (context: SessionContext) => {
      const record = { restored: context.restored === true, closed: false };
      built.push(record);
      const server = new McpServer(
        { name: 'hibernating', version: '1.0.0' },
        { capabilities: { logging: {} } },
      );
      server.registerTool('greet', { description: 'Logs, then answers' }, async (extra) => {
        await extra.sendNotification({
          method: 'notifications/message',
          params: { level: 'info', data: 'hello from the server' },
        });
        return { content: [{ type: 'text', text: 'hi' }] };
      });
      const close = server.close.bind(server);
      server.close = async () => {
        record.closed = true;
        await close();
      };
      return server;
    },
  });
  const server = http.createServer((req, res) => {
    void supervisor.handleRequest(req, res);
  });
  const url = await listenOnLoopback(server);
  cleanups.push(async () => {
    await stopSupervisor(supervisor, clock);
    await closeServer(server);
  });
  return { clock, supervisor, built, url };
}

/**
 * The SDK client, except that its GET stream is refused (405, as a proxy that drops idle SSE would
 * leave it): a session with an open stream never hibernates, by design.
 */
async function connect(url: URL) {
  const transport = new StreamableHTTPClientTransport(url, {
    fetch: async (input, init) =>
      (init?.method ?? 'GET') === 'GET' ? new Response(null, { status: 405 }) : fetch(input, init),
  });
  const client = new Client(
    { name: 'sleeper', version: '1.0.0' },
    { capabilities: { roots: { listChanged: true } } },
  );
  const notifications: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    notifications.push(String(notification.params.data));
  });
  await client.connect(transport);
  cleanups.push(() => client.close());
  const sessionId = transport.sessionId as string;
  return { client, notifications, sessionId };
}

const greet = async (client: Client): Promise<unknown> =>
  ((await client.callTool({ name: 'greet', arguments: {} })).content as Array<{ text?: string }>)[0]?.text;

describe('an SDK client that sleeps past hibernateAfter', () => {
  it('finds its session hibernated (server closed), and it still counts as idle', async () => {
    const { clock, supervisor, built, url } = await start();
    const { sessionId } = await connect(url);

    clock.increment(HIBERNATE_AFTER);
    await until(() => built[0]?.closed === true);

    expect({
      hibernated: supervisor.get(sessionId)?.hibernation !== undefined,
      state: supervisor.get(sessionId)?.state,
      serverClosed: built[0]?.closed,
      stats: supervisor.getStatistics().hibernation.hibernated,
    }).toEqual({ hibernated: true, state: 'idle', serverClosed: true, stats: 1 });
  });

  it('keeps working transparently: same session id, tool result and notifications, server rebuilt once', async () => {
    const { clock, supervisor, built, url } = await start();
    const { client, notifications, sessionId } = await connect(url);
    expect(await greet(client)).toBe('hi');
    clock.increment(HIBERNATE_AFTER);
    await until(() => built[0]?.closed === true);

    const [first, second] = await Promise.all([greet(client), greet(client)]);

    expect({
      first,
      second,
      notifications,
      sameSession: supervisor.get(sessionId) !== undefined && supervisor.size === 1,
      rebuilt: built.map((record) => record.restored),
      wakeUps: supervisor.getStatistics().hibernation.wakeUps,
    }).toEqual({
      first: 'hi',
      second: 'hi',
      notifications: ['hello from the server', 'hello from the server', 'hello from the server'],
      sameSession: true,
      rebuilt: [false, true],
      wakeUps: 1,
    });
  });

  it('wakes it with a notification, which is no request: the idle time then counts from it', async () => {
    const { clock, supervisor, built, url } = await start();
    const { client, sessionId } = await connect(url);
    clock.increment(HIBERNATE_AFTER);
    await until(() => built[0]?.closed === true);
    const session = supervisor.get(sessionId);
    const requestsBefore = session?.requests;

    await client.sendRootsListChanged();
    await until(() => built.length === 2);
    // The idle deadline moved to the notification: just before the old one the session still lives.
    clock.increment(IDLE_TIMEOUT - HIBERNATE_AFTER);
    await until(() => supervisor.get(sessionId)?.hibernation !== undefined);

    expect({
      found: supervisor.get(sessionId) === session,
      state: session?.state,
      requests: session?.requests,
      rebuilt: built.map((record) => record.restored),
      wakeUps: supervisor.getStatistics().hibernation.wakeUps,
    }).toEqual({ found: true, state: 'idle', requests: requestsBefore, rebuilt: [false, true], wakeUps: 1 });
  });

  it('gets 404 after its session expired while hibernated, at the idle deadline', async () => {
    const { clock, supervisor, built, url } = await start();
    const { client, sessionId } = await connect(url);
    clock.increment(HIBERNATE_AFTER);
    await until(() => built[0]?.closed === true);

    clock.increment(IDLE_TIMEOUT - HIBERNATE_AFTER);
    // At the deadline the actor is restored to run the machine's own idle timeout.
    await until(() => supervisor.get(sessionId)?.hibernation === undefined);
    clock.increment(10);
    await until(() => supervisor.get(sessionId) === undefined);

    expect({
      found: supervisor.get(sessionId),
      idleTimeouts: supervisor.getStatistics().endedByReason['idle-timeout'],
    }).toEqual({ found: undefined, idleTimeouts: 1 });
    await expect(greet(client)).rejects.toThrow(/404|Session not found/);
  });
});
