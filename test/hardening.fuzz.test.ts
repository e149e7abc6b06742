/**
 * Fuzzing the HTTP layer: fast-check generates SEQUENCES of requests — valid and broken
 * initializes, bursts of concurrent initializes, requests on known, ended, unknown and garbage
 * session ids, DELETEs, GET streams (kept open or cancelled), malformed bodies and headers, odd
 * methods, pairs of these sent at once — interleaved with clock advances, and sends them to
 * `supervisor.fetch` (no sockets).
 * Session timers run on xstate's `SimulatedClock`, so time passes only when a sequence says so.
 *
 * Whatever the sequence:
 * - the supervisor never throws, and never answers a 5xx other than the documented 503 (never 500);
 * - it never holds more live sessions than `maxSessions`;
 * - once every timeout has passed and it has shut down, every session it admitted is disposed.
 *
 * Fixed seed and bounded runs: the same sequences every time. Each property takes a few seconds on
 * an idle machine and nearly 20 s on a loaded 2-core one, so each has a minute and a half: the
 * limit only catches a hang; the count of runs bounds the work.
 */

import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { McpSessionSupervisor } from '../src/index.js';
import {
  createSupervisorUnderTest,
  FETCH_URL,
  IDLE_TIMEOUT_MS,
  initializeBody,
  MCP_ACCEPT,
  rpcRequest,
  stopSupervisor,
} from './support/http-harness.js';

const SEED = 20_261_123;
const NUM_RUNS = 150;
const MIN_COMMANDS = 5;
const MAX_COMMANDS = 40;
const INIT_TIMEOUT_MS = 5_000;
const MAX_LIFETIME_MS = 10 * IDLE_TIMEOUT_MS;
/** Past every timer a sequence can start: init, idle, lifetime, dispose. */
const PAST_EVERY_TIMEOUT_MS = 2 * MAX_LIFETIME_MS;

// ---------------------------------------------------------------------------------------------
// Commands, as plain data (shrunk counterexamples print readably)
// ---------------------------------------------------------------------------------------------

/** Which `Mcp-Session-Id` a request carries. */
type IdRef =
  | { readonly kind: 'none' }
  /** One the supervisor handed out earlier (index modulo their number); it may have ended since. */
  | { readonly kind: 'known'; readonly index: number }
  | { readonly kind: 'unknown'; readonly id: string }
  | { readonly kind: 'garbage'; readonly id: string };

type HeaderValue = string | undefined;

type Command =
  | {
      readonly kind: 'initialize';
      readonly body: string;
      readonly accept: HeaderValue;
      readonly contentType: HeaderValue;
    }
  | { readonly kind: 'burst'; readonly count: number }
  | {
      readonly kind: 'post';
      readonly id: IdRef;
      readonly body: string | Uint8Array;
      readonly accept: HeaderValue;
      readonly contentType: HeaderValue;
      readonly protocolVersion: HeaderValue;
    }
  | { readonly kind: 'get'; readonly id: IdRef; readonly accept: HeaderValue; readonly keepOpen: boolean }
  | { readonly kind: 'cancel-stream'; readonly index: number }
  | { readonly kind: 'delete'; readonly id: IdRef }
  | {
      readonly kind: 'other-method';
      readonly method: string;
      readonly id: IdRef;
      readonly body: string | undefined;
    }
  | { readonly kind: 'advance'; readonly ms: number }
  /** Two commands at once: their requests interleave (a DELETE racing a POST, say). */
  | { readonly kind: 'together'; readonly first: Command; readonly second: Command };

/** Header values a `Headers` object accepts (bytes 0x20–0xFF), trimmed or not. */
const headerText = fc
  .array(fc.integer({ min: 0x20, max: 0xff }), { maxLength: 40 })
  .map((codes) => String.fromCharCode(...codes));

const idRef: fc.Arbitrary<IdRef> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('known' as const), index: fc.nat({ max: 15 }) }), weight: 6 },
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('unknown' as const), id: fc.uuid({ version: 4 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      id: fc.oneof(headerText, fc.string({ minLength: 257, maxLength: 300, unit: 'grapheme-ascii' })),
    }),
    weight: 2,
  },
);

const accept: fc.Arbitrary<HeaderValue> = fc.oneof(
  { arbitrary: fc.constant(MCP_ACCEPT), weight: 12 },
  {
    arbitrary: fc.constantFrom(undefined, 'application/json', 'text/event-stream', '*/*', ''),
    weight: 2,
  },
  { arbitrary: headerText, weight: 1 },
);

const contentType: fc.Arbitrary<HeaderValue> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-8',
      'application/jsonx',
    ),
    weight: 2,
  },
  { arbitrary: headerText, weight: 1 },
);

const protocolVersion: fc.Arbitrary<HeaderValue> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  { arbitrary: fc.constantFrom(LATEST_PROTOCOL_VERSION, '2025-03-26', '1999-01-01'), weight: 2 },
  { arbitrary: headerText, weight: 1 },
);

/** Requests the tiny server answers at once (never the `slow` tool, which waits for the test). */
const sessionMessage = fc.oneof(
  fc.constant(rpcRequest('ping')),
  fc.constant(rpcRequest('tools/list')),
  fc.string({ maxLength: 20 }).map((text) => rpcRequest('tools/call', { name: 'echo', arguments: { text } })),
  fc.constant(rpcRequest('no/such/method')),
  fc.constant(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })),
  fc.constant(`[${rpcRequest('ping')},${rpcRequest('tools/list')}]`),
  fc.constant(initializeBody(1)),
);

/** Bodies that are broken in every way: not JSON, JSON that is not JSON-RPC, truncated, bytes. */
const malformedBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.json({ maxDepth: 3 }),
  sessionMessage.chain((text) => fc.nat({ max: text.length }).map((cut) => text.slice(0, cut))),
  fc.uint8Array({ maxLength: 60 }),
  fc.constantFrom('[]', 'null', '{}', `[${initializeBody(1)},${rpcRequest('ping', undefined, 2)}]`),
);

const initializeCommand: fc.Arbitrary<Command> = fc.record({
  kind: fc.constant('initialize' as const),
  body: fc.oneof(
    { arbitrary: fc.constant(initializeBody(1)), weight: 5 },
    {
      arbitrary: malformedBody.map((body) => (typeof body === 'string' ? body : '\u0000')),
      weight: 2,
    },
    {
      arbitrary: fc.constant(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize' })),
      weight: 1,
    },
  ),
  accept,
  contentType,
});

const singleCommand: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: initializeCommand, weight: 5 },
  {
    arbitrary: fc.record({ kind: fc.constant('burst' as const), count: fc.integer({ min: 2, max: 6 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      id: idRef,
      body: fc.oneof({ arbitrary: sessionMessage, weight: 3 }, { arbitrary: malformedBody, weight: 2 }),
      accept,
      contentType,
      protocolVersion,
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('get' as const),
      id: idRef,
      accept: fc.oneof(fc.constant('text/event-stream'), accept),
      keepOpen: fc.boolean(),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('cancel-stream' as const), index: fc.nat({ max: 7 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), id: idRef }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('other-method' as const),
      method: fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO', 'get'),
      id: idRef,
      body: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: INIT_TIMEOUT_MS - 10, max: INIT_TIMEOUT_MS + 10 }),
        fc.integer({ min: IDLE_TIMEOUT_MS - 10, max: IDLE_TIMEOUT_MS + 10 }),
        fc.integer({ min: 1, max: MAX_LIFETIME_MS }),
      ),
    }),
    weight: 2,
  },
);

/** The supervisor a sequence runs against. */
interface Shape {
  readonly maxSessions: number;
  readonly whenFull: 'evict-idle-lru' | 'reject';
  readonly maxLifetime: number | undefined;
}

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: singleCommand, weight: 9 },
  {
    arbitrary: fc.record({
      kind: fc.constant('together' as const),
      first: singleCommand,
      second: singleCommand,
    }),
    weight: 2,
  },
);

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  maxSessions: fc.integer({ min: 1, max: 4 }),
  whenFull: fc.constantFrom('evict-idle-lru' as const, 'reject' as const),
  maxLifetime: fc.option(fc.constant(MAX_LIFETIME_MS), { nil: undefined }),
});

// ---------------------------------------------------------------------------------------------
// Running a sequence
// ---------------------------------------------------------------------------------------------

/** What a run has seen: ids handed out, streams held open, every answer's status. */
interface Run {
  readonly supervisor: McpSessionSupervisor;
  readonly ids: string[];
  readonly streams: Response[];
  readonly statuses: number[];
  /** The most live sessions seen at once: after every answer and on every session transition. */
  largestSize: number;
}

function headersFor(id: IdRef, run: Run, extra: Record<string, HeaderValue>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) headers.set(name, value);
  if (id.kind === 'known' && run.ids.length > 0) {
    headers.set('mcp-session-id', run.ids[id.index % run.ids.length] as string);
  } else if (id.kind === 'unknown' || id.kind === 'garbage') {
    headers.set('mcp-session-id', id.id);
  }
  return headers;
}

async function call(run: Run, method: string, headers: Headers, body?: string | Uint8Array) {
  const request = new Request(FETCH_URL, { method, headers, ...(body === undefined ? {} : { body }) });
  const response = await run.supervisor.fetch(request);
  run.statuses.push(response.status);
  run.largestSize = Math.max(run.largestSize, run.supervisor.size);
  return response;
}

/** Reads an answer to its end, noting the id of a session it opened. */
async function consume(run: Run, response: Response): Promise<void> {
  const sessionId = response.headers.get('mcp-session-id');
  await response.arrayBuffer();
  if (response.status === 200 && sessionId !== null && !run.ids.includes(sessionId)) run.ids.push(sessionId);
}

async function initialize(run: Run, body: string, accept: HeaderValue, contentType: HeaderValue) {
  const headers = headersFor({ kind: 'none' }, run, { accept, 'content-type': contentType });
  await consume(run, await call(run, 'POST', headers, body));
}

async function execute(run: Run, clock: { increment(ms: number): void }, command: Command) {
  switch (command.kind) {
    case 'initialize':
      return initialize(run, command.body, command.accept, command.contentType);
    case 'burst':
      await Promise.all(
        Array.from({ length: command.count }, () =>
          initialize(run, initializeBody(1), MCP_ACCEPT, 'application/json'),
        ),
      );
      return;
    case 'post': {
      const headers = headersFor(command.id, run, {
        accept: command.accept,
        'content-type': command.contentType,
        'mcp-protocol-version': command.protocolVersion,
      });
      return consume(run, await call(run, 'POST', headers, command.body));
    }
    case 'get': {
      const response = await call(run, 'GET', headersFor(command.id, run, { accept: command.accept }));
      const streaming = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
      if (streaming && command.keepOpen) run.streams.push(response);
      else await response.body?.cancel();
      return;
    }
    case 'cancel-stream': {
      const [stream] = run.streams.splice(command.index % Math.max(1, run.streams.length), 1);
      await stream?.body?.cancel();
      return;
    }
    case 'delete':
      return consume(run, await call(run, 'DELETE', headersFor(command.id, run, {})));
    case 'other-method': {
      const withBody = command.body !== undefined && !['GET', 'HEAD'].includes(command.method.toUpperCase());
      const headers = headersFor(command.id, run, { 'content-type': 'application/json' });
      const response = await call(run, command.method, headers, withBody ? command.body : undefined);
      return consume(run, response);
    }
    case 'together':
      await Promise.all([execute(run, clock, command.first), execute(run, clock, command.second)]);
      return;
    case 'advance':
      clock.increment(command.ms);
      // Let expiry and disposal (promise-based releases) make progress before the next request.
      await new Promise((resolve) => setImmediate(resolve));
      return;
  }
}

interface Outcome {
  readonly statuses: readonly number[];
  readonly maxSessions: number;
  readonly largestSize: number;
  readonly admitted: number;
  readonly disposed: number;
}

/** Runs one sequence to its end, then lets every timeout pass and shuts the supervisor down. */
async function runSequence(options: Shape, commands: readonly Command[]): Promise<Outcome> {
  const { supervisor, clock } = createSupervisorUnderTest({
    maxSessions: options.maxSessions,
    whenFull: options.whenFull,
    initTimeout: INIT_TIMEOUT_MS,
    ...(options.maxLifetime === undefined ? {} : { maxLifetime: options.maxLifetime }),
  });
  const run: Run = { supervisor, ids: [], streams: [], statuses: [], largestSize: 0 };
  const unsubscribe = supervisor.subscribe(() => {
    run.largestSize = Math.max(run.largestSize, supervisor.size);
  });
  try {
    for (const command of commands) await execute(run, clock, command);
    for (const stream of run.streams.splice(0)) await stream.body?.cancel();
    clock.increment(PAST_EVERY_TIMEOUT_MS);
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    await stopSupervisor(supervisor, clock);
    unsubscribe();
  }
  const { totals } = supervisor.getStatistics();
  return {
    statuses: run.statuses,
    maxSessions: options.maxSessions,
    largestSize: run.largestSize,
    admitted: totals.admitted,
    disposed: totals.disposed,
  };
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const sequences = fc.tuple(
  shapeArb,
  fc.array(commandArb, { minLength: MIN_COMMANDS, maxLength: MAX_COMMANDS, size: 'max' }),
);
const parameters = { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true } as const;
const PROPERTY_TIMEOUT_MS = 90_000;

describe('random request sequences against supervisor.fetch', () => {
  it('never throw, and never answer a 5xx other than the documented 503', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async ([options, commands]) => {
        const { statuses } = await runSequence(options, commands);
        expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([]);
      }),
      parameters,
    );
  });

  it('never hold more live sessions than maxSessions', { timeout: PROPERTY_TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async ([options, commands]) => {
        const { largestSize, maxSessions } = await runSequence(options, commands);
        expect(largestSize).toBeLessThanOrEqual(maxSessions);
      }),
      parameters,
    );
  });

  it('dispose every admitted session once every timeout has passed and the supervisor shut down', {
    timeout: PROPERTY_TIMEOUT_MS,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async ([options, commands]) => {
        const { admitted, disposed } = await runSequence(options, commands);
        expect(disposed).toBe(admitted);
      }),
      parameters,
    );
  });
});
