import type { SessionStateName } from '../../machines/session.machine.js';
import type { RejectionCode } from '../../machines/supervisor.machine.js';
import type { SessionTransitionEvent } from '../events.js';
import type { SessionInfo } from '../session.js';
import type { SessionSupervisor, SupervisorStatistics } from '../supervisor.js';
import type { LiveCharts, StateCounts } from './charts.js';
import type { LiveModernTraffic } from './modern-traffic.js';

/** One session as the live view shows it: no metadata beyond the client's name. */
export interface LiveSession {
  readonly id: string;
  readonly state: SessionStateName;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  readonly requests: number;
  /** `clientInfo.name` from `initialize`, when the session's metadata has it. */
  readonly client: string | undefined;
  /** Who opened the session (see `open({ principal })`), when anyone did. */
  readonly principal: string | undefined;
}

/** What the drawings show: occupancy per state id, and how often each arrow was taken. */
export interface LiveChartState {
  readonly counts: { readonly session: StateCounts; readonly supervisor: StateCounts };
  /**
   * Per transition id: times taken since the view started listening, i.e. since the first of the
   * pages open now connected (it stops listening, and forgets, when the last one closes).
   */
  readonly taken: Readonly<Record<string, number>>;
}

/** What `<base>/snapshot.json` answers and what an event stream starts with. */
export interface LiveSnapshot extends LiveChartState {
  /** Supervisor clock time of the snapshot, so the page can age sessions on the server's clock. */
  readonly now: number;
  /** On an event stream: the number of the last event included (later ones are higher); else 0. */
  readonly seq: number;
  readonly stats: SupervisorStatistics;
  /** Live sessions, oldest first: the newest `maxListedSessions` of them. */
  readonly sessions: readonly LiveSession[];
  /** Live sessions in all (more than `sessions.length` when the list was cut). */
  readonly total: number;
  /** The sessionless 2026-07-28 leg, counted per request (it holds no session). */
  readonly modern: LiveModernTraffic;
}

/** A transition or refusal as streamed to the page, numbered and with the client's name. */
export type LiveEvent =
  | (SessionTransitionEvent & {
      readonly seq: number;
      readonly client: string | undefined;
      readonly principal: string | undefined;
      /** Ids of the session-machine arrows this move took (see `charts.json`). */
      readonly transitions: readonly string[];
    })
  | { readonly type: 'rejected'; readonly code: RejectionCode; readonly at: number; readonly seq: number };

/** The client name the MCP layer records from `initialize` (`metadata.clientInfo.name`). */
export function clientName(metadata: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const info = metadata?.clientInfo;
  if (typeof info !== 'object' || info === null) return undefined;
  const name = (info as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

const toLiveSession = (info: SessionInfo, principal: string | undefined): LiveSession => ({
  id: info.id,
  state: info.state,
  createdAt: info.createdAt,
  lastActivityAt: info.lastActivityAt,
  requests: info.requests,
  client: clientName(info.metadata),
  principal,
});

/** Counts for the drawings from one statistics read. */
export function chartState(
  charts: LiveCharts,
  stats: SupervisorStatistics,
  taken: ReadonlyMap<string, number>,
): LiveChartState {
  return {
    counts: { session: charts.sessionCounts(stats), supervisor: charts.supervisorCounts(stats) },
    taken: Object.fromEntries(taken),
  };
}

/** Reads the supervisor once: O(live sessions), for connects and resyncs only. */
export function takeSnapshot(
  supervisor: SessionSupervisor<unknown>,
  charts: LiveCharts,
  taken: ReadonlyMap<string, number>,
  seq: number,
  maxListedSessions: number,
  modern: LiveModernTraffic,
): LiveSnapshot {
  const sessions = supervisor.sessions();
  const stats = supervisor.getStatistics();
  return {
    now: supervisor.options.clock.now(),
    seq,
    stats,
    ...chartState(charts, stats, taken),
    sessions: sessions
      .slice(-maxListedSessions)
      .map((info) => toLiveSession(info, supervisor.get(info.id)?.principal)),
    total: sessions.length,
    modern,
  };
}
