/**
 * Fault injection, end to end over node:http on 127.0.0.1. Each fault hits ONE session while a
 * healthy session is live beside it; for every fault the suite states the same recovery
 * properties, then what is particular to the fault:
 *
 * - the faulty session still ends and is `disposed` within `disposeTimeout` of its end;
 * - its slot is freed: with `maxSessions: 2, whenFull: 'reject'`, a new session is admitted;
 * - the fault is logged once (pino into memory: every line at warn or error, whoever wrote it),
 *   and the end of the session once (its line into `expired`, with the reason);
 * - the healthy session keeps serving tool calls.
 *
 * Timers run on a `SimulatedClock`: deadlines pass exactly when a scenario advances it.
 */
import http from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createSessionSupervisor,
  type McpSessionSupervisor,
  type McpSessionSupervisorOptions,
  type SessionContext,
  type SessionEndReason,
  type SessionTransitionEvent,
} from '../src/index.js';
import { flush } from './support/gate.js';
import {
  closeServer,
  firstText,
  IDLE_TIMEOUT_MS,
  initializeBody,
  type JsonRpcMessage,
  listenOnLoopback,
  openRawSession,
  post,
  readAllMessages,
  rpcRequest,
  type Send,
  SlowTool,
  stopSupervisor,
  toolServerFactory,
  toRequestInit,
} from './support/http-harness.js';

const INIT_TIMEOUT_MS = 5_000;
const DISPOSE_TIMEOUT_MS = 2_000;
/** Healthy session + faulty session: the cap is reached, so "a new session is admitted" proves a freed slot. */
const MAX_SESSIONS = 2;

// ---------------------------------------------------------------------------------------------
// A supervisor whose next createServer call can be made to misbehave
// ---------------------------------------------------------------------------------------------

/** One pino line, as written. */
interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly sessionId?: string;
  readonly reason?: string;
  readonly to?: string;
  readonly err?: { readonly message?: string };
}

/** A line at warn or error, reduced to what the assertions compare. */
interface Problem {
  readonly level: 'warn' | 'error';
  readonly msg: string;
  readonly sessionId: string | undefined;
  readonly err: string | undefined;
}

const PINO_WARN = 40;
const PINO_ERROR = 50;

/** Builds the normal server of a session; a fault decides what createServer does with it. */
type Build = () => McpServer;
type Fault = (context: SessionContext, build: Build) => McpServer | Promise<McpServer>;

interface FaultHarness {
  readonly supervisor: McpSessionSupervisor;
  readonly clock: SimulatedClock;
  readonly slow: SlowTool;
  readonly url: URL;
  readonly send: Send;
  /** Every transition reported by `subscribe()`, in order. */
  readonly transitions: SessionTransitionEvent[];
  readonly lines: LogLine[];
  /** The next createServer call runs `fault` instead of building the normal server. */
  armFault(fault: Fault): void;
  stop(): Promise<void>;
}

/** The normal server: the harness tools (`echo`, `slow`) plus `chatty`, which reports progress, then waits. */
function buildServer(slow: SlowTool): McpServer {
  const server = toolServerFactory(slow)();
  server.registerTool(
    'chatty',
    { description: 'Sends one progress notification, then finishes when the test releases it' },
    async (extra) => {
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress: 1, total: 2 },
        });
      }
      await slow.wait();
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  return server;
}

type FaultOptions = Pick<McpSessionSupervisorOptions, 'maxLifetime'>;

async function startFaultHarness(options: FaultOptions = {}): Promise<FaultHarness> {
  const clock = new SimulatedClock();
  const slow = new SlowTool();
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  let armed: Fault | undefined;
  const supervisor = createSessionSupervisor({
    ...options,
    clock,
    logger,
    maxSessions: MAX_SESSIONS,
    whenFull: 'reject',
    idleTimeout: IDLE_TIMEOUT_MS,
    initTimeout: INIT_TIMEOUT_MS,
    disposeTimeout: DISPOSE_TIMEOUT_MS,
    createServer: (context) => {
      const fault = armed;
      armed = undefined;
      const build = () => buildServer(slow);
      return fault ? fault(context, build) : build();
    },
  });
  const transitions: SessionTransitionEvent[] = [];
  supervisor.subscribe((event) => {
    if (event.type === 'transition') transitions.push(event);
  });
  const server = http.createServer((req, res) => {
    void supervisor.handleRequest(req, res);
  });
  const url = await listenOnLoopback(server);
  return {
    supervisor,
    clock,
    slow,
    url,
    send: (request) => fetch(url, toRequestInit(request)),
    transitions,
    lines,
    armFault: (fault) => {
      armed = fault;
    },
    stop: async () => {
      slow.releaseAll();
      await stopSupervisor(supervisor, clock);
      await closeServer(server);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Observations
// ---------------------------------------------------------------------------------------------

function problemsIn(lines: readonly LogLine[]): Problem[] {
  return lines
    .filter((line) => line.level >= PINO_WARN)
    .map((line) => ({
      level: line.level >= PINO_ERROR ? 'error' : 'warn',
      msg: line.msg,
      sessionId: line.sessionId,
      err: line.err?.message,
    }));
}

function transitionOf(h: FaultHarness, sessionId: string, to: SessionTransitionEvent['to']) {
  return h.transitions.find((event) => event.sessionId === sessionId && event.to === to);
}

async function whenDisposed(h: FaultHarness, sessionId: string): Promise<void> {
  await vi.waitFor(() => expect(transitionOf(h, sessionId, 'disposed')).toBeDefined());
}

/** Resolves once `predicate` holds, polling real time (sockets, promise chains). */
async function until(predicate: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(predicate()).toBe(true));
}

const stateOf = (supervisor: McpSessionSupervisor, sessionId: string) =>
  supervisor.sessions().find((session) => session.id === sessionId)?.state;

const openStreamsOf = (supervisor: McpSessionSupervisor, sessionId: string) =>
  supervisor.sessions().find((session) => session.id === sessionId)?.openStreams;

const echoBody = (text: string) => rpcRequest('tools/call', { name: 'echo', arguments: { text } });

/** Calls `echo` in a session over HTTP; resolves with the text it answered. */
async function echo(send: Send, sessionId: string, text: string): Promise<string | undefined> {
  const response = await send(post(echoBody(text), sessionId));
  const [message] = await readAllMessages(response);
  return firstText(message?.result);
}

/** A session's server as the supervisor holds it (to reach the MCP server behind a session). */
function serverOf(supervisor: McpSessionSupervisor, sessionId: string): McpServer {
  const server = supervisor.get(sessionId)?.server;
  if (server === undefined) throw new Error(`no server for session ${sessionId}`);
  return server as McpServer;
}

/**
 * Reads an SSE body until `count` JSON-RPC messages have arrived, leaving the stream open (the
 * caller then aborts it, or reads on).
 */
async function readMessages(
  reader: ReadableStreamDefaultReader<string>,
  count: number,
): Promise<JsonRpcMessage[]> {
  let text = '';
  for (;;) {
    const messages = text
      .split(/\r?\n\r?\n/)
      .slice(0, -1)
      .flatMap((event) => {
        const data = event
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        return data === '' ? [] : [JSON.parse(data) as JsonRpcMessage];
      });
    if (messages.length >= count) return messages;
    const { done, value } = await reader.read();
    if (done) throw new Error(`SSE stream ended after ${messages.length} of ${count} messages`);
    text += value;
  }
}

function sseReader(response: Response): ReadableStreamDefaultReader<string> {
  if (response.body === null) throw new Error('SSE response without a body');
  return response.body.pipeThrough(new TextDecoderStream()).getReader();
}

// ---------------------------------------------------------------------------------------------
// The four recovery properties, stated once for every fault
// ---------------------------------------------------------------------------------------------

interface FaultOutcome {
  readonly h: FaultHarness;
  /** The session the fault hit. */
  readonly faulty: string;
  /** Opened before the fault, never touched by it. */
  readonly healthy: string;
}

interface Recovery {
  readonly reason: SessionEndReason;
  /** Whether the `disposed` transition says the resources were not (all) released. */
  readonly releaseIncomplete: boolean;
  /** Every line at warn or error the fault may cause, `sessionId` standing for the faulty one. */
  readonly problems: ReadonlyArray<Omit<Problem, 'sessionId'> & { sessionId: 'faulty' | undefined }>;
}

/**
 * Runs `scenario` once (it must leave the faulty session ended, or at least expired) and states
 * the recovery properties about its outcome; the caller adds the fault's own `it`s after.
 */
function specifyRecovery(scenario: () => Promise<FaultOutcome>, recovery: Recovery): void {
  let outcome: FaultOutcome | undefined;
  const current = (): FaultOutcome => {
    if (!outcome) throw new Error('the fault scenario did not run');
    return outcome;
  };
  beforeAll(async () => {
    outcome = await scenario();
    await whenDisposed(outcome.h, outcome.faulty);
  });
  afterAll(async () => {
    await outcome?.h.stop();
  });

  it(`ends the session with reason '${recovery.reason}' and disposes it within disposeTimeout`, () => {
    const { h, faulty } = current();
    const expired = transitionOf(h, faulty, 'expired');
    const disposed = transitionOf(h, faulty, 'disposed');

    expect({
      reason: disposed?.reason,
      releaseIncomplete: disposed?.releaseIncomplete,
      withinDeadline:
        expired !== undefined && disposed !== undefined && disposed.at - expired.at <= DISPOSE_TIMEOUT_MS,
      found: h.supervisor.has(faulty),
    }).toEqual({
      reason: recovery.reason,
      releaseIncomplete: recovery.releaseIncomplete,
      withinDeadline: true,
      found: false,
    });
  });

  it('frees its slot: counted out of the live sessions, and a new session is admitted at the cap', async () => {
    const { h } = current();
    const live = h.supervisor.getStatistics().activeSessions;

    const newcomer = await openRawSession(h.send);

    expect({ live, admitted: h.supervisor.has(newcomer) }).toEqual({
      live: MAX_SESSIONS - 1,
      admitted: true,
    });
  });

  const logged =
    recovery.problems.length === 0
      ? 'logs nothing at warn or error: a routine end, not a fault'
      : `logs the fault once (${recovery.problems.map((problem) => problem.level).join(' + ')}), and nothing else at warn or error`;
  it(logged, async () => {
    const { h, faulty } = current();
    const expected = recovery.problems.map((problem) => ({
      ...problem,
      sessionId: problem.sessionId === 'faulty' ? faulty : undefined,
    }));
    // A fault's lines may be logged after the disposal (a release giving up, a stream torn down):
    // waited for as a condition, never a fixed sleep; a line beyond them fails at once.
    await vi.waitFor(() => expect(problemsIn(h.lines)).toEqual(expected));
  });

  it(`logs the end of the session once, with reason '${recovery.reason}'`, () => {
    const { h, faulty } = current();
    const ends = h.lines.filter((line) => line.sessionId === faulty && line.to === 'expired');

    expect(ends.map((line) => line.reason)).toEqual([recovery.reason]);
  });

  it('leaves the other session serving tool calls, with nothing left in flight', async () => {
    const { h, healthy } = current();

    const answer = await echo(h.send, healthy, 'still here');

    expect({ answer, inFlight: h.supervisor.getStatistics().requestsInFlight }).toEqual({
      answer: 'still here',
      inFlight: 0,
    });
  });
}

/** Starts a harness with a healthy session open and idle. */
async function withHealthySession(options: FaultOptions = {}) {
  const h = await startFaultHarness(options);
  const healthy = await openRawSession(h.send);
  return { h, healthy };
}

/** POSTs `initialize` for the session the armed fault will hit; resolves with the HTTP answer. */
async function initializeFaulty(h: FaultHarness) {
  const response = await h.send(post(initializeBody()));
  return { status: response.status, body: await response.text() };
}

const failedToBuild = (err: string) =>
  ({ level: 'error', msg: 'building the session server failed', sessionId: 'faulty', err }) as const;
const failedToRelease = (err: string) =>
  ({ level: 'error', msg: 'releasing a session resource failed', sessionId: 'faulty', err }) as const;
const disposedUnreleased = {
  level: 'warn',
  msg: 'session disposed before its resources were released',
  sessionId: 'faulty',
  err: undefined,
} as const;

// ---------------------------------------------------------------------------------------------
// Faults while building the session's server
// ---------------------------------------------------------------------------------------------

describe('createServer throws synchronously', () => {
  let answer: { status: number; body: string } | undefined;
  specifyRecovery(
    async () => {
      const { h, healthy } = await withHealthySession();
      let faulty = '';
      h.armFault((context) => {
        faulty = context.sessionId;
        throw new Error('factory threw');
      });
      answer = await initializeFaulty(h);
      return { h, faulty, healthy };
    },
    { reason: 'failed', releaseIncomplete: false, problems: [failedToBuild('factory threw')] },
  );

  it("answers the client's initialize with 500 and a JSON-RPC internal error", () => {
    expect({ status: answer?.status, code: JSON.parse(answer?.body ?? '{}').error?.code }).toEqual({
      status: 500,
      code: -32603,
    });
  });
});

describe('createServer rejects', () => {
  let status: number | undefined;
  specifyRecovery(
    async () => {
      const { h, healthy } = await withHealthySession();
      let faulty = '';
      h.armFault(async (context) => {
        faulty = context.sessionId;
        await Promise.resolve();
        throw new Error('factory rejected');
      });
      status = (await initializeFaulty(h)).status;
      return { h, faulty, healthy };
    },
    { reason: 'failed', releaseIncomplete: false, problems: [failedToBuild('factory rejected')] },
  );

  it("answers the client's initialize with 500", () => {
    expect(status).toBe(500);
  });
});

describe('createServer hangs past initTimeout, then resolves late', () => {
  let status: number | undefined;
  let lateServerCloses = 0;
  specifyRecovery(
    async () => {
      const { h, healthy } = await withHealthySession();
      let faulty = '';
      let resolveLate: (server: McpServer) => void = () => {};
      let late: McpServer | undefined;
      h.armFault((context, build) => {
        faulty = context.sessionId;
        late = build();
        const close = late.close.bind(late);
        late.close = () => {
          lateServerCloses += 1;
          return close();
        };
        return new Promise<McpServer>((resolve) => {
          resolveLate = resolve;
        });
      });
      const answered = initializeFaulty(h);
      await until(() => faulty !== '');

      h.clock.increment(INIT_TIMEOUT_MS);
      status = (await answered).status;
      await whenDisposed(h, faulty);
      if (late) resolveLate(late);
      await until(() => lateServerCloses > 0);
      return { h, faulty, healthy };
    },
    // An init timeout is a lifecycle end (an info line), not an error; closing the late server is silent.
    { reason: 'init-timeout', releaseIncomplete: false, problems: [] },
  );

  it("answers the client's initialize with 500 once initTimeout has passed", () => {
    expect(status).toBe(500);
  });

  it('closes the server that arrived after the session ended, exactly once', () => {
    expect(lateServerCloses).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Faults while releasing the session's resources (the client DELETEs the session)
// ---------------------------------------------------------------------------------------------

/** Makes the first `close()` of the session's transport throw; later calls close it for real. */
function transportCloseThrowsOnce(message: string): Fault {
  return (_context, build) => {
    const server = build();
    const connect = server.connect.bind(server);
    server.connect = (transport: Transport) => {
      const close = transport.close.bind(transport);
      let thrown = false;
      transport.close = () => {
        if (thrown) return close();
        thrown = true;
        throw new Error(message);
      };
      return connect(transport);
    };
    return server;
  };
}

async function deleteSession(send: Send, sessionId: string): Promise<number> {
  const response = await send({ method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
  await response.text();
  return response.status;
}

describe('transport.close() throws', () => {
  let deleteStatus: number | undefined;
  specifyRecovery(
    async () => {
      const { h, healthy } = await withHealthySession();
      h.armFault(transportCloseThrowsOnce('transport close failed'));
      const faulty = await openRawSession(h.send);

      deleteStatus = await deleteSession(h.send, faulty);
      return { h, faulty, healthy };
    },
    {
      reason: 'deleted',
      releaseIncomplete: true,
      problems: [failedToRelease('transport close failed'), disposedUnreleased],
    },
  );

  it('answers the DELETE with 200', () => {
    expect(deleteStatus).toBe(200);
  });
});

describe('server.close() throws', () => {
  let closeAttempts = 0;
  specifyRecovery(
    async () => {
      const { h, healthy } = await withHealthySession();
      h.armFault((_context, build) => {
        const server = build();
        server.close = () => {
          closeAttempts += 1;
          throw new Error('server close failed');
        };
        return server;
      });
      const faulty = await openRawSession(h.send);

      await deleteSession(h.send, faulty);
      return { h, faulty, healthy };
    },
    {
      reason: 'deleted',
      releaseIncomplete: true,
      problems: [failedToRelease('server close failed'), disposedUnreleased],
    },
  );

  it('tries to close the server exactly once', () => {
    expect(closeAttempts).toBe(1);
  });
});

describe('server.close() never resolves', () => {
  let stateOneMsBeforeDeadline: string | undefined;
  const events: SessionTransitionEvent[] = [];
  specifyRecovery(
    async () => {
      const { h, healthy } = await withHealthySession();
      h.supervisor.subscribe((event) => {
        if (event.type === 'transition' && event.to === 'disposed') events.push(event);
      });
      let closing = false;
      h.armFault((_context, build) => {
        const server = build();
        server.close = () => {
          closing = true;
          return new Promise<void>(() => {});
        };
        return server;
      });
      const faulty = await openRawSession(h.send);
      await deleteSession(h.send, faulty);
      await until(() => transitionOf(h, faulty, 'expired') !== undefined);
      // The release has run up to the hanging close().
      await until(() => closing);

      h.clock.increment(DISPOSE_TIMEOUT_MS - 1);
      stateOneMsBeforeDeadline = transitionOf(h, faulty, 'disposed') ? 'disposed' : 'expired';
      h.clock.increment(1);
      return { h, faulty, healthy };
    },
    { reason: 'deleted', releaseIncomplete: true, problems: [disposedUnreleased] },
  );

  it('waits for the release until the disposeTimeout deadline, not a millisecond less', () => {
    expect(stateOneMsBeforeDeadline).toBe('expired');
  });

  it('reports the disposal to subscribers with releaseIncomplete', () => {
    expect(events.map(({ reason, releaseIncomplete }) => ({ reason, releaseIncomplete }))).toEqual([
      { reason: 'deleted', releaseIncomplete: true },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// A tool handler that never finishes
// ---------------------------------------------------------------------------------------------

const LIFETIME_MS = IDLE_TIMEOUT_MS * 1.5;

interface HungToolObservations {
  /** The faulty session's state once the clock passed idleTimeout with the tool still running. */
  stateAfterIdleTimeout?: string | undefined;
  /** What the client read of its tools/call stream once the session ended. */
  clientStream?: { ended: boolean; messages: JsonRpcMessage[] } | undefined;
}

/**
 * A `slow` tool call that never finishes on its own, in a session then ended by `end`. The healthy
 * session is opened once the clock has passed idleTimeout (an older one would have idled out).
 */
function hungToolScenario(
  observed: HungToolObservations,
  end: (h: FaultHarness, faulty: string) => Promise<void> | void,
  options: FaultOptions = {},
) {
  return async (): Promise<FaultOutcome> => {
    const h = await startFaultHarness(options);
    const faulty = await openRawSession(h.send);
    const call = h.send(post(rpcRequest('tools/call', { name: 'slow', arguments: {} }), faulty));
    await h.slow.whenStarted(1);
    const response = await call;

    h.clock.increment(IDLE_TIMEOUT_MS + 1);
    observed.stateAfterIdleTimeout = stateOf(h.supervisor, faulty);
    const healthy = await openRawSession(h.send);

    await end(h, faulty);
    observed.clientStream = await Promise.race([
      readAllMessages(response).then((messages) => ({ ended: true, messages })),
      new Promise<{ ended: boolean; messages: JsonRpcMessage[] }>((resolve) =>
        setTimeout(() => resolve({ ended: false, messages: [] }), 2_000),
      ),
    ]);
    // The hung handler finally returns, long after its session: that must not log or throw either.
    h.slow.releaseAll();
    // Its result goes through promise chains only: a few event-loop turns, not a timed wait.
    await flush();
    return { h, faulty, healthy };
  };
}

function specifyHungTool(observed: HungToolObservations) {
  it('keeps the session active past idleTimeout while the call is in flight', () => {
    expect(observed.stateAfterIdleTimeout).toBe('active');
  });

  it("closes the client's stream of the hung call, with a cut-off error and no result on it", () => {
    expect(observed.clientStream?.ended).toBe(true);
    const messages = observed.clientStream?.messages ?? [];
    expect(messages.map((message) => [message.result, message.error?.code])).toEqual([[undefined, -32000]]);
    expect(messages[0]?.error?.message).toMatch(/^Request cut off: the session ended/);
  });
}

describe('a tool handler hangs, and the session reaches maxLifetime', () => {
  const observed: HungToolObservations = {};
  specifyRecovery(
    hungToolScenario(
      observed,
      (h) => {
        h.clock.increment(LIFETIME_MS - IDLE_TIMEOUT_MS - 1);
      },
      { maxLifetime: LIFETIME_MS },
    ),
    { reason: 'lifetime', releaseIncomplete: false, problems: [] },
  );
  specifyHungTool(observed);
});

describe('a tool handler hangs, and the client DELETEs the session', () => {
  const observed: HungToolObservations = {};
  let deleteStatus: number | undefined;
  specifyRecovery(
    hungToolScenario(observed, async (h, faulty) => {
      deleteStatus = await deleteSession(h.send, faulty);
    }),
    { reason: 'deleted', releaseIncomplete: false, problems: [] },
  );
  specifyHungTool(observed);

  it('answers the DELETE with 200', () => {
    expect(deleteStatus).toBe(200);
  });
});

describe('a tool handler hangs, and the application closes the session (supervisor.close)', () => {
  const observed: HungToolObservations = {};
  specifyRecovery(
    hungToolScenario(observed, (h, faulty) => {
      h.supervisor.close(faulty, 'evicted');
    }),
    { reason: 'evicted', releaseIncomplete: false, problems: [] },
  );
  specifyHungTool(observed);
});

// ---------------------------------------------------------------------------------------------
// A client that disconnects mid-stream
// ---------------------------------------------------------------------------------------------

interface DisconnectObservations {
  /** What the client had read before hanging up. */
  readBeforeAbort?: string | undefined;
  /** The faulty session once the server noticed the disconnect. */
  afterAbort?: { state: string | undefined; inFlight: number; openStreams: number | undefined } | undefined;
  /** The answer to the same client coming back (a new GET stream) after hanging up. */
  reconnectStatus?: number | undefined;
}

/**
 * The client hangs up in the middle of a stream (`open` returns the stream, the message it read
 * and its AbortController); once the session is idle again, the clock passes its idle timeout.
 * The healthy session is used just before that deadline, so only the faulty one expires.
 */
function disconnectScenario(
  observed: DisconnectObservations,
  open: (
    h: FaultHarness,
    faulty: string,
  ) => Promise<{ abort: AbortController; read: JsonRpcMessage | undefined }>,
) {
  return async (): Promise<FaultOutcome> => {
    const { h, healthy } = await withHealthySession();
    const faulty = await openRawSession(h.send);
    const { abort, read } = await open(h, faulty);
    observed.readBeforeAbort = read?.method;

    abort.abort();
    await until(
      () => h.supervisor.getStatistics().requestsInFlight === 0 && stateOf(h.supervisor, faulty) === 'idle',
    );
    await until(() => openStreamsOf(h.supervisor, faulty) === 0);
    observed.afterAbort = {
      state: stateOf(h.supervisor, faulty),
      inFlight: h.supervisor.getStatistics().requestsInFlight,
      openStreams: openStreamsOf(h.supervisor, faulty),
    };
    observed.reconnectStatus = await reconnectStream(h, faulty);

    h.clock.increment(IDLE_TIMEOUT_MS - 1);
    await echo(h.send, healthy, 'keep me');
    h.clock.increment(1);
    return { h, faulty, healthy };
  };
}

/** Opens the session's GET stream, notes the answer, hangs up again; resolves once it is closed. */
async function reconnectStream(h: FaultHarness, sessionId: string): Promise<number> {
  const abort = new AbortController();
  const response = await h.send({
    method: 'GET',
    headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId },
    signal: abort.signal,
  });
  if (response.status === 200) await until(() => openStreamsOf(h.supervisor, sessionId) === 1);
  abort.abort();
  await until(() => stateOf(h.supervisor, sessionId) === 'idle');
  return response.status;
}

function specifyDisconnect(observed: DisconnectObservations, firstMessage: string) {
  it(`was mid-stream: the client had read ${firstMessage} before hanging up`, () => {
    expect(observed.readBeforeAbort).toBe(firstMessage);
  });

  it('brings the session back to idle with nothing in flight and no stream open', () => {
    expect(observed.afterAbort).toEqual({ state: 'idle', inFlight: 0, openStreams: 0 });
  });

  it('lets the client come back: its session opens a new GET stream (200)', () => {
    expect(observed.reconnectStatus).toBe(200);
  });
}

describe('a client disconnects in the middle of a GET (SSE) stream', () => {
  const observed: DisconnectObservations = {};
  specifyRecovery(
    disconnectScenario(observed, async (h, faulty) => {
      const abort = new AbortController();
      const response = await h.send({
        method: 'GET',
        headers: { accept: 'text/event-stream', 'mcp-session-id': faulty },
        signal: abort.signal,
      });
      await until(() => openStreamsOf(h.supervisor, faulty) === 1);
      serverOf(h.supervisor, faulty).sendToolListChanged();
      const [read] = await readMessages(sseReader(response), 1);
      return { abort, read };
    }),
    { reason: 'idle-timeout', releaseIncomplete: false, problems: [] },
  );
  specifyDisconnect(observed, 'notifications/tools/list_changed');
});

describe('a client disconnects in the middle of a POST (SSE) response', () => {
  const observed: DisconnectObservations = {};
  specifyRecovery(
    disconnectScenario(observed, async (h, faulty) => {
      const abort = new AbortController();
      const response = await h.send({
        ...post(
          rpcRequest('tools/call', { name: 'chatty', arguments: {}, _meta: { progressToken: 'hang-up' } }),
          faulty,
        ),
        signal: abort.signal,
      });
      const [read] = await readMessages(sseReader(response), 1);
      return { abort, read };
    }),
    { reason: 'idle-timeout', releaseIncomplete: false, problems: [] },
  );
  specifyDisconnect(observed, 'notifications/progress');
});
