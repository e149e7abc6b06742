export type {
  SessionEndReason,
  SessionOutput,
  SessionStateName,
} from '../machines/session.machine.js';
export type { RejectionCode, StateCounts, WhenFull } from '../machines/supervisor.machine.js';
export { type Clock, systemClock } from './clock.js';
export * from './cluster/index.js';
export {
  isSupervisorError,
  SupervisorError,
  type SupervisorErrorCode,
  type SupervisorErrorData,
} from './errors.js';
export type {
  AdmissionRejectedEvent,
  SessionTransitionEvent,
  SupervisorEvent,
  SupervisorListener,
} from './events.js';
export {
  ALLOWED_METHODS,
  type Authenticate,
  type InitializeMessage,
  type Principal,
  type RequestExtras,
} from './http/dispatch.js';
export { LOOPBACK_HOSTS } from './http/host-validation.js';
export type { NodeHandler, NodeRequest } from './http/node-adapter.js';
export {
  createLiveView,
  type LiveEvent,
  type LiveSession,
  type LiveSnapshot,
  type LiveViewHandler,
  type LiveViewOptions,
} from './live-view/index.js';
export type { Logger } from './logging.js';
export { BoundedEventStore } from './mcp/event-store.js';
export type { McpServerLike } from './mcp/session-transport.js';
export {
  createSessionSupervisor,
  McpSessionSupervisor,
  type McpSessionSupervisorOptions,
} from './mcp-supervisor.js';
export {
  type AnyRegistry,
  createSupervisorMetrics,
  metricsHandler,
  type SupervisorMetrics,
  type SupervisorMetricsOptions,
} from './metrics.js';
export { type Duration, type SupervisorCoreOptions, toMilliseconds } from './options.js';
export type { SessionContext, SessionInfo, SupervisedSession } from './session.js';
export {
  type InspectionObserver,
  type OpenSessionOptions,
  SessionSupervisor,
  type SessionSupervisorOptions,
  type ShutdownOptions,
  type SupervisorStatistics,
} from './supervisor.js';
