import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BoundedEventStore } from '../src/index.js';
import {
  createSupervisorUnderTest,
  mcpHeaders,
  openRawSession,
  post,
  rpcRequest,
  type Send,
  type SupervisorUnderTest,
  sendToFetchEntry,
  stopSupervisor,
} from './support/http-harness.js';

const message = (n: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { n },
});

async function replay(store: BoundedEventStore, lastEventId: string): Promise<unknown[]> {
  const sent: unknown[] = [];
  await store.replayEventsAfter(lastEventId, {
    send: async (_id, replayed) => {
      sent.push((replayed as { params?: { n?: number } }).params?.n);
    },
  });
  return sent;
}

describe('BoundedEventStore', () => {
  it('replays the events of the same stream after the given id, in order', async () => {
    const store = new BoundedEventStore(10);
    const first = await store.storeEvent('a', message(1));
    await store.storeEvent('b', message(2));
    await store.storeEvent('a', message(3));
    await store.storeEvent('a', message(4));

    expect(await replay(store, first)).toEqual([3, 4]);
  });

  it('keeps at most maxEvents, dropping the oldest', async () => {
    const store = new BoundedEventStore(3);
    const first = await store.storeEvent('a', message(1));
    for (let n = 2; n <= 5; n += 1) await store.storeEvent('a', message(n));

    expect({ size: store.size, replayed: await replay(store, first) }).toEqual({
      size: 3,
      replayed: [3, 4, 5],
    });
  });

  it('forgets everything when purged', async () => {
    const store = new BoundedEventStore(10);
    const first = await store.storeEvent('a', message(1));
    await store.storeEvent('a', message(2));

    store.purge();

    expect({ size: store.size, replayed: await replay(store, first) }).toEqual({ size: 0, replayed: [] });
  });

  it.each([['no-separator'], ['stream#'], ['#5'], ['stream#x']])(
    'knows no stream for the event id %j',
    async (id) => {
      expect(await new BoundedEventStore().getStreamIdForEventId(id)).toBeUndefined();
    },
  );
});

describe('resumable streams over HTTP', () => {
  let sut: SupervisorUnderTest | undefined;
  afterEach(async () => {
    if (sut) await stopSupervisor(sut.supervisor, sut.clock);
    sut = undefined;
  });

  /** Calls echo and returns the SSE text of the answer. */
  async function callEcho(send: Send, sessionId: string): Promise<string> {
    const response = await send({
      ...post(rpcRequest('tools/call', { name: 'echo', arguments: { text: 'hi' } }), sessionId),
      headers: { ...mcpHeaders(sessionId), 'mcp-protocol-version': '2025-11-25' },
    });
    return response.text();
  }

  it('gives event ids to a session with resumability on, and replays after one on a GET', async () => {
    sut = createSupervisorUnderTest({ resumability: { maxEventsPerSession: 50 } });
    const send = sendToFetchEntry(sut.supervisor);
    const sessionId = await openRawSession(send);
    const sse = await callEcho(send, sessionId);
    const primingId = /^id: (.+)$/m.exec(sse)?.[1];
    expect(primingId).toBeDefined();

    const controller = new AbortController();
    const resumed = await send({
      method: 'GET',
      headers: {
        ...mcpHeaders(sessionId),
        accept: 'text/event-stream',
        'last-event-id': primingId as string,
        'mcp-protocol-version': '2025-11-25',
      },
      signal: controller.signal,
    });
    const reader = (resumed.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});

    expect({ status: resumed.status, replayed: new TextDecoder().decode(value) }).toMatchObject({
      status: 200,
      replayed: expect.stringContaining('"text":"hi"'),
    });
  });

  it('gives no event ids when resumability is off', async () => {
    sut = createSupervisorUnderTest();
    const send = sendToFetchEntry(sut.supervisor);
    const sessionId = await openRawSession(send);

    expect(await callEcho(send, sessionId)).not.toMatch(/^id: /m);
  });

  it('refuses a zero-sized event store', () => {
    expect(() => createSupervisorUnderTest({ resumability: { maxEventsPerSession: 0 } })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });
});
