/**
 * Admission of a new session through the cluster registry: the cluster-wide cap is one atomic
 * registry operation, then the local session opens with the id the registry reserved.
 *
 * @module
 */
import { v4 as uuidv4 } from 'uuid';
import { capacityExceeded, principalCapacityExceeded } from '../errors.js';
import type { InitializeMessage } from '../http/dispatch.js';
import type { SupervisedSession } from '../session.js';
import type { OpenSessionOptions } from '../supervisor.js';
import { callRegistry, endHere, Held, type NodeContext, releaseRecord } from './held.js';
import { storedInitialize } from './replay.js';

/** Admits a session cluster-wide and opens it here; refusals are the lone supervisor's errors. */
export async function admitThroughRegistry<S extends SupervisedSession<unknown>>(
  node: NodeContext<S>,
  initialize: InitializeMessage,
  principal: string | undefined,
): Promise<S> {
  const { host, registry, nodeId, limits } = node;
  const metadata = node.sessionMetadata(initialize);
  const local: OpenSessionOptions = { metadata, ...(principal === undefined ? {} : { principal }) };
  // Refused here as a lone supervisor refuses (and counts) it, without reserving anything remotely.
  if (host.phase !== 'running') return host.open(local);
  const sessionId = uuidv4();
  const stored = storedInitialize(initialize);
  const result = await callRegistry(node, 'admit', () =>
    registry.admit({ sessionId, nodeId, principal, initialize: stored, limits }),
  );
  const { retryAfter, maxSessions, maxSessionsPerPrincipal } = host.options;
  if (!result.admitted) {
    if (result.code === 'principal-capacity' && maxSessionsPerPrincipal !== undefined) {
      throw principalCapacityExceeded(maxSessionsPerPrincipal, retryAfter);
    }
    throw capacityExceeded(maxSessions, retryAfter);
  }
  // An eviction of one of ours frees its local slot now, not when the message arrives.
  if (result.evicted?.owner === nodeId) endHere(node, result.evicted.sessionId, 'evicted');
  let session: S;
  try {
    session = host.open({ ...local, sessionId });
  } catch (error) {
    void releaseRecord(node, sessionId, 'failed');
    throw error;
  }
  node.held.set(sessionId, new Held(session, stored, false));
  return session;
}
