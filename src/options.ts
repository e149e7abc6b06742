import type { WhenFull } from '../machines/supervisor.machine.js';
import { type Clock, MAX_TIMER_DELAY, systemClock } from './clock.js';
import { SupervisorError } from './errors.js';

/** Milliseconds, or a string such as `'500ms'`, `'30s'`, `'30m'`, `'2h'`, `'1d'`. */
export type Duration = number | string;

/** The options every supervisor understands, independent of HTTP. */
export interface SupervisorCoreOptions {
  /** Most sessions alive at once (created, active or idle). Default 100. */
  maxSessions?: number;
  /** How long a session may sit with nothing in flight before it expires. Default `'30m'`. */
  idleTimeout?: Duration;
  /** How long the handshake (`initialize`) may take. Default `'30s'`. */
  initTimeout?: Duration;
  /** Absolute lifetime, whatever the activity. Default: none. */
  maxLifetime?: Duration;
  /** Deadline for releasing a session's resources once it has expired. Default `'5s'`. */
  disposeTimeout?: Duration;
  /** `'evict-idle-lru'` (default) retires the least recently active idle session; `'reject'` refuses. */
  whenFull?: WhenFull;
  /** Whether an open GET (SSE) stream keeps a session active, as the C# SDK does. Default true. */
  streamsCountAsActivity?: boolean;
  /** What a refused client is told to wait (`Retry-After`). Default `'5s'`. */
  retryAfter?: Duration;
  /** Most live sessions one principal may hold (see `open({ principal })`). Default: no limit. */
  maxSessionsPerPrincipal?: number;
  /**
   * Idle time after which a session with nothing open hibernates: only its persisted actor snapshot
   * is kept (about 1 KB); its actor, server and transport are released, and rebuilt on its next
   * request. Default: never.
   */
  hibernateAfter?: Duration;
  /**
   * V8's allocation-site pretenuring, a process-wide heuristic that tenures the objects every
   * session's transitions and every SDK server allocate, so that they die in the old generation:
   * churning sessions then promote ~40 KB each through the collector, and an expiry storm of many
   * hibernated sessions stalls the event loop on mark-compacts (see `turnOffAllocationSitePretenuring`).
   * `'off'` turns it off for the whole process when the supervisor is created (logged at info);
   * `'keep'` leaves node's flags as they are. Default: `'off'`.
   */
  v8Pretenuring?: 'off' | 'keep';
  /** Time source for timers and timestamps. Default: wall clock with unref'd timers. */
  clock?: Clock;
}

export interface ResolvedCoreOptions {
  readonly maxSessions: number;
  readonly idleTimeout: number;
  readonly initTimeout: number;
  readonly maxLifetime: number | undefined;
  readonly disposeTimeout: number;
  readonly whenFull: WhenFull;
  readonly streamsCountAsActivity: boolean;
  readonly retryAfter: number;
  readonly maxSessionsPerPrincipal: number | undefined;
  readonly hibernateAfter: number | undefined;
  readonly v8Pretenuring: 'off' | 'keep';
  readonly clock: Clock;
}

export const DEFAULTS = {
  maxSessions: 100,
  idleTimeout: '30m',
  initTimeout: '30s',
  disposeTimeout: '5s',
  retryAfter: '5s',
  whenFull: 'evict-idle-lru',
} as const;

const invalid = (option: string, value: unknown, expected: string): SupervisorError<'invalid-option'> =>
  new SupervisorError(
    'invalid-option',
    { option, value, expected },
    `Invalid option ${option}: ${JSON.stringify(value) ?? String(value)} (expected ${expected})`,
  );

/** Milliseconds per unit, in the spellings the `ms` package accepts (`'30s'`, `'2 hours'`, `'1.5h'`). */
const UNIT_MS: Record<string, number> = {};
for (const [ms, names] of [
  [1, ['ms', 'msec', 'msecs', 'millisecond', 'milliseconds']],
  [1_000, ['s', 'sec', 'secs', 'second', 'seconds']],
  [60_000, ['m', 'min', 'mins', 'minute', 'minutes']],
  [3_600_000, ['h', 'hr', 'hrs', 'hour', 'hours']],
  [86_400_000, ['d', 'day', 'days']],
  [604_800_000, ['w', 'week', 'weeks']],
] as const) {
  for (const name of names) UNIT_MS[name] = ms;
}

const DURATION = /^(\d*\.?\d+) *([a-z]*)$/i;

/** A duration string in milliseconds (a bare number is milliseconds), or `undefined` if it is not one. */
function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] === '' ? 'ms' : match[2]?.toLowerCase();
  const factor = unit === undefined ? undefined : UNIT_MS[unit];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/**
 * Turns a duration into whole milliseconds, or throws a `SupervisorError` naming the option.
 * Durations must be positive and at most 2^31-1 ms (24.8 days), the longest a Node timer waits.
 */
export function toMilliseconds(option: string, value: Duration): number {
  const expected =
    "a positive number of milliseconds or a duration string such as '30s' or '30m', at most 24.8 days";
  let msValue: number | undefined;
  if (typeof value === 'number') msValue = value;
  else if (typeof value === 'string') msValue = parseDuration(value);
  if (msValue === undefined || !Number.isFinite(msValue) || msValue <= 0 || msValue > MAX_TIMER_DELAY) {
    throw invalid(option, value, expected);
  }
  // Up, not to the nearest: a positive duration must never become 0 ms.
  return Math.ceil(msValue);
}

/**
 * Validates every core option up front (as lru-cache does) so a typo fails at start-up, not at the
 * first full house. Unknown keys are left to the caller: options objects are shared with the HTTP layer.
 */
export function resolveCoreOptions(options: SupervisorCoreOptions): ResolvedCoreOptions {
  const maxSessions = options.maxSessions ?? DEFAULTS.maxSessions;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw invalid('maxSessions', maxSessions, 'a whole number ≥ 1');
  }
  const whenFull = options.whenFull ?? DEFAULTS.whenFull;
  if (whenFull !== 'evict-idle-lru' && whenFull !== 'reject') {
    throw invalid('whenFull', whenFull, "'evict-idle-lru' or 'reject'");
  }
  const streamsCountAsActivity = options.streamsCountAsActivity ?? true;
  if (typeof streamsCountAsActivity !== 'boolean') {
    throw invalid('streamsCountAsActivity', streamsCountAsActivity, 'a boolean');
  }
  const { maxSessionsPerPrincipal } = options;
  if (
    maxSessionsPerPrincipal !== undefined &&
    (!Number.isSafeInteger(maxSessionsPerPrincipal) || maxSessionsPerPrincipal < 1)
  ) {
    throw invalid('maxSessionsPerPrincipal', maxSessionsPerPrincipal, 'a whole number ≥ 1');
  }
  const v8Pretenuring = options.v8Pretenuring ?? 'off';
  if (v8Pretenuring !== 'off' && v8Pretenuring !== 'keep') {
    throw invalid('v8Pretenuring', v8Pretenuring, "'off' or 'keep'");
  }
  const clock = options.clock ?? systemClock;
  if (
    typeof clock?.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw invalid('clock', clock, 'an object with now(), setTimeout() and clearTimeout()');
  }
  return {
    maxSessions,
    idleTimeout: toMilliseconds('idleTimeout', options.idleTimeout ?? DEFAULTS.idleTimeout),
    initTimeout: toMilliseconds('initTimeout', options.initTimeout ?? DEFAULTS.initTimeout),
    maxLifetime:
      options.maxLifetime === undefined ? undefined : toMilliseconds('maxLifetime', options.maxLifetime),
    disposeTimeout: toMilliseconds('disposeTimeout', options.disposeTimeout ?? DEFAULTS.disposeTimeout),
    retryAfter: toMilliseconds('retryAfter', options.retryAfter ?? DEFAULTS.retryAfter),
    whenFull,
    streamsCountAsActivity,
    maxSessionsPerPrincipal,
    hibernateAfter:
      options.hibernateAfter === undefined
        ? undefined
        : toMilliseconds('hibernateAfter', options.hibernateAfter),
    v8Pretenuring,
    clock,
  };
}
