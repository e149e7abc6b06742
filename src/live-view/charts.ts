import type { AnyStateMachine } from 'xstate';
import { sessionMachine } from '../../machines/session.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import type { SessionTransitionEvent } from '../events.js';
import type { SupervisorStatistics } from '../supervisor.js';
import { type ChartDrawing, layoutStatechart } from './chart-layout.js';
import {
  type ChartState,
  describeMachine,
  findState,
  initialNodeId,
  resolveTransition,
  type Statechart,
} from './statechart.js';

/*
 * The two machines the live view draws, and how what the supervisor reports (state names in its
 * events, counts in its statistics) lands on their states and arrows. State names come from the
 * definitions and the reports; none is written here.
 */

/** Per drawn state id: how many sessions are in it now (a final state: how many reached it). */
export type StateCounts = Record<string, number>;

/** What the page draws: both machines, laid out. */
export interface ChartsDocument {
  readonly session: ChartDrawing;
  readonly supervisor: ChartDrawing;
}

export interface LiveCharts {
  readonly session: Statechart;
  readonly supervisor: Statechart;
  /** Laid out on first use and kept: the definitions do not change while the process runs. */
  drawings(): Promise<ChartsDocument>;
  /** The session-machine arrows a reported move took (cached per distinct move). */
  sessionTransitions(event: SessionTransitionEvent): readonly string[];
  /** The supervisor-machine arrows taken between two of its reported phases. */
  supervisorTransitions(from: string, to: string): readonly string[];
  sessionCounts(stats: SupervisorStatistics): StateCounts;
  supervisorCounts(stats: SupervisorStatistics): StateCounts;
  /**
   * Moves the runtime counts but does not announce (a session hibernating, waking up), as arrows
   * taken between two statistics reads: per transition id, how many times.
   */
  countedMoves(before: SupervisorStatistics, after: SupervisorStatistics): ReadonlyMap<string, number>;
}

/**
 * Counts in the statistics that are sessions in a state, by the state's name: `byState`, and the
 * sessions hibernated now (`idle.hibernated` in the hibernating charts).
 */
const countsByName = (stats: SupervisorStatistics): Record<string, number> => ({
  ...stats.byState,
  hibernated: stats.hibernation.hibernated,
});

/**
 * Totals in the statistics that count moves into (`in`) or out of (`out`) a state the runtime does
 * not announce, by the state's name: hibernations and wake-ups.
 */
const movesByName = (stats: SupervisorStatistics) => [
  { state: 'hibernated', direction: 'in' as const, total: stats.hibernation.hibernations },
  { state: 'hibernated', direction: 'out' as const, total: stats.hibernation.wakeUps },
];

/**
 * Occupancy of every state from the statistics: a state the statistics count by name takes that
 * count; a parent without its own count sums its children; a child without a count, whose parent
 * and siblings have one, holds the rest (`idle.awake` = `idle` − `idle.hibernated`); the single
 * final state (if there is exactly one) counts every disposal so far, since nothing stays in it.
 */
function countStates(
  chart: Statechart,
  byName: Readonly<Record<string, number>>,
  ended: number,
): StateCounts {
  const counts: StateCounts = {};
  const finals = chart.states.filter((state) => state.type === 'final');
  const countOf = (id: string): number => {
    const cached = counts[id];
    if (cached !== undefined) return cached;
    const state = chart.states.find((candidate) => candidate.id === id);
    if (!state) return 0;
    let count = byName[state.key];
    if (count === undefined && state.type === 'final') count = finals.length === 1 ? ended : 0;
    count ??= remainderOf(state);
    count ??= chart.states
      .filter((child) => child.parent === id && child.type !== 'final')
      .reduce((sum, child) => sum + countOf(child.id), 0);
    counts[id] = count;
    return count;
  };
  /** The parent's count less its counted siblings', when this is the only child without a count. */
  function remainderOf(state: ChartState): number | undefined {
    const parent = chart.states.find((candidate) => candidate.id === state.parent);
    const parentCount = parent && byName[parent.key];
    if (parent === undefined || parentCount === undefined) return undefined;
    const siblings = chart.states.filter((child) => child.parent === parent.id && child.id !== state.id);
    const known = siblings.map((sibling) => byName[sibling.key]);
    if (known.some((count) => count === undefined)) return undefined;
    return Math.max(0, parentCount - known.reduce<number>((sum, count) => sum + (count ?? 0), 0));
  }
  for (const state of chart.states) countOf(state.id);
  return counts;
}

/**
 * The arrows of the shortest way from one state to another: phases are read between two flushes,
 * so a supervisor that went `running → draining → stopped` in between is seen as one move.
 */
function shortestRoute(chart: Statechart, from: string, to: string): string[] {
  const start = findState(chart, from)?.id;
  const goal = findState(chart, to)?.id;
  if (start === undefined || goal === undefined) return [];
  const routes = new Map<string, string[]>([[start, []]]);
  const queue = [start];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    if (id === goal) return routes.get(id) ?? [];
    for (const transition of chart.transitions) {
      // Entering a compound state goes on through its initial arrow.
      const from = transition.source === id || transition.source === initialNodeId(id);
      if (!from || routes.has(transition.target)) continue;
      routes.set(transition.target, [...(routes.get(id) ?? []), transition.id]);
      queue.push(transition.target);
    }
  }
  return [];
}

/** The machines a supervisor runs: the session chart it chose for its options, and its own. */
export function machinesOf(supervisor: { readonly sessionChart: AnyStateMachine }): {
  session: AnyStateMachine;
  supervisor: AnyStateMachine;
} {
  return { session: supervisor.sessionChart, supervisor: supervisorMachine };
}

/**
 * @example
 * ```ts
 * const charts = liveCharts(machinesOf(supervisor));
 * const { session } = await charts.drawings();
 * charts.sessionCounts(supervisor.getStatistics()); // { 'session.live.idle': 3, … }
 * ```
 */
export function liveCharts(
  machines: { session: AnyStateMachine; supervisor: AnyStateMachine } = {
    session: sessionMachine,
    supervisor: supervisorMachine,
  },
): LiveCharts {
  const session = describeMachine(machines.session);
  const supervisor = describeMachine(machines.supervisor);
  const resolved = new Map<string, readonly string[]>();
  let drawings: Promise<ChartsDocument> | undefined;
  return {
    session,
    supervisor,
    drawings() {
      drawings ??= Promise.all([layoutStatechart(session), layoutStatechart(supervisor)]).then(
        ([sessionDrawing, supervisorDrawing]) => ({ session: sessionDrawing, supervisor: supervisorDrawing }),
      );
      // A failed layout is not cached: the next page load tries again.
      drawings.catch(() => {
        drawings = undefined;
      });
      return drawings;
    },
    sessionTransitions(event) {
      const key = `${event.from ?? ''}|${event.trigger}|${event.to}`;
      let ids = resolved.get(key);
      if (ids === undefined) {
        ids = resolveTransition(session, event.from, event.trigger, event.to);
        resolved.set(key, ids);
      }
      return ids;
    },
    supervisorTransitions(from, to) {
      const direct = resolveTransition(supervisor, from, undefined, to);
      return direct.length > 0 ? direct : shortestRoute(supervisor, from, to);
    },
    sessionCounts(stats) {
      return countStates(session, countsByName(stats), stats.totals.disposed);
    },
    countedMoves(before, after) {
      const moves = new Map<string, number>();
      const previous = movesByName(before);
      movesByName(after).forEach(({ state, direction, total }, index) => {
        const delta = total - (previous[index]?.total ?? total);
        const node = findState(session, state);
        if (delta <= 0 || node === undefined) return;
        // Only arrows that stay within the node's parent (`idle`): a WAKE past a deadline that
        // ends the session leaves `hibernated` too, but that move is announced, not counted here.
        const within = (id: string): boolean =>
          node.parent !== undefined && (id === node.parent || id.startsWith(`${node.parent}.`));
        for (const transition of session.transitions) {
          const end = direction === 'in' ? transition.target : transition.source;
          const other = direction === 'in' ? transition.source : transition.target;
          if (end === node.id && other !== node.id && other !== undefined && within(other))
            moves.set(transition.id, (moves.get(transition.id) ?? 0) + delta);
        }
      });
      return moves;
    },
    supervisorCounts(stats) {
      const current = findState(supervisor, stats.phase);
      return Object.fromEntries(
        supervisor.states.map((state) => [state.id, state.id === current?.id ? 1 : 0]),
      );
    },
  };
}
