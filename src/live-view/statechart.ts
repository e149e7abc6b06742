import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/*
 * A machine's shape, read from its definition at run time (state nodes, transitions, delays), so
 * the live view draws whatever the machines in `machines/` say today: a state added there appears
 * in the drawing with no other edit. Nothing here knows a state's name.
 */

/** One state node. `id` is xstate's own id (`session.live.idle`), unique within the machine. */
export interface ChartState {
  readonly id: string;
  /** The state's own name (`idle`): what the runtime reports in its events. */
  readonly key: string;
  /** The enclosing state's id; `undefined` for the machine's top-level states. */
  readonly parent: string | undefined;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Transitions that change no state (`REQUEST.START / startRequest`), shown inside the state. */
  readonly internal: readonly string[];
  /** Actors the state invokes while it is active (`invoke prepareSession`). */
  readonly invokes: readonly string[];
}

/** One drawn arrow: a transition with a target, or the initial arrow into a compound state. */
export interface ChartTransition {
  /** Stable for a given definition: `<source id>:<event>:<index among that event's transitions>`. */
  readonly id: string;
  /** A state id, or `<parent id>:initial` for the initial pseudo-state (see {@link initialNodeId}). */
  readonly source: string;
  readonly target: string;
  /** The machine event type that takes it (`CLOSE`, `xstate.after.idleTimeout.session.live.idle`). */
  readonly event: string;
  /** What the drawing writes on the arrow: `after idleTimeout`, `INITIALIZED`, `done: release`. */
  readonly label: string;
  /** The guard's name (`busyAtHandshake`, `and(hasOpenStream, nothingOpen)`), shown when the arrow is pointed at. */
  readonly guard: string | undefined;
  readonly kind: 'event' | 'after' | 'done' | 'error' | 'always' | 'initial';
}

export interface Statechart {
  /** The machine's id (`session`). */
  readonly id: string;
  /** Every state node but the root, parents before their children, in definition order. */
  readonly states: readonly ChartState[];
  readonly transitions: readonly ChartTransition[];
}

/** The id of the initial pseudo-state (the dot) inside `parentId` (the machine id for the root). */
export const initialNodeId = (parentId: string): string => `${parentId}:initial`;

type Guard = AnyTransitionDefinition['guard'];

/** `busyAtHandshake`, `and(hasOpenStream, nothingOpen)`, `not(x)`: the name the machine gave the guard. */
function guardName(guard: Guard): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const parts = (guard as { guards?: readonly Guard[] }).guards;
    const name = guard.name || 'guard';
    return parts ? `${name}(${parts.map((part) => guardName(part) ?? '?').join(', ')})` : name;
  }
  return typeof guard === 'object' && guard !== null && 'type' in guard ? String(guard.type) : undefined;
}

/** How xstate names its built-in events, turned into what a reader expects on an arrow. */
function describeEvent(
  event: string,
  delays: ReadonlyMap<string, string>,
): Pick<ChartTransition, 'kind' | 'label'> {
  const delay = delays.get(event);
  if (delay !== undefined) return { kind: 'after', label: `after ${delay}` };
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event);
  if (actor) return { kind: actor[1] === 'done' ? 'done' : 'error', label: `${actor[1]}: ${actor[2]}` };
  if (event === '') return { kind: 'always', label: 'always' };
  return { kind: 'event', label: event };
}

/** How a transition reads in a list: `REQUEST.END [hasRequestInFlight]`. */
function withGuard(label: string, guard: string | undefined): string {
  return guard === undefined ? label : `${label} [${guard}]`;
}

/** Names of the delays in `node`'s `after`, keyed by the event type xstate raises for each. */
function delayNames(node: AnyStateNode): Map<string, string> {
  const names = new Map<string, string>();
  for (const delayed of node.after) {
    const delay = delayed.delay;
    names.set(String(delayed.eventType), typeof delay === 'number' ? `${delay} ms` : String(delay));
  }
  return names;
}

function invokedSource(invoke: { src: unknown; id: string }): string {
  return typeof invoke.src === 'string' ? invoke.src : invoke.id;
}

/**
 * Reads a machine's states and transitions from its definition.
 *
 * @example
 * ```ts
 * const chart = describeMachine(sessionMachine);
 * chart.states.map((state) => state.id); // ['session.live', 'session.live.created', …]
 * ```
 */
export function describeMachine(machine: AnyStateMachine): Statechart {
  const states: ChartState[] = [];
  const transitions: ChartTransition[] = [];

  const visit = (node: AnyStateNode): void => {
    const delays = delayNames(node);
    const internal: string[] = [];
    const counted = new Map<string, number>();
    const add = (event: string, transition: AnyTransitionDefinition): void => {
      const index = counted.get(event) ?? 0;
      counted.set(event, index + 1);
      const { kind, label } = describeEvent(event, delays);
      const guard = guardName(transition.guard);
      if (transition.target === undefined || transition.target.length === 0) {
        const text = withGuard(label, guard);
        if (!internal.includes(text)) internal.push(text);
        return;
      }
      for (const target of transition.target) {
        transitions.push({
          id: `${node.id}:${event}:${index}`,
          source: node.id,
          target: target.id,
          event,
          label,
          guard,
          kind,
        });
      }
    };
    for (const [event, list] of node.transitions) for (const transition of list) add(event, transition);
    for (const transition of node.always ?? []) add('', transition);

    if (node.parent !== undefined) {
      states.push({
        id: node.id,
        key: node.key,
        parent: node.parent.parent === undefined ? undefined : node.parent.id,
        type: node.type,
        internal,
        invokes: node.invoke.map((invoke) => `invoke ${invokedSource(invoke)}`),
      });
    }
    if (node.type === 'compound') {
      for (const target of node.initial.target) {
        transitions.push({
          id: `${node.id}:initial`,
          source: initialNodeId(node.id),
          target: target.id,
          event: 'xstate.init',
          label: '',
          guard: undefined,
          kind: 'initial',
        });
      }
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return { id: machine.id, states, transitions };
}

/** The state a runtime event names: by its key (`idle`) or its id (`session.live.idle`). */
export function findState(chart: Statechart, name: string): ChartState | undefined {
  return chart.states.find((state) => state.id === name) ?? chart.states.find((state) => state.key === name);
}

function isWithin(chart: Statechart, id: string, ancestorId: string): boolean {
  for (let current: string | undefined = id; current !== undefined; ) {
    if (current === ancestorId) return true;
    current = chart.states.find((state) => state.id === current)?.parent;
  }
  return false;
}

/** The initial arrows taken to enter `state` from outside its machine: one per level of nesting. */
function initialArrowsInto(chart: Statechart, state: ChartState): string[] {
  return chart.transitions
    .filter((transition) => transition.kind === 'initial' && isWithin(chart, state.id, transition.target))
    .map((transition) => transition.id);
}

/**
 * Which drawn transitions a runtime move took: `from` and `to` are state names as the runtime
 * reports them (`from` undefined: the session was just created), `event` the machine event that
 * caused it when known. Deeper sources win, as they do in xstate. `[]` when nothing matches.
 */
export function resolveTransition(
  chart: Statechart,
  from: string | undefined,
  event: string | undefined,
  to: string,
): string[] {
  const target = findState(chart, to);
  if (target === undefined) return [];
  if (from === undefined) return initialArrowsInto(chart, target);
  const source = findState(chart, from);
  if (source === undefined) return [];
  const candidates = chart.transitions.filter(
    (transition) =>
      transition.kind !== 'initial' &&
      (event === undefined || transition.event === event) &&
      // The runtime may name a parent (`idle`) while a child of it (`idle.awake`) took the arrow.
      (isWithin(chart, source.id, transition.source) || isWithin(chart, transition.source, source.id)) &&
      (isWithin(chart, target.id, transition.target) || isWithin(chart, transition.target, target.id)),
  );
  // Without the event, two candidates (e.g. a timeout and CLOSE, both to `expired`) cannot be told apart.
  if (event === undefined && candidates.length > 1) return [];
  const depth = (id: string) => id.split('.').length;
  candidates.sort((a, b) => depth(b.source) - depth(a.source));
  const best = candidates[0];
  return best === undefined ? [] : [best.id];
}
