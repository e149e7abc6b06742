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
const inFlight = new WeakMap<object, Map<string, string | number>>();

/** What settles a request that counted nothing (a DELETE, a notification). */
export const NOTHING_TO_SETTLE = (): void => {};

type RequestId = string | number;

function requestId(message: unknown): RequestId | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { id, method } = message as { id?: unknown; method?: unknown };
  // Only requests: notifications have no id, and a response's id belongs to the server's requests.
  if (typeof method !== 'string') return undefined;
  return typeof id === 'number' || typeof id === 'string' ? id : undefined;
}

/** A request: a message with a method and an id (even one the server will refuse as malformed). */
const isRequest = (message: unknown): boolean =>
  typeof message === 'object' &&
  message !== null &&
  typeof (message as { method?: unknown }).method === 'string' &&
  (message as { id?: unknown }).id !== undefined;

/**
 * Whether `body` (one message or a batch) holds a request, which the server answers: a POST that
 * holds none (notifications, or the client's answers to the server's requests) is answered `202`
 * at once and is activity, not a request in flight.
 */
export function carriesRequest(body: unknown): boolean {
  return Array.isArray(body) ? body.some(isRequest) : isRequest(body);
}

const keyOf = (id: RequestId): string => (typeof id === 'number' ? `n:${id}` : `s:${id}`);

/**
 * The ids of the requests in flight in `session` now, e.g. to answer them when the session is cut
 * off with them still running.
 */
export function requestIdsInFlight(session: object): RequestId[] {
  return [...(inFlight.get(session)?.values() ?? [])];
}

function duplicateId(id: RequestId): SupervisorError<'invalid-request'> {
  return new SupervisorError(
    'invalid-request',
    { reason: 'duplicate request id' },
    `Invalid Request: a request with id ${JSON.stringify(id)} is already in flight in this session`,
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
  if (!Array.isArray(body)) return withRequestId(session, requestId(body), begin);
  const claimed = new Map<string, RequestId>();
  let ids = inFlight.get(session);
  for (const message of body) {
    const id = requestId(message);
    if (id === undefined) continue;
    const key = keyOf(id);
    if (ids?.has(key) || claimed.has(key)) throw duplicateId(id);
    claimed.set(key, id);
  }
  if (claimed.size === 0) return begin();
  if (ids === undefined) {
    ids = new Map();
    inFlight.set(session, ids);
  }
  for (const [key, id] of claimed) ids.set(key, id);
  const keys = [...claimed.keys()];
  const held = ids;
  let settleCount: () => void = NOTHING_TO_SETTLE;
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

/**
 * {@link withRequestIds} for one message, what nearly every request carries: no batch bookkeeping
 * (a Map of claims, an array of keys) for the one id, or for none (a notification, GET, DELETE).
 */
function withRequestId(session: object, id: RequestId | undefined, begin: () => () => void): () => void {
  if (id === undefined) return begin();
  const key = keyOf(id);
  let ids = inFlight.get(session);
  if (ids?.has(key)) throw duplicateId(id);
  if (ids === undefined) {
    ids = new Map();
    inFlight.set(session, ids);
  }
  ids.set(key, id);
  const held = ids;
  let settleCount: () => void;
  try {
    settleCount = begin();
  } catch (error) {
    held.delete(key);
    throw error;
  }
  let settled = false;
  return () => {
    if (settled) return;
    settled = true;
    held.delete(key);
    settleCount();
  };
}
