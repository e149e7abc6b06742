/**
 * How the registry learns what this node's sessions do, and what this node learns back: lifecycle
 * events become activity reports (or a release), and each report's outcome may say the session
 * moved, ended, or was lost by the registry (then it is reasserted).
 *
 * @module
 */
import type { SessionEndReason } from '../../machines/session.machine.js';
import type { SupervisorEvent } from '../events.js';
import type { SupervisedSession } from '../session.js';
import type { ActivityReporter } from './activity.js';
import { endHere, type Held, type NodeContext, releaseRecord } from './held.js';
import type { ReassertEntry, TouchOutcome } from './registry.js';
import type { SessionTakeover } from './takeover.js';

/** Reasons after which the session lives on elsewhere: its record stays in the registry. */
const KEEPS_RECORD: ReadonlySet<SessionEndReason> = new Set(['moved', 'shutdown']);

/** Activity reporting for one `ClusterNode`, between its sessions' events and the registry. */
export class SessionReporting<S extends SupervisedSession<unknown>> {
  constructor(
    private readonly node: NodeContext<S>,
    private readonly reporter: ActivityReporter,
    private readonly takeover: SessionTakeover<S>,
  ) {}

  /** A supervisor event: activity to report, a session ended here, or one disposed. */
  observe(event: SupervisorEvent): void {
    if (event.type !== 'transition') return;
    const held = this.node.held.get(event.sessionId);
    if (held === undefined) return;
    switch (event.to) {
      case 'active':
      case 'idle':
        if (held.movedOut) {
          if (event.to === 'idle') this.takeover.retire(held);
        } else if (!held.recovering) {
          this.reporter.note(held, event.to, event.at);
        }
        return;
      case 'expired':
        this.reporter.forget(held);
        this.takeover.forget(held);
        if (!held.movedOut && !held.endedByRegistry && !KEEPS_RECORD.has(event.reason ?? 'failed')) {
          void releaseRecord(this.node, held.sessionId, event.reason ?? 'failed');
        }
        return;
      case 'disposed':
        if (this.node.held.get(event.sessionId) === held) this.node.held.delete(event.sessionId);
        return;
      default:
        return;
    }
  }

  /** What the registry answered to a report about one of this node's sessions. */
  settle(held: Held<S>, outcome: TouchOutcome): void {
    if (this.node.held.get(held.sessionId) !== held || !held.reportable) return;
    switch (outcome.status) {
      case 'moved':
        this.takeover.handOff(held);
        return;
      case 'ended':
        endHere(this.node, held.sessionId, outcome.reason);
        return;
      case 'missing':
        void this.reassert([held]);
        return;
      default:
        return;
    }
  }

  /** Puts this node's sessions back where the registry lost them, and learns what changed meanwhile. */
  async reassert(sessions: readonly Held<S>[]): Promise<void> {
    const { host, registry, nodeId, limits, logger } = this.node;
    const now = host.options.clock.now();
    const targets = sessions.filter((held) => held.reportable);
    const entries: ReassertEntry[] = targets.map((held) => ({
      sessionId: held.sessionId,
      state: held.activity,
      idleForMs: held.activity === 'idle' ? Math.max(0, now - held.lastActivityAt) : 0,
      ageMs: Math.max(0, now - held.session.createdAt),
      principal: held.session.principal,
      initialize: held.initialize,
    }));
    if (entries.length === 0) return;
    try {
      const outcomes = await registry.reassert(nodeId, entries, limits.ttlMs);
      outcomes.forEach((outcome, index) => {
        const held = targets[index];
        if (held && outcome.status !== 'missing') this.settle(held, outcome);
      });
    } catch (error) {
      logger?.warn({ err: error }, 'reasserting sessions in the cluster registry failed');
    }
  }
}
