/**
 * The allow-lists that decide what of a machine's context and events may leave the process for the
 * inspector. No peer dependency: usable (and testable) without `@statelyai/inspect` or `ws`.
 *
 * @module
 */
import type { AnyEventObject, MachineContext } from 'xstate';

/**
 * Context fields that may leave the process, from the session and supervisor machines. An
 * allow-list rather than a deny-list: a field added to a machine later stays private until it is
 * named here.
 */
export const INSPECTED_CONTEXT_KEYS: ReadonlySet<string> = new Set([
  // session.machine.ts
  'sessionId',
  'createdAt',
  'timeouts',
  'streamsCountAsActivity',
  'lastActivityAt',
  'requestsInFlight',
  'openStreams',
  'requests',
  'initializedAt',
  'reason',
  'endedAt',
  'releaseIncomplete',
  // supervisor.machine.ts
  'maxSessions',
  'whenFull',
  'maxSessionsPerPrincipal',
  'live',
  'admitted',
  'rejected',
  'ended',
  'grace',
]);

/** Event fields that may leave the process besides `type`: what the machines' events carry. */
export const INSPECTED_EVENT_KEYS: ReadonlySet<string> = new Set([
  'at',
  'reason',
  'sessionId',
  'from',
  'to',
  'code',
  'grace',
  'principalSessions',
  // session activity events: the runtime's exact counts (the machine's context keeps 0, see
  // SessionMachineContext.requestsInFlight), so the inspector still shows requests in flight
  'requestsInFlight',
  'requests',
  // xstate.done.actor.* / xstate.error.actor.*
  'actorId',
]);

/** Longer strings are cut: nothing the machines hold is longer, so anything longer is not ours. */
const MAX_STRING_LENGTH = 256;

type Scalar = string | number | boolean | null;

function scalar(value: unknown): Scalar | undefined {
  if (typeof value === 'string')
    return value.length > MAX_STRING_LENGTH ? value.slice(0, MAX_STRING_LENGTH) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  return undefined;
}

/** A scalar, or a flat record of scalars (the machines' `timeouts`, `counts`, `ended`). */
function flatValue(value: unknown): Scalar | Record<string, Scalar> | undefined {
  const plain = scalar(value);
  if (plain !== undefined || typeof value !== 'object' || value === null || Array.isArray(value))
    return plain;
  const record: Record<string, Scalar> = {};
  let fields = 0;
  for (const [key, item] of Object.entries(value)) {
    const kept = scalar(item);
    if (kept === undefined) continue;
    record[key] = kept;
    // The machines' records have at most 7 fields: a large one is something else, not ours.
    if (++fields >= 32) break;
  }
  return record;
}

/**
 * The default context sanitizer: keeps only the fields in {@link INSPECTED_CONTEXT_KEYS}, and only
 * scalars or flat records of scalars, so neither a body, a server object, metadata nor a principal
 * can reach the inspector whatever a context happens to hold. Never throws.
 */
export function sanitizeInspectedContext(context: MachineContext): MachineContext {
  const kept: MachineContext = {};
  if (typeof context !== 'object' || context === null) return kept;
  try {
    for (const key of INSPECTED_CONTEXT_KEYS) {
      const value = flatValue((context as Record<string, unknown>)[key]);
      if (value !== undefined) kept[key] = value;
    }
  } catch {
    // A throwing getter on a foreign context: show nothing rather than fail the deferred send.
  }
  return kept;
}

/**
 * The default event sanitizer: `type` plus the scalar fields in {@link INSPECTED_EVENT_KEYS}. An
 * `error` (of `xstate.error.actor.*`) is reduced to its name and message; `input` (of
 * `xstate.init`) and `output` are dropped: the context they become is shown, sanitized. Never throws.
 */
export function sanitizeInspectedEvent(event: AnyEventObject): AnyEventObject {
  try {
    const kept: AnyEventObject = { type: String(event.type) };
    for (const key of INSPECTED_EVENT_KEYS) {
      const value = scalar((event as Record<string, unknown>)[key]);
      if (value !== undefined) kept[key] = value;
    }
    const error: unknown = (event as { error?: unknown }).error;
    if (error instanceof Error) kept.error = { name: error.name, message: scalar(error.message) };
    else if (error !== undefined) kept.error = { message: scalar(String(error)) };
    return kept;
  } catch {
    return { type: 'unknown' };
  }
}
