/**
 * Sessions changing owner. Taking over: a request for a session another node holds claims it in
 * the registry and rebuilds it here by replaying its `initialize`. Handing off: when another node
 * claims one of ours, the copy here finishes its requests in flight (within `handoffGrace`) and
 * retires with reason `moved`.
 *
 * @module
 */
import { notAdmitting } from '../errors.js';
import type { SessionHttpTransport } from '../mcp/sdk-types.js';
import type { SupervisedSession } from '../session.js';
import type { ActivityReporter } from './activity.js';
import { callRegistry, clearTimer, Held, type NodeContext } from './held.js';
import type { ClusterRegistry } from './registry.js';
import { replayInitialize, toInitializeMessage } from './replay.js';

/** Takeovers by this node and hand-offs to others, for one `ClusterNode`. */
export class SessionTakeover<S extends SupervisedSession<unknown>> {
  /** Sessions handing off or with a deferred hand-off: what the periodic round looks at. */
  private readonly handingOff = new Set<Held<S>>();
  private readonly recovering = new Map<string, Promise<S | undefined>>();

  constructor(
    private readonly node: NodeContext<S>,
    private readonly reporter: ActivityReporter,
    private readonly handoffGrace: number,
    private readonly touchInterval: number,
  ) {}

  /**
   * The local session, unless it is being rebuilt (the caller then goes through {@link recover}
   * and waits for it) or another node owns it now.
   */
  localSession(sessionId: string): S | undefined {
    const held = this.node.held.get(sessionId);
    if (held === undefined || held.recovering) return undefined;
    if (held.deferredHandoff) {
      // The request that made this node rebuild it is served first, then the session hands off
      // (its request is counted in flight by then, so the hand-off waits for it).
      held.deferredHandoff = false;
      this.handingOff.delete(held);
      queueMicrotask(() => this.handOff(held));
    } else if (held.movedOut) {
      return undefined;
    }
    return held.session.isLive ? held.session : undefined;
  }

  /** Claims a session this node does not hold and rebuilds it; concurrent requests share one takeover. */
  recover(sessionId: string, principal: string | undefined): Promise<S | undefined> {
    // Per principal: a prober's refused attempt must not become the owner's answer.
    const key = `${principal ?? ''}\u0000${sessionId}`;
    const pending = this.recovering.get(key);
    if (pending) return pending;
    const takeover = this.takeOver(sessionId, principal).finally(() => this.recovering.delete(key));
    this.recovering.set(key, takeover);
    return takeover;
  }

  /** A session being taken over gets its handshake replayed before it counts as ready. */
  async restore(session: S, transport: SessionHttpTransport): Promise<void> {
    const held = this.node.held.get(session.id);
    if (held?.session !== session || !held.recovering) return;
    await replayInitialize(transport, session.id, held.initialize);
  }

  /** Another node owns the session now: let in-flight requests finish here, then retire the copy. */
  handOff(held: Held<S>): void {
    if (!held.session.isLive || held.movedOut) return;
    if (held.recovering) {
      held.deferredHandoff = true;
      this.handingOff.add(held);
      return;
    }
    held.movedOut = true;
    this.reporter.forget(held);
    if (held.session.requestsInFlight === 0) {
      this.retire(held);
      return;
    }
    this.handingOff.add(held);
    held.handoffTimer = this.node.host.options.clock.setTimeout(() => this.retire(held), this.handoffGrace);
  }

  retire(held: Held<S>): void {
    clearTimer(this.node, held.handoffTimer);
    held.handoffTimer = undefined;
    this.handingOff.delete(held);
    if (this.node.held.get(held.sessionId) === held) this.node.host.close(held.sessionId, 'moved');
  }

  /** The session ended here: no hand-off is pending for it any more. */
  forget(held: Held<S>): void {
    this.handingOff.delete(held);
    clearTimer(this.node, held.handoffTimer);
    held.handoffTimer = undefined;
  }

  /** The periodic round: applies stale deferred hand-offs and retires copies with nothing in flight. */
  sweep(now: number): void {
    for (const held of this.handingOff) {
      // Hand-offs held back for a request that never came (client gone mid-body).
      if (held.deferredHandoff && !held.recovering && now - held.recoveredAt >= this.touchInterval) {
        held.deferredHandoff = false;
        this.handingOff.delete(held);
        this.handOff(held);
      }
      // Open streams keep a session active without requests; they do not hold a hand-off.
      if (held.movedOut && held.session.requestsInFlight === 0) this.retire(held);
    }
  }

  private async takeOver(sessionId: string, principal: string | undefined): Promise<S | undefined> {
    const { host, registry, nodeId, limits } = this.node;
    const { phase } = host;
    // A draining node takes nothing over: 503 sends the client (through the balancer) elsewhere.
    if (phase !== 'running') throw notAdmitting(phase, host.options.retryAfter);
    let held = this.node.held.get(sessionId);
    if (held !== undefined && held.session.principal !== principal) {
      // Another principal's session, held here: the same registry claim as for an unknown id (the
      // registry refuses it and changes nothing), so neither the 404 nor its timing tells the
      // prober that the id exists. The session here is left alone.
      await callRegistry(this.node, 'claim', () =>
        registry.claim({ sessionId, nodeId, principal, ttlMs: limits.ttlMs }),
      );
      return undefined;
    }
    if (held !== undefined) {
      held.recovering = true;
      // Only a hand-off announced from now on (a claim after ours) is still to be applied.
      held.deferredHandoff = false;
    }
    let claimed: Awaited<ReturnType<ClusterRegistry['claim']>>;
    try {
      claimed = await callRegistry(this.node, 'claim', () =>
        registry.claim({ sessionId, nodeId, principal, ttlMs: limits.ttlMs }),
      );
    } finally {
      if (held !== undefined) held.recovering = false;
    }
    if (claimed === undefined) return undefined;
    if (held?.session.isLive) {
      // Its copy here was still finishing requests after a hand-off: it is ours again as it is.
      this.reclaimed(held);
      return held.session;
    }
    if (held !== undefined) {
      // Ended here and still releasing; the id is free again once it is disposed.
      await this.disposed(held.session);
      held = undefined;
    }
    const initialize = claimed.record.initialize;
    const session = host.open({
      sessionId,
      metadata: this.node.sessionMetadata(toInitializeMessage(initialize)),
      ...(principal === undefined ? {} : { principal }),
    });
    const rebuilt = new Held(session, initialize, true);
    this.node.held.set(sessionId, rebuilt);
    try {
      await session.ready();
    } catch (error) {
      rebuilt.recovering = false;
      this.node.logger?.warn(
        { err: error, sessionId },
        'rebuilding a session taken over from another node failed',
      );
      return undefined;
    }
    rebuilt.recovering = false;
    rebuilt.recoveredAt = host.options.clock.now();
    session.markInitialized();
    this.node.logger?.debug({ sessionId, from: claimed.previousOwner }, 'session taken over');
    return session;
  }

  private reclaimed(held: Held<S>): void {
    held.movedOut = false;
    clearTimer(this.node, held.handoffTimer);
    held.handoffTimer = undefined;
    held.recoveredAt = this.node.host.options.clock.now();
    if (!held.deferredHandoff) this.handingOff.delete(held);
    this.reporter.note(held, held.activity, held.recoveredAt);
  }

  private disposed(session: S): Promise<unknown> {
    const bound = this.node.host.options.disposeTimeout + 1_000;
    return Promise.race([
      session.whenDisposed(),
      new Promise((resolve) => setTimeout(resolve, bound).unref()),
    ]);
  }
}
