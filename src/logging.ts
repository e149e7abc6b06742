import type { Logger } from 'pino';
import type { SessionEndReason, SessionStateName } from '../machines/session.machine.js';

export type { Logger };

/**
 * Level of the one line each lifecycle transition writes. Creation and the end of a session are
 * `info` (two lines a session keep 1 000 sessions a minute readable); the frequent active ⇄ idle
 * moves and the final disposal are `debug`; an end that could not release its resources is `warn`.
 */
export function transitionLevel(to: SessionStateName, releaseIncomplete: boolean): 'info' | 'debug' | 'warn' {
  if (to === 'disposed') return releaseIncomplete ? 'warn' : 'debug';
  return to === 'created' || to === 'expired' ? 'info' : 'debug';
}

export interface TransitionLogFields {
  sessionId: string;
  from: SessionStateName | undefined;
  to: SessionStateName;
  reason: SessionEndReason | undefined;
  ageMs: number;
  idleMs: number;
  requests: number;
}

const MESSAGES: Record<SessionStateName, string> = {
  created: 'session created',
  active: 'session active',
  idle: 'session idle',
  expired: 'session expired',
  disposed: 'session disposed',
};

/**
 * Writes the transition line, building its fields only when the level is enabled: at 100 000
 * sessions the active ⇄ idle lines are the hottest path in the library.
 */
export function logTransition(
  logger: Logger,
  releaseIncomplete: boolean,
  fields: () => TransitionLogFields,
  to: SessionStateName,
): void {
  const level = transitionLevel(to, releaseIncomplete);
  if (!logger.isLevelEnabled(level)) return;
  const entry = fields();
  const message =
    to === 'disposed' && releaseIncomplete
      ? 'session disposed before its resources were released'
      : MESSAGES[to];
  logger[level](entry, message);
}
