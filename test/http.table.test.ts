/**
 * Every row of the spec's "HTTP behaviour" table, checked with the same table against both entry
 * points: node:http (`handleRequest`) over a real socket on 127.0.0.1, and `fetch` called directly.
 * After each refusal, no session slot and no in-flight request may be left behind.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type HarnessOptions,
  IDLE_TIMEOUT_MS,
  initializeBody,
  mcpHeaders,
  openRawSession,
  ping,
  post,
  type RawRequest,
  readAllMessages,
  rpcRequest,
  type Send,
  type SupervisorUnderTest,
  startFetchSupervisor,
  startNodeSupervisor,
  streamedBody,
} from './support/http-harness.js';
import { RPC } from './support/json-rpc.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ALLOW = 'GET, POST, DELETE';
/** Small enough that a padded message crosses it, large enough for an `initialize`. */
const MAX_BODY_BYTES = 512;

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

interface Target extends SupervisorUnderTest {
  readonly send: Send;
  stop(): Promise<void>;
}

interface EntryPoint {
  readonly name: string;
  start(options: HarnessOptions): Promise<Target>;
}

const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: 'node:http handleRequest over a socket',
    start: (options) => startNodeSupervisor(options),
  },
  {
    name: 'fetch called directly',
    start: async (options) => startFetchSupervisor(options),
  },
];

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/**
 * The `Mcp-Session-Id` a request carries: none, one of a session in a given condition (arranged
 * before the request), or a literal value.
 */
type SessionRef = 'none' | 'live' | 'unknown' | 'expired' | 'deleted' | { literal: string };

interface Expected {
  readonly status: number;
  /** JSON-RPC error code of the body, exactly. */
  readonly rpcCode?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

interface RefusalCase {
  /** The spec row this case checks, word for word from the table's first column. */
  readonly row: string;
  readonly name: string;
  readonly method: string;
  readonly session: SessionRef;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Send the body chunked, with no `Content-Length` (the limit must hold while reading). */
  readonly streamed?: boolean;
  readonly options?: HarnessOptions;
  readonly expected: Expected;
}

const UNKNOWN_ID = '7d4d3c1e-2b7a-4f0e-9c55-3f1d2a6b8e90';

const withSession = (sessionId: string | undefined): Record<string, string> =>
  sessionId === undefined ? {} : { 'mcp-session-id': sessionId };

/** A request of `method` with the usual headers for it (the body only for POST). */
function requestFor(testCase: RefusalCase, sessionId: string | undefined): RawRequest {
  const base: Record<string, string> =
    testCase.method === 'POST'
      ? mcpHeaders()
      : testCase.method === 'GET'
        ? { accept: 'text/event-stream' }
        : {};
  const headers = { ...base, ...withSession(sessionId), ...testCase.headers };
  if (testCase.body === undefined) return { method: testCase.method, headers };
  return {
    method: testCase.method,
    headers,
    body: testCase.streamed === true ? streamedBody(testCase.body) : testCase.body,
  };
}

const pingBody = rpcRequest('ping');
const padded = (size: number) =>
  rpcRequest('tools/call', { name: 'echo', arguments: { text: 'x'.repeat(size) } });
const paddedInitialize = JSON.stringify({
  ...(JSON.parse(initializeBody()) as Record<string, unknown>),
  padding: 'x'.repeat(MAX_BODY_BYTES),
});

const ROW = {
  initialize: 'POST, no Mcp-Session-Id, body is initialize',
  noSession: 'POST, no session id, anything else',
  notFound: 'any method, well-formed id that is unknown, expired or deleted',
  badId: 'id with characters outside 0x21–0x7E, or absurdly long',
  initInSession: 'POST initialize inside an existing session',
  getStream: 'GET with valid id',
  deleteSession: 'DELETE with valid id',
  otherMethods: 'other methods',
  badBody: 'body over the limit / malformed JSON / wrong content type',
  draining: 'while draining',
} as const;

const notFoundCases: RefusalCase[] = (['unknown', 'expired', 'deleted'] as const).flatMap((session) =>
  (['POST', 'GET', 'DELETE'] as const).map(
    (method): RefusalCase => ({
      row: ROW.notFound,
      name: `${method} with ${session === 'deleted' ? 'a' : 'an'} ${session} id → 404, code -32001`,
      method,
      session,
      ...(method === 'POST' ? { body: pingBody } : {}),
      expected: { status: 404, rpcCode: RPC.sessionNotFound },
    }),
  ),
);

const BAD_IDS: ReadonlyArray<readonly [string, string]> = [
  ['a space inside', 'abc def'],
  ['a tab inside', 'abc\tdef'],
  ['a latin-1 byte (0xE9)', 'abc\u00e9def'],
  ['1000 characters', 'a'.repeat(1000)],
];

const badIdCases: RefusalCase[] = BAD_IDS.flatMap(([what, id]) =>
  (['POST', 'GET', 'DELETE'] as const).map(
    (method): RefusalCase => ({
      row: ROW.badId,
      name: `${method} with an id of ${what} → 400`,
      method,
      session: { literal: id },
      ...(method === 'POST' ? { body: pingBody } : {}),
      expected: { status: 400, rpcCode: RPC.serverError },
    }),
  ),
);

const REFUSALS: readonly RefusalCase[] = [
  {
    row: ROW.initialize,
    name: 'initialize when full (whenFull reject) → 503 + Retry-After, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: initializeBody(),
    options: { maxSessions: 1, whenFull: 'reject', retryAfter: '3s' },
    expected: { status: 503, rpcCode: RPC.serverError, headers: { 'retry-after': '3' } },
  },
  {
    row: ROW.noSession,
    name: 'tools/list without a session id → 400, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: rpcRequest('tools/list'),
    expected: { status: 400, rpcCode: RPC.serverError },
  },
  {
    row: ROW.noSession,
    name: 'ping without a session id → 400, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: pingBody,
    expected: { status: 400, rpcCode: RPC.serverError },
  },
  {
    row: ROW.noSession,
    name: 'a batch without initialize, without a session id → 400, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: `[${pingBody},${rpcRequest('tools/list', undefined, 2)}]`,
    expected: { status: 400, rpcCode: RPC.serverError },
  },
  {
    row: ROW.noSession,
    name: 'a notification without a session id → 400, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    expected: { status: 400, rpcCode: RPC.serverError },
  },
  {
    row: ROW.noSession,
    name: 'an initialize without params, without a session id → 400, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize' }),
    expected: { status: 400, rpcCode: RPC.invalidRequest },
  },
  {
    row: ROW.noSession,
    name: 'an initialize without an id (a notification), without a session id → 400, JSON-RPC error',
    method: 'POST',
    session: 'none',
    body: JSON.stringify({ ...(JSON.parse(initializeBody()) as Record<string, unknown>), id: undefined }),
    expected: { status: 400, rpcCode: RPC.invalidRequest },
  },
  {
    row: ROW.noSession,
    name: 'JSON that is not JSON-RPC (42), without a session id → 400, code -32600',
    method: 'POST',
    session: 'none',
    body: '42',
    expected: { status: 400, rpcCode: RPC.invalidRequest },
  },
  {
    row: ROW.noSession,
    name: 'an object that is no JSON-RPC message ({}), without a session id → 400, code -32600',
    method: 'POST',
    session: 'none',
    body: '{}',
    expected: { status: 400, rpcCode: RPC.invalidRequest },
  },
  ...notFoundCases,
  ...badIdCases,
  {
    row: ROW.initInSession,
    name: 'initialize with a live session id → 400',
    method: 'POST',
    session: 'live',
    body: initializeBody(),
    expected: { status: 400, rpcCode: RPC.invalidRequest },
  },
  {
    row: ROW.initInSession,
    name: 'a batch holding initialize, with a live session id → 400',
    method: 'POST',
    session: 'live',
    body: `[${initializeBody()}]`,
    expected: { status: 400, rpcCode: RPC.invalidRequest },
  },
  ...(['PUT', 'PATCH', 'HEAD', 'OPTIONS'] as const).map(
    (method): RefusalCase => ({
      row: ROW.otherMethods,
      name: `${method} → 405 with Allow`,
      method,
      session: 'none',
      // A HEAD answer has no body to carry the error.
      expected: {
        status: 405,
        headers: { allow: ALLOW },
        ...(method === 'HEAD' ? {} : { rpcCode: RPC.serverError }),
      },
    }),
  ),
  {
    row: ROW.otherMethods,
    name: 'PUT with a live session id → 405 with Allow',
    method: 'PUT',
    session: 'live',
    expected: { status: 405, rpcCode: RPC.serverError, headers: { allow: ALLOW } },
  },
  {
    row: ROW.badBody,
    name: 'initialize over maxBodyBytes → 413',
    method: 'POST',
    session: 'none',
    body: paddedInitialize,
    options: { maxBodyBytes: MAX_BODY_BYTES },
    expected: { status: 413, rpcCode: RPC.serverError },
  },
  {
    row: ROW.badBody,
    name: 'initialize over maxBodyBytes, streamed with no Content-Length → 413',
    method: 'POST',
    session: 'none',
    body: paddedInitialize,
    streamed: true,
    options: { maxBodyBytes: MAX_BODY_BYTES },
    expected: { status: 413, rpcCode: RPC.serverError },
  },
  {
    row: ROW.badBody,
    name: 'a message over maxBodyBytes in a live session, streamed with no Content-Length → 413',
    method: 'POST',
    session: 'live',
    body: padded(MAX_BODY_BYTES),
    streamed: true,
    options: { maxBodyBytes: MAX_BODY_BYTES },
    expected: { status: 413, rpcCode: RPC.serverError },
  },
  {
    row: ROW.badBody,
    name: 'a message over maxBodyBytes in a live session → 413',
    method: 'POST',
    session: 'live',
    body: padded(MAX_BODY_BYTES),
    options: { maxBodyBytes: MAX_BODY_BYTES },
    expected: { status: 413, rpcCode: RPC.serverError },
  },
  {
    row: ROW.badBody,
    name: 'malformed JSON without a session id → 400, code -32700',
    method: 'POST',
    session: 'none',
    body: '{"jsonrpc":"2.0","id":1,"method":"initialize",',
    expected: { status: 400, rpcCode: RPC.parseError },
  },
  {
    row: ROW.badBody,
    name: 'malformed JSON in a live session → 400, code -32700',
    method: 'POST',
    session: 'live',
    body: '{"jsonrpc":"2.0","id":1,"method":',
    expected: { status: 400, rpcCode: RPC.parseError },
  },
  {
    row: ROW.badBody,
    name: 'initialize sent as text/plain → 415',
    method: 'POST',
    session: 'none',
    headers: { 'content-type': 'text/plain' },
    body: initializeBody(),
    expected: { status: 415, rpcCode: RPC.serverError },
  },
  {
    row: ROW.badBody,
    name: 'a message sent as text/plain in a live session → 415',
    method: 'POST',
    session: 'live',
    headers: { 'content-type': 'text/plain' },
    body: pingBody,
    expected: { status: 415, rpcCode: RPC.serverError },
  },
];

// ---------------------------------------------------------------------------------------------
// Running the table on each entry point
// ---------------------------------------------------------------------------------------------

describe.each(ENTRY_POINTS)('HTTP behaviour through $name', (entryPoint) => {
  let target: Target | undefined;

  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  async function start(options: HarnessOptions = {}): Promise<Target> {
    target = await entryPoint.start(options);
    return target;
  }

  /** Puts a session in the condition the case names and returns the id the request carries. */
  async function arrange(t: Target, ref: SessionRef, options: HarnessOptions): Promise<string | undefined> {
    if (ref === 'none') {
      // A capacity case needs the house full before its initialize.
      if (options.maxSessions !== undefined) {
        for (let i = 0; i < options.maxSessions; i += 1) await openRawSession(t.send);
      }
      return undefined;
    }
    if (typeof ref === 'object') return ref.literal;
    if (ref === 'unknown') return UNKNOWN_ID;
    const sessionId = await openRawSession(t.send);
    if (ref === 'expired') t.clock.increment(IDLE_TIMEOUT_MS);
    if (ref === 'deleted') {
      const deleted = await t.send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
      await deleted.text();
      expect(deleted.status).toBe(200);
    }
    expect(t.supervisor.has(sessionId)).toBe(ref === 'live');
    return sessionId;
  }

  /** Slots and in-flight requests as they stand: a refusal must leave both as it found them. */
  const footprint = (t: Target) => ({
    liveSessions: t.supervisor.size,
    requestsInFlight: t.supervisor.getStatistics().requestsInFlight,
  });

  const rowsWithRefusals = Object.values(ROW).filter((row) => REFUSALS.some((c) => c.row === row));

  describe.each(rowsWithRefusals)('%s', (row) => {
    it.each(REFUSALS.filter((testCase) => testCase.row === row))('$name', async (testCase) => {
      const options = testCase.options ?? {};
      const t = await start(options);
      const sessionId = await arrange(t, testCase.session, options);
      const before = footprint(t);

      const response = await t.send(requestFor(testCase, sessionId));
      const text = await response.text();

      expect(response.status).toBe(testCase.expected.status);
      for (const [name, value] of Object.entries(testCase.expected.headers ?? {})) {
        expect(response.headers.get(name), `header ${name}`).toBe(value);
      }
      if (testCase.expected.rpcCode !== undefined) {
        const body = JSON.parse(text) as { jsonrpc?: string; error?: { code?: unknown } };
        expect(body.jsonrpc).toBe('2.0');
        expect(body.error?.code).toBe(testCase.expected.rpcCode);
      }
      expect(footprint(t)).toEqual(before);
    });
  });

  describe(ROW.initialize, () => {
    it('admits: 200 with a fresh uuid v4 Mcp-Session-Id, one more live session', async () => {
      const t = await start();
      const before = t.supervisor.size;

      const response = await t.send(post(initializeBody()));
      const [message] = await readAllMessages(response);

      expect(response.status).toBe(200);
      expect(message?.result).toMatchObject({ protocolVersion: expect.any(String) });
      const sessionId = response.headers.get('mcp-session-id');
      expect(sessionId).toMatch(UUID_V4);
      expect(t.supervisor.has(sessionId ?? '')).toBe(true);
      expect(t.supervisor.size).toBe(before + 1);
      expect(t.supervisor.getStatistics().requestsInFlight).toBe(0);
    });

    /**
     * Bodies that pass the supervisor's own `initialize` check (the SDK's `isInitializeRequest`, which
     * looks at method and params only) but that the SDK transport answers with another status than
     * 200, after the session was admitted and its server built.
     */
    const ANSWERED_OTHERWISE: ReadonlyArray<readonly [string, string, number]> = [
      [
        'with jsonrpc "1.0" (not a JSON-RPC 2.0 message: 400)',
        JSON.stringify({ ...(JSON.parse(initializeBody()) as Record<string, unknown>), jsonrpc: '1.0' }),
        400,
      ],
    ];

    it.each(ANSWERED_OTHERWISE)(
      'an initialize %s ends its session (failed) and frees its slot',
      async (_what, body, status) => {
        const t = await start({ maxSessions: 1, whenFull: 'reject' });

        const response = await t.send(post(body));
        await response.text();
        await vi.waitFor(() => expect(t.supervisor.getStatistics().totals.disposed).toBe(1));

        expect(response.status).toBe(status);
        expect(response.headers.get('mcp-session-id')).toBeNull();
        const statistics = t.supervisor.getStatistics();
        expect({ live: t.supervisor.size, admitted: statistics.totals.admitted }).toEqual({
          live: 0,
          admitted: 1,
        });
        expect(statistics.endedByReason.failed).toBe(1);
        // The one slot is free again: the next client gets its session.
        expect((await t.send(post(initializeBody()))).status).toBe(200);
      },
    );
  });

  describe(ROW.getStream, () => {
    /** A live session with a GET stream open on it. */
    async function withOpenStream() {
      const t = await start();
      const sessionId = await openRawSession(t.send);
      const response = await t.send({
        method: 'GET',
        headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId },
      });
      return { t, sessionId, response };
    }

    it('answers 200 with an SSE stream (text/event-stream)', async () => {
      const { response } = await withOpenStream();

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await response.body?.cancel();
    });

    it('counts the open stream as in flight: the session is active', async () => {
      const { t, sessionId, response } = await withOpenStream();

      expect(t.supervisor.sessions()[0]).toMatchObject({ id: sessionId, state: 'active', openStreams: 1 });
      await response.body?.cancel();
    });

    it('keeps the session alive past the idle timeout while the stream is open', async () => {
      const { t, sessionId, response } = await withOpenStream();

      t.clock.increment(IDLE_TIMEOUT_MS * 2);

      expect(t.supervisor.has(sessionId)).toBe(true);
      await response.body?.cancel();
    });

    it('stops counting the stream once the client closes it', async () => {
      const { t, response } = await withOpenStream();

      await response.body?.cancel();

      await vi.waitFor(() =>
        expect(t.supervisor.sessions()[0]).toMatchObject({ state: 'idle', openStreams: 0 }),
      );
    });
  });

  describe(ROW.deleteSession, () => {
    it("answers 200 and ends the session with reason 'deleted'", async () => {
      const t = await start();
      const sessionId = await openRawSession(t.send);

      const response = await t.send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
      await response.text();

      expect(response.status).toBe(200);
      expect(t.supervisor.getStatistics().endedByReason.deleted).toBe(1);
      expect(t.supervisor.size).toBe(0);
    });

    it('then answers 404 to the same id', async () => {
      const t = await start();
      const sessionId = await openRawSession(t.send);
      await (await t.send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } })).text();

      const response = await t.send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
      await response.text();

      expect(response.status).toBe(404);
    });
  });

  describe(ROW.draining, () => {
    /**
     * One session with a slow tool call in flight, then `shutdown` with a long grace: the session
     * is not retired while its request runs.
     */
    async function drainingWithRequestInFlight() {
      const t = await start();
      const sessionId = await openRawSession(t.send);
      const slowAnswer = t
        .send(post(rpcRequest('tools/call', { name: 'slow', arguments: {} }), sessionId))
        .then(readAllMessages);
      slowAnswer.catch(() => {});
      await t.slow.whenStarted();
      const stopped = t.supervisor.shutdown({ grace: IDLE_TIMEOUT_MS });
      expect(t.supervisor.phase).toBe('draining');
      return { t, sessionId, slowAnswer, stopped };
    }

    it('refuses a new session: 503 with Retry-After, no slot taken', async () => {
      const { t } = await drainingWithRequestInFlight();
      const before = footprint(t);

      const response = await t.send(post(initializeBody()));
      const text = await response.text();

      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', error: { code: RPC.serverError } });
      expect(footprint(t)).toEqual(before);
    });

    it('still serves the existing session while its request is in flight', async () => {
      const { t, sessionId } = await drainingWithRequestInFlight();

      const answer = await ping(t.send, sessionId);

      expect(answer.status).toBe(200);
      expect(answer.message?.result).toEqual({});
    });

    it('delivers the in-flight answer, then retires the session (404) and stops', async () => {
      const { t, sessionId, slowAnswer, stopped } = await drainingWithRequestInFlight();

      t.slow.releaseAll();
      const [message] = await slowAnswer;
      await stopped;

      expect(message?.result).toMatchObject({ content: [{ type: 'text', text: 'done' }] });
      expect(t.supervisor.getStatistics().endedByReason.shutdown).toBe(1);
      expect((await ping(t.send, sessionId)).status).toBe(404);
    });
  });
});
