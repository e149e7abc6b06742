/**
 * V8's allocation-site pretenuring, and turning it off for a process that serves sessions.
 *
 * V8 watches each object literal's allocation site; when the objects it made were found alive at a
 * scavenge, it marks the site "tenure" and from then on allocates its objects straight in the old
 * generation, where only a mark-compact frees them. XState's transitions allocate a snapshot, a
 * context and an object per action at such sites, the SDK's per-session servers allocate their
 * schemas and validators at others, and V8 tenures them (it found them alive at every scavenge in
 * our traces, even in a loop that keeps nothing). What it costs:
 * - churn: objects that die old keep young ones alive through scavenges, so each initialize →
 *   DELETE session promoted ~40 KB (~22 KB with the heuristic off), and the server spent ~12 %
 *   more CPU per session (12 of 12 paired rounds);
 * - an expiry storm of 1 000 000 hibernated sessions left ~3.5 KB of old-space garbage per session:
 *   3–4 mark-compacts over a 0.6 GB heap, each a 45–110 ms stall of the event loop. With the
 *   heuristic off the same storm takes no mark-compact; its longest stall was 20–23 ms on node 20,
 *   31 and 39 ms on node 24 and 22 (see README, "Where performance stands").
 *
 * The setting is process-wide, and V8 keeps the decisions it made before: turning it off works
 * for sites not yet decided, so the earlier the better (the supervisor does it when it is created,
 * before its first session; an application can call this at the top of its entry point, or start
 * node with `--no-allocation-site-pretenuring`, which is the same flag).
 */

/** The part of `node:v8` this needs. */
export interface V8FlagSetter {
  setFlagsFromString(flags: string): void;
}

/** The V8 flag that turns allocation-site pretenuring off. */
export const NO_ALLOCATION_SITE_PRETENURING = '--no-allocation-site-pretenuring';

/**
 * `'turned-off'` once the flag is set (also when it was already); `'unavailable'` where there is no
 * `node:v8` to set it with (a runtime other than Node).
 */
export type PretenuringOutcome = 'turned-off' | 'unavailable';

/**
 * `node:v8` where the runtime has it: looked up, not imported, so a runtime without it gets
 * `'unavailable'`, not a failed import.
 */
function nodeV8(): V8FlagSetter | undefined {
  const loader = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.bind(globalThis.process);
  const v8 = loader?.('node:v8') as Partial<V8FlagSetter> | undefined;
  return typeof v8?.setFlagsFromString === 'function' ? (v8 as V8FlagSetter) : undefined;
}

/**
 * Turns V8's allocation-site pretenuring off for this process, from now on. Idempotent. What a
 * supervisor does when it is created, unless `v8Pretenuring: 'keep'`.
 *
 * @example
 * ```ts
 * // First thing in the server's entry point, before anything has run long enough for V8 to decide:
 * import { turnOffAllocationSitePretenuring } from 'mcp-session-supervisor';
 * turnOffAllocationSitePretenuring();
 * ```
 */
export function turnOffAllocationSitePretenuring(
  v8: V8FlagSetter | undefined = nodeV8(),
): PretenuringOutcome {
  if (v8 === undefined) return 'unavailable';
  v8.setFlagsFromString(NO_ALLOCATION_SITE_PRETENURING);
  return 'turned-off';
}
