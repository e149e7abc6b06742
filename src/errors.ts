/**
 * Every error the supervisor raises on purpose, by code. The HTTP layer maps codes to statuses in
 * one place (`src/http/error-response.ts`); library users switch on `error.code`.
 */
export interface SupervisorErrorData {
  /** Every slot is taken and nothing could be evicted. */
  'capacity-exceeded': { maxSessions: number; retryAfterMs: number };
  /** This principal already holds `maxSessionsPerPrincipal` live sessions. */
  'principal-capacity-exceeded': { maxSessionsPerPrincipal: number; retryAfterMs: number };
  /** The supervisor is draining or stopped and admits no new session. */
  draining: { phase: 'draining' | 'stopped'; retryAfterMs: number };
  /** No live session has that id (unknown, expired, deleted or disposed). */
  'session-not-found': { sessionId: string };
  /** An option given to `createSessionSupervisor` is out of range or of the wrong type. */
  'invalid-option': { option: string; value: unknown; expected: string };

  // Request-level problems, raised by the HTTP layer.
  /** The HTTP method is not one MCP's Streamable HTTP uses. */
  'method-not-allowed': { method: string; allow: readonly string[] };
  /** A request other than `initialize` came without `Mcp-Session-Id`. */
  'missing-session-id': { method: string };
  /** The `Mcp-Session-Id` header has characters outside 0x21–0x7E or is too long. */
  'invalid-session-id': { length: number };
  /** `initialize` sent inside a session, or batched with other messages. */
  'invalid-request': { reason: string };
  /** The body is not JSON, or not JSON-RPC. */
  'parse-error': { reason: string };
  'unsupported-media-type': { contentType: string | null };
  'not-acceptable': { accept: string | null; required: readonly string[] };
  'payload-too-large': { limitBytes: number };
  /** The request body did not arrive in full within `bodyTimeout` (a slow or stalled client). */
  'request-timeout': { timeoutMs: number };
  /** Host or Origin not on the allow-list (DNS-rebinding protection). */
  forbidden: { header: 'host' | 'origin'; value: string | null };
  /** `authenticate` refused the request's credentials. */
  unauthorized: { reason: string; wwwAuthenticate?: string };
  /**
   * An optional feature was used without its library installed (an optional peer dependency):
   * `package` names what to install, `feature` the subpath export that needs it.
   */
  'missing-peer-dependency': { package: string; feature: string };
  /** The cluster registry (e.g. Redis) could not be reached for an operation that needs it. */
  'registry-unavailable': { operation: string; retryAfterMs: number };
  /**
   * A 2026-07-28 (sessionless) request reached an endpoint that serves only 2025-era sessions (no
   * `modern` handler): JSON-RPC -32022 with the revisions served, so a negotiating client falls back.
   */
  'unsupported-protocol-version': { requested: string; supported: readonly string[] };
  /** Neither MCP SDK the server could be built with is installed (they are peer dependencies). */
  'sdk-not-installed': { packages: readonly string[] };
}

export type SupervisorErrorCode = keyof SupervisorErrorData;

/**
 * @example
 * ```ts
 * try { supervisor.open(); }
 * catch (error) {
 *   if (isSupervisorError(error, 'capacity-exceeded')) retryLater(error.data.retryAfterMs);
 * }
 * ```
 */
export class SupervisorError<C extends SupervisorErrorCode = SupervisorErrorCode> extends Error {
  override readonly name = 'SupervisorError';

  constructor(
    readonly code: C,
    readonly data: SupervisorErrorData[C],
    message: string,
  ) {
    super(message);
  }
}

export function isSupervisorError<C extends SupervisorErrorCode>(
  error: unknown,
  code?: C,
): error is SupervisorError<C> {
  return error instanceof SupervisorError && (code === undefined || error.code === code);
}

export const capacityExceeded = (
  maxSessions: number,
  retryAfterMs: number,
): SupervisorError<'capacity-exceeded'> =>
  new SupervisorError(
    'capacity-exceeded',
    { maxSessions, retryAfterMs },
    `Maximum number of sessions (${maxSessions}) reached. Please try again later.`,
  );

export const principalCapacityExceeded = (
  maxSessionsPerPrincipal: number,
  retryAfterMs: number,
): SupervisorError<'principal-capacity-exceeded'> =>
  new SupervisorError(
    'principal-capacity-exceeded',
    { maxSessionsPerPrincipal, retryAfterMs },
    `Maximum number of sessions per client (${maxSessionsPerPrincipal}) reached. Please try again later.`,
  );

export const sessionNotFound = (sessionId: string): SupervisorError<'session-not-found'> =>
  new SupervisorError('session-not-found', { sessionId }, 'Session not found');

export const registryUnavailable = (
  operation: string,
  retryAfterMs: number,
  cause?: unknown,
): SupervisorError<'registry-unavailable'> => {
  const error = new SupervisorError(
    'registry-unavailable',
    { operation, retryAfterMs },
    'The session registry is unavailable. Please try again later.',
  );
  // Kept for logs; the message sent to clients never includes it.
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
};

export const notAdmitting = (
  phase: 'draining' | 'stopped',
  retryAfterMs: number,
): SupervisorError<'draining'> =>
  new SupervisorError(
    'draining',
    { phase, retryAfterMs },
    `The server is shutting down (${phase}); no new sessions.`,
  );
