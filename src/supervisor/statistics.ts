import type { EndCounts, StateCounts } from '../../machines/supervisor.machine.js';
import type { HibernationCounts } from './hibernation.js';

/** Statistics, every field read in O(1). */
export interface SupervisorStatistics {
  readonly phase: 'running' | 'draining' | 'stopped';
  /** Live sessions: created, active or idle (each holds a slot). */
  readonly liveSessions: number;
  /** @deprecated Counts live sessions, not `byState.active`: use {@link liveSessions}. */
  readonly activeSessions: number;
  readonly maxSessions: number;
  /** The idle timeout, in ms. */
  readonly idleTimeout: number;
  /** @deprecated The original manager's name for {@link idleTimeout}. */
  readonly sessionTimeout: number;
  readonly oldestSession: { readonly id: string; readonly createdAt: number } | undefined;
  readonly newestSession: { readonly id: string; readonly createdAt: number } | undefined;
  readonly byState: Readonly<StateCounts>;
  readonly requestsInFlight: number;
  readonly totals: {
    readonly admitted: number;
    readonly rejected: number;
    readonly evicted: number;
    /** Ended by a timeout: init, idle or lifetime. */
    readonly expired: number;
    readonly deleted: number;
    readonly failed: number;
    readonly shutdown: number;
    readonly disposed: number;
  };
  readonly endedByReason: Readonly<EndCounts>;
  /**
   * Hibernation (`hibernateAfter`): sessions hibernated now (also counted in `byState.idle`),
   * hibernations and wake-ups so far, and wake-up latencies (restore + server rebuild) by bucket.
   */
  readonly hibernation: HibernationCounts;
}

/** What the statistics are read from: the supervisor actor's context and the runtime's counters. */
export interface StatisticsSources {
  readonly phase: SupervisorStatistics['phase'];
  readonly live: number;
  readonly admitted: number;
  readonly rejected: number;
  readonly ended: EndCounts;
  readonly disposed: number;
  readonly byState: StateCounts;
  readonly requestsInFlight: number;
  readonly maxSessions: number;
  readonly idleTimeout: number;
  readonly oldest: { readonly id: string; readonly createdAt: number } | undefined;
  readonly newest: { readonly id: string; readonly createdAt: number } | undefined;
  readonly hibernation: HibernationCounts;
}

/** Assembles {@link SupervisorStatistics} from counters only: nothing here walks the sessions. */
export function readStatistics(sources: StatisticsSources): SupervisorStatistics {
  const { ended, oldest, newest } = sources;
  return {
    phase: sources.phase,
    liveSessions: sources.live,
    activeSessions: sources.live,
    maxSessions: sources.maxSessions,
    idleTimeout: sources.idleTimeout,
    sessionTimeout: sources.idleTimeout,
    oldestSession: oldest && { id: oldest.id, createdAt: oldest.createdAt },
    newestSession: newest && { id: newest.id, createdAt: newest.createdAt },
    byState: { ...sources.byState },
    requestsInFlight: sources.requestsInFlight,
    totals: {
      admitted: sources.admitted,
      rejected: sources.rejected,
      evicted: ended.evicted,
      expired: ended['init-timeout'] + ended['idle-timeout'] + ended.lifetime,
      deleted: ended.deleted,
      failed: ended.failed,
      shutdown: ended.shutdown,
      disposed: sources.disposed,
    },
    endedByReason: { ...ended },
    hibernation: sources.hibernation,
  };
}
