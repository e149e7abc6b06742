/**
 * Model-based tests over the wire: the paths generated from the session machine
 * (test/support/session-model.ts) are driven against the real HTTP server — a supervisor behind
 * node:http on 127.0.0.1, reached with `fetch` — so that every lifecycle transition the wire can
 * cause is proven by real requests. Session timers run on the supervisor's `SimulatedClock`.
 *
 * How a step goes over the wire (one supervisor, one node:http server and one session per path):
 *
 * - Admission and the first `REQUEST.START` are one POST `initialize`: the dispatcher admits the
 *   session and counts its initialize request in flight in the same synchronous call. The model's
 *   admission state (nothing in flight) is never observable on its own, so a path must begin with
 *   `REQUEST.START`, and that request is the initialize request.
 * - `prepare` is `createServer`, which returns a promise the path settles: resolved with a server
 *   double (an `McpServer` wrapped so the test controls it), or rejected. Until it is built the
 *   session has no transport: requests, GET and DELETE with its id get 404 without reaching it, and
 *   a client does not even know the id (it comes in the initialize response headers). Only `prepare`
 *   and the clock can act then; an initialize whose session ends first is answered 500.
 * - `prepare resolves` and `INITIALIZED` are one act: once the server is ready, the dispatcher hands
 *   the initialize request to the transport, which answers 200 at once (SSE); the dispatcher marks
 *   the session initialized as the answer's head goes out, here with the initialize request still in
 *   flight (its result is held, below). So `prepare resolves` must be followed by `INITIALIZED`, and
 *   `INITIALIZED` always finds the session busy (→ `active`).
 * - The server double holds its initialize *result* until the path ends that request: its response
 *   headers (with the session id) reach the client, its body waits, as with any slow request.
 * - `REQUEST.START` is a POST `tools/call` of the `hold` tool; `REQUEST.END` ends the newest request
 *   in flight: the held initialize result, or every second call, is released and its response read
 *   to the end; the other calls are aborted by their client, which the server sees as the end.
 * - `STREAM.OPEN` is a GET (SSE) stream; `STREAM.CLOSE` is the client cancelling it. The SDK transport
 *   allows one GET stream per session (a second gets 409), so paths with two open are left out.
 * - `CLOSE(deleted)` is a DELETE; a timeout brings the clock to the oracle's deadline (after checking
 *   that 1 ms before it nothing has happened); other acts happen `STEP_GAP` ms apart, except
 *   that admission and the first request are one instant, and so are `prepare resolves` and `INITIALIZED`.
 * - `release` is the server double's `close()`: resolving, rejecting, or never settling (the
 *   `disposeTimeout` step then fires). A session whose server was never built has nothing to release
 *   and is disposed as soon as it expires; that move is attributed to the model's `release` step.
 *
 * Which paths run:
 *
 * - the generated paths (`generateSessionPaths`) the wire can express. Those that begin `prepare
 *   resolves → INITIALIZED` (idle, nothing in flight) run with the handshake as the wire performs
 *   it — `REQUEST.START → prepare resolves → INITIALIZED → REQUEST.END` — which leaves the session
 *   exactly there (idle, nothing in flight, at time 0) with the initialize request counted;
 * - the paths the same generators (and the spec's own exploration) find from the state the handshake
 *   leads to (`generateSessionPathsAfter`, one GET stream at most). Most generated paths start otherwise than
 *   with an initialize request, and the expressible ones alone miss transitions the wire can cause
 *   (a stream closing while a request keeps the session busy, for instance).
 *
 * Every path's expected states, timer instants and output come from the spec's lifecycle oracle
 * (test/support/lifecycle-oracle.ts), never from the machine, which is replayed only to report the
 * transitions a path takes (`pathOfActions`). Four transitions of `created` cannot be
 * caused over HTTP at all ({@link NOT_REACHABLE_OVER_HTTP}); the coverage test holds the rest.
 */
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import {
  createSessionSupervisor,
  type McpServerLike,
  type McpSessionSupervisor,
  type SessionStateName,
  type SupervisedSession,
} from '../src/index.js';
import { flush, type Gate, gate } from './support/gate.js';
import {
  closeServer,
  firstText,
  initializeBody,
  listenOnLoopback,
  post,
  type RawRequest,
  readAllMessages,
  rpcErrorCode,
  rpcNotification,
  rpcRequest,
  stopSupervisor,
  toRequestInit,
} from './support/http-harness.js';
import { RPC } from './support/json-rpc.js';
import {
  enumerateStateNodes,
  enumerateTransitions,
  expectedObservation,
  generateSessionPaths,
  generateSessionPathsAfter,
  MODEL_VARIANTS,
  type ModelAction,
  type ModelPath,
  type ModelStep,
  type ModelVariant,
  type Observed,
  type PathGenerator,
  type PathTiming,
  pathOfActions,
  stateNodesVisited,
  TRAVERSAL_BOUNDS,
  type TraversalBounds,
  transitionsTaken,
} from './support/session-model.js';

/** JSON-RPC id of every path's initialize request. */
const INITIALIZE_ID = 'initialize';
/** Real-time guard on waiting for I/O: a failure, never a pause. */
const IO_GUARD_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Which generated paths the wire can express

/**
 * Transitions no sequence of HTTP requests can cause, and why. The coverage test below fails if any
 * other transition is missed over HTTP, or if one of these is ever reached (then it belongs here no
 * more).
 */
const NOT_REACHABLE_OVER_HTTP: Readonly<Record<string, string>> = {
  'session.live.created INITIALIZED #1 → session.live.idle':
    'every path holds its initialize result, so the answer goes out with the request in flight: busy (an answer whole at once takes created → idle directly, held in http.e2e.test.ts)',
  'session.live.created REQUEST.END #0 [hasRequestInFlight] → (no target)':
    'the only request a created session can have is its initialize, still in flight at INITIALIZED',
  'session.live.created STREAM.OPEN #0 → (no target)':
    'until its server is built a session answers 404 to its id; then INITIALIZED follows in the same turn',
  'session.live.created STREAM.CLOSE #0 [hasOpenStream] → (no target)':
    'no stream can be open while the session is created (see STREAM.OPEN)',
};

const isPrepareDone = (action: ModelAction | undefined): boolean =>
  action?.kind === 'settle' && action.actor === 'prepare' && action.outcome === 'done';

const REQUEST_START: ModelAction = { kind: 'request-start' };
const REQUEST_END: ModelAction = { kind: 'request-end' };

/**
 * The actions that run `path` over HTTP, or `undefined` if the wire cannot express it (see the
 * mapping above).
 */
function overTheWire(path: ModelPath): readonly ModelAction[] | undefined {
  const modelActions = path.steps.map((step) => step.action);
  const [first, second] = modelActions;
  let actions: readonly ModelAction[];
  if (first?.kind === 'request-start') {
    actions = modelActions;
  } else if (isPrepareDone(first) && second?.kind === 'initialized') {
    actions = [REQUEST_START, ...modelActions.slice(0, 2), REQUEST_END, ...modelActions.slice(2)];
  } else {
    return undefined;
  }
  let prepared = false;
  let openStreams = 0;
  for (const [index, action] of actions.entries()) {
    if (isPrepareDone(action)) {
      if (actions[index + 1]?.kind !== 'initialized') return undefined;
      prepared = true;
    } else if (!prepared && index > 0 && action.kind !== 'settle' && action.kind !== 'timeout') {
      return undefined;
    } else if (action.kind === 'stream-open') {
      openStreams += 1;
      if (openStreams > 1) return undefined;
    } else if (action.kind === 'stream-close') {
      openStreams -= 1;
    }
  }
  return actions;
}

/** How every session starts over HTTP: POST initialize, its server built, the handshake answered. */
const HTTP_HANDSHAKE: readonly ModelAction[] = [
  REQUEST_START,
  { kind: 'settle', actor: 'prepare', outcome: 'done' },
  { kind: 'initialized' },
];

/** The traversal caps of {@link TRAVERSAL_BOUNDS}, with the one GET stream a session can hold. */
const HTTP_BOUNDS: Readonly<Record<PathGenerator, TraversalBounds>> = {
  shortest: { ...TRAVERSAL_BOUNDS.shortest, openStreams: 1, busy: 3 },
  simple: TRAVERSAL_BOUNDS.simple,
  spec: { ...TRAVERSAL_BOUNDS.spec, openStreams: 1, busy: 3 },
};

/**
 * Over the wire, admission and the initialize request are one POST, and the handshake is answered
 * in the turn its server is built: no time passes there. Every other act is spaced.
 */
const HTTP_TIMING: PathTiming = {
  spaced: (index, actions) =>
    index > 0 && !(actions[index]?.kind === 'initialized' && isPrepareDone(actions[index - 1])),
};

/**
 * What runs over HTTP: the generated paths the wire can express (most generated paths start
 * another way than an initialize request, so they miss much of what follows the handshake), and
 * the paths generated from the state the handshake leads to, which reach every transition after
 * it. One path per distinct action sequence.
 */
function httpPaths(): ModelPath[] {
  const byActions = new Map<string, ModelPath>();
  const add = (path: ModelPath, actions: readonly ModelAction[]): void => {
    const key = JSON.stringify([path.variant.name, actions]);
    if (!byActions.has(key)) {
      byActions.set(key, pathOfActions(path.variant, actions, path.generators, HTTP_TIMING));
    }
  };
  for (const path of generateSessionPaths().paths) {
    const actions = overTheWire(path);
    if (actions) add(path, actions);
  }
  for (const path of afterHandshake) {
    const actions = overTheWire(path);
    if (actions) add(path, actions);
  }
  return [...byActions.values()];
}

const afterHandshake = generateSessionPathsAfter(HTTP_HANDSHAKE, HTTP_BOUNDS, HTTP_TIMING).paths;
const paths = httpPaths();

// ---------------------------------------------------------------------------------------------
// Observing the session

/** What one act did: the states the session moved to, and the session afterwards. */
interface ActOutcome {
  readonly movedTo: readonly SessionStateName[];
  readonly session: Observed;
}

/** What the oracle says the act's steps do, in the same shape. */
function expectedOutcome(steps: readonly ModelStep[]): ActOutcome {
  const last = steps.at(-1);
  if (!last) throw new Error('An act without steps');
  return { movedTo: steps.flatMap((step) => step.movedTo), session: expectedObservation(last.expected) };
}

// ---------------------------------------------------------------------------------------------
// The server side: a session's MCP server, controlled by the path

/** Calls of the `hold` tool, each finishing when the path ends it (all of them once stopped). */
class HeldCalls {
  private readonly gates = new Map<number, Gate<void>>();
  private allReleased = false;

  private gateOf(call: number): Gate<void> {
    let held = this.gates.get(call);
    if (!held) {
      held = gate<void>();
      if (this.allReleased) held.resolve();
      this.gates.set(call, held);
    }
    return held;
  }

  wait(call: number): Promise<void> {
    return this.gateOf(call).promise;
  }

  release(call: number): void {
    this.gateOf(call).resolve();
  }

  releaseAll(): void {
    this.allReleased = true;
    for (const held of this.gates.values()) held.resolve();
  }
}

interface ServerControls {
  readonly calls: HeldCalls;
  /** Settled when the path ends the initialize request. */
  readonly initializeAnswer: Gate<void>;
  /** What the server's `close()` returns: the `release` step settles it (or never does). */
  readonly closing: Gate<void>;
}

const isInitializeResult = (message: unknown): boolean =>
  typeof message === 'object' &&
  message !== null &&
  'result' in message &&
  (message as { id?: unknown }).id === INITIALIZE_ID;

/** One session's MCP server: a `hold` tool, an initialize answer and a `close()` the path controls. */
class ServerDouble implements McpServerLike {
  private readonly server = new McpServer({ name: 'model-over-http', version: '1.0.0' });

  constructor(private readonly controls: ServerControls) {
    this.server.registerTool(
      'hold',
      { description: 'Finishes when the test ends the call', inputSchema: { call: z.number() } },
      async ({ call }) => {
        await controls.calls.wait(call);
        return { content: [{ type: 'text', text: `done ${call}` }] };
      },
    );
  }

  async connect(transport: Transport): Promise<void> {
    // The initialize result waits for the path: the request stays in flight like a slow tool call.
    const send = transport.send.bind(transport);
    const { initializeAnswer } = this.controls;
    transport.send = async (message, options) => {
      if (isInitializeResult(message)) await initializeAnswer.promise;
      return send(message, options);
    };
    await this.server.connect(transport);
  }

  close(): Promise<void> {
    return this.controls.closing.promise;
  }
}

// ---------------------------------------------------------------------------------------------
// The client side: one path's supervisor, server and requests

/** A request in flight, and how the path ends it. */
interface InFlight {
  end(): Promise<void>;
}

/** `promise`, or a failure naming what never happened if it takes longer than {@link IO_GUARD_MS}. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let guard: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), IO_GUARD_MS);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(guard);
  }
}

/**
 * Waits for an I/O-driven change of the session, seen in its actor's snapshots or, for changes the
 * actor is not told of (a nested request ending while another is still in flight), in the runtime's
 * counts checked once per event-loop turn.
 */
async function until(session: SupervisedSession, what: string, done: () => boolean): Promise<void> {
  if (done()) return;
  let subscription: { unsubscribe(): void } | undefined;
  let poll: NodeJS.Timeout | undefined;
  const changed = new Promise<void>((resolve) => {
    subscription = session.actor.subscribe(() => {
      if (done()) resolve();
    });
    poll = setInterval(() => {
      if (done()) resolve();
    }, 1);
  });
  try {
    await within(changed, what);
  } finally {
    subscription?.unsubscribe();
    clearInterval(poll);
  }
}

class WireRuntime {
  private readonly clock = new SimulatedClock();
  private readonly supervisor: McpSessionSupervisor;
  private readonly server: http.Server;
  private readonly prepare = gate<ServerDouble>();
  private readonly controls: ServerControls = {
    calls: new HeldCalls(),
    initializeAnswer: gate<void>(),
    closing: gate<void>(),
  };
  /** `to` of every transition of the session after admission, as the supervisor reports them. */
  private readonly moves: SessionStateName[] = [];
  private readonly admitted = gate<string>();
  private readonly inFlight: InFlight[] = [];
  /** Every response the client got, so their bodies can be let go of at the end. */
  private readonly responses: Response[] = [];
  /** Answers the client is still waiting on (their bodies have not ended), by what they answer. */
  private readonly openAnswers = new Map<string, Promise<Response>>();
  private url: URL | undefined;
  private sessionHandle: SupervisedSession | undefined;
  private initialize: Promise<Response> | undefined;
  private stream: Response | undefined;
  private calls = 0;
  private handshakeAnswered = false;
  private readonly createdAt: number;

  constructor(readonly variant: ModelVariant) {
    const { input } = variant;
    this.createdAt = input.createdAt;
    this.clock.set(input.createdAt);
    const { initTimeout, idleTimeout, maxLifetime, disposeTimeout } = input.timeouts;
    this.supervisor = createSessionSupervisor({
      clock: this.clock,
      initTimeout,
      idleTimeout,
      disposeTimeout,
      ...(maxLifetime === undefined ? {} : { maxLifetime }),
      streamsCountAsActivity: input.streamsCountAsActivity,
      createServer: () => this.prepare.promise,
    });
    this.supervisor.subscribe((event) => {
      if (event.type !== 'transition') return;
      if (event.from === undefined) this.admitted.resolve(event.sessionId);
      else this.moves.push(event.to);
    });
    this.server = http.createServer((req, res) => {
      void this.supervisor.handleRequest(req, res);
    });
  }

  async listen(): Promise<void> {
    this.url = await listenOnLoopback(this.server);
  }

  get session(): SupervisedSession {
    if (!this.sessionHandle) throw new Error('No session was admitted');
    return this.sessionHandle;
  }

  private send(request: RawRequest): Promise<Response> {
    if (!this.url) throw new Error('The server is not listening');
    const sent = fetch(this.url, toRequestInit(request)).then((response) => {
      this.responses.push(response);
      return response;
    });
    sent.catch(() => {});
    return sent;
  }

  /** A request with the session's id, as a client that learned it from the initialize answer. */
  private inSession(method: 'GET' | 'DELETE'): RawRequest {
    const accept = method === 'GET' ? { accept: 'text/event-stream' } : {};
    return { method, headers: { ...accept, 'mcp-session-id': this.session.id } };
  }

  /** Brings the simulated clock to `at` (ms since admission) and lets what fell due settle. */
  private async advanceTo(at: number): Promise<void> {
    const by = this.createdAt + at - this.clock.now();
    if (by < 0) throw new Error(`The path goes back in time, to ${at}`);
    if (by > 0) this.clock.increment(by);
    await flush();
  }

  /**
   * Performs one act — a step, or `prepare resolves` with the `INITIALIZED` it causes — at its time,
   * and lets what it started settle, so whatever it caused is attributed to it. For a timeout, also
   * what happened 1 ms before its deadline (nothing, if the session keeps time as the spec says).
   */
  async act(step: ModelStep): Promise<{ early: ActOutcome | undefined; outcome: ActOutcome }> {
    let early: ActOutcome | undefined;
    if (step.action.kind === 'timeout') {
      const first = this.moves.length;
      await this.advanceTo(step.at - 1);
      const during = this.moves.slice(first);
      early = { movedTo: during, session: this.observe(during.at(-1)) };
    }
    const first = this.moves.length;
    await this.advanceTo(step.at);
    await this.perform(step.action);
    await flush();
    const during = this.moves.slice(first);
    return { early, outcome: { movedTo: during, session: this.observe(during.at(-1)) } };
  }

  /** The session as the supervisor shows it (in `state`, if it has moved on since). */
  observe(state: SessionStateName = this.session.state): Observed {
    const { requestsInFlight, openStreams } = this.session.info();
    return { state, requestsInFlight, openStreams, found: this.supervisor.has(this.session.id) };
  }

  private async perform(action: ModelAction): Promise<void> {
    switch (action.kind) {
      case 'request-start':
        if (this.sessionHandle) await this.startToolCall();
        else await this.postInitialize();
        return;
      case 'request-end': {
        const request = this.inFlight.pop();
        if (!request) throw new Error('The path ends a request that was never started');
        await request.end();
        return;
      }
      case 'initialized':
        // Already done by the `prepare resolves` it follows (see `deliverHandshake`).
        return;
      case 'stream-open': {
        const response = await this.send(this.inSession('GET'));
        expect(response.status, 'GET answer').toBe(200);
        expect(response.headers.get('content-type')).toBe('text/event-stream');
        this.stream = response;
        this.openAnswers.set('the GET stream', Promise.resolve(response));
        return;
      }
      case 'stream-close': {
        const stream = this.stream;
        if (!stream) throw new Error('The path closes a stream that was never opened');
        this.stream = undefined;
        this.openAnswers.delete('the GET stream');
        const before = this.session.info().openStreams;
        await stream.body?.cancel();
        await until(this.session, 'the server to see the stream cancelled', () => {
          return this.session.info().openStreams < before;
        });
        return;
      }
      case 'notification': {
        const response = await this.send(
          post(rpcNotification('notifications/roots/list_changed'), this.session.id),
        );
        await response.text();
        expect(response.status, 'notification answer').toBe(202);
        return;
      }
      case 'close': {
        const response = await this.send(this.inSession('DELETE'));
        await response.text();
        expect(response.status, 'DELETE answer').toBe(200);
        return;
      }
      case 'timeout':
        // The clock was brought to the deadline by `act`.
        await this.answerFailedHandshake();
        return;
      case 'settle':
        if (action.actor === 'release') {
          if (action.outcome === 'done') this.controls.closing.resolve();
          else this.controls.closing.reject(new Error('release failed'));
        } else if (action.outcome === 'done') {
          await this.deliverHandshake();
        } else {
          this.prepare.reject(new Error('prepare failed'));
          await this.answerFailedHandshake();
        }
        return;
    }
  }

  /** POST initialize: admission, with the initialize request in flight while the server is built. */
  private async postInitialize(): Promise<void> {
    this.initialize = this.send(post(initializeBody(INITIALIZE_ID)));
    const sessionId = await Promise.race([
      this.admitted.promise,
      this.initialize.then((response) => {
        throw new Error(`initialize answered ${response.status} before admission`);
      }),
    ]);
    this.sessionHandle = this.supervisor.get(sessionId);
    expect(this.sessionHandle, 'the admitted session').toBeDefined();
    const initialize = this.initialize;
    this.openAnswers.set('initialize', initialize);
    this.inFlight.push({
      end: () =>
        this.endRequest('initialize', async () => {
          this.controls.initializeAnswer.resolve();
          const [message] = await readAllMessages(await initialize);
          expect(message?.result, 'initialize result').toMatchObject({
            serverInfo: { name: 'model-over-http' },
          });
        }),
    });
  }

  /**
   * Ends the request answering `what` by `finish` (its answer delivered, or abandoned by the client),
   * and waits until the server has seen it end: when the response is over for node, which may come
   * after the client has read the last byte.
   */
  private async endRequest(what: string, finish: () => Promise<void>): Promise<void> {
    const before = this.session.info().requestsInFlight;
    this.openAnswers.delete(what);
    await finish();
    await until(this.session, `the server to see the ${what} request end`, () => {
      return this.session.info().requestsInFlight < before;
    });
  }

  /** The server is built: the transport answers initialize (200, with the session id) and the session is initialized. */
  private async deliverHandshake(): Promise<void> {
    this.prepare.resolve(new ServerDouble(this.controls));
    const response = await this.initializeResponse();
    this.handshakeAnswered = true;
    expect(response.status, 'initialize answer').toBe(200);
    expect(response.headers.get('mcp-session-id')).toBe(this.session.id);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
  }

  /** The session ended before its server was ready: the initialize request is answered 500. */
  private async answerFailedHandshake(): Promise<void> {
    if (this.handshakeAnswered || this.session.isLive) return;
    const response = await this.initializeResponse();
    this.handshakeAnswered = true;
    this.openAnswers.delete('initialize');
    expect(response.status, 'initialize answer').toBe(500);
    expect(await rpcErrorCode(response)).toBe(RPC.internalError);
  }

  private initializeResponse(): Promise<Response> {
    if (!this.initialize) throw new Error('No initialize request was sent');
    return this.initialize;
  }

  /**
   * POST tools/call of `hold`: its answer (SSE) has started, its result waits for the path. The
   * request ends either way a request over HTTP can: odd-numbered calls are abandoned by their
   * client (aborted mid-answer), even-numbered ones are answered and read to the end.
   */
  private async startToolCall(): Promise<void> {
    this.calls += 1;
    const call = this.calls;
    const client = new AbortController();
    const body = rpcRequest('tools/call', { name: 'hold', arguments: { call } });
    const response = await this.send({ ...post(body, this.session.id), signal: client.signal });
    expect(response.status, 'tools/call answer').toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    this.openAnswers.set(`tools/call ${call}`, Promise.resolve(response));
    this.inFlight.push({
      end: () =>
        this.endRequest(`tools/call ${call}`, async () => {
          if (call % 2 === 1) {
            client.abort();
            return;
          }
          this.controls.calls.release(call);
          const [message] = await readAllMessages(response);
          expect(firstText(message?.result), 'tools/call result').toBe(`done ${call}`);
        }),
    });
  }

  /** Answers the client is still waiting on (bodies not ended), by what they answer. */
  get waitingOn(): string[] {
    return [...this.openAnswers.keys()];
  }

  /** Reads the answer to `what` to its end: true once it has ended. */
  async answerEnds(what: string): Promise<boolean> {
    const answer = this.openAnswers.get(what);
    if (!answer) throw new Error(`No answer to ${what} is open`);
    await within(
      answer.then((response) => response.text()),
      `the answer to ${what} to end`,
    );
    this.openAnswers.delete(what);
    return true;
  }

  /** Sends `request` with the session's id and reads the answer (status and JSON-RPC error code). */
  async sendWithSessionId(
    method: 'POST' | 'GET' | 'DELETE',
  ): Promise<{ status: number; code: number | undefined }> {
    const request = method === 'POST' ? post(rpcRequest('ping'), this.session.id) : this.inSession(method);
    const response = await this.send(request);
    return { status: response.status, code: await rpcErrorCode(response) };
  }

  /** Ends every request, shuts the supervisor down and closes the server and every connection. */
  async stop(): Promise<void> {
    this.controls.calls.releaseAll();
    this.controls.initializeAnswer.resolve();
    this.controls.closing.resolve();
    await stopSupervisor(this.supervisor, this.clock);
    await Promise.all(this.responses.map((response) => response.body?.cancel().catch(() => {})));
    await closeServer(this.server);
    await this.initialize?.catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The specification

/** The steps of a path grouped as they go over the wire: `prepare resolves` with its `INITIALIZED`. */
function actsOf(path: ModelPath): Array<{ readonly first: number; readonly count: number }> {
  const acts: Array<{ first: number; count: number }> = [];
  for (let index = 0; index < path.steps.length; index += 1) {
    const count = isPrepareDone(path.steps[index]?.action) ? 2 : 1;
    acts.push({ first: index, count });
    index += count - 1;
  }
  return acts;
}

describe('a session served over HTTP follows every generated path the wire can express', () => {
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_description, path) => {
    const runtime = new WireRuntime(path.variant);
    await runtime.listen();
    try {
      let previous = path.initial;
      for (const { first, count } of actsOf(path)) {
        const steps = path.steps.slice(first, first + count);
        const [step] = steps;
        if (!step) throw new Error('An act without steps');
        const label = `step ${first + 1}${count > 1 ? `–${first + count}` : ''}, ${steps
          .map(({ description }) => description)
          .join(' + ')} at ${step.at} ms`;
        const { early, outcome } = await runtime.act(step);
        if (early) {
          expect(early, `${label}: 1 ms before the deadline`).toEqual({
            movedTo: [],
            session: expectedObservation(previous),
          });
        }
        expect(outcome, label).toEqual(expectedOutcome(steps));
        previous = steps.at(-1)?.expected ?? previous;
      }
      if (path.output) {
        // Oracle times count from admission, and the supervisor's clock started at the model's createdAt.
        await expect(runtime.session.whenDisposed()).resolves.toEqual({
          ...path.output,
          sessionId: runtime.session.id,
        });
      }
      if (!expectedObservation(path.final).found) {
        // An ended session leaves no client waiting: its transport is closed before its server.
        for (const what of runtime.waitingOn) {
          await expect(runtime.answerEnds(what), `the answer to ${what}`).resolves.toBe(true);
        }
        await expect(runtime.sendWithSessionId('POST'), 'a request for the ended session').resolves.toEqual({
          status: 404,
          code: RPC.sessionNotFound,
        });
      }
    } finally {
      await runtime.stop();
    }
  });
});

describe('what the wire cannot express', () => {
  it('a session is not reachable by its id until its server is built: requests, streams and DELETE get 404', async () => {
    const runtime = new WireRuntime(MODEL_VARIANTS[0] as ModelVariant);
    await runtime.listen();
    try {
      const { outcome: admitted } = await runtime.act(
        pathOfActions(runtime.variant, [REQUEST_START]).steps[0] as ModelStep,
      );
      expect(admitted.session).toEqual({
        state: 'created',
        requestsInFlight: 1,
        openStreams: 0,
        found: true,
      });
      for (const method of ['POST', 'GET', 'DELETE'] as const) {
        await expect(runtime.sendWithSessionId(method), method).resolves.toEqual({
          status: 404,
          code: RPC.sessionNotFound,
        });
      }
      expect(runtime.observe()).toEqual(admitted.session);
    } finally {
      await runtime.stop();
    }
  });

  it('leaves out no path generated after the handshake, whose sessions hold one GET stream at most', () => {
    expect(afterHandshake.filter((path) => !overTheWire(path)).map((path) => path.description)).toEqual([]);
  });
});

describe('the paths run over HTTP cover the session machine', () => {
  it('visit every state node', () => {
    const visited = stateNodesVisited(paths);
    expect(enumerateStateNodes().filter((id) => !visited.has(id))).toEqual([]);
  });

  it('take every transition, guarded branches included, that a request, a stream or the clock can cause', () => {
    const taken = transitionsTaken(paths);
    const all = enumerateTransitions().map((transition) => transition.id);
    expect(Object.keys(NOT_REACHABLE_OVER_HTTP).filter((id) => !all.includes(id))).toEqual([]);
    expect(all.filter((id) => !taken.has(id))).toEqual(Object.keys(NOT_REACHABLE_OVER_HTTP));
  });
});
