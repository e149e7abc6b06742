/**
 * Load generation for the end-to-end benchmark, run in the parent process against a server child:
 * a small MCP client on fetch for setup, and autocannon for the measured runs. Every run is
 * bounded by a fixed duration or count, and is measured the same way whatever the server.
 */

import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import autocannon from 'autocannon';
import { BENCH_TOOL } from './http-tools.js';

const ACCEPT = 'application/json, text/event-stream';
const JSON_TYPE = 'application/json';

export interface McpSession {
  readonly sessionId: string;
  readonly protocolVersion: string;
}

/** The initialize request every HTTP benchmark client sends. */
export const initializeBody = (id: number | string): string =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'http-bench', version: '1.0.0' },
    },
  });

const INITIALIZED_BODY = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** The JSON-RPC messages of an SSE body (`data:` lines), or of a plain JSON body. */
function messagesOf(contentType: string | null, text: string): unknown[] {
  if (contentType?.startsWith('text/event-stream')) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)) as unknown);
  }
  return [JSON.parse(text) as unknown];
}

/** initialize + notifications/initialized, as an MCP client does; throws on any unexpected answer. */
export async function initializeSession(url: string): Promise<McpSession> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { accept: ACCEPT, 'content-type': JSON_TYPE },
    body: initializeBody(1),
  });
  const text = await response.text();
  const sessionId = response.headers.get('mcp-session-id');
  if (response.status !== 200 || sessionId === null) {
    throw new Error(`initialize answered ${response.status}: ${text.slice(0, 200)}`);
  }
  const [message] = messagesOf(response.headers.get('content-type'), text);
  const protocolVersion = (message as { result?: { protocolVersion?: unknown } } | undefined)?.result
    ?.protocolVersion;
  if (typeof protocolVersion !== 'string') throw new Error(`initialize has no result: ${text.slice(0, 200)}`);
  const initialized = await fetch(url, {
    method: 'POST',
    headers: {
      accept: ACCEPT,
      'content-type': JSON_TYPE,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': protocolVersion,
    },
    body: INITIALIZED_BODY,
  });
  await initialized.arrayBuffer();
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
  return { sessionId, protocolVersion };
}

/** One tools/call over fetch, checked: proves the session serves before a timed run starts. */
export async function callToolOnce(url: string, session: McpSession): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: sessionHeaders(session),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 'check',
      method: 'tools/call',
      params: { name: BENCH_TOOL, arguments: { text: 'hello' } },
    }),
  });
  const text = await response.text();
  const [message] = messagesOf(response.headers.get('content-type'), text);
  const content = (message as { result?: { content?: { text?: unknown }[] } } | undefined)?.result?.content;
  if (response.status !== 200 || content?.[0]?.text !== 'hello') {
    throw new Error(`tools/call answered ${response.status}: ${text.slice(0, 200)}`);
  }
}

export async function deleteSession(url: string, session: McpSession): Promise<void> {
  const response = await fetch(url, {
    method: 'DELETE',
    headers: { 'mcp-session-id': session.sessionId, 'mcp-protocol-version': session.protocolVersion },
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`DELETE answered ${response.status}`);
}

/** Opens `count` sessions, `concurrency` at a time. */
export async function openSessions(url: string, count: number, concurrency: number): Promise<McpSession[]> {
  const sessions: McpSession[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      sessions.push(await initializeSession(url));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return sessions;
}

const toolsCallBody = (id: number): string =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: BENCH_TOOL, arguments: { text: 'hello' } },
  });

function sessionHeaders(session: McpSession): Record<string, string> {
  return {
    accept: ACCEPT,
    'content-type': JSON_TYPE,
    'mcp-session-id': session.sessionId,
    'mcp-protocol-version': session.protocolVersion,
  };
}

/** One timed autocannon run, reduced to what the report prints. */
export interface RunResult {
  /** Completed operations per second: tools/call responses, or sessions initialized and deleted. */
  readonly perSecond: number;
  readonly operations: number;
  /** HTTP requests per second (all of them, for churn three per session). */
  readonly requestsPerSecond: number;
  /** Request latency, ms. */
  readonly p50: number;
  readonly p99: number;
  /** Answers that were not what the operation needs (status or body), plus socket errors and timeouts. */
  readonly failures: number;
  readonly seconds: number;
}

export interface RunOptions {
  readonly connections: number;
  readonly seconds: number;
}

function runAutocannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * `tools/call` against ONE initialized session from `connections` keep-alive connections. Every
 * request gets a unique JSON-RPC id, as a real client's concurrent calls would (autocannon's own
 * `[<id>]` replacement miscounts Content-Length with hyperid 3); a response counts only if it is
 * a 200 carrying a result.
 */
export async function runToolsCall(
  url: string,
  session: McpSession,
  options: RunOptions,
): Promise<RunResult> {
  let nextId = 0;
  const result = await runAutocannon({
    url,
    method: 'POST',
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    headers: sessionHeaders(session),
    // A per-request setupRequest (not a top-level one) is what makes autocannon rebuild each request.
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          nextId += 1;
          request.body = toolsCallBody(nextId);
          return request;
        },
      },
    ],
    verifyBody: (body) => typeof body === 'string' && body.includes('"result"'),
  });
  const ok = result['2xx'] - result.mismatches;
  return {
    perSecond: ok / result.duration,
    operations: ok,
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.mismatches + result.errors + result.timeouts,
    seconds: result.duration,
  };
}

interface ChurnContext {
  sessionId?: string;
  protocolVersion?: string;
}

const headerValue = (headers: Record<string, string | string[] | undefined> | undefined, name: string) => {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
};

/**
 * initialize → notifications/initialized → DELETE, repeated on each of `connections` keep-alive
 * connections (autocannon's request sequence; the session id travels in the per-connection
 * context). A session counts once its DELETE answered 200.
 */
export async function runChurn(url: string, options: RunOptions): Promise<RunResult> {
  let deleted = 0;
  let refused = 0;
  const withSession = (
    request: autocannon.Request,
    context: ChurnContext,
  ): autocannon.Request | undefined => {
    if (context.sessionId === undefined) return undefined; // initialize failed: start over
    request.headers = {
      ...request.headers,
      'mcp-session-id': context.sessionId,
      'mcp-protocol-version': context.protocolVersion ?? LATEST_PROTOCOL_VERSION,
    };
    return request;
  };
  const result = await runAutocannon({
    url,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    requests: [
      {
        method: 'POST',
        headers: { accept: ACCEPT, 'content-type': JSON_TYPE },
        body: initializeBody(1),
        onResponse: (status, body, context: ChurnContext, headers) => {
          const sessionId = status === 200 ? headerValue(headers, 'mcp-session-id') : undefined;
          if (sessionId === undefined) {
            refused += 1;
            delete context.sessionId;
            return;
          }
          context.sessionId = sessionId;
          const version = /"protocolVersion":"([^"]+)"/.exec(body)?.[1];
          if (version !== undefined) context.protocolVersion = version;
        },
      },
      {
        method: 'POST',
        headers: { accept: ACCEPT, 'content-type': JSON_TYPE },
        body: INITIALIZED_BODY,
        setupRequest: withSession as autocannon.Request['setupRequest'],
        onResponse: (status) => {
          if (status !== 202) refused += 1;
        },
      },
      {
        method: 'DELETE',
        setupRequest: withSession as autocannon.Request['setupRequest'],
        onResponse: (status) => {
          if (status === 200) deleted += 1;
          else refused += 1;
        },
      },
    ],
  });
  return {
    perSecond: deleted / result.duration,
    operations: deleted,
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: refused + result.errors + result.timeouts,
    seconds: result.duration,
  };
}
