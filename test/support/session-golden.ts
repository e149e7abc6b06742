/**
 * Reviewed golden paths of the session lifecycle: what must happen, written out by hand from the
 * spec's lifecycle table (SPEC.md), with every instant and count spelled out. They check the oracle
 * (test/support/lifecycle-oracle.ts) as much as the runtime: both must reproduce every row.
 *
 * Configuration of every path: admission at 0 ms, initTimeout 300, idleTimeout 500,
 * disposeTimeout 200, no maxLifetime unless the path sets one. A row is
 * `[at ms, act, state after, requests in flight, open streams, hibernated?]`; the act `wait` only lets the clock
 * reach `at` (a timer due at `at` fires then, and 1 ms before a deadline nothing may have happened).
 * Waits land on deadlines or before them, never past one.
 */
import type { EndReason, LifecycleState, SpecAction } from './lifecycle-oracle.js';

export type GoldenAct =
  | 'wait'
  | 'REQUEST.START'
  | 'REQUEST.END'
  | 'STREAM.OPEN'
  | 'STREAM.CLOSE'
  /** A POST of notifications only: activity, no request. */
  | 'NOTIFICATION'
  | 'INITIALIZED'
  | 'DELETE'
  | 'server built'
  | 'server build fails'
  | 'released'
  | 'release fails';

/** With `hibernateAfter`, rows also say whether the session is hibernated afterwards. */
export type GoldenRow = readonly [
  at: number,
  act: GoldenAct,
  state: LifecycleState,
  inFlight: number,
  streams: number,
  hibernated?: boolean,
];

export interface GoldenPath {
  readonly name: string;
  readonly streamsCountAsActivity: boolean;
  readonly maxLifetime?: number;
  readonly hibernateAfter?: number;
  readonly rows: readonly GoldenRow[];
  /** How many times the session hibernated (with `hibernateAfter`). */
  readonly hibernations?: number;
  readonly output: { readonly reason: EndReason; readonly endedAt: number; readonly requests: number };
}

export const GOLDEN_TIMEOUTS = { initTimeout: 300, idleTimeout: 500, disposeTimeout: 200 } as const;

export const GOLDEN_PATHS: readonly GoldenPath[] = [
  {
    name: 'a notification restarts the idle timer and is no request',
    streamsCountAsActivity: true,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [300, 'NOTIFICATION', 'idle', 0, 0],
      [799, 'wait', 'idle', 0, 0],
      [800, 'wait', 'expired', 0, 0],
      [810, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'idle-timeout', endedAt: 800, requests: 0 },
  },
  {
    name: 'a notification while a request is in flight moves nothing; the idle time counts from the end',
    streamsCountAsActivity: true,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [100, 'REQUEST.START', 'active', 1, 0],
      [200, 'NOTIFICATION', 'active', 1, 0],
      [250, 'REQUEST.END', 'idle', 0, 0],
      [749, 'wait', 'idle', 0, 0],
      [750, 'wait', 'expired', 0, 0],
      [750, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'idle-timeout', endedAt: 750, requests: 1 },
  },
  {
    name: 'the idle timeout counts from the end of the last request',
    streamsCountAsActivity: true,
    rows: [
      [0, 'REQUEST.START', 'created', 1, 0],
      [20, 'server built', 'created', 1, 0],
      [20, 'INITIALIZED', 'active', 1, 0],
      [50, 'REQUEST.END', 'idle', 0, 0],
      [549, 'wait', 'idle', 0, 0],
      [550, 'wait', 'expired', 0, 0],
      [560, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'idle-timeout', endedAt: 550, requests: 1 },
  },
  {
    name: 'the idle timer restarts on a request in idle; two requests overlap',
    streamsCountAsActivity: true,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [400, 'REQUEST.START', 'active', 1, 0],
      [420, 'REQUEST.START', 'active', 2, 0],
      [430, 'REQUEST.END', 'active', 1, 0],
      [440, 'REQUEST.END', 'idle', 0, 0],
      [939, 'wait', 'idle', 0, 0],
      [940, 'wait', 'expired', 0, 0],
      [940, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'idle-timeout', endedAt: 940, requests: 2 },
  },
  {
    name: 'an init timeout while the server is still being built ends it at once (nothing to release)',
    streamsCountAsActivity: true,
    rows: [
      [0, 'REQUEST.START', 'created', 1, 0],
      [299, 'wait', 'created', 1, 0],
      [300, 'wait', 'disposed', 1, 0],
    ],
    output: { reason: 'init-timeout', endedAt: 300, requests: 1 },
  },
  {
    name: 'an init timeout after the server was built, whose release never settles, is disposed at the release deadline',
    streamsCountAsActivity: true,
    rows: [
      [10, 'server built', 'created', 0, 0],
      [299, 'wait', 'created', 0, 0],
      [300, 'wait', 'expired', 0, 0],
      [499, 'wait', 'expired', 0, 0],
      [500, 'wait', 'disposed', 0, 0],
    ],
    output: { reason: 'init-timeout', endedAt: 300, requests: 0 },
  },
  {
    name: 'a handshake before the server is built is ignored',
    streamsCountAsActivity: true,
    rows: [
      [0, 'REQUEST.START', 'created', 1, 0],
      [10, 'INITIALIZED', 'created', 1, 0],
      [20, 'server built', 'created', 1, 0],
      [30, 'INITIALIZED', 'active', 1, 0],
      [40, 'REQUEST.END', 'idle', 0, 0],
      [90, 'DELETE', 'expired', 0, 0],
      [100, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'deleted', endedAt: 90, requests: 1 },
  },
  {
    name: 'a counted stream keeps the session active past the idle timeout; closing it starts the idle wait',
    streamsCountAsActivity: true,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [100, 'STREAM.OPEN', 'active', 0, 1],
      [1000, 'wait', 'active', 0, 1],
      [1200, 'STREAM.CLOSE', 'idle', 0, 0],
      [1699, 'wait', 'idle', 0, 0],
      [1700, 'wait', 'expired', 0, 0],
      [1710, 'release fails', 'disposed', 0, 0],
    ],
    output: { reason: 'idle-timeout', endedAt: 1700, requests: 0 },
  },
  {
    name: 'an uncounted stream leaves the session idle, but opening and closing it restart the idle wait',
    streamsCountAsActivity: false,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [300, 'STREAM.OPEN', 'idle', 0, 1],
      [600, 'STREAM.CLOSE', 'idle', 0, 0],
      [1099, 'wait', 'idle', 0, 0],
      [1100, 'wait', 'expired', 0, 0],
      [1100, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'idle-timeout', endedAt: 1100, requests: 0 },
  },
  {
    name: 'a request keeps the session active while an uncounted stream stays open; its end makes it idle',
    streamsCountAsActivity: false,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [10, 'STREAM.OPEN', 'idle', 0, 1],
      [20, 'REQUEST.START', 'active', 1, 1],
      [30, 'REQUEST.END', 'idle', 0, 1],
      [529, 'wait', 'idle', 0, 1],
      [530, 'wait', 'expired', 0, 1],
      [540, 'released', 'disposed', 0, 1],
    ],
    output: { reason: 'idle-timeout', endedAt: 530, requests: 1 },
  },
  {
    name: 'maxLifetime ends a busy session at admission + maxLifetime',
    streamsCountAsActivity: true,
    maxLifetime: 700,
    rows: [
      [0, 'REQUEST.START', 'created', 1, 0],
      [5, 'server built', 'created', 1, 0],
      [5, 'INITIALIZED', 'active', 1, 0],
      [699, 'wait', 'active', 1, 0],
      [700, 'wait', 'expired', 1, 0],
      [710, 'released', 'disposed', 1, 0],
    ],
    output: { reason: 'lifetime', endedAt: 700, requests: 1 },
  },
  {
    name: 'maxLifetime comes before an idle timeout that would fall later',
    streamsCountAsActivity: true,
    maxLifetime: 700,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [250, 'REQUEST.START', 'active', 1, 0],
      [260, 'REQUEST.END', 'idle', 0, 0],
      [699, 'wait', 'idle', 0, 0],
      [700, 'wait', 'expired', 0, 0],
      [700, 'released', 'disposed', 0, 0],
    ],
    output: { reason: 'lifetime', endedAt: 700, requests: 1 },
  },
  {
    name: 'a DELETE ends the session at the moment it arrives; the release deadline counts from then',
    streamsCountAsActivity: true,
    rows: [
      [0, 'server built', 'created', 0, 0],
      [0, 'INITIALIZED', 'idle', 0, 0],
      [100, 'REQUEST.START', 'active', 1, 0],
      [130, 'REQUEST.END', 'idle', 0, 0],
      [250, 'DELETE', 'expired', 0, 0],
      [449, 'wait', 'expired', 0, 0],
      [450, 'wait', 'disposed', 0, 0],
    ],
    output: { reason: 'deleted', endedAt: 250, requests: 1 },
  },
  {
    name: 'a failed build ends the session as failed, with nothing to release',
    streamsCountAsActivity: true,
    rows: [
      [0, 'REQUEST.START', 'created', 1, 0],
      [0, 'server build fails', 'disposed', 1, 0],
    ],
    output: { reason: 'failed', endedAt: 0, requests: 1 },
  },
  {
    name: 'a hibernated session is still idle, expires at its idle deadline, and has nothing left to release',
    streamsCountAsActivity: true,
    hibernateAfter: 100,
    rows: [
      [0, 'server built', 'created', 0, 0, false],
      [0, 'INITIALIZED', 'idle', 0, 0, false],
      [50, 'REQUEST.START', 'active', 1, 0, false],
      [60, 'REQUEST.END', 'idle', 0, 0, false],
      [159, 'wait', 'idle', 0, 0, false],
      [160, 'wait', 'idle', 0, 0, true],
      [559, 'wait', 'idle', 0, 0, true],
      [560, 'wait', 'disposed', 0, 0, false],
    ],
    output: { reason: 'idle-timeout', endedAt: 560, requests: 1 },
    hibernations: 1,
  },
  {
    name: 'a request wakes a hibernated session; the idle wait counts from that request, and it hibernates again',
    streamsCountAsActivity: true,
    hibernateAfter: 100,
    rows: [
      [0, 'server built', 'created', 0, 0, false],
      [0, 'INITIALIZED', 'idle', 0, 0, false],
      [99, 'wait', 'idle', 0, 0, false],
      [100, 'wait', 'idle', 0, 0, true],
      [300, 'REQUEST.START', 'active', 1, 0, false],
      [310, 'REQUEST.END', 'idle', 0, 0, false],
      [409, 'wait', 'idle', 0, 0, false],
      [410, 'wait', 'idle', 0, 0, true],
      [809, 'wait', 'idle', 0, 0, true],
      [810, 'wait', 'disposed', 0, 0, false],
    ],
    output: { reason: 'idle-timeout', endedAt: 810, requests: 1 },
    hibernations: 2,
  },
  {
    name: 'a notification wakes a hibernated session, which stays idle and counts its idle time from it',
    streamsCountAsActivity: true,
    hibernateAfter: 100,
    rows: [
      [0, 'server built', 'created', 0, 0, false],
      [0, 'INITIALIZED', 'idle', 0, 0, false],
      [100, 'wait', 'idle', 0, 0, true],
      [300, 'NOTIFICATION', 'idle', 0, 0, false],
      [399, 'wait', 'idle', 0, 0, false],
      [400, 'wait', 'idle', 0, 0, true],
      [799, 'wait', 'idle', 0, 0, true],
      [800, 'wait', 'disposed', 0, 0, false],
    ],
    output: { reason: 'idle-timeout', endedAt: 800, requests: 0 },
    hibernations: 2,
  },
  {
    name: 'an open uncounted stream keeps an idle session from hibernating; a DELETE then ends it with a release',
    streamsCountAsActivity: false,
    hibernateAfter: 100,
    rows: [
      [0, 'server built', 'created', 0, 0, false],
      [0, 'INITIALIZED', 'idle', 0, 0, false],
      [10, 'STREAM.OPEN', 'idle', 0, 1, false],
      [200, 'wait', 'idle', 0, 1, false],
      [300, 'DELETE', 'expired', 0, 1, false],
      [310, 'released', 'disposed', 0, 1, false],
    ],
    output: { reason: 'deleted', endedAt: 300, requests: 0 },
    hibernations: 0,
  },
  {
    name: 'a DELETE of a hibernated session ends it at once: nothing to release',
    streamsCountAsActivity: true,
    hibernateAfter: 100,
    rows: [
      [0, 'server built', 'created', 0, 0, false],
      [0, 'INITIALIZED', 'idle', 0, 0, false],
      [99, 'wait', 'idle', 0, 0, false],
      [100, 'wait', 'idle', 0, 0, true],
      [250, 'DELETE', 'disposed', 0, 0, false],
    ],
    output: { reason: 'deleted', endedAt: 250, requests: 0 },
    hibernations: 1,
  },
];

/** The act of the spec a golden row performs (`wait`: none). */
export function actOfGoldenRow(act: GoldenAct): SpecAction | undefined {
  switch (act) {
    case 'wait':
      return undefined;
    case 'REQUEST.START':
      return { kind: 'request-start' };
    case 'REQUEST.END':
      return { kind: 'request-end' };
    case 'STREAM.OPEN':
      return { kind: 'stream-open' };
    case 'STREAM.CLOSE':
      return { kind: 'stream-close' };
    case 'NOTIFICATION':
      return { kind: 'notification' };
    case 'INITIALIZED':
      return { kind: 'initialized' };
    case 'DELETE':
      return { kind: 'close', reason: 'deleted' };
    case 'server built':
      return { kind: 'settle', actor: 'prepare', outcome: 'done' };
    case 'server build fails':
      return { kind: 'settle', actor: 'prepare', outcome: 'error' };
    case 'released':
      return { kind: 'settle', actor: 'release', outcome: 'done' };
    case 'release fails':
      return { kind: 'settle', actor: 'release', outcome: 'error' };
  }
}
