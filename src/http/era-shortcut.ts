import { LEGACY_PROTOCOL_VERSIONS } from '../mcp/protocol-versions.js';

/**
 * The plainest 2025-era POSTs, recognised without asking SDK v2's classifier, which would answer
 * "legacy" for them anyway. Its `isLegacyRequest` first tries the body as a JSON-RPC result and as
 * an error response with zod, and each failed parse builds its issues: ~20 µs and most of that
 * garbage for every request of a session, `initialize` and `notifications/initialized` included
 * (profiled under churn: the classifier was ~12 % of the demo's CPU per session).
 *
 * Only a body that the classifier's own rules send to the legacy leg whatever else it holds passes:
 * a plain object with no keys beyond a JSON-RPC request's or notification's (its schemas are
 * strict), `jsonrpc: "2.0"`, a string method, an id that is a string or a safe integer when there
 * is one, params absent or a plain object without `_meta` (the envelope claim of the 2026-07-28
 * revision lives there, as does anything its schema could refuse), and no `MCP-Protocol-Version`
 * header or one naming a 2025-era revision exactly. Anything else (batches, responses, `_meta`,
 * a modern or unusual header, malformed messages) goes to the classifier as before.
 * test/era-router.test.ts holds this to the SDK's answer on generated bodies and headers.
 *
 * @example
 * ```ts
 * isPlainLegacyPost({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }, '2025-11-25'); // true
 * isPlainLegacyPost({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: {} } }, null);            // false: ask the SDK
 * ```
 */
export function isPlainLegacyPost(body: unknown, protocolVersionHeader: string | null): boolean {
  if (protocolVersionHeader !== null && !LEGACY_PROTOCOL_VERSIONS.includes(protocolVersionHeader))
    return false;
  if (!isPlainObject(body)) return false;
  for (const key in body) {
    if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return false;
  }
  const { jsonrpc, id, method, params } = body as {
    jsonrpc?: unknown;
    id?: unknown;
    method?: unknown;
    params?: unknown;
  };
  if (jsonrpc !== '2.0' || typeof method !== 'string') return false;
  if ('id' in body && typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  if (!('params' in body)) return true;
  return isPlainObject(params) && !('_meta' in params);
}

/** An object as `JSON.parse` makes them: not null, not an array, nothing but `Object.prototype` behind it. */
function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
