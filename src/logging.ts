import type { SessionEndReason, SessionStateName } from '../machines/session.machine.js';
import type { SessionTransitionEvent } from './events.js';

/** One level's method of a {@link Logger}: a message, or fields and a message. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * The part of a pino logger the supervisor uses, so a pino instance fits as it is while pino
 * itself stays out of the install (any logger of this shape works).
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const supervisor = createSessionSupervisor({ createServer, logger: pino() });
 * ```
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  isLevelEnabled(level: string): boolean;
  /** A logger whose lines all carry `bindings` (one per session, bound to its id). */
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Level of the one line each lifecycle transition writes. Creation and the end of a session are
 * `info` (two lines a session keep 1 000 sessions a minute readable); the frequent active ⇄ idle
 * moves and the final disposal are `debug`; an end that could not release its resources is `warn`.
 */
export function transitionLevel(to: SessionStateName, releaseIncomplete: boolean): 'info' | 'debug' | 'warn' {
  if (to === 'disposed') return releaseIncomplete ? 'warn' : 'debug';
  return to === 'created' || to === 'expired' ? 'info' : 'debug';
}

const MESSAGES: Record<Exclude<SessionStateName, 'expired'>, string> = {
  created: 'session created',
  active: 'session active',
  idle: 'session idle',
  disposed: 'session disposed',
};

/** The end of a session says why it ended: a DELETE is not an expiry. The `reason` field repeats it. */
const END_MESSAGES: Record<SessionEndReason, string> = {
  'init-timeout': 'session expired: no initialize within initTimeout',
  'idle-timeout': 'session expired: idle for idleTimeout',
  lifetime: 'session expired: maxLifetime reached',
  deleted: 'session deleted',
  evicted: 'session evicted to make room',
  shutdown: 'session retired by shutdown',
  failed: 'session failed',
  moved: 'session moved to another node',
};

/**
 * Writes the one line of a lifecycle transition: ids, states, reason and durations; never a
 * request body or header. Fields are built only when the level is enabled: at 100 000 sessions
 * the active ⇄ idle lines are the hottest path in the library.
 */
export function logTransition(logger: Logger, event: SessionTransitionEvent): void {
  const level = transitionLevel(event.to, event.releaseIncomplete);
  if (!logger.isLevelEnabled(level)) return;
  const fields = {
    sessionId: event.sessionId,
    from: event.from,
    to: event.to,
    reason: event.reason,
    ageMs: event.at - event.createdAt,
    idleMs: event.at - event.lastActivityAt,
    requests: event.requests,
  };
  const message =
    event.to === 'expired'
      ? END_MESSAGES[event.reason ?? 'failed']
      : event.to === 'disposed' && event.releaseIncomplete
        ? 'session disposed before its resources were released'
        : MESSAGES[event.to];
  logger[level](fields, message);
}
