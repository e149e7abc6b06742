/**
 * Hostile and malformed requests, one table, run against both entry points: node:http
 * (`handleRequest`) over a real socket on 127.0.0.1, and `fetch` called directly. Each row states
 * the answer (status, and the JSON-RPC error code where there is a body); every row also requires
 * that the request leaves nothing behind: the live-session count, `requestsInFlight` and the
 * number of sessions in each state are back where they were before it. After the whole table, the
 * heap (after a full GC) is back within a small margin of where it started.
 *
 * On the socket, requests are written with `node:http`'s client (not `fetch`), which lets a row
 * send a forged `Host`, repeated headers, a `Content-Length` that lies, a body that trickles or a
 * connection that drops mid-body. A row that only one entry point can express says why (`only`).
 */
import http from 'node:http';
import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createSessionSupervisor,
  LOOPBACK_HOSTS,
  type McpSessionSupervisor,
  SupervisorError,
} from '../src/index.js';
import {
  createSupervisorUnderTest,
  FETCH_URL,
  type HarnessOptions,
  IDLE_TIMEOUT_MS,
  initializeBody,
  MCP_ACCEPT,
  openRawSession,
  rpcRequest,
  type Send,
  type SupervisorUnderTest,
  startFetchSupervisor,
  startNodeSupervisor,
  stopSupervisor,
} from './support/http-harness.js';
import { RPC } from './support/json-rpc.js';
import { isCI } from './support/programs.js';

const ALLOW = 'GET, POST, DELETE';
/** The body limit rows use when they test the default (4 MiB, as the SDK). */
const OVER_DEFAULT_LIMIT = 5 * 1024 * 1024;
/** Short enough to keep the suite fast, long enough that a healthy body always makes it. */
const BODY_TIMEOUT_MS = 250;
/** A slow client sends one byte this often: always some progress, never the whole body in time. */
const TRICKLE_EVERY_MS = 20;
/** Heap allowed to remain after the table, over where it started (after a full GC both times). */
const HEAP_MARGIN_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// What a row sends
// ---------------------------------------------------------------------------------------------

/** How the body travels. Every kind is sent as bytes: no entry point adds a Content-Type of its own. */
type Body =
  /** Whole, with a matching `Content-Length`. */
  | { readonly kind: 'text'; readonly text: string }
  /** Whole but chunked: no `Content-Length`, so only the reader can enforce the limit. */
  | { readonly kind: 'chunked'; readonly text: string }
  /** `Content-Length: declared`, then `sent`, then silence (the rest never comes). */
  | { readonly kind: 'stalled'; readonly declared: number; readonly sent: string }
  /** A byte every {@link TRICKLE_EVERY_MS}, forever: a slow-loris body. */
  | { readonly kind: 'trickle' }
  /** `sent`, then the client drops the connection (node only: `fetch` has no connection). */
  | { readonly kind: 'abort'; readonly declared: number; readonly sent: string };

/** Headers as pairs, so a row can repeat one. */
type HeaderList = ReadonlyArray<readonly [string, string]>;

interface Hostile {
  readonly method: string;
  readonly headers: HeaderList;
  readonly body?: Body;
}

/** What came back; `undefined` when the client went away before any answer. */
interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

const encoder = new TextEncoder();

/** The body as a stream for `new Request`: the same bytes, pauses and silences as on the socket. */
function bodyStream(body: Body): ReadableStream<Uint8Array> | Uint8Array {
  if (body.kind === 'text') return encoder.encode(body.text);
  let timer: NodeJS.Timeout | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
  if (body.kind === 'chunked') {
    const bytes = encoder.encode(body.text);
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.byteLength) controller.close();
        else controller.enqueue(bytes.slice(offset, offset + 64 * 1024));
        offset += 64 * 1024;
      },
    });
  }
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (body.kind === 'trickle') {
        await sleep(TRICKLE_EVERY_MS);
        controller.enqueue(encoder.encode(' '));
        return;
      }
      if (first) {
        first = false;
        controller.enqueue(encoder.encode(body.sent));
        return;
      }
      await new Promise<void>(() => {}); // stalled: the rest never comes
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

/** Calls `supervisor.fetch` with a `Request` built from the row. */
async function sendToFetch(supervisor: McpSessionSupervisor, hostile: Hostile): Promise<Answer | undefined> {
  const headers = new Headers();
  for (const [name, value] of hostile.headers) headers.append(name, value);
  if (hostile.body?.kind === 'stalled') headers.set('content-length', String(hostile.body.declared));
  const body = hostile.body === undefined ? undefined : bodyStream(hostile.body);
  const init: RequestInit & { duplex?: 'half' } = { method: hostile.method, headers };
  if (body !== undefined) {
    init.body = body;
    if (body instanceof ReadableStream) init.duplex = 'half';
  }
  const response = await supervisor.fetch(new Request(FETCH_URL, init));
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Writes the row with node's HTTP client over a fresh loopback connection. */
function sendOverSocket(url: URL, hostile: Hostile): Promise<Answer | undefined> {
  const body = hostile.body;
  const rawHeaders: string[] = hostile.headers.flat();
  const has = (name: string) => hostile.headers.some(([key]) => key.toLowerCase() === name);
  // With headers given as a list, node's client adds no Host of its own.
  if (!has('host')) rawHeaders.push('host', url.host);
  if (body?.kind === 'text' && !has('content-length')) {
    rawHeaders.push('content-length', String(Buffer.byteLength(body.text)));
  }
  if (body?.kind === 'stalled' || body?.kind === 'abort') {
    rawHeaders.push('content-length', String(body.declared));
  }
  return new Promise<Answer | undefined>((resolve, reject) => {
    let trickle: NodeJS.Timeout | undefined;
    const request = http.request({
      hostname: '127.0.0.1',
      port: url.port,
      path: url.pathname,
      method: hostile.method,
      headers: rawHeaders,
      agent: false,
    });
    request.on('response', (response) => {
      clearInterval(trickle);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        resolve({
          status: response.statusCode ?? 0,
          headers,
          text: Buffer.concat(chunks).toString('utf8'),
        });
        // Whatever the client had left to send is of no interest any more.
        request.destroy();
      });
    });
    // Once the answer is in, a refused upload may end in EPIPE/ECONNRESET: not the row's concern.
    request.on('error', (error) => {
      clearInterval(trickle);
      if (body?.kind !== 'abort') reject(error);
    });
    if (body === undefined) request.end();
    else if (body.kind === 'text') request.end(body.text);
    else if (body.kind === 'chunked') {
      for (let offset = 0; offset < body.text.length; offset += 64 * 1024) {
        request.write(body.text.slice(offset, offset + 64 * 1024));
      }
      request.end();
    } else if (body.kind === 'stalled') request.write(body.sent);
    else if (body.kind === 'trickle') {
      request.flushHeaders();
      trickle = setInterval(() => request.write(' '), TRICKLE_EVERY_MS);
    } else {
      request.write(body.sent);
      // Long enough for the server to be reading the body when the connection drops.
      setTimeout(() => request.destroy(), 100);
      request.on('close', () => resolve(undefined));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/**
 * The session a row's request names, arranged before it: none, a live one (`streaming`: with a GET
 * stream open on it), a well-formed id no session ever had, or the id of one that has ended.
 */
type SessionRef = 'none' | 'live' | 'streaming' | 'unknown' | 'expired' | 'deleted';

type EntryName = 'node' | 'fetch';

interface Expected {
  readonly status: number | 'no answer';
  /** JSON-RPC error code of the body; unset: no error body to check. */
  readonly rpcCode?: number;
  /** The body is empty (a 202). */
  readonly empty?: true;
  readonly headers?: Readonly<Record<string, string>>;
}

interface MatrixRow {
  readonly group: string;
  readonly name: string;
  readonly session: SessionRef;
  readonly options?: HarnessOptions;
  /** Builds the request, given the id of the arranged session (if any). */
  readonly request: (sessionId: string | undefined) => Hostile;
  readonly expected: Expected;
  /** A row only one entry point can express, and why. */
  readonly only?: { readonly entry: EntryName; readonly because: string };
}

const UNKNOWN_ID = '0b9c7e4a-5d2f-4c1e-8a3b-6f7e8d9c0a1b';

const withId = (sessionId: string | undefined): HeaderList =>
  sessionId === undefined ? [] : [['mcp-session-id', sessionId]];

/** A POST with the usual MCP headers, `overrides` replacing any header of the same name. */
function postWith(
  sessionId: string | undefined,
  body: Body | undefined,
  overrides: HeaderList = [],
): Hostile {
  const names = new Set(overrides.map(([name]) => name.toLowerCase()));
  const base: HeaderList = [
    ['accept', MCP_ACCEPT],
    ['content-type', 'application/json'],
    ...withId(sessionId),
  ];
  return {
    method: 'POST',
    headers: [...base.filter(([name]) => !names.has(name)), ...overrides],
    ...(body === undefined ? {} : { body }),
  };
}

const text = (value: string): Body => ({ kind: 'text', text: value });
const initialize = initializeBody();
const ping = rpcRequest('ping');
const notification = (method: string, params?: Record<string, unknown>) =>
  JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
const parseError = { status: 400, rpcCode: RPC.parseError } as const;
const invalidRequest = { status: 400, rpcCode: RPC.invalidRequest } as const;
const notJsonRpc = { status: 400, rpcCode: RPC.parseError } as const; // the SDK's answer inside a session
const noSessionId = { status: 400, rpcCode: RPC.serverError } as const;
const notFound = { status: 404, rpcCode: RPC.sessionNotFound } as const;
const unsupportedMedia = { status: 415, rpcCode: RPC.serverError } as const;
const notAcceptable = { status: 406, rpcCode: RPC.serverError } as const;
const tooLarge = { status: 413, rpcCode: RPC.serverError } as const;
const forbidden = { status: 403, rpcCode: RPC.serverError } as const;
const badId = { status: 400, rpcCode: RPC.serverError } as const;
const accepted = { status: 202, empty: true } as const;
const slow = {
  status: 408,
  rpcCode: RPC.serverError,
  headers: { connection: 'close' },
} as const;

/** Bearer `bad` is refused; no credentials at all is an anonymous caller. */
function authenticate(request: Request) {
  if (request.headers.get('authorization') === 'Bearer bad') {
    throw new SupervisorError(
      'unauthorized',
      { reason: 'bad token', wwwAuthenticate: 'Bearer' },
      'Unauthorized',
    );
  }
  return undefined;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const batch = (count: number, make: (i: number) => string) =>
  `[${Array.from({ length: count }, (_, i) => make(i)).join(',')}]`;
const hugeInitialize = JSON.stringify({
  ...(JSON.parse(initialize) as Record<string, unknown>),
  padding: 'x'.repeat(OVER_DEFAULT_LIMIT),
});
const hugeMessage = rpcRequest('tools/call', {
  name: 'echo',
  arguments: { text: 'x'.repeat(OVER_DEFAULT_LIMIT) },
});

const ROWS: readonly MatrixRow[] = [
  // --- broken JSON --------------------------------------------------------------------------
  {
    group: 'broken JSON',
    name: 'a truncated initialize, no session → 400 -32700',
    session: 'none',
    request: () => postWith(undefined, text(initialize.slice(0, -7))),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'a truncated request in a live session → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text('{"jsonrpc":"2.0","id":7,"method":"tools/li')),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'garbage after a valid initialize → 400 -32700',
    session: 'none',
    request: () => postWith(undefined, text(`${initialize} trailing`)),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'single-quoted pseudo-JSON → 400 -32700',
    session: 'none',
    request: () => postWith(undefined, text("{'jsonrpc':'2.0','id':1,'method':'initialize'}")),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'an empty body, no session → 400 -32700',
    session: 'none',
    request: () => postWith(undefined, text('')),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'a whitespace-only body in a live session → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text(' \r\n\t ')),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'NaN as an id (JavaScript, not JSON) → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text('{"jsonrpc":"2.0","id":NaN,"method":"ping"}')),
    expected: parseError,
  },
  {
    group: 'broken JSON',
    name: 'a NUL byte before the JSON → 400 -32700',
    session: 'none',
    request: () => postWith(undefined, text(`\u0000${initialize}`)),
    expected: parseError,
  },
  // --- JSON that is not JSON-RPC ------------------------------------------------------------
  {
    group: 'JSON that is not JSON-RPC',
    name: 'null, no session → 400 -32600 (not a JSON-RPC message)',
    session: 'none',
    request: () => postWith(undefined, text('null')),
    expected: invalidRequest,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'the string "initialize", no session → 400 -32600 (not a JSON-RPC message)',
    session: 'none',
    request: () => postWith(undefined, text('"initialize"')),
    expected: invalidRequest,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'an empty object in a live session → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text('{}')),
    expected: notJsonRpc,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'jsonrpc "1.0" in a live session → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text('{"jsonrpc":"1.0","id":1,"method":"ping"}')),
    expected: notJsonRpc,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'an object as the request id in a live session → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text('{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}')),
    expected: notJsonRpc,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'an initialize whose params are a string → 400 -32600',
    session: 'none',
    request: () =>
      postWith(undefined, text('{"jsonrpc":"2.0","id":1,"method":"initialize","params":"please"}')),
    expected: invalidRequest,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'initialize smuggled under "__proto__", no session → 400 -32600 (no method: not a JSON-RPC message)',
    session: 'none',
    request: () => postWith(undefined, text('{"__proto__":{"method":"initialize"},"jsonrpc":"2.0","id":1}')),
    expected: invalidRequest,
  },
  {
    group: 'JSON that is not JSON-RPC',
    name: 'arrays nested 10 000 deep in a live session → 400 -32700',
    session: 'live',
    request: (id) => postWith(id, text(nested(10_000))),
    expected: notJsonRpc,
  },
  // --- batches ------------------------------------------------------------------------------
  {
    group: 'batches',
    name: 'initialize batched with a ping, no session → 400 -32600',
    session: 'none',
    request: () => postWith(undefined, text(`[${initialize},${ping}]`)),
    expected: invalidRequest,
  },
  {
    group: 'batches',
    name: 'two initializes in one batch, no session → 400 -32600',
    session: 'none',
    request: () => postWith(undefined, text(`[${initializeBody(1)},${initializeBody(2)}]`)),
    expected: invalidRequest,
  },
  {
    group: 'batches',
    name: 'a ping then an initialize in a live session → 400 -32600',
    session: 'live',
    request: (id) => postWith(id, text(`[${ping},${initialize}]`)),
    expected: invalidRequest,
  },
  {
    group: 'batches',
    name: 'an empty batch, no session → 400 -32600 (a batch holds one or more messages)',
    session: 'none',
    request: () => postWith(undefined, text('[]')),
    expected: invalidRequest,
  },
  {
    group: 'batches',
    name: 'an empty batch in a live session → 400 -32600 (a batch holds one or more messages)',
    session: 'live',
    request: (id) => postWith(id, text('[]')),
    expected: invalidRequest,
  },
  {
    group: 'batches',
    name: 'a batch of 101 pings in a live session → 400 -32600',
    session: 'live',
    request: (id) => postWith(id, text(batch(101, (i) => rpcRequest('ping', undefined, `b${i}`)))),
    expected: invalidRequest,
  },
  {
    group: 'batches',
    name: 'a batch of 10 000 notifications, no session → 400 (not an initialize)',
    session: 'none',
    request: () => postWith(undefined, text(batch(10_000, () => notification('notifications/initialized')))),
    expected: noSessionId,
  },
  // --- content types ------------------------------------------------------------------------
  {
    group: 'content types',
    name: 'initialize as multipart/form-data → 415',
    session: 'none',
    request: () =>
      postWith(undefined, text(`--x\r\n\r\n${initialize}\r\n--x--`), [
        ['content-type', 'multipart/form-data; boundary=x'],
      ]),
    expected: unsupportedMedia,
  },
  {
    group: 'content types',
    name: 'initialize with no Content-Type at all → 415',
    session: 'none',
    request: () => ({
      method: 'POST',
      headers: [['accept', MCP_ACCEPT]],
      body: text(initialize),
    }),
    expected: unsupportedMedia,
  },
  {
    group: 'content types',
    name: 'a form-urlencoded request in a live session → 415',
    session: 'live',
    request: (id) =>
      postWith(id, text(`payload=${encodeURIComponent(ping)}`), [
        ['content-type', 'application/x-www-form-urlencoded'],
      ]),
    expected: unsupportedMedia,
  },
  {
    group: 'content types',
    name: 'application/jsonx (a prefix, not the type) in a live session → 415',
    session: 'live',
    request: (id) => postWith(id, text(ping), [['content-type', 'application/jsonx']]),
    expected: unsupportedMedia,
  },
  {
    group: 'content types',
    name: 'two media types in one Content-Type in a live session → 415',
    session: 'live',
    request: (id) => postWith(id, text(ping), [['content-type', 'application/json, text/plain']]),
    expected: unsupportedMedia,
  },
  {
    group: 'content types',
    name: 'application/json with odd parameters in a live session → 200 (parameters are ignored)',
    session: 'live',
    request: (id) =>
      postWith(id, text(ping), [['content-type', 'application/json; charset=utf-8; odd=";;"; x']]),
    expected: { status: 200 },
  },
  {
    group: 'content types',
    name: 'APPLICATION/JSON in upper case in a live session → 200 (media types are case-insensitive)',
    session: 'live',
    request: (id) => postWith(id, text(ping), [['content-type', 'APPLICATION/JSON;CHARSET=UTF-8']]),
    expected: { status: 200 },
  },
  // --- Accept on initialize -----------------------------------------------------------------
  {
    group: 'Accept on initialize',
    name: 'no Accept → 406',
    session: 'none',
    request: () => ({
      method: 'POST',
      headers: [['content-type', 'application/json']],
      body: text(initialize),
    }),
    expected: notAcceptable,
  },
  {
    group: 'Accept on initialize',
    name: 'Accept: application/json only → 406',
    session: 'none',
    request: () => postWith(undefined, text(initialize), [['accept', 'application/json']]),
    expected: notAcceptable,
  },
  {
    group: 'Accept on initialize',
    name: 'Accept: text/event-stream only → 406',
    session: 'none',
    request: () => postWith(undefined, text(initialize), [['accept', 'text/event-stream']]),
    expected: notAcceptable,
  },
  {
    group: 'Accept on initialize',
    name: 'Accept: */* → 406 (both types must be named)',
    session: 'none',
    request: () => postWith(undefined, text(initialize), [['accept', '*/*']]),
    expected: notAcceptable,
  },
  // --- huge bodies --------------------------------------------------------------------------
  {
    group: 'huge bodies',
    name: 'a declared Content-Length of 100 MiB, 16 bytes sent → 413 before reading',
    session: 'none',
    request: () =>
      postWith(undefined, { kind: 'stalled', declared: 100 * 1024 * 1024, sent: '{"jsonrpc":"2.0"' }),
    expected: tooLarge,
  },
  {
    group: 'huge bodies',
    name: 'a 5 MiB initialize with its Content-Length (default limit 4 MiB) → 413',
    session: 'none',
    request: () => postWith(undefined, text(hugeInitialize)),
    expected: tooLarge,
  },
  {
    group: 'huge bodies',
    name: 'a 5 MiB message chunked, no Content-Length, in a live session → 413',
    session: 'live',
    request: (id) => postWith(id, { kind: 'chunked', text: hugeMessage }),
    expected: tooLarge,
  },
  // --- session ids --------------------------------------------------------------------------
  {
    group: 'session ids',
    name: 'an id with a control character (0x01) → 400',
    session: 'none',
    request: () => postWith('abc\u0001def', text(ping)),
    expected: badId,
    only: {
      entry: 'fetch',
      because: "node:http's parser refuses control characters in a header itself, before any handler",
    },
  },
  {
    group: 'session ids',
    name: 'an id of 257 visible characters → 400',
    session: 'none',
    request: () => postWith('a'.repeat(257), text(ping)),
    expected: badId,
  },
  {
    group: 'session ids',
    name: 'an id of exactly 256 visible characters (well-formed, unknown) → 404 -32001',
    session: 'none',
    request: () => postWith('~'.repeat(256), text(ping)),
    expected: notFound,
  },
  {
    group: 'session ids',
    name: 'an empty Mcp-Session-Id → 400',
    session: 'none',
    request: () => postWith('', text(ping)),
    expected: badId,
  },
  {
    group: 'session ids',
    name: 'Mcp-Session-Id sent twice (a live id and another) → 400',
    session: 'live',
    request: (id) => ({
      method: 'GET',
      headers: [
        ['accept', 'text/event-stream'],
        ['mcp-session-id', id ?? ''],
        ['mcp-session-id', UNKNOWN_ID],
      ],
    }),
    expected: badId,
  },
  {
    group: 'session ids',
    name: "a live session's id in upper case → 404 -32001 (ids are compared exactly)",
    session: 'live',
    request: (id) => postWith(id?.toUpperCase(), text(ping)),
    expected: notFound,
  },
  {
    group: 'session ids',
    name: 'a well-formed unknown id on GET → 404 -32001',
    session: 'unknown',
    request: (id) => ({ method: 'GET', headers: [['accept', 'text/event-stream'], ...withId(id)] }),
    expected: notFound,
  },
  {
    group: 'session ids',
    name: 'the id of a deleted session on GET → 404 -32001',
    session: 'deleted',
    request: (id) => ({ method: 'GET', headers: [['accept', 'text/event-stream'], ...withId(id)] }),
    expected: notFound,
  },
  {
    group: 'session ids',
    name: 'the id of a deleted session on DELETE → 404 -32001',
    session: 'deleted',
    request: (id) => ({ method: 'DELETE', headers: withId(id) }),
    expected: notFound,
  },
  {
    group: 'session ids',
    name: 'the id of an expired session on POST → 404 -32001',
    session: 'expired',
    request: (id) => postWith(id, text(ping)),
    expected: notFound,
  },
  {
    group: 'session ids',
    name: 'the id of an expired session on DELETE → 404 -32001',
    session: 'expired',
    request: (id) => ({ method: 'DELETE', headers: withId(id) }),
    expected: notFound,
  },
  // --- protocol version ---------------------------------------------------------------------
  {
    group: 'protocol version',
    name: 'POST with MCP-Protocol-Version 1999-01-01 on a live session → 400',
    session: 'live',
    request: (id) => postWith(id, text(ping), [['mcp-protocol-version', '1999-01-01']]),
    expected: { status: 400, rpcCode: RPC.serverError },
  },
  {
    group: 'protocol version',
    name: 'GET with MCP-Protocol-Version "latest" on a live session → 400',
    session: 'live',
    request: (id) => ({
      method: 'GET',
      headers: [['accept', 'text/event-stream'], ['mcp-protocol-version', 'latest'], ...withId(id)],
    }),
    expected: { status: 400, rpcCode: RPC.serverError },
  },
  // --- GET streams --------------------------------------------------------------------------
  {
    group: 'GET streams',
    name: 'GET with no Accept on a live session → 406',
    session: 'live',
    request: (id) => ({ method: 'GET', headers: withId(id) }),
    expected: notAcceptable,
  },
  {
    group: 'GET streams',
    name: 'GET with Accept: application/json on a live session → 406',
    session: 'live',
    request: (id) => ({ method: 'GET', headers: [['accept', 'application/json'], ...withId(id)] }),
    expected: notAcceptable,
  },
  {
    group: 'GET streams',
    name: 'a second GET stream while one is open → 409',
    session: 'streaming',
    request: (id) => ({ method: 'GET', headers: [['accept', 'text/event-stream'], ...withId(id)] }),
    expected: { status: 409, rpcCode: RPC.serverError },
  },
  {
    group: 'GET streams',
    name: 'GET without a session id → 400',
    session: 'none',
    request: () => ({ method: 'GET', headers: [['accept', 'text/event-stream']] }),
    expected: noSessionId,
  },
  // --- other methods ------------------------------------------------------------------------
  {
    group: 'other methods',
    name: 'PROPFIND → 405 with Allow',
    session: 'none',
    request: () => ({ method: 'PROPFIND', headers: [] }),
    expected: { status: 405, rpcCode: RPC.serverError, headers: { allow: ALLOW } },
  },
  {
    group: 'other methods',
    name: 'an OPTIONS preflight → 405 with Allow',
    session: 'none',
    request: () => ({
      method: 'OPTIONS',
      headers: [
        ['origin', 'http://127.0.0.1:1234'],
        ['access-control-request-method', 'POST'],
      ],
    }),
    expected: { status: 405, rpcCode: RPC.serverError, headers: { allow: ALLOW } },
  },
  {
    group: 'other methods',
    name: 'PATCH with a JSON body on a live session → 405 with Allow',
    session: 'live',
    request: (id) => ({ ...postWith(id, text(ping)), method: 'PATCH' }),
    expected: { status: 405, rpcCode: RPC.serverError, headers: { allow: ALLOW } },
  },
  {
    group: 'other methods',
    name: 'HEAD on a live session → 405 with Allow (a HEAD answer has no body to check)',
    session: 'live',
    request: (id) => ({ method: 'HEAD', headers: withId(id) }),
    expected: { status: 405, headers: { allow: ALLOW } },
  },
  {
    group: 'other methods',
    name: 'TRACE → 405 with Allow',
    session: 'none',
    request: () => ({ method: 'TRACE', headers: [] }),
    expected: { status: 405, rpcCode: RPC.serverError, headers: { allow: ALLOW } },
    only: { entry: 'node', because: 'the WHATWG Request constructor refuses TRACE (a forbidden method)' },
  },
  // --- Host and Origin ----------------------------------------------------------------------
  {
    group: 'Host and Origin',
    name: 'Host: evil.example with loopback hosts allowed → 403',
    session: 'none',
    options: { allowedHosts: LOOPBACK_HOSTS },
    request: () => postWith(undefined, text(initialize), [['host', 'evil.example']]),
    expected: forbidden,
  },
  {
    group: 'Host and Origin',
    name: 'Host: 127.0.0.1.evil.example (a loopback prefix) → 403',
    session: 'none',
    options: { allowedHosts: LOOPBACK_HOSTS },
    request: () => postWith(undefined, text(initialize), [['host', '127.0.0.1.evil.example:80']]),
    expected: forbidden,
  },
  {
    group: 'Host and Origin',
    name: 'no Host header at all, with loopback hosts allowed → 403',
    session: 'none',
    options: { allowedHosts: LOOPBACK_HOSTS },
    request: () => postWith(undefined, text(initialize)),
    expected: forbidden,
    only: {
      entry: 'fetch',
      because: 'node:http answers an HTTP/1.1 request without Host itself (400, requireHostHeader)',
    },
  },
  {
    group: 'Host and Origin',
    name: 'Origin: http://evil.example on a live session → 403',
    session: 'live',
    options: { allowedOrigins: ['http://127.0.0.1'] },
    request: (id) => postWith(id, text(ping), [['origin', 'http://evil.example']]),
    expected: forbidden,
  },
  {
    group: 'Host and Origin',
    name: 'Origin: null (a sandboxed page) → 403',
    session: 'none',
    options: { allowedOrigins: ['http://127.0.0.1'] },
    request: () => postWith(undefined, text(initialize), [['origin', 'null']]),
    expected: forbidden,
  },
  // --- slow and broken uploads --------------------------------------------------------------
  {
    group: 'slow and broken uploads',
    name: `an initialize body trickling a byte every ${TRICKLE_EVERY_MS} ms → 408, connection closed`,
    session: 'none',
    options: { bodyTimeout: BODY_TIMEOUT_MS },
    request: () => postWith(undefined, { kind: 'trickle' }),
    expected: slow,
  },
  {
    group: 'slow and broken uploads',
    name: 'a body that stalls after 16 of 1000 declared bytes, in a live session → 408',
    session: 'live',
    options: { bodyTimeout: BODY_TIMEOUT_MS },
    request: (id) => postWith(id, { kind: 'stalled', declared: 1000, sent: '{"jsonrpc":"2.0"' }),
    expected: slow,
  },
  {
    group: 'slow and broken uploads',
    name: 'the connection dropped mid-body of an initialize → no answer, nothing left behind',
    session: 'none',
    request: () => postWith(undefined, { kind: 'abort', declared: 1000, sent: initialize.slice(0, 40) }),
    expected: { status: 'no answer' },
    only: { entry: 'node', because: 'a fetch call has no connection to drop' },
  },
  {
    group: 'slow and broken uploads',
    name: 'the connection dropped mid-body in a live session → no answer, nothing left behind',
    session: 'live',
    request: (id) => postWith(id, { kind: 'abort', declared: 1000, sent: ping.slice(0, 10) }),
    expected: { status: 'no answer' },
    only: { entry: 'node', because: 'a fetch call has no connection to drop' },
  },
  // --- authentication -----------------------------------------------------------------------
  {
    group: 'authentication',
    name: 'initialize with credentials authenticate refuses → 401 with WWW-Authenticate',
    session: 'none',
    options: { authenticate },
    request: () => postWith(undefined, text(initialize), [['authorization', 'Bearer bad']]),
    expected: { status: 401, rpcCode: RPC.serverError, headers: { 'www-authenticate': 'Bearer' } },
  },
  {
    group: 'authentication',
    name: 'DELETE of a live session with refused credentials → 401, the session lives on',
    session: 'live',
    options: { authenticate },
    request: (id) => ({ method: 'DELETE', headers: [['authorization', 'Bearer bad'], ...withId(id)] }),
    expected: { status: 401, rpcCode: RPC.serverError },
  },
  // --- notifications only -------------------------------------------------------------------
  {
    group: 'notifications only',
    name: 'notifications/initialized sent again → 202, empty body',
    session: 'live',
    request: (id) => postWith(id, text(notification('notifications/initialized'))),
    expected: accepted,
  },
  {
    group: 'notifications only',
    name: 'a batch of two notifications → 202, empty body',
    session: 'live',
    request: (id) =>
      postWith(
        id,
        text(
          `[${notification('notifications/roots/list_changed')},${notification('notifications/cancelled', { requestId: 404 })}]`,
        ),
      ),
    expected: accepted,
  },
  {
    group: 'notifications only',
    name: 'a response to a request the server never sent → 202, empty body',
    session: 'live',
    request: (id) => postWith(id, text('{"jsonrpc":"2.0","id":"never-asked","result":{}}')),
    expected: accepted,
  },
];

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

interface Target extends SupervisorUnderTest {
  /** For arranging sessions: well-formed requests, as the harness sends them. */
  readonly send: Send;
  /** For the row's own request. */
  readonly sendHostile: (hostile: Hostile) => Promise<Answer | undefined>;
  stop(): Promise<void>;
}

const ENTRY_POINTS: ReadonlyArray<{
  readonly entry: EntryName;
  readonly title: string;
  start(options: HarnessOptions): Promise<Target>;
}> = [
  {
    entry: 'node',
    title: 'node:http handleRequest over a 127.0.0.1 socket',
    start: async (options) => {
      const node = await startNodeSupervisor(options);
      return { ...node, sendHostile: (hostile) => sendOverSocket(node.url, hostile) };
    },
  },
  {
    entry: 'fetch',
    title: 'fetch called directly',
    start: async (options) => {
      const under = startFetchSupervisor(options);
      return { ...under, sendHostile: (hostile) => sendToFetch(under.supervisor, hostile) };
    },
  },
];

/** What a request must leave as it found it. */
function footprint(t: Target) {
  const stats = t.supervisor.getStatistics();
  return {
    liveSessions: t.supervisor.size,
    requestsInFlight: stats.requestsInFlight,
    byState: stats.byState,
  };
}

/** Nothing in flight and no session between states: the moment to take a footprint. */
async function settled(t: Target): Promise<void> {
  await vi.waitFor(() => {
    const { requestsInFlight, byState } = t.supervisor.getStatistics();
    expect({ requestsInFlight, created: byState.created, expired: byState.expired }).toEqual({
      requestsInFlight: 0,
      created: 0,
      expired: 0,
    });
  });
}

interface Arranged {
  readonly sessionId: string | undefined;
  /** Closes what the arrangement left open (a GET stream). */
  release(): Promise<void>;
}

async function arrange(t: Target, ref: SessionRef): Promise<Arranged> {
  const nothing = async () => {};
  if (ref === 'none') return { sessionId: undefined, release: nothing };
  if (ref === 'unknown') return { sessionId: UNKNOWN_ID, release: nothing };
  const sessionId = await openRawSession(t.send);
  if (ref === 'expired') t.clock.increment(IDLE_TIMEOUT_MS);
  if (ref === 'deleted') {
    const deleted = await t.send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
    await deleted.text();
  }
  if (ref !== 'streaming') {
    await settled(t);
    return { sessionId, release: nothing };
  }
  const stream = await t.send({
    method: 'GET',
    headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId },
  });
  expect(stream.status).toBe(200);
  await settled(t);
  return { sessionId, release: () => stream.body?.cancel() ?? Promise.resolve() };
}

// ---------------------------------------------------------------------------------------------
// Heap: gc
// ---------------------------------------------------------------------------------------------

/**
 * `global.gc` when vitest runs the file with `--expose-gc`; otherwise the same collector, exposed
 * for this process through V8's flags (`--expose-gc` set at run time, read from a fresh context).
 */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

const gc = findGc();
if (gc === undefined)
  console.warn('[hardening.matrix] no garbage collector to call: the heap check is skipped');

async function heapAfterGc(collect: () => void): Promise<number> {
  for (let i = 0; i < 4; i += 1) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------
// Running the table
// ---------------------------------------------------------------------------------------------

describe('the bad-input matrix', () => {
  it('holds at least 40 distinct hostile requests', () => {
    expect(new Set(ROWS.map((row) => row.name)).size).toBe(ROWS.length);
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
  });
});

let heapAtStart: number | undefined;

const expressible = (row: MatrixRow, entry: EntryName) => row.only === undefined || row.only.entry === entry;

/** What a row has running: stopped after it, whatever happened. */
interface Held {
  target: Target | undefined;
  release: (() => Promise<void>) | undefined;
}

interface Exchange {
  readonly t: Target;
  readonly before: ReturnType<typeof footprint>;
  readonly answer: Answer | undefined;
}

/** Starts a supervisor for the row, arranges its session and sends its request. */
async function runRow(
  entryPoint: (typeof ENTRY_POINTS)[number],
  row: MatrixRow,
  held: Held,
): Promise<Exchange> {
  const t = await entryPoint.start(row.options ?? {});
  held.target = t;
  const arranged = await arrange(t, row.session);
  held.release = arranged.release;
  const before = footprint(t);
  const answer = await t.sendHostile(row.request(arranged.sessionId));
  return { t, before, answer };
}

async function letGo(held: Held): Promise<void> {
  await held.release?.();
  await held.target?.stop();
  held.target = undefined;
  held.release = undefined;
}

/** The body as JSON, or as the text it is when it is not JSON (so a mismatch reads as one). */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** "answers 400 with JSON-RPC error -32700", "gives no answer", … */
function describeAnswer({ status, rpcCode, empty, headers }: Expected): string {
  if (status === 'no answer') return 'gives no answer';
  const parts = [
    ...(rpcCode === undefined ? [] : [`JSON-RPC error ${rpcCode}`]),
    ...(empty === true ? ['an empty body'] : []),
    ...Object.entries(headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  return parts.length === 0 ? `answers ${status}` : `answers ${status} with ${parts.join(', ')}`;
}

beforeAll(async () => {
  if (gc === undefined) return;
  // The whole table once first, unchecked: code compiled and caches filled on first use (the
  // SDK's schemas, the node adapter, error paths) are not what the heap check is about.
  for (const entryPoint of ENTRY_POINTS) {
    for (const row of ROWS.filter((candidate) => expressible(candidate, entryPoint.entry))) {
      const held: Held = { target: undefined, release: undefined };
      try {
        await runRow(entryPoint, row, held);
      } finally {
        await letGo(held);
      }
    }
  }
  heapAtStart = await heapAfterGc(gc);
}, 60_000);

describe.each(ENTRY_POINTS)('hostile requests through $title', (entryPoint) => {
  const groups = [...new Set(ROWS.map((row) => row.group))];

  describe.each(groups)('%s', (group) => {
    for (const row of ROWS.filter((candidate) => candidate.group === group)) {
      // A row that only one entry point can carry (its `only.because` says why) runs there alone.
      if (!expressible(row, entryPoint.entry)) continue;
      describe(row.name, () => {
        const held: Held = { target: undefined, release: undefined };
        let exchange: Exchange | undefined;

        beforeAll(async () => {
          exchange = await runRow(entryPoint, row, held);
        });
        afterAll(async () => {
          await letGo(held);
          exchange = undefined; // the heap check after the table must not count what a test holds on to
        });

        it(describeAnswer(row.expected), () => {
          const { expected } = row;
          const answer = exchange?.answer;
          const seen = {
            status: answer?.status ?? 'no answer',
            headers: Object.fromEntries(
              Object.keys(expected.headers ?? {}).map((name) => [name, answer?.headers.get(name)]),
            ),
            ...(expected.rpcCode === undefined ? {} : { body: jsonOrText(answer?.text ?? '') }),
            ...(expected.empty === true ? { text: answer?.text } : {}),
          };

          expect(seen).toMatchObject({
            status: expected.status,
            headers: expected.headers ?? {},
            ...(expected.rpcCode === undefined
              ? {}
              : { body: { jsonrpc: '2.0', error: { code: expected.rpcCode } } }),
            ...(expected.empty === true ? { text: '' } : {}),
          });
        });

        it('leaves live sessions, requests in flight and sessions per state as it found them', async () => {
          const { t, before } = exchange as Exchange;

          await vi.waitFor(() => expect(footprint(t)).toEqual(before));
        });
      });
    }
  });
});

describe('after the whole matrix', () => {
  // Without a collector to call the heap reading means nothing: skipped with a warning locally,
  // but under CI=true a missing collector fails the test rather than hide the check.
  it.skipIf(gc === undefined && !isCI())(
    `the heap is back within ${HEAP_MARGIN_BYTES / 1024 / 1024} MiB of where it started (after a full GC)`,
    async () => {
      if (gc === undefined) throw new Error('no garbage collector to call (--expose-gc) under CI=true');
      const collect = gc;
      const heapAtEnd = await heapAfterGc(collect);

      expect(heapAtEnd - (heapAtStart ?? Number.NaN)).toBeLessThan(HEAP_MARGIN_BYTES);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// The body time limit itself
// ---------------------------------------------------------------------------------------------

describe('bodyTimeout (the time a whole request body may take)', () => {
  it.each([0, -1, Number.NaN, 'soon', '', '30 parsecs'])('refuses %j as a value: invalid-option', (value) => {
    expect(() => createSessionSupervisor({ bodyTimeout: value })).toThrow(
      expect.objectContaining({
        code: 'invalid-option',
        data: expect.objectContaining({ option: 'bodyTimeout' }),
      }),
    );
  });

  describe('by default', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('is 30 s: a stalled body is answered 408 at 30 s, not before', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { supervisor, clock } = createSupervisorUnderTest();
      const hostile = postWith(undefined, { kind: 'stalled', declared: 1000, sent: '{"jsonrpc":"2.0"' });
      let status: number | undefined;
      const answered = sendToFetch(supervisor, hostile).then((answer) => {
        status = answer?.status;
      });

      await vi.advanceTimersByTimeAsync(29_999);
      const before30s = status;
      await vi.advanceTimersByTimeAsync(1);
      await answered;

      expect({ before30s, at30s: status }).toEqual({ before30s: undefined, at30s: 408 });
      vi.useRealTimers();
      await stopSupervisor(supervisor, clock);
    });
  });

  it('over node:http, closes the connection of a client still trickling its body after the 408', async () => {
    const node = await startNodeSupervisor({ bodyTimeout: BODY_TIMEOUT_MS });
    try {
      const socket = net.connect(Number(node.url.port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      // HTTP/1.1 with no `Connection: close`: the client asks to keep the connection.
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: ${node.url.host}\r\nContent-Type: application/json\r\n` +
          `Accept: ${MCP_ACCEPT}\r\nContent-Length: 100000\r\n\r\n`,
      );
      const trickle = setInterval(() => {
        if (!socket.destroyed) socket.write(' ');
      }, TRICKLE_EVERY_MS);
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
      });
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('close', resolve));
      clearInterval(trickle);

      expect(received).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await node.stop();
    }
  });
});
