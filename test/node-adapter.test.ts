import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeRequestView, RawHeaders } from '../src/http/node-request.js';
import { writeWebResponse } from '../src/http/node-response.js';
import { rawRequest } from './support/raw-http.js';

const servers: http.Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the Request view of a node request', () => {
  it('reads header names case-insensitively and joins repeated headers as the web does', () => {
    const headers = new RawHeaders(['Accept', 'application/json', 'X-Many', 'a', 'x-many', 'b']);
    expect(headers.get('ACCEPT')).toBe('application/json');
    expect(headers.get('x-many')).toBe('a, b');
    expect(headers.get('absent')).toBeNull();
    expect(headers.has('X-MANY')).toBe(true);
    expect([...headers.entries()]).toEqual([
      ['accept', 'application/json'],
      ['x-many', 'a, b'],
    ]);
  });

  it('is a Request whose other members come from a real one: the body reads, clone() works', async () => {
    let seen: { isRequest: boolean; method: string; url: string; body: unknown; cloned: string } | undefined;
    const url = await serve(async (req, res) => {
      const request = nodeRequestView(req);
      const clone = request.clone();
      seen = {
        isRequest: request instanceof Request,
        method: request.method,
        url: request.url,
        body: await request.json(),
        cloned: await clone.text(),
      };
      res.end();
    });
    await rawRequest(
      `${url}/mcp?x=1`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      '{"a":1}',
    );
    expect(seen).toEqual({
      isRequest: true,
      method: 'POST',
      url: `${url}/mcp?x=1`,
      body: { a: 1 },
      cloned: '{"a":1}',
    });
  });

  it('falls back to localhost in its URL when the Host header would make it unparseable', async () => {
    let seen = '';
    const url = await serve((req, res) => {
      seen = nodeRequestView(req).url;
      res.end();
    });
    await rawRequest(`${url}/mcp`, { headers: { host: 'evil/../x y' } });
    expect(new URL(seen).href).toBe('http://localhost/mcp');
  });

  it('takes its host from :authority and its scheme from the socket under HTTP/2 compatibility', () => {
    const request = nodeRequestView({
      headers: { ':authority': 'example.test:8443' },
      rawHeaders: [],
      method: 'GET',
      url: '/mcp',
      socket: { encrypted: true },
    } as never);
    expect(request.url).toBe('https://example.test:8443/mcp');
  });

  it('aborts its signal when told the client went away', () => {
    const request = nodeRequestView({ headers: {}, rawHeaders: [], method: 'GET', url: '/' } as never);
    const { signal } = request;
    expect(signal.aborted).toBe(false);
    request.abort('gone');
    expect(signal.aborted).toBe(true);
  });
});

const sse = (text: string) => new TextEncoder().encode(`event: message\ndata: ${text}\n\n`);

describe('writing a web Response to a node response', () => {
  it('writes an answer complete within the turn with its Content-Length, not chunked', async () => {
    const url = await serve((_req, res) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          // Like the SDK transport: the result arrives a few microtasks later, then the stream ends.
          void Promise.resolve().then(() => {
            controller.enqueue(sse('{"result":1}'));
            controller.close();
          });
        },
      });
      void writeWebResponse(new Response(body, { headers: { 'content-type': 'text/event-stream' } }), res);
    });
    const response = await rawRequest(url);
    expect(response.headers['content-length']).toBe(String(sse('{"result":1}').byteLength));
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.body).toBe('event: message\ndata: {"result":1}\n\n');
  });

  it('sends the headers of a body still coming at once, then each chunk as it comes', async () => {
    let push: ((text: string | null) => void) | undefined;
    const url = await serve((_req, res) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          push = (text) => (text === null ? controller.close() : controller.enqueue(sse(text)));
        },
      });
      void writeWebResponse(new Response(body, { headers: { 'content-type': 'text/event-stream' } }), res);
    });
    const chunks: string[] = [];
    const done = new Promise<{ status: number; chunked: boolean }>((resolve) => {
      http.get(url, { agent: false }, (response) => {
        // Headers arrived although no event has been sent yet.
        expect(chunks).toEqual([]);
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk.toString('utf8'));
          if (chunks.length === 1) push?.(null);
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            chunked: response.headers['transfer-encoding'] === 'chunked',
          }),
        );
        push?.('{"later":true}');
      });
    });
    expect(await done).toEqual({ status: 200, chunked: true });
    expect(chunks.join('')).toBe('event: message\ndata: {"later":true}\n\n');
  });

  it('cancels the body when the client goes away before it is over', async () => {
    let cancelled: () => void = () => {};
    const wasCancelled = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    const url = await serve((_req, res) => {
      const body = new ReadableStream<Uint8Array>({ cancel: () => cancelled() });
      void writeWebResponse(new Response(body, { headers: { 'content-type': 'text/event-stream' } }), res);
    });
    await new Promise<void>((resolve) => {
      const request = http.get(url, { agent: false }, (response) => {
        response.destroy();
        request.destroy();
        resolve();
      });
    });
    await expect(wasCancelled).resolves.toBeUndefined();
  });

  it('answers a bodiless response with Content-Length 0 and keeps its status and headers', async () => {
    const url = await serve((_req, res) => {
      void writeWebResponse(new Response(null, { status: 202, headers: { 'x-kept': 'yes' } }), res);
    });
    const response = await rawRequest(url);
    expect(response.status).toBe(202);
    expect(response.headers['content-length']).toBe('0');
    expect(response.headers['x-kept']).toBe('yes');
  });
});

describe('the node entry point when node refuses to write', () => {
  it('settles (no rejected promise) and closes the exchange when the headers were already sent', async () => {
    const { createNodeHandler } = await import('../src/http/node-adapter.js');
    const handle = createNodeHandler(async () => new Response(null, { status: 202 }));
    let settled: Promise<void> | undefined;
    const url = await serve((req, res) => {
      res.writeHead(204).end();
      settled = handle(req, res);
    });
    const response = await rawRequest(url);
    expect(response.status).toBe(204);
    await expect(settled).resolves.toBeUndefined();
  });
});
