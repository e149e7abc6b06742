import type { RejectionCode } from '../../machines/supervisor.machine.js';
import {
  capacityExceeded,
  notAdmitting,
  principalCapacityExceeded,
  type SupervisorError,
} from '../errors.js';
import type { ResolvedCoreOptions } from '../options.js';

/**
 * One `open()` in progress: the supervisor actor decides it in one synchronous `ADMIT` transition
 * and its `startSession` / `rejectAdmission` actions write the verdict here. The session actor is
 * created right after that transition, not inside it: creating one evaluates its initial `assign`,
 * which xstate forbids inside another actor's custom action.
 */
export interface Admission {
  readonly sessionId: string;
  readonly metadata: Record<string, unknown> | undefined;
  readonly principal: string | undefined;
  rejected: RejectionCode | undefined;
  /** Set by the supervisor's `startSession` action: the slot is reserved. */
  approved: boolean;
}

/** The typed error a refused admission throws. */
export function refusal(
  code: RejectionCode | undefined,
  { retryAfter, maxSessions, maxSessionsPerPrincipal }: ResolvedCoreOptions,
): SupervisorError {
  if (code === 'draining') return notAdmitting('draining', retryAfter);
  if (code === 'principal-capacity' && maxSessionsPerPrincipal !== undefined) {
    return principalCapacityExceeded(maxSessionsPerPrincipal, retryAfter);
  }
  return capacityExceeded(maxSessions, retryAfter);
}
