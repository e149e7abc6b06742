import type { SessionEndReason, SessionStateName } from '../machines/session.machine.js';
import type { RejectionCode } from '../machines/supervisor.machine.js';

/** One session moved from one lifecycle state to another (`from` is undefined on creation). */
export interface SessionTransitionEvent {
  readonly type: 'transition';
  readonly sessionId: string;
  readonly from: SessionStateName | undefined;
  readonly to: SessionStateName;
  /** Why it ended; set from `expired` on. */
  readonly reason: SessionEndReason | undefined;
  /**
   * The machine event that caused the move, as xstate names it: `CLOSE`, `REQUEST.START`,
   * `xstate.after.idleTimeout.session.live.idle`, `xstate.done.actor.release`, `xstate.init`.
   * Tells apart moves between the same two states (an idle timeout from a DELETE).
   */
  readonly trigger: string;
  /** Clock time of the report. */
  readonly at: number;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  /** Requests started over the session's life so far. */
  readonly requests: number;
  /** On `disposed`: the resources were not released cleanly before the deadline. */
  readonly releaseIncomplete: boolean;
}

/** An admission was refused. */
export interface AdmissionRejectedEvent {
  readonly type: 'rejected';
  readonly code: RejectionCode;
  readonly at: number;
}

/** What {@link SessionSupervisor.subscribe} listeners receive, synchronously, as it happens. */
export type SupervisorEvent = SessionTransitionEvent | AdmissionRejectedEvent;

export type SupervisorListener = (event: SupervisorEvent) => void;
