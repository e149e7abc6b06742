import type { SessionEndReason } from '../../machines/session.machine.js';
import { isSupervisorError, SupervisorError, sessionNotFound } from '../errors.js';
import type { Logger } from '../logging.js';
import { claimedModernRevision, LEGACY_PROTOCOL_VERSIONS } from '../mcp/protocol-versions.js';
import type { AuthInfo, SessionHttpTransport } from '../mcp/sdk-types.js';
import type { SupervisedSession } from '../session.js';
import { errorResponse, internalErrorResponse } from './error-response.js';
import {
  authenticateRequest,
  checkMethodAndHost,
  type GateOptions,
  type Principal,
  readJsonBody,
} from './request-gate.js';
import { carriesRequest, NOTHING_TO_SETTLE, withRequestIds } from './request-ids.js';
import { settleWhenDelivered } from './response-lifetime.js';
import { readSessionId } from './session-id.js';

export { ALLOWED_METHODS, type Authenticate, type Principal } from './request-gate.js';

/** Per-request extras an embedding framework may already have. */
export interface RequestExtras {
  /** The JSON body, when a framework middleware (e.g. `express.json()`) has already parsed it. */
  parsedBody?: unknown;
  /** Verified credentials, passed on to the MCP server's handlers (`extra.authInfo`). */
  authInfo?: AuthInfo;
  /**
   * @internal Set by the node adapter: reads the body straight off the `IncomingMessage`, so the
   * web `Request` never has to build a body stream.
   */
  readBody?: (limitBytes: number) => Promise<string>;
  /**
   * @internal Set by the node adapter: calls `settle` once the node response is over, and
   * `beforeHead` (when given) right before the response head is written, with whether the whole
   * answer is in hand then (`false` also when the client went away before any of it was written).
   */
  onDelivered?: (settle: () => void, beforeHead?: (complete: boolean) => void) => void;
  /**
   * @internal Set by the era router, which already ran the gate (`request-gate.ts`): the principal
   * it established, so `authenticate` runs once per request.
   */
  authenticated?: { readonly principal: Principal | undefined };
}

export type DispatchOptions = GateOptions;

/** What the dispatcher needs of the supervisor; kept narrow so the routing reads on its own. */
export interface DispatchHost<TSession extends SupervisedSession<unknown>> {
  readonly dispatch: DispatchOptions;
  readonly logger: Logger | undefined;
  get(sessionId: string): TSession | undefined;
  /**
   * Admits a session for an `initialize` request (throws `capacity-exceeded` / `draining`). A
   * clustered supervisor reserves the slot in its registry first, so it answers with a promise.
   */
  admit(initialize: InitializeMessage, principal: Principal | undefined): TSession | Promise<TSession>;
  /**
   * Asked when `get` misses, before answering 404: a clustered supervisor rebuilds here a session
   * that another node holds. Without it, a miss is a 404.
   */
  recover?(sessionId: string, principalId: string | undefined): Promise<TSession | undefined>;
  close(sessionId: string, reason: SessionEndReason): boolean;
  transportOf(session: TSession): SessionHttpTransport | undefined;
}

export interface InitializeMessage {
  readonly params: {
    readonly protocolVersion: string;
    readonly clientInfo: { name: string; version: string };
  };
}

const isInitializeMethod = (message: unknown): boolean =>
  typeof message === 'object' &&
  message !== null &&
  (message as { method?: unknown }).method === 'initialize';

const POST_ACCEPTS = ['application/json', 'text/event-stream'] as const;

function requirePostAccept(request: Request): void {
  const accept = request.headers.get('accept');
  if (accept === null || !POST_ACCEPTS.every((type) => accept.includes(type))) {
    throw new SupervisorError(
      'not-acceptable',
      { accept, required: POST_ACCEPTS },
      'Not Acceptable: Client must accept both application/json and text/event-stream',
    );
  }
}

/**
 * The answer table of the spec ("HTTP behaviour"), for any web-standard `Request`. Refusals are
 * thrown as `SupervisorError`s and turned into responses in one place (`errorResponse`); the
 * session's own transport answers everything else.
 */
export async function dispatchRequest<TSession extends SupervisedSession<unknown>>(
  host: DispatchHost<TSession>,
  request: Request,
  extras: RequestExtras = {},
): Promise<Response> {
  try {
    return await route(host, request, extras);
  } catch (error) {
    if (isSupervisorError(error)) return errorResponse(error);
    // A client that hung up mid-body is routine, not a server fault; nobody reads this answer.
    if (request.signal.aborted) return internalErrorResponse();
    host.logger?.error({ err: error, method: request.method }, 'request failed unexpectedly');
    return internalErrorResponse();
  }
}

async function route<TSession extends SupervisedSession<unknown>>(
  host: DispatchHost<TSession>,
  request: Request,
  extras: RequestExtras,
): Promise<Response> {
  const { method } = request;
  if (extras.authenticated === undefined) checkMethodAndHost(request, host.dispatch);
  const sessionId = readSessionId(request.headers);
  const authenticating = extras.authenticated
    ? extras.authenticated.principal
    : authenticateRequest(request, host.dispatch);
  const principal = authenticating instanceof Promise ? await authenticating : authenticating;
  // Object.assign, not `{ ...extras, authInfo }`: on Node 20 a spread followed by a new key gives
  // every request's object a hidden class of its own (see machines/session.machine.ts).
  if (principal?.authInfo !== undefined) extras = Object.assign({}, extras, { authInfo: principal.authInfo });
  if (sessionId === undefined) {
    if (method !== 'POST') throw missingSessionId(method);
    return initialize(host, request, extras, principal);
  }
  // Look up before reading a body, so an unknown session costs no buffering. A session that is not
  // the caller's is answered exactly as an unknown one: ids are not credentials, and a different
  // answer would tell a prober that the id exists.
  const owned = (candidate: TSession | undefined): candidate is TSession =>
    candidate !== undefined && candidate.principal === principal?.id;
  // Another principal's session held here goes the way of an unknown id (in a cluster, a registry
  // round trip that refuses it), so the timing does not tell either.
  const local = host.get(sessionId);
  if (!owned(owned(local) ? local : await host.recover?.(sessionId, principal?.id))) {
    throw sessionNotFound(sessionId);
  }
  let parsedBody: unknown;
  if (method === 'POST') {
    parsedBody = await readJsonBody(request, extras, host.dispatch);
    // JSON-RPC: an empty batch is an invalid request (the SDK would answer it 202, as if accepted).
    if (Array.isArray(parsedBody) && parsedBody.length === 0) {
      throw new SupervisorError('invalid-request', { reason: 'empty batch' }, 'Invalid Request: empty batch');
    }
    if (
      isInitializeMethod(parsedBody) ||
      (Array.isArray(parsedBody) && parsedBody.some(isInitializeMethod))
    ) {
      throw new SupervisorError(
        'invalid-request',
        { reason: 'initialize inside a session' },
        'Invalid Request: Server already initialized',
      );
    }
  }
  // Looked up again: the session may have ended while the body was arriving, or (in a cluster) been
  // taken by another node, from which this request takes it back.
  const again = host.get(sessionId);
  const session = owned(again) ? again : await host.recover?.(sessionId, principal?.id);
  const transport = owned(session) ? host.transportOf(session) : undefined;
  if (!session || !transport) throw sessionNotFound(sessionId);
  // A DELETE ends the session rather than using it: counting it would wake an idle session on its way
  // out. A POST with no request in it (a notification) is activity, not a request in flight.
  const settle = withRequestIds(session, parsedBody, () => {
    if (method === 'GET') return session.openStream();
    if (method === 'DELETE') return NOTHING_TO_SETTLE;
    if (carriesRequest(parsedBody)) return session.beginRequest();
    session.recordActivity();
    return NOTHING_TO_SETTLE;
  });
  try {
    const response = await transport.handleRequest(request, passOn(parsedBody, extras));
    return deliver(response, settle, extras);
  } catch (error) {
    settle();
    throw error;
  }
}

/** Keeps the request counted until its response is over: node's own `close`, or the body's end. */
function deliver(response: Response, settle: () => void, extras: RequestExtras): Response {
  if (extras.onDelivered === undefined) return settleWhenDelivered(response, settle);
  extras.onDelivered(settle);
  return response;
}

/**
 * A well-formed initialize: the checks the SDKs' `isInitializeRequest` makes that matter here
 * (the supervisor reads `protocolVersion` and `clientInfo`; the server validates the rest).
 */
function isInitializeRequest(message: unknown): message is InitializeMessage {
  const { id, params } = message as { id?: unknown; params?: unknown };
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof params !== 'object' || params === null) {
    return false;
  }
  const { protocolVersion, clientInfo, capabilities } = params as Record<string, unknown>;
  const info = clientInfo as { name?: unknown; version?: unknown } | null | undefined;
  return (
    typeof protocolVersion === 'string' &&
    typeof info === 'object' &&
    info !== null &&
    typeof info.name === 'string' &&
    typeof info.version === 'string' &&
    typeof capabilities === 'object' &&
    capabilities !== null
  );
}

/**
 * A sessionless POST that is not an initialize: a 2026-07-28 request (e.g. a negotiating client's
 * `server/discover` probe) is told which revisions are served here (-32022), so it falls back to a
 * session rather than reading "Mcp-Session-Id header is required" as a fault; anything else is
 * missing its session id.
 */
function notInitialize(message: unknown): SupervisorError {
  if (!isJsonRpcMessage(message)) return notJsonRpc();
  const requested = claimedModernRevision(message);
  if (requested === undefined) return missingSessionId('POST');
  return new SupervisorError(
    'unsupported-protocol-version',
    { requested, supported: LEGACY_PROTOCOL_VERSIONS },
    `Unsupported protocol version: ${requested} (this endpoint serves ${LEGACY_PROTOCOL_VERSIONS.join(', ')})`,
  );
}

/**
 * The shape of a JSON-RPC 2.0 message (request, notification or response), checked only on the way to
 * a refusal: the SDK's transport validates what it is given, this tells a body that is no message at
 * all (`42`, `null`, `{}`) from one that only lacks its session id.
 */
function isJsonRpcMessage(message: unknown): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const { jsonrpc, method, result, error } = message as Record<string, unknown>;
  return jsonrpc === '2.0' && (typeof method === 'string' || result !== undefined || error !== undefined);
}

/** -32600, as JSON-RPC answers a body that is valid JSON but no message (and the SDK v2 entry does). */
function notJsonRpc(): SupervisorError<'invalid-request'> {
  return new SupervisorError(
    'invalid-request',
    { reason: 'not a JSON-RPC message' },
    'Invalid Request: the body is not a JSON-RPC message',
  );
}

function missingSessionId(method: string): SupervisorError<'missing-session-id'> {
  return new SupervisorError(
    'missing-session-id',
    { method },
    'Bad Request: Mcp-Session-Id header is required',
  );
}

/** What the transport is handed: written out, not spread, so each request builds one small object. */
function passOn(
  parsedBody: unknown,
  { authInfo }: RequestExtras,
): { parsedBody?: unknown; authInfo?: AuthInfo } {
  if (authInfo === undefined) return parsedBody === undefined ? {} : { parsedBody };
  return parsedBody === undefined ? { authInfo } : { parsedBody, authInfo };
}

/** POST without a session id: only a well-formed `initialize`, alone, opens a session. */
async function initialize<TSession extends SupervisedSession<unknown>>(
  host: DispatchHost<TSession>,
  request: Request,
  extras: RequestExtras,
  principal: Principal | undefined,
): Promise<Response> {
  requirePostAccept(request);
  const body = await readJsonBody(request, extras, host.dispatch);
  if (Array.isArray(body)) {
    if (body.some(isInitializeMethod)) {
      throw new SupervisorError(
        'invalid-request',
        { reason: 'initialize in a batch' },
        'Invalid Request: Only one initialization request is allowed',
      );
    }
    throw body.length === 0 || !body.every(isJsonRpcMessage) ? notJsonRpc() : missingSessionId('POST');
  }
  if (!isInitializeMethod(body)) throw notInitialize(body);
  if (!isInitializeRequest(body)) {
    throw new SupervisorError(
      'invalid-request',
      { reason: 'malformed initialize' },
      'Invalid Request: malformed initialize request',
    );
  }
  // Capacity check and slot reservation, synchronously, before any asynchronous work (in a cluster,
  // one atomic registry operation first; awaited only then, so a lone supervisor takes no extra tick).
  const admitted = host.admit(body, principal);
  const session = admitted instanceof Promise ? await admitted : admitted;
  const settle = session.beginRequest();
  try {
    await session.ready();
    const transport = host.transportOf(session);
    if (!transport) throw sessionNotFound(session.id);
    const response = await transport.handleRequest(request, passOn(body, extras));
    if (response.status !== 200) {
      host.close(session.id, 'failed');
      return deliver(response, settle, extras);
    }
    if (extras.onDelivered === undefined) {
      session.markInitialized();
      return settleWhenDelivered(response, settle);
    }
    // On node the handshake is reported as its answer goes out, the moment the client can learn
    // the session id. An answer complete by then (the usual one: one SSE event, then the end) is
    // settled first, so the session goes from `created` to `idle` in one macrostep instead of to
    // `active` and back; an answer still streaming leaves it `active` until the stream is over.
    extras.onDelivered(settle, (complete) => {
      if (complete) settle();
      session.markInitialized();
    });
    return response;
  } catch (error) {
    settle();
    host.close(session.id, 'failed');
    // The session ended before its server was ready (factory failure, already logged; init
    // timeout; shutdown): the client's initialize failed on our side, not on its own.
    if (isSupervisorError(error, 'session-not-found')) return internalErrorResponse();
    throw error;
  }
}
