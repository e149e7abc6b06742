/**
 * SSE polling (SEP-1699) through the supervisor, for clients of the current 2025 revision: with
 * `resumability: { retryInterval }`, a call's POST stream opens with a priming event (an id, empty
 * data, the `retry` interval); the tool closes the stream mid-call; the client resumes with
 * `Last-Event-ID` on a GET and receives the result there. With an SDK v1 server (the conformance
 * fixture's `test_reconnection`) and an SDK v2 one (`poll`, through `ctx.http.closeSSE`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionSupervisor } from '../src/index.js';
import { type Served, serveEras } from './fixtures/eras.js';
import { serveConformance } from './fixtures/serve.js';
import { initializeBody } from './support/http-harness.js';

/** The revision `initializeBody` asks for: the first with priming events and `closeSSEStream`. */
const VERSION = '2025-11-25';
const RETRY_MS = 250;

interface SseEvent {
  readonly id?: string;
  readonly retry?: string;
  readonly data: string;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const at = line.indexOf(':');
        if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1).trimStart());
      }
      const id = fields.get('id');
      const retry = fields.get('retry');
      return {
        ...(id === undefined ? {} : { id }),
        ...(retry === undefined ? {} : { retry }),
        data: fields.get('data') ?? '',
      };
    });
}

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function openSession(url: string): Promise<Record<string, string>> {
  const init = await fetch(url, { method: 'POST', headers: HEADERS, body: initializeBody(1) });
  await init.text();
  const headers = {
    ...HEADERS,
    'mcp-session-id': init.headers.get('mcp-session-id') ?? '',
    'mcp-protocol-version': VERSION,
  };
  const initialized = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  return headers;
}

/** Reads a resumed stream until the answer to request `id` arrives (or the stream ends). */
async function readUntilAnswer(response: Response, id: number): Promise<unknown> {
  const reader = (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new TextDecoderStream())
    .getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return undefined;
      text += value;
      for (const event of parseSse(text)) {
        const message = event.data ? (JSON.parse(event.data) as { id?: unknown; result?: unknown }) : {};
        if (message.id === id && message.result !== undefined) return message.result;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

const CASES: ReadonlyArray<
  readonly [string, string, () => Promise<Served | { url: string; close(): Promise<void> }>]
> = [
  [
    'SDK v1 server',
    'test_reconnection',
    () => serveConformance({ resumability: { retryInterval: RETRY_MS } }),
  ],
  ['SDK v2 server', 'poll', () => serveEras('fetch', 'v2', { resumability: { retryInterval: RETRY_MS } })],
];

describe.each(CASES)('SSE polling through the supervisor, %s', (_name, tool, serve) => {
  let served: { url: URL | string; close(): Promise<void> };
  beforeAll(async () => {
    served = await serve();
  });
  afterAll(() => served.close());

  it('primes the stream with an id and retry, closes it mid-call, and resumes it with Last-Event-ID', async () => {
    const url = String(served.url);
    const headers = await openSession(url);
    const call = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: tool, arguments: {} },
      }),
    });
    expect(call.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await call.text());
    const [priming] = events;
    expect(priming).toMatchObject({ retry: String(RETRY_MS), data: '' });
    expect(priming?.id).toBeDefined();
    expect(events.some((event) => event.data.includes('"result"'))).toBe(false);

    const lastEventId = events.findLast((event) => event.id !== undefined)?.id ?? '';
    const resumed = await fetch(url, {
      method: 'GET',
      headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastEventId },
    });
    expect(resumed.status).toBe(200);
    expect(JSON.stringify(await readUntilAnswer(resumed, 2))).toMatch(/Reconnection test completed|polled/);
  });
});

describe('resumability.retryInterval', () => {
  it('is validated up front like every duration', () => {
    expect(() => createSessionSupervisor({ resumability: { retryInterval: -5 } })).toThrow(
      /resumability\.retryInterval/,
    );
  });
});
