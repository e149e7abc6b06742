/**
 * What the parts of a cluster node share: the sessions it holds, and the registry calls more than
 * one part makes (a failed call a request waits for, the release of an ended session, an end the
 * registry decided).
 *
 * @module
 */
import type { SessionEndReason } from '../../machines/session.machine.js';
import { isSupervisorError, registryUnavailable } from '../errors.js';
import type { InitializeMessage } from '../http/dispatch.js';
import type { Logger } from '../logging.js';
import type { ClusterHost } from '../placement.js';
import type { SupervisedSession } from '../session.js';
import type { ReportedSession } from './activity.js';
import type { ClusterLimits, ClusterRegistry, StoredInitialize } from './registry.js';

/** One session this node opened, from admission or takeover until it is disposed here. */
export class Held<S extends SupervisedSession<unknown>> implements ReportedSession {
  activity: 'active' | 'idle' = 'idle';
  touchedAt = Number.NEGATIVE_INFINITY;
  /** Being rebuilt here (takeover): requests wait for it instead of seeing a half-built session. */
  recovering: boolean;
  /** Another node owns it now; this copy finishes what it has in flight, then retires. */
  movedOut = false;
  /** A takeover by another node arrived while this node was still rebuilding it: applied once served. */
  deferredHandoff = false;
  handoffTimer: unknown;
  /** The registry ended it (eviction, deletion elsewhere): there is nothing to release. */
  endedByRegistry = false;
  recoveredAt = 0;

  constructor(
    readonly session: S,
    readonly initialize: StoredInitialize,
    recovering: boolean,
  ) {
    this.recovering = recovering;
  }

  get sessionId(): string {
    return this.session.id;
  }

  get lastActivityAt(): number {
    return this.session.lastActivityAt;
  }

  get reportable(): boolean {
    return this.session.isLive && !this.movedOut && !this.recovering;
  }
}

/** What every concern of a `ClusterNode` reads: its identity, the registry, the host, its sessions. */
export interface NodeContext<S extends SupervisedSession<unknown>> {
  readonly nodeId: string;
  readonly registry: ClusterRegistry;
  readonly limits: ClusterLimits;
  readonly host: ClusterHost<S>;
  readonly logger: Logger | undefined;
  readonly sessionMetadata: (initialize: InitializeMessage) => Record<string, unknown>;
  /** Every session this node opened, until it is disposed here. */
  readonly held: Map<string, Held<S>>;
}

/** Runs a registry operation a request waits for; failures become `registry-unavailable` (503). */
export async function callRegistry<S extends SupervisedSession<unknown>, T>(
  node: NodeContext<S>,
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isSupervisorError(error)) throw error;
    node.logger?.debug({ err: error, operation }, 'cluster registry unavailable');
    throw registryUnavailable(operation, node.host.options.retryAfter, error);
  }
}

/** Removes an ended session's record so its slot is free cluster-wide. */
export async function releaseRecord<S extends SupervisedSession<unknown>>(
  node: NodeContext<S>,
  sessionId: string,
  reason: SessionEndReason,
): Promise<void> {
  try {
    await node.registry.release(sessionId, node.nodeId, reason, node.limits.ttlMs);
  } catch (error) {
    // The record expires on its own (TTL); until then another node could still take it over.
    node.logger?.warn(
      { err: error, sessionId },
      'removing an ended session from the cluster registry failed',
    );
  }
}

/** The registry ended the session (evicted, deleted through another node): end it here too. */
export function endHere<S extends SupervisedSession<unknown>>(
  node: NodeContext<S>,
  sessionId: string,
  reason: SessionEndReason,
): void {
  const held = node.held.get(sessionId);
  if (!held?.session.isLive) return;
  held.endedByRegistry = true;
  node.host.close(sessionId, reason);
}

/** Clocks only take handles they gave out. */
export function clearTimer<S extends SupervisedSession<unknown>>(
  node: NodeContext<S>,
  handle: unknown,
): void {
  if (handle !== undefined) node.host.options.clock.clearTimeout(handle);
}
