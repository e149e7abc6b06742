/**
 * The seam between the supervisor and a cluster. The core knows only these interfaces; the
 * cluster itself (`src/cluster/`, the `mcp-session-supervisor/cluster` subpath) implements them,
 * so its code, and Redis's, loads only for applications that import it.
 *
 * @module
 */

import type { SessionEndReason } from '../machines/session.machine.js';
import type { SupervisorListener } from './events.js';
import type { InitializeMessage } from './http/dispatch.js';
import type { Logger } from './logging.js';
import type { SessionHttpTransport } from './mcp/sdk-types.js';
import type { ResolvedCoreOptions } from './options.js';
import type { SupervisedSession } from './session.js';
import type { OpenSessionOptions } from './supervisor.js';

/** What a cluster member needs of its supervisor. */
export interface ClusterHost<S extends SupervisedSession<unknown>> {
  readonly options: ResolvedCoreOptions;
  readonly phase: 'running' | 'draining' | 'stopped';
  open(options: OpenSessionOptions): S;
  get(sessionId: string): S | undefined;
  close(sessionId: string, reason: SessionEndReason): boolean;
  subscribe(listener: SupervisorListener): () => void;
}

/** What an application may ask of its supervisor's cluster membership (`supervisor.cluster`). */
export interface ClusterMembership {
  /** This node's id in the cluster. */
  readonly nodeId: string;
  /** Resolves once this node receives the cluster's messages about its sessions. */
  ready(): Promise<void>;
}

/** Where the supervisor admits and finds sessions when they are shared with other processes. */
export interface SessionPlacement<S extends SupervisedSession<unknown>> extends ClusterMembership {
  /** The local session, if this node serves it now. */
  get(sessionId: string): S | undefined;
  /** Admits a session cluster-wide (throws `capacity-exceeded`, `draining`, `registry-unavailable`). */
  admit(initialize: InitializeMessage, principal: string | undefined): Promise<S>;
  /** A session another node holds, rebuilt here; `undefined` when unknown or not the principal's. */
  recover(sessionId: string, principal: string | undefined): Promise<S | undefined>;
  /** Called once a session's transport is connected, before the session counts as ready. */
  restore(session: S, transport: SessionHttpTransport): Promise<void>;
  /** Stops listening and reporting; called once the supervisor has stopped. */
  stop(): Promise<void>;
}

/** What a supervisor hands its cluster attachment. */
export interface PlacementContext<S extends SupervisedSession<unknown>> {
  readonly host: ClusterHost<S>;
  readonly sessionMetadata: (initialize: InitializeMessage) => Record<string, unknown>;
  readonly logger: Logger | undefined;
}

/**
 * The `cluster` option's value, made by `joinCluster` of `mcp-session-supervisor/cluster`.
 * A supervisor calls `attach` once, from its constructor.
 */
export interface ClusterAttachment {
  attach<S extends SupervisedSession<unknown>>(context: PlacementContext<S>): SessionPlacement<S>;
}
