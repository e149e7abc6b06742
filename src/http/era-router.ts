import { isSupervisorError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { AuthInfo } from '../mcp/sdk-types.js';
import type { RequestExtras } from './dispatch.js';
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

/** One request served by the modern (sessionless) leg; see `McpSessionSupervisor.subscribeTraffic`. */
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
 * One endpoint for both protocol eras. Every request passes the same gate (Host/Origin, `authenticate`,
 * Content-Type, body limits), its body is read once, and SDK v2's own classifier (`isLegacyRequest`,
 * given the parsed body so it reads nothing again) sends 2025-era traffic to the supervised sessions and
 * the rest to the modern handler, which never opens a session nor takes a slot.
 */
export function createEraRouter(
  options: EraRouterOptions,
): (request: Request, extras?: RequestExtras) => Promise<Response> {
  const { gate, modern, legacy, logger, onTraffic } = options;
  return async (request, extras = {}) => {
    try {
      checkMethodAndHost(request, gate);
      const principal = await authenticateRequest(request, gate);
      const parsedBody = request.method === 'POST' ? await readJsonBody(request, extras, gate) : undefined;
      const isLegacy = await (await options.classify())(request, parsedBody);
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
      if (isSupervisorError(error)) return errorResponse(error);
      if (request.signal.aborted) return internalErrorResponse();
      logger?.error({ err: error, method: request.method }, 'request failed unexpectedly');
      return internalErrorResponse();
    }
  };
}
