export type {
  SessionEndReason,
  SessionOutput,
  SessionStateName,
} from '../machines/session.machine.js';
export type { RejectionCode, StateCounts, WhenFull } from '../machines/supervisor.machine.js';
export { type Clock, systemClock } from './clock.js';
export {
  isSupervisorError,
  SupervisorError,
  type SupervisorErrorCode,
  type SupervisorErrorData,
} from './errors.js';
export type { Logger } from './logging.js';
export { type Duration, type SupervisorCoreOptions, toMilliseconds } from './options.js';
export type { SessionContext, SessionInfo, SupervisedSession } from './session.js';
export {
  createSessionSupervisor,
  type InspectionObserver,
  type OpenSessionOptions,
  SessionSupervisor,
  type SessionSupervisorOptions,
  type ShutdownOptions,
  type SupervisorStatistics,
} from './supervisor.js';
