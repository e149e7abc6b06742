import { isSupervisorError } from '../errors.js';
import type { Logger } from '../logging.js';
import { claimedModernRevision, namesModernRevision } from '../mcp/protocol-versions.js';
import type { AuthInfo } from '../mcp/sdk-types.js';
import type { RequestExtras } from './dispatch.js';
import { isPlainLegacyPost } from './era-shortcut.js';
import { errorResponse, internalErrorResponse } from './error-response.js';
import { authenticateRequest, checkMethodAndHost, type GateOptions, readJsonBody } from './request-gate.js';

/**
 * The handler that serves the 2026-07-28 revision: SDK v2's `createMcpHandler(factory, { legacy:
 * 'reject' })` fits as is. Any object with the same `fetch` does.
 */
export interface ModernHandler {
  fetch(request: Request, options?: { authInfo?: AuthInfo; parsedBody?: unknown }): Promise<Response>;
  /** Called once the supervisor has shut down (SDK v2: aborts in-flight modern exchanges). */
  close?(): Promise<void>;
}

/**
 * One request of the modern (sessionless) leg, served or refused by the gate in front of it (403, 401,
 * 415, 413…); see `McpSessionSupervisor.subscribeTraffic`.
 */
export interface TrafficEvent {
  readonly type: 'request';
  readonly era: 'modern';
  /** The JSON-RPC method (a known MCP method, `batch`, `response`, or `other`); `GET`/`DELETE` otherwise. */
  readonly method: string;
  readonly status: number;
  /** Wall-clock time the response was ready, in ms. */
  readonly at: number;
}

export type TrafficListener = (event: TrafficEvent) => void;

/** SDK v2's classifier: true for 2025-era traffic. */
export type LegacyClassifier = (request: Request, parsedBody?: unknown) => Promise<boolean>;

export interface EraRouterOptions {
  readonly gate: GateOptions;
  readonly modern: ModernHandler;
  readonly classify: () => Promise<LegacyClassifier>;
  /** The supervised (2025) leg: `dispatchRequest` for this supervisor. */
  readonly legacy: (request: Request, extras: RequestExtras) => Promise<Response>;
  readonly logger: Logger | undefined;
  readonly onTraffic: TrafficListener;
}

/**
 * Method names used as a metric label: a client chooses the method, so anything unknown is `other`
 * and the label's cardinality stays bounded.
 */
const KNOWN_METHODS = new Set([
  'server/discover',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'subscriptions/listen',
  'notifications/cancelled',
  'notifications/progress',
]);

function methodLabel(httpMethod: string, body: unknown): string {
  if (httpMethod !== 'POST') return httpMethod;
  if (Array.isArray(body)) return 'batch';
  const method = (body as { method?: unknown } | null)?.method;
  if (typeof method !== 'string') return 'response';
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/**
 * The era and method of a request the gate refused, often before its body was read: a modern request
 * names its revision in `MCP-Protocol-Version` (or, once read, in its body) and its method in
 * `Mcp-Method`. `undefined` for a 2025-era request, which its sessions account for.
 */
function refusedModernMethod(request: Request, parsedBody: unknown): string | undefined {
  const { headers, method } = request;
  const modern =
    namesModernRevision(headers.get('mcp-protocol-version')) ||
    claimedModernRevision(parsedBody) !== undefined;
  if (!modern) return undefined;
  // Any method token reaches a fetch entry point: the ones the gate refuses share one label.
  if (method !== 'POST') return method === 'GET' || method === 'DELETE' ? method : 'other';
  if (parsedBody !== undefined) return methodLabel(method, parsedBody);
  const named = headers.get('mcp-method');
  return named !== null && KNOWN_METHODS.has(named) ? named : 'other';
}

/**
 * One endpoint for both protocol eras. Every request passes the same gate (Host/Origin, `authenticate`,
 * Content-Type, body limits), its body is read once, and SDK v2's own classifier (`isLegacyRequest`,
 * given the parsed body so it reads nothing again) sends 2025-era traffic to the supervised sessions and
 * the rest to the modern handler, which never opens a session nor takes a slot.
 *
 * A GET or a DELETE is not asked: the classifier's first rule sends every method but POST to the
 * legacy leg (its `http-method` reason), before it looks at a header or a body. Asking it anyway
 * costs three promise hops and a header read per request on the churn path (DELETE) and on every
 * SSE stream (GET), for an answer known in advance. Nor is a plain 2025-era POST (`era-shortcut.ts`),
 * which the classifier would also send to the sessions, after two failed zod parses.
 */
export function createEraRouter(
  options: EraRouterOptions,
): (request: Request, extras?: RequestExtras) => Promise<Response> {
  const { gate, modern, legacy, logger, onTraffic } = options;
  // Loaded once; from then on a request does not await the load again.
  let classifier: LegacyClassifier | undefined;
  return async (request, extras = {}) => {
    let parsedBody: unknown;
    try {
      checkMethodAndHost(request, gate);
      const authenticating = authenticateRequest(request, gate);
      const principal = authenticating instanceof Promise ? await authenticating : authenticating;
      const isPost = request.method === 'POST';
      if (isPost) parsedBody = await readJsonBody(request, extras, gate);
      // Loaded before any request is routed, shortcuts included: without SDK v2 installed, every
      // request is answered 500 naming it (and logged), not only those the classifier is asked about.
      classifier ??= await options.classify();
      const isLegacy =
        !isPost ||
        isPlainLegacyPost(parsedBody, request.headers.get('mcp-protocol-version')) ||
        (await classifier(request, parsedBody));
      if (isLegacy) {
        // Object.assign, not a spread followed by new keys (a hidden class per request on Node 20).
        const legacyExtras: RequestExtras = Object.assign({}, extras, { authenticated: { principal } });
        if (parsedBody !== undefined) legacyExtras.parsedBody = parsedBody;
        return legacy(request, legacyExtras);
      }
      const authInfo = principal?.authInfo ?? extras.authInfo;
      const response = await modern.fetch(request, {
        ...(authInfo === undefined ? {} : { authInfo }),
        ...(parsedBody === undefined ? {} : { parsedBody }),
      });
      onTraffic({
        type: 'request',
        era: 'modern',
        method: methodLabel(request.method, parsedBody),
        status: response.status,
        at: Date.now(),
      });
      return response;
    } catch (error) {
      const response = isSupervisorError(error) ? errorResponse(error) : internalErrorResponse();
      if (!isSupervisorError(error) && !request.signal.aborted) {
        logger?.error({ err: error, method: request.method }, 'request failed unexpectedly');
      }
      // Refusals are counted here, off the served path: only a refused request pays for its era's lookup.
      const method = refusedModernMethod(request, parsedBody);
      if (method !== undefined) {
        onTraffic({ type: 'request', era: 'modern', method, status: response.status, at: Date.now() });
      }
      return response;
    }
  };
}
