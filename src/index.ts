/**
 * The root export: the supervisor and its HTTP entry points. Optional features live behind
 * subpaths, each loading its own library (an optional peer dependency) only when imported:
 * `mcp-session-supervisor/cluster` (ioredis for `RedisClusterRegistry`), `/metrics` (prom-client),
 * `/live-view`, `/inspection` (@statelyai/inspect, ws).
 *
 * @module
 */
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
export type { LogFn, Logger } from './logging.js';
export { BoundedEventStore } from './mcp/event-store.js';
export type { McpServerLike } from './mcp/session-transport.js';
export {
  createSessionSupervisor,
  McpSessionSupervisor,
  type McpSessionSupervisorOptions,
} from './mcp-supervisor.js';
export { type Duration, type SupervisorCoreOptions, toMilliseconds } from './options.js';
export type { ClusterAttachment, ClusterMembership } from './placement.js';
export {
  NO_ALLOCATION_SITE_PRETENURING,
  type PretenuringOutcome,
  turnOffAllocationSitePretenuring,
  type V8FlagSetter,
} from './pretenuring.js';
export type { SessionContext, SessionInfo, SupervisedSession } from './session.js';
export {
  type InspectionObserver,
  type OpenSessionOptions,
  SessionSupervisor,
  type SessionSupervisorOptions,
  type ShutdownOptions,
  type SupervisorStatistics,
} from './supervisor.js';
