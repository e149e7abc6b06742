import { SupervisorError } from '../errors.js';

/**
 * The JSON-RPC ids of the requests in flight in each session. The SDK transport keeps one response
 * stream per id: a second request with an id already in flight would replace the first one's
 * mapping and never be answered, leaving its session `active` while its connection stays open. So
 * a duplicate is refused here, before the transport sees it.
 *
 * Keyed by the session object (weakly: an ended session takes its ids with it). `7` and `"7"` are
 * different ids in JSON-RPC and here. Cost: one `Set` lookup per request id, nothing for GET,
 * DELETE, notifications and responses.
 */
const inFlight = new WeakMap<object, Set<string>>();

const NOTHING = (): void => {};

function requestIdKey(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { id, method } = message as { id?: unknown; method?: unknown };
  // Only requests: notifications have no id, and a response's id belongs to the server's requests.
  if (typeof method !== 'string') return undefined;
  if (typeof id === 'number') return `n:${id}`;
  if (typeof id === 'string') return `s:${id}`;
  return undefined;
}

function duplicateId(key: string): SupervisorError<'invalid-request'> {
  const id = key.startsWith('s:') ? JSON.stringify(key.slice(2)) : key.slice(2);
  return new SupervisorError(
    'invalid-request',
    { reason: 'duplicate request id' },
    `Invalid Request: a request with id ${id} is already in flight in this session`,
  );
}

/**
 * Records the request ids of `body` as in flight in `session`, then runs `begin` (which counts the
 * request); returns what ends both. Throws `invalid-request` (400) without running `begin` when an
 * id is already in flight or repeated within a batch.
 *
 * @example
 * ```ts
 * const settle = withRequestIds(session, parsedBody, () => session.beginRequest());
 * ```
 */
export function withRequestIds(session: object, body: unknown, begin: () => () => void): () => void {
  const keys: string[] = [];
  for (const message of Array.isArray(body) ? body : [body]) {
    const key = requestIdKey(message);
    if (key !== undefined) keys.push(key);
  }
  if (keys.length === 0) return begin();
  let ids = inFlight.get(session);
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index] as string;
    if (ids?.has(key) || keys.indexOf(key) !== index) throw duplicateId(key);
  }
  if (ids === undefined) {
    ids = new Set();
    inFlight.set(session, ids);
  }
  for (const key of keys) ids.add(key);
  const held = ids;
  let settleCount: () => void = NOTHING;
  try {
    settleCount = begin();
  } catch (error) {
    for (const key of keys) held.delete(key);
    throw error;
  }
  let settled = false;
  return () => {
    if (settled) return;
    settled = true;
    for (const key of keys) held.delete(key);
    settleCount();
  };
}
