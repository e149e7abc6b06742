import { isSupervisorError, type SupervisorError, type SupervisorErrorCode } from '../errors.js';

/** JSON-RPC error codes used on the wire (MCP uses -32001 for an unknown session). */
export const JSON_RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  serverError: -32000,
  sessionNotFound: -32001,
  internalError: -32603,
  /** 2026-07-28 revision: the requested protocol revision is not served here. */
  unsupportedProtocolVersion: -32022,
} as const;

interface WireMapping {
  readonly status: number;
  readonly rpcCode: number;
}

/**
 * The one place where an error code becomes an HTTP status and a JSON-RPC error code. Every
 * refusal the HTTP layer makes, on every entry point, goes through {@link errorResponse}.
 */
const WIRE: Record<SupervisorErrorCode, WireMapping> = {
  'session-not-found': { status: 404, rpcCode: JSON_RPC.sessionNotFound },
  'capacity-exceeded': { status: 503, rpcCode: JSON_RPC.serverError },
  'principal-capacity-exceeded': { status: 503, rpcCode: JSON_RPC.serverError },
  draining: { status: 503, rpcCode: JSON_RPC.serverError },
  'method-not-allowed': { status: 405, rpcCode: JSON_RPC.serverError },
  'missing-session-id': { status: 400, rpcCode: JSON_RPC.serverError },
  'invalid-session-id': { status: 400, rpcCode: JSON_RPC.serverError },
  'invalid-request': { status: 400, rpcCode: JSON_RPC.invalidRequest },
  'parse-error': { status: 400, rpcCode: JSON_RPC.parseError },
  'unsupported-media-type': { status: 415, rpcCode: JSON_RPC.serverError },
  'not-acceptable': { status: 406, rpcCode: JSON_RPC.serverError },
  'payload-too-large': { status: 413, rpcCode: JSON_RPC.serverError },
  'request-timeout': { status: 408, rpcCode: JSON_RPC.serverError },
  forbidden: { status: 403, rpcCode: JSON_RPC.serverError },
  unauthorized: { status: 401, rpcCode: JSON_RPC.serverError },
  'invalid-option': { status: 500, rpcCode: JSON_RPC.internalError },
  'missing-peer-dependency': { status: 500, rpcCode: JSON_RPC.internalError },
  'registry-unavailable': { status: 503, rpcCode: JSON_RPC.serverError },
  'unsupported-protocol-version': { status: 400, rpcCode: JSON_RPC.unsupportedProtocolVersion },
  'sdk-not-installed': { status: 500, rpcCode: JSON_RPC.internalError },
};

function extraHeaders(error: SupervisorError): Record<string, string> {
  if (
    isSupervisorError(error, 'capacity-exceeded') ||
    isSupervisorError(error, 'principal-capacity-exceeded') ||
    isSupervisorError(error, 'draining') ||
    isSupervisorError(error, 'registry-unavailable')
  ) {
    return { 'Retry-After': String(Math.max(1, Math.ceil(error.data.retryAfterMs / 1000))) };
  }
  if (isSupervisorError(error, 'method-not-allowed')) return { Allow: error.data.allow.join(', ') };
  // The rest of a body that is late is not worth waiting for: the connection is not reused.
  if (isSupervisorError(error, 'request-timeout')) return { Connection: 'close' };
  if (isSupervisorError(error, 'unauthorized') && error.data.wwwAuthenticate !== undefined) {
    return { 'WWW-Authenticate': error.data.wwwAuthenticate };
  }
  return {};
}

/** A JSON-RPC error body (`id: null`: the request's id is unknown or not trusted here). */
export function errorBody(code: number, message: string, data?: unknown): string {
  const error = data === undefined ? { code, message } : { code, message, data };
  return JSON.stringify({ jsonrpc: '2.0', error, id: null });
}

/** The error data a client acts on (the revisions served); other codes keep theirs server-side. */
const wireData = (error: SupervisorError): unknown =>
  isSupervisorError(error, 'unsupported-protocol-version') ? error.data : undefined;

export function errorResponse(error: SupervisorError): Response {
  const { status, rpcCode } = WIRE[error.code];
  return new Response(errorBody(rpcCode, error.message, wireData(error)), {
    status,
    headers: { 'Content-Type': 'application/json', ...extraHeaders(error) },
  });
}

/** For anything unexpected: a 500 with a JSON-RPC body that reveals nothing of the cause. */
export function internalErrorResponse(): Response {
  return new Response(errorBody(JSON_RPC.internalError, 'Internal error'), {
    status: 500,
    headers: { 'Content-Type': 'application/json' },
  });
}
