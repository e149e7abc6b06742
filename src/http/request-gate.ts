import { SupervisorError } from '../errors.js';
import type { AuthInfo } from '../mcp/sdk-types.js';
import { type HostValidationOptions, validateHostAndOrigin } from './host-validation.js';
import { isJsonContentType, parseJson, readBodyText, tooLarge, withinBodyTimeout } from './request-body.js';

/**
 * The gate every request passes before it is served, whatever its protocol era: method, Host and
 * Origin (403), `authenticate` (401), Content-Type (415), body size (413) and body time (408), JSON
 * (400 -32700). The supervised (2025) leg and the modern (2026-07-28) leg call the same functions,
 * so the two eras refuse bad input with the same answers.
 */

export const ALLOWED_METHODS: readonly string[] = ['GET', 'POST', 'DELETE'];

export interface GateOptions extends HostValidationOptions {
  readonly maxBodyBytes: number;
  /** Time allowed for a whole request body to arrive, in ms (408 after it). */
  readonly bodyTimeoutMs: number;
  readonly authenticate: Authenticate | undefined;
}

/** Who is calling, as established by the embedding application's `authenticate` hook. */
export interface Principal {
  /** Stable identity, e.g. the subject of a verified token. Sessions are bound to it. */
  readonly id: string;
  /** Passed to the MCP server's handlers as `extra.authInfo` (v1) / `ctx.http.authInfo` (v2). */
  readonly authInfo?: AuthInfo;
}

/**
 * Establishes the principal of a request, or `undefined` for an anonymous one. To refuse a request
 * outright, throw `new SupervisorError('unauthorized', { reason, wwwAuthenticate }, 'Unauthorized')` (401).
 */
export type Authenticate = (request: Request) => Principal | undefined | Promise<Principal | undefined>;

/** Where the body comes from: parsed by a framework already, or read off a node request. */
export interface BodySource {
  readonly parsedBody?: unknown;
  readonly readBody?: (limitBytes: number) => Promise<string>;
}

/** 405 for a method Streamable HTTP does not use, 403 for a Host or Origin not allowed. */
export function checkMethodAndHost(request: Request, options: GateOptions): void {
  const { method } = request;
  if (!ALLOWED_METHODS.includes(method)) {
    throw new SupervisorError(
      'method-not-allowed',
      { method, allow: ALLOWED_METHODS },
      `Method not allowed: ${method}`,
    );
  }
  validateHostAndOrigin(request.headers, options);
}

/**
 * The caller's principal (`undefined`: anonymous); `authenticate` throws 401 itself. Without an
 * `authenticate` hook the answer is `undefined` at once, not a promise: awaiting one would add a
 * microtask hop to every request, `initialize` included, for nothing.
 */
export function authenticateRequest(
  request: Request,
  options: GateOptions,
): Principal | undefined | Promise<Principal | undefined> {
  const { authenticate } = options;
  if (authenticate === undefined) return undefined;
  // Async on purpose: a hook that throws synchronously rejects, as it always has, rather than throwing here.
  return (async () => authenticate(request))();
}

function requireJsonContentType(request: Request): void {
  const contentType = request.headers.get('content-type');
  if (!isJsonContentType(contentType)) {
    throw new SupervisorError(
      'unsupported-media-type',
      { contentType },
      'Unsupported Media Type: Content-Type must be application/json',
    );
  }
}

/** A POST's JSON body, read once within the size and time limits (415, 413, 408, 400 -32700). */
export async function readJsonBody(
  request: Request,
  source: BodySource,
  options: GateOptions,
): Promise<unknown> {
  requireJsonContentType(request);
  const { maxBodyBytes, bodyTimeoutMs } = options;
  if (source.parsedBody !== undefined) {
    // A framework's body parser has its own limit; the declared length still answers to this one,
    // so `maxBodyBytes` means the same behind Express as on node:http and fetch.
    const declared = Number(request.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
    return source.parsedBody;
  }
  // On node, the 408 carries `Connection: close`: the socket goes with the rest of the late body.
  const text = source.readBody
    ? await withinBodyTimeout(source.readBody(maxBodyBytes), bodyTimeoutMs)
    : await readBodyText(request, maxBodyBytes, bodyTimeoutMs);
  return parseJson(text);
}
