import type { SessionStateName } from '../../machines/session.machine.js';
import type { StateCounts } from '../../machines/supervisor.machine.js';
import { SessionRegistry } from '../registry.js';
import type { SupervisedSession } from '../session.js';

/**
 * The runtime's side of the session table: the registry (lookup, eviction orders, creation order)
 * and the counters the supervisor actor is not told about, each kept O(1) on the move that changes
 * it: sessions per state, requests in flight, live sessions per principal.
 *
 * Why here and not in the supervisor actor: moves between `active` and `idle` are no admission
 * news, and a macrostep of the supervisor per move cost ~6 µs per request; the session's own actor
 * already took the move, and these counters only follow it.
 */
export class SessionTable<S extends SupervisedSession<unknown>> {
  readonly registry = new SessionRegistry<S>();
  /** Sessions by state (disposed ones are gone). */
  readonly counts: StateCounts = { created: 0, active: 0, idle: 0, expired: 0 };
  /** Requests in flight over all live sessions. */
  inFlight = 0;
  /** Sessions disposed so far (and forgotten: they left the registry). */
  disposed = 0;
  private readonly byPrincipal = new Map<string, number>();

  get(sessionId: string): S | undefined {
    return this.registry.get(sessionId);
  }

  /** Live sessions `principal` holds (for `maxSessionsPerPrincipal`). */
  heldBy(principal: string): number {
    return this.byPrincipal.get(principal) ?? 0;
  }

  add(session: S): void {
    this.registry.add(session);
    this.counts.created += 1;
    const { principal } = session;
    if (principal !== undefined) this.byPrincipal.set(principal, this.heldBy(principal) + 1);
  }

  /**
   * Follows a state the session's machine entered. Returns the state it left, or `undefined` when
   * the machine re-entered the same state (an `idle` timer restarted by an uncounted stream).
   */
  moved(session: S, to: SessionStateName, trigger?: string): SessionStateName | undefined {
    const from = session.state;
    // Entering or re-entering idle is activity: most recent end of the idle order. Waking up from
    // hibernation is not: the session keeps its place.
    if (to === 'idle' && trigger !== 'WAKE') this.registry.markIdle(session);
    if (from === to) return undefined;
    session.state = to;
    if (from !== 'disposed') this.counts[from] -= 1;
    if (to === 'disposed') {
      this.registry.remove(session);
      this.disposed += 1;
      return from;
    }
    this.counts[to] += 1;
    if (to === 'active') this.refreshStreamsOnly(session);
    if (to === 'expired') {
      this.registry.markEnded(session);
      // Requests still open die with the session; their late `done()` calls are no-ops.
      this.inFlight -= session.requestsInFlight;
      this.releasePrincipalSlot(session.principal);
    }
    return from;
  }

  requestStarted(session: S): void {
    this.inFlight += 1;
    // Idle → active was handled by the move itself; a session kept by streams is busy now.
    if (session.requestsInFlight === 1) this.registry.markBusy(session);
  }

  requestEnded(session: S): void {
    this.inFlight -= 1;
    if (session.requestsInFlight === 0) this.refreshStreamsOnly(session);
  }

  /**
   * Keeps the second eviction order: an active session with no request in flight is kept active by
   * its open streams only, and moves to the most recent end on each such activity.
   */
  refreshStreamsOnly(session: S): void {
    if (session.state !== 'active') return;
    if (session.requestsInFlight === 0 && session.openStreams > 0) this.registry.markStreamsOnly(session);
    else this.registry.markBusy(session);
  }

  private releasePrincipalSlot(principal: string | undefined): void {
    if (principal === undefined) return;
    const held = this.heldBy(principal) - 1;
    if (held > 0) this.byPrincipal.set(principal, held);
    else this.byPrincipal.delete(principal);
  }
}
