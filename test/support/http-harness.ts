/**
 * Shared helpers for the HTTP end-to-end tests: a supervisor behind node:http on 127.0.0.1 (port 0)
 * or reached through its `fetch` entry point directly, a tiny MCP server with an `echo` tool and a
 * `slow` tool the test releases, and raw-request helpers that speak the wire format by hand.
 *
 * Everything here is bounded in time and can be stopped: servers close every connection, the
 * supervisor is shut down on its (simulated) clock, slow tool calls are released.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import {
  createSessionSupervisor,
  type McpSessionSupervisor,
  type McpSessionSupervisorOptions,
} from '../../src/index.js';

/** The URL used when calling the `fetch` entry point directly (no socket involved). */
export const FETCH_URL = 'http://127.0.0.1/mcp';

/** What a Streamable HTTP client must send in `Accept` on POST. */
export const MCP_ACCEPT = 'application/json, text/event-stream';

/** The idle timeout the tests use: expiry happens only when the test advances the clock. */
export const IDLE_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// The MCP server under test
// ---------------------------------------------------------------------------------------------

/**
 * A tool call that does not finish until the test says so. `whenStarted(n)` resolves once `n`
 * calls are waiting; `releaseAll()` lets every waiting call (and every later one) finish.
 */
export class SlowTool {
  private waiting: Array<() => void> = [];
  private startedCount = 0;
  private released = false;
  private watchers: Array<{ count: number; resolve: () => void }> = [];

  /** Calls that have started so far. */
  get started(): number {
    return this.startedCount;
  }

  /** Called by the tool handler: resolves when the test releases it. */
  wait(): Promise<void> {
    this.startedCount += 1;
    for (const watcher of this.watchers.filter((w) => w.count <= this.startedCount)) watcher.resolve();
    this.watchers = this.watchers.filter((w) => w.count > this.startedCount);
    if (this.released) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Resolves once at least `count` calls of the slow tool have started. */
  whenStarted(count = 1): Promise<void> {
    if (this.startedCount >= count) return Promise.resolve();
    return new Promise<void>((resolve) => this.watchers.push({ count, resolve }));
  }

  /** Lets every waiting call finish, now and from now on. */
  releaseAll(): void {
    this.released = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** `createServer` for the supervisor: one tiny McpServer per session with `echo` and `slow`. */
export function toolServerFactory(slow: SlowTool = new SlowTool()): () => McpServer {
  return () => {
    const server = new McpServer({ name: 'harness', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Answers with its input', inputSchema: { text: z.string() } },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    server.registerTool('slow', { description: 'Finishes when the test releases it' }, async () => {
      await slow.wait();
      return { content: [{ type: 'text', text: 'done' }] };
    });
    return server;
  };
}

// ---------------------------------------------------------------------------------------------
// Supervisor + servers
// ---------------------------------------------------------------------------------------------

export type HarnessOptions = Omit<McpSessionSupervisorOptions, 'createServer' | 'clock'>;

export interface SupervisorUnderTest {
  readonly supervisor: McpSessionSupervisor;
  /** Drives every session timer and the shutdown grace; nothing sleeps on real time. */
  readonly clock: SimulatedClock;
  readonly slow: SlowTool;
}

/** A supervisor on a simulated clock serving the harness tools (idle timeout {@link IDLE_TIMEOUT_MS}). */
export function createSupervisorUnderTest(options: HarnessOptions = {}): SupervisorUnderTest {
  const clock = new SimulatedClock();
  const slow = new SlowTool();
  const supervisor = createSessionSupervisor({
    idleTimeout: IDLE_TIMEOUT_MS,
    ...options,
    clock,
    createServer: toolServerFactory(slow),
  });
  return { supervisor, clock, slow };
}

/** Listens on 127.0.0.1, on a free port; resolves with the server's `/mcp` URL. */
export async function listenOnLoopback(server: http.Server): Promise<URL> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return new URL(`http://127.0.0.1:${port}/mcp`);
}

/** Drops every open connection (SSE streams included) and waits for the server to close. */
export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Shuts the supervisor down on its simulated clock: the grace runs out at once. If a shutdown with
 * a longer grace is already under way, or a release hangs, the clock is pushed far ahead (grace and
 * dispose deadlines fire). Resolves once every session is disposed.
 */
export async function stopSupervisor(supervisor: McpSessionSupervisor, clock: SimulatedClock): Promise<void> {
  const stopped = supervisor.shutdown({ grace: 1 });
  clock.increment(1);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const settled = await Promise.race([
      stopped.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 200)),
    ]);
    if (settled) return;
    clock.increment(FAR_AHEAD_MS);
  }
  await stopped;
}

/** Longer than any grace, timeout or dispose deadline a test configures. */
const FAR_AHEAD_MS = 7 * 24 * 60 * 60 * 1000;

export interface NodeSupervisor extends SupervisorUnderTest {
  readonly server: http.Server;
  readonly url: URL;
  /** Sends a raw request over the socket. */
  readonly send: Send;
  /** Releases slow calls, shuts the supervisor down, closes the server. */
  stop(): Promise<void>;
}

/** A supervisor behind a plain node:http server (`supervisor.handleRequest`) on 127.0.0.1. */
export async function startNodeSupervisor(options: HarnessOptions = {}): Promise<NodeSupervisor> {
  const under = createSupervisorUnderTest(options);
  const server = http.createServer((req, res) => {
    void under.supervisor.handleRequest(req, res);
  });
  const url = await listenOnLoopback(server);
  return {
    ...under,
    server,
    url,
    send: (request) => fetch(url, toRequestInit(request)),
    stop: async () => {
      await stopUnderTest(under);
      await closeServer(server);
    },
  };
}

export interface FetchSupervisor extends SupervisorUnderTest {
  /** Hands a raw request to `supervisor.fetch`. */
  readonly send: Send;
  /** Releases slow calls, shuts the supervisor down. */
  stop(): Promise<void>;
}

/** A supervisor called through its web-standard entry point (`supervisor.fetch`), no socket. */
export function startFetchSupervisor(options: HarnessOptions = {}): FetchSupervisor {
  const under = createSupervisorUnderTest(options);
  return { ...under, send: sendToFetchEntry(under.supervisor), stop: () => stopUnderTest(under) };
}

async function stopUnderTest(under: SupervisorUnderTest): Promise<void> {
  under.slow.releaseAll();
  await stopSupervisor(under.supervisor, under.clock);
}

// ---------------------------------------------------------------------------------------------
// Raw requests
// ---------------------------------------------------------------------------------------------

/** A request as the tests write it; the same object goes over a socket or to `fetch` directly. */
export interface RawRequest {
  method: string;
  headers?: Record<string, string>;
  /** Text, or a stream sent chunked, with no `Content-Length`. */
  body?: string | ReadableStream<Uint8Array>;
  signal?: AbortSignal;
}

/** The `RequestInit` of a raw request (a streamed body needs `duplex: 'half'`). */
export function toRequestInit(request: RawRequest): RequestInit {
  return typeof request.body === 'string' || request.body === undefined
    ? request
    : { ...request, duplex: 'half' };
}

/** A body that arrives in chunks of `chunkSize` bytes, so its size is not declared up front. */
export function streamedBody(text: string, chunkSize = 256): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

export type Send = (request: RawRequest) => Promise<Response>;

/** Calls the web-standard entry point directly, with no socket in between. */
export function sendToFetchEntry(supervisor: McpSessionSupervisor): Send {
  return (request) => supervisor.fetch(new Request(FETCH_URL, toRequestInit(request)));
}

/** Headers of a well-formed MCP POST: JSON body, both accepted response types, optional session. */
export function mcpHeaders(sessionId?: string): Record<string, string> {
  return {
    accept: MCP_ACCEPT,
    'content-type': 'application/json',
    ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
  };
}

let lastRequestId = 0;

/** A JSON-RPC request body; ids are unique unless given (a client never reuses one in flight). */
export function rpcRequest(
  method: string,
  params?: Record<string, unknown>,
  id: number | string = ++lastRequestId,
): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
}

/** A JSON-RPC notification body (no id: the server answers it with nothing, the POST with 202). */
export function rpcNotification(method: string, params?: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
}

/** The body of an `initialize` request. */
export function initializeBody(id: number | string = ++lastRequestId): string {
  return rpcRequest(
    'initialize',
    {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'raw-test-client', version: '1.0.0' },
    },
    id,
  );
}

/** A POST of `body` (JSON-RPC text) inside session `sessionId`, or outside any session. */
export function post(body: string, sessionId?: string): RawRequest {
  return { method: 'POST', headers: mcpHeaders(sessionId), body };
}

export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** Parses `data:` lines of an SSE text into JSON-RPC messages. */
function parseSseData(text: string): JsonRpcMessage[] {
  const messages: JsonRpcMessage[] = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data !== '') messages.push(JSON.parse(data) as JsonRpcMessage);
  }
  return messages;
}

/**
 * Reads a response's first JSON-RPC message: the body itself when it is JSON, or the first SSE
 * `data:` event when it is a stream, which is then cancelled.
 */
export async function readFirstMessage(response: Response): Promise<JsonRpcMessage> {
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    return (await response.json()) as JsonRpcMessage;
  }
  if (response.body === null) throw new Error('SSE response without a body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (value !== undefined) text += value;
      const [first] = parseSseData(text.slice(0, text.lastIndexOf('\n\n') + 2));
      if (first !== undefined) return first;
      if (done) throw new Error(`SSE stream ended with no message: ${JSON.stringify(text)}`);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Reads a whole SSE response (to its end) and returns its JSON-RPC messages. */
export async function readAllMessages(response: Response): Promise<JsonRpcMessage[]> {
  const text = await response.text();
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    return [JSON.parse(text) as JsonRpcMessage];
  }
  return parseSseData(text);
}

/** The JSON-RPC error code of an error response body (`undefined` when there is none). */
export async function rpcErrorCode(response: Response): Promise<number | undefined> {
  const text = await response.text();
  try {
    return (JSON.parse(text) as JsonRpcMessage).error?.code;
  } catch {
    return undefined;
  }
}

/**
 * Opens a session by hand: POST `initialize`, read the answer to its end (which settles the
 * request), then send `notifications/initialized`. Returns the session id.
 */
export async function openRawSession(send: Send): Promise<string> {
  const response = await send(post(initializeBody()));
  const sessionId = response.headers.get('mcp-session-id');
  const messages = await readAllMessages(response);
  if (response.status !== 200 || sessionId === null || messages[0]?.result === undefined) {
    throw new Error(`initialize failed: ${response.status} ${JSON.stringify(messages)}`);
  }
  const initialized = await send(
    post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), sessionId),
  );
  await initialized.text();
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
  return sessionId;
}

/** Sends `ping` inside a session and reads the answer to its end. */
export async function ping(
  send: Send,
  sessionId: string,
): Promise<{ status: number; message?: JsonRpcMessage }> {
  const response = await send(post(rpcRequest('ping'), sessionId));
  if (response.status !== 200) {
    await response.text();
    return { status: response.status };
  }
  const [message] = await readAllMessages(response);
  return message === undefined ? { status: response.status } : { status: response.status, message };
}

// ---------------------------------------------------------------------------------------------
// The real SDK client
// ---------------------------------------------------------------------------------------------

export interface ConnectedClient {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  /** Every HTTP exchange the client made, in order: method and status. */
  readonly exchanges: Array<{ method: string; status: number }>;
  readonly sessionId: string;
}

/** Connects the SDK `Client` over `StreamableHTTPClientTransport`, recording each HTTP status. */
export async function connectClient(url: URL): Promise<ConnectedClient> {
  const exchanges: Array<{ method: string; status: number }> = [];
  const transport = new StreamableHTTPClientTransport(url, {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      exchanges.push({ method: init?.method ?? 'GET', status: response.status });
      return response;
    },
    // Never retry a GET stream on its own during a test: reconnection timers would outlive it.
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1,
      maxReconnectionDelay: 1,
      reconnectionDelayGrowFactor: 1,
    },
  });
  const client = new Client({ name: 'e2e-client', version: '1.0.0' });
  await client.connect(transport);
  const sessionId = transport.sessionId;
  if (sessionId === undefined) throw new Error('the client has no session id after connecting');
  return { client, transport, exchanges, sessionId };
}

/** The text of the first content block of a tool result. */
export function firstText(result: unknown): string | undefined {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content;
  const first = content?.[0];
  return first?.type === 'text' ? first.text : undefined;
}
