/**
 * Model-based test generation for the session lifecycle, from the real `sessionMachine`.
 *
 * `xstate/graph` walks the machine (its `after` timers and invoked actors included) and yields paths:
 * sequences of events from admission to every reachable state. This module turns them into plain
 * data: each step says what happened in runtime terms (a request started, a timer ran out, the server
 * factory rejected, …) and what the session must look like afterwards. Executing a step is left to
 * the test that imports the paths, so the same paths can drive the in-process supervisor, the HTTP
 * layer, or anything else that embeds a session.
 *
 * Traversal rules that keep the paths executable against a runtime:
 * - only events the runtime can actually produce are offered: a `REQUEST.END` needs a request in
 *   flight, `prepare` settles once, releasing a session whose server was never built has nothing
 *   that could fail or overrun, and ignored events are left out (they would only be self-loops);
 * - counts are capped (see {@link TRAVERSAL_BOUNDS}) so the state space stays finite;
 * - time passes only when a timer runs out, so of the timers pending in a state only the one with the
 *   shortest delay can fire (every pending timer was started at the same instant; the replay checks
 *   that no older timer survives a timeout). Hence `maxLifetime` is only reached while `active`.
 */
import {
  __unsafe_getAllOwnEventDescriptors,
  type AnyStateNode,
  type AnyTransitionDefinition,
  type EventObject,
  initialTransition,
  pathToStateValue,
  type SnapshotFrom,
  transition,
} from 'xstate';
import { getShortestPaths, getSimplePaths, type StatePath } from 'xstate/graph';
import {
  type SessionEndReason,
  type SessionEvent,
  type SessionMachineInput,
  type SessionOutput,
  type SessionStateName,
  type SessionTimeouts,
  sessionMachine,
} from '../../machines/session.machine.js';

type SessionSnapshot = SnapshotFrom<typeof sessionMachine>;
type Machine = typeof sessionMachine;

/** The named delays of the machine; each is also the name of a supervisor option. */
export type DelayName = keyof SessionTimeouts;

/**
 * Timeouts of the generation input; an executor must configure its runtime with the same values.
 * `maxLifetime` is the longest, so `initTimeout` and `idleTimeout` can fire before it; with nothing
 * else pending (a busy session) the lifetime edge is still reachable.
 */
export const MODEL_TIMEOUTS = {
  initTimeout: 300,
  idleTimeout: 500,
  maxLifetime: 700,
  disposeTimeout: 200,
} as const satisfies SessionTimeouts;

/**
 * Caps on what a session holds at once, so that traversal terminates (the counts are part of the
 * traversal key). Shortest paths reach every combination up to two requests and two streams, which
 * every guarded branch needs (a request ending while another request or a stream keeps the session
 * busy). Simple paths enumerate every loop-free route, whose number grows combinatorially with the
 * states (7 238 paths with one request and one stream, 23 398 with two of each): they get at most one
 * thing in flight, which keeps them to a few hundred.
 */
export interface TraversalBounds {
  readonly requestsInFlight: number;
  readonly openStreams: number;
  /** Requests and streams together. */
  readonly busy: number;
}

export const TRAVERSAL_BOUNDS: Readonly<Record<PathGenerator, TraversalBounds>> = {
  shortest: { requestsInFlight: 2, openStreams: 2, busy: 4 },
  simple: { requestsInFlight: 1, openStreams: 1, busy: 1 },
};

/**
 * Reasons a `CLOSE` is generated with. The machine treats every reason alike, so one is enough to
 * take the transition; `deleted` is the one a client causes (HTTP DELETE, `supervisor.close`).
 */
export const CLOSE_REASONS: readonly SessionEndReason[] = ['deleted'];

export interface ModelVariant {
  /** Short label used in test names. */
  readonly name: string;
  /** `createdAt` is 0: times in the paths are milliseconds since admission. */
  readonly input: SessionMachineInput;
}

const inputWith = (streamsCountAsActivity: boolean): SessionMachineInput => ({
  sessionId: 'model',
  createdAt: 0,
  timeouts: MODEL_TIMEOUTS,
  streamsCountAsActivity,
});

/**
 * Both settings of `streamsCountAsActivity`: only when streams count does closing the last one make
 * the session idle; only when they do not can a stream be opened (re-entering) or closed while idle.
 */
export const MODEL_VARIANTS: readonly ModelVariant[] = [
  { name: 'streams count', input: inputWith(true) },
  { name: 'streams uncounted', input: inputWith(false) },
];

/** What a step does, in terms any runtime embedding a session understands. */
export type ModelAction =
  | { readonly kind: 'initialized' }
  | { readonly kind: 'request-start' }
  | { readonly kind: 'request-end' }
  | { readonly kind: 'stream-open' }
  | { readonly kind: 'stream-close' }
  | { readonly kind: 'close'; readonly reason: SessionEndReason }
  /** Let `advanceBy` ms pass: exactly the delay of the timer that fires. */
  | { readonly kind: 'timeout'; readonly delay: DelayName; readonly advanceBy: number }
  /** The invoked actor settles: `prepare` builds the server, `release` frees the resources. */
  | { readonly kind: 'settle'; readonly actor: 'prepare' | 'release'; readonly outcome: 'done' | 'error' };

/** What must be observable of the session after a step. */
export interface ExpectedSession {
  readonly state: SessionStateName;
  readonly requestsInFlight: number;
  readonly openStreams: number;
}

export interface ModelStep {
  /** The machine event, e.g. `REQUEST.START` or `xstate.after.idleTimeout.session.live.idle`. */
  readonly eventType: string;
  readonly action: ModelAction;
  readonly description: string;
  /** The session after the step. */
  readonly expected: ExpectedSession;
  /** Ids (see {@link enumerateTransitions}) of the transitions the machine took on this step. */
  readonly transitions: readonly string[];
  /** Milliseconds since admission once the step is done. */
  readonly at: number;
}

export type PathGenerator = 'shortest' | 'simple';

export interface ModelPath {
  /** Unique; variant, then the steps, then the final state. */
  readonly description: string;
  readonly variant: ModelVariant;
  /** Which `xstate/graph` generators produced this event sequence. */
  readonly generators: readonly PathGenerator[];
  /** The session right after admission. */
  readonly initial: ExpectedSession;
  readonly steps: readonly ModelStep[];
  /** The session at the end of the path. */
  readonly final: ExpectedSession;
  /** The machine's output when the path ends in `disposed` (times in ms since admission). */
  readonly output: SessionOutput | undefined;
  /** Ids of every state node the session was in along the path. */
  readonly stateNodes: readonly string[];
}

export interface GeneratedPaths {
  /** Every distinct event sequence, with the generators that produced it. */
  readonly paths: readonly ModelPath[];
  /** How many paths each generator returned, summed over the variants (before merging duplicates). */
  readonly counts: Readonly<Record<PathGenerator, number>>;
}

// ---------------------------------------------------------------------------------------------
// The machine definition: state nodes and transitions

/** One transition of the machine definition. */
export interface TransitionInfo {
  /** `<source> <event> #<index> [guard] → <targets>`: readable in a coverage report. */
  readonly id: string;
  readonly source: string;
  readonly eventType: string;
  /** Position among the source's transitions for that event (the guarded branch). */
  readonly index: number;
  readonly guard: string | undefined;
  readonly targets: readonly string[];
  readonly reenter: boolean;
}

const allStateNodes = (node: AnyStateNode): AnyStateNode[] => [
  node,
  ...Object.values(node.states).flatMap((child) => allStateNodes(child)),
];

/** Ids of every state node, root first, in document order (e.g. `session.live.created`). */
export function enumerateStateNodes(machine: Machine = sessionMachine): string[] {
  return allStateNodes(machine.root).map((node) => node.id);
}

function describeGuard(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    // xstate's `and`/`or`/`not` are functions carrying their operands in `guards`.
    const { guards, name } = guard as { guards?: unknown[]; name: string };
    if (Array.isArray(guards)) return `${name}(${guards.map(describeGuard).join(', ')})`;
    return name || 'inline';
  }
  if (typeof guard === 'object' && guard !== null && 'type' in guard) return String(guard.type);
  return 'unknown';
}

/** Index from the transition objects of the definition to their descriptions. */
const transitionIndex = new WeakMap<AnyTransitionDefinition, TransitionInfo>();

function describeTransition(definition: AnyTransitionDefinition, index: number): TransitionInfo {
  const known = transitionIndex.get(definition);
  if (known) return known;
  const guard = describeGuard(definition.guard);
  const targets = (definition.target ?? []).map((target) => target.id);
  const eventType = definition.eventType === '' ? 'always' : String(definition.eventType);
  const info: TransitionInfo = {
    id:
      `${definition.source.id} ${eventType} #${index}` +
      `${guard ? ` [${guard}]` : ''} → ${targets.length ? targets.join(', ') : '(no target)'}` +
      `${definition.reenter ? ' (reenter)' : ''}`,
    source: definition.source.id,
    eventType,
    index,
    guard,
    targets,
    reenter: definition.reenter,
  };
  transitionIndex.set(definition, info);
  return info;
}

/**
 * Every transition of the machine definition: event transitions, `after` timers, invoke
 * `onDone`/`onError` (all of which xstate keeps in `stateNode.transitions`) and eventless `always`
 * ones, one entry per guarded branch.
 */
export function enumerateTransitions(machine: Machine = sessionMachine): TransitionInfo[] {
  return allStateNodes(machine.root).flatMap((node) => [
    ...[...node.transitions.values()].flatMap((branches) => branches.map(describeTransition)),
    ...(node.always ?? []).map(describeTransition),
  ]);
}

/** The transitions the machine selects for `event` in `snapshot` (none if it is ignored). */
function takenTransitions(snapshot: SessionSnapshot, event: EventObject): string[] {
  // Eventless transitions taken afterwards in the same macrostep are not reported by
  // getTransitionData; the session machine has none, and the coverage test would list any as missing.
  return sessionMachine.getTransitionData(snapshot, event as SessionEvent).map((definition) => {
    const branches = definition.source.transitions.get(definition.eventType) ?? [];
    return describeTransition(definition, branches.indexOf(definition)).id;
  });
}

// ---------------------------------------------------------------------------------------------
// Traversal

interface TimerInfo {
  readonly delay: DelayName;
  readonly source: AnyStateNode;
}

/** `xstate.after.<delay>.<state id>` → its delay, read from the definition rather than parsed. */
const timersByEventType = new Map<string, TimerInfo>(
  allStateNodes(sessionMachine.root).flatMap((node) =>
    node.after.map((definition): [string, TimerInfo] => [
      String(definition.eventType),
      { delay: definition.delay as DelayName, source: node },
    ]),
  ),
);

function delayMs(delay: DelayName, snapshot: SessionSnapshot): number {
  const implementation = sessionMachine.implementations.delays[delay];
  if (typeof implementation === 'number') return implementation;
  if (implementation === undefined) throw new Error(`The machine has no delay named ${delay}`);
  // The delays only read the context.
  return implementation({ context: snapshot.context } as never, undefined as never);
}

const isTimerEvent = (type: string): boolean => timersByEventType.has(type);

/** The timer events whose delay is the shortest of those pending in `snapshot`. */
function firstTimers(snapshot: SessionSnapshot): Set<string> {
  const pending = __unsafe_getAllOwnEventDescriptors(snapshot)
    .map(String)
    .filter(isTimerEvent)
    .map((type) => ({ type, ms: delayMs((timersByEventType.get(type) as TimerInfo).delay, snapshot) }));
  const shortest = Math.min(...pending.map(({ ms }) => ms));
  const first = pending.filter(({ ms }) => ms === shortest);
  if (first.length > 1) {
    throw new Error(
      `Timers ${first.map(({ type }) => type).join(', ')} would fire together: use distinct delays`,
    );
  }
  return new Set(first.map(({ type }) => type));
}

/** A machine event as traversal produces it: runtime events carry `at`, actor results a payload. */
type StampedEvent = EventObject & { readonly at?: number; readonly [payload: string]: unknown };

/**
 * The concrete events the runtime can produce in `snapshot`, one list per event type the state
 * accepts. Unknown event types are an error: a new machine event must be taught to the model.
 */
function feasibleEvents(snapshot: SessionSnapshot, bounds: TraversalBounds): SessionEvent[] {
  const { context } = snapshot;
  const busy = context.requestsInFlight + context.openStreams;
  const first = firstTimers(snapshot);
  // A session that ended before its server was built holds nothing: releasing it cannot fail or
  // overrun its deadline.
  const holdsResources = context.prepared;
  const byType = (type: string): StampedEvent[] => {
    const timer = timersByEventType.get(type);
    if (timer) {
      const releaseDeadline = timer.source.invoke.some((invocation) => invocation.id === 'release');
      return first.has(type) && (holdsResources || !releaseDeadline) ? [{ type }] : [];
    }
    switch (type) {
      case 'INITIALIZED':
        return [{ type, at: 0 }];
      case 'REQUEST.START':
        return context.requestsInFlight < bounds.requestsInFlight && busy < bounds.busy
          ? [{ type, at: 0 }]
          : [];
      case 'REQUEST.END':
        return context.requestsInFlight > 0 ? [{ type, at: 0 }] : [];
      case 'STREAM.OPEN':
        return context.openStreams < bounds.openStreams && busy < bounds.busy ? [{ type, at: 0 }] : [];
      case 'STREAM.CLOSE':
        return context.openStreams > 0 ? [{ type, at: 0 }] : [];
      case 'CLOSE':
        return CLOSE_REASONS.map((reason) => ({ type, reason, at: 0 }));
      // `prepare` settles once: after its done event it no longer runs.
      case 'xstate.done.actor.prepare':
        return context.prepared ? [] : [{ type, output: undefined, actorId: 'prepare' }];
      case 'xstate.error.actor.prepare':
        return context.prepared ? [] : [{ type, error: 'prepare failed', actorId: 'prepare' }];
      // `release` runs for as long as the session is `expired`.
      case 'xstate.done.actor.release':
        return [{ type, output: undefined, actorId: 'release' }];
      case 'xstate.error.actor.release':
        return holdsResources ? [{ type, error: 'release failed', actorId: 'release' }] : [];
      default:
        throw new Error(`The session model does not know how a runtime produces ${type}`);
    }
  };
  return (__unsafe_getAllOwnEventDescriptors(snapshot) as string[])
    .flatMap(byType)
    .filter((event) => takenTransitions(snapshot, event).length > 0) as SessionEvent[];
}

const stateName = (snapshot: SessionSnapshot): SessionStateName => {
  const { value } = snapshot;
  return typeof value === 'string' ? (value as SessionStateName) : (value.live as SessionStateName);
};

const isLive = (state: SessionStateName): boolean =>
  state === 'created' || state === 'active' || state === 'idle';

/**
 * The traversal key. Bounded because the counts are capped by {@link feasibleEvents}; timestamps and
 * the lifetime total of requests are left out (they never change what the machine can do). Once the
 * session has ended, only how it ended matters.
 */
function serializeState(snapshot: SessionSnapshot): string {
  const { context } = snapshot;
  const state = stateName(snapshot);
  if (!isLive(state)) {
    return JSON.stringify([state, context.reason, context.releaseIncomplete]);
  }
  return JSON.stringify([state, context.prepared, context.requestsInFlight, context.openStreams]);
}

/**
 * The traversal key for shortest paths: the state together with how it was reached (transition
 * and previous state), as `createTestModel` does, so that there is a shortest path through every
 * edge of the bounded state graph and not only to every state. (Keyed by state alone, the busy
 * `active` states are all reached through `created`, and no path ever starts a second request
 * while `active`.)
 */
function serializeArrival(
  snapshot: SessionSnapshot,
  event: SessionEvent | undefined,
  previous?: SessionSnapshot,
): string {
  if (!event || !previous) return serializeState(snapshot);
  return `${serializeState(snapshot)} via ${takenTransitions(previous, event).join(' + ')} from ${serializeState(previous)}`;
}

const expectedOf = (snapshot: SessionSnapshot): ExpectedSession => ({
  state: stateName(snapshot),
  requestsInFlight: snapshot.context.requestsInFlight,
  openStreams: snapshot.context.openStreams,
});

function actionOf(event: StampedEvent, snapshot: SessionSnapshot): ModelAction {
  const timer = timersByEventType.get(event.type);
  if (timer) return { kind: 'timeout', delay: timer.delay, advanceBy: delayMs(timer.delay, snapshot) };
  switch (event.type) {
    case 'INITIALIZED':
      return { kind: 'initialized' };
    case 'REQUEST.START':
      return { kind: 'request-start' };
    case 'REQUEST.END':
      return { kind: 'request-end' };
    case 'STREAM.OPEN':
      return { kind: 'stream-open' };
    case 'STREAM.CLOSE':
      return { kind: 'stream-close' };
    case 'CLOSE':
      return { kind: 'close', reason: (event as Extract<SessionEvent, { type: 'CLOSE' }>).reason };
  }
  const settled = /^xstate\.(done|error)\.actor\.(prepare|release)$/.exec(event.type);
  if (settled) {
    return {
      kind: 'settle',
      actor: settled[2] as 'prepare' | 'release',
      outcome: settled[1] as 'done' | 'error',
    };
  }
  throw new Error(`No runtime action for ${event.type}`);
}

/** How a step reads in a test name. */
export function describeAction(action: ModelAction): string {
  switch (action.kind) {
    case 'initialized':
      return 'INITIALIZED';
    case 'request-start':
      return 'REQUEST.START';
    case 'request-end':
      return 'REQUEST.END';
    case 'stream-open':
      return 'STREAM.OPEN';
    case 'stream-close':
      return 'STREAM.CLOSE';
    case 'close':
      return `CLOSE(${action.reason})`;
    case 'timeout':
      return `${action.delay} elapses`;
    case 'settle':
      return `${action.actor} ${action.outcome === 'done' ? 'resolves' : 'rejects'}`;
  }
}

const allNodes = allStateNodes(sessionMachine.root);

/**
 * Replays the events of a generated path on the machine from its initial snapshot. The path's own
 * snapshots come from a lossy key (another branch may have produced them), so the expected states,
 * the transitions taken and the output are recomputed from the exact event sequence.
 */
function replay(variant: ModelVariant, events: readonly StampedEvent[]): Omit<ModelPath, 'generators'> {
  let [snapshot] = initialTransition(sessionMachine, variant.input);
  const initial = expectedOf(snapshot);
  const visited = new Set<string>();
  const visit = (current: SessionSnapshot): void => {
    for (const node of allNodes) {
      if (current.matches(pathToStateValue(node.path) as never)) visited.add(node.id);
    }
  };
  visit(snapshot);
  let now = variant.input.createdAt;
  const steps: ModelStep[] = [];
  for (const generated of events) {
    const action = actionOf(generated, snapshot);
    if (action.kind === 'timeout') now += action.advanceBy;
    // Runtime events carry the time they happen at.
    const event = 'at' in generated ? { ...generated, at: now } : generated;
    const transitions = takenTransitions(snapshot, event);
    const [next] = transition(sessionMachine, snapshot, event as SessionEvent);
    if (action.kind === 'timeout') assertNoTimerSurvives(snapshot, next, event.type);
    snapshot = next;
    visit(snapshot);
    steps.push({
      eventType: event.type,
      action,
      description: describeAction(action),
      expected: expectedOf(snapshot),
      transitions,
      at: now,
    });
  }
  const final = expectedOf(snapshot);
  const description = `${variant.name}: ${
    steps.length ? steps.map((step) => step.description).join(' → ') : '(admission only)'
  } ⇒ ${final.state}`;
  return {
    description,
    variant,
    initial,
    steps,
    final,
    output: snapshot.status === 'done' ? (snapshot.output as SessionOutput) : undefined,
    stateNodes: [...visited],
  };
}

/**
 * Time passes only on timeout steps. That is faithful only if no timer started before a timeout
 * is still pending after it (otherwise its remaining time would be shorter than its delay).
 */
function assertNoTimerSurvives(before: SessionSnapshot, after: SessionSnapshot, fired: string): void {
  const pendingBefore = __unsafe_getAllOwnEventDescriptors(before).map(String).filter(isTimerEvent);
  const pendingAfter = new Set(__unsafe_getAllOwnEventDescriptors(after).map(String));
  const survivors = pendingBefore.filter((type) => pendingAfter.has(type));
  if (survivors.length) {
    throw new Error(`After ${fired}, timers ${survivors.join(', ')} are still pending: the model needs time`);
  }
}

type GraphPath = StatePath<SessionSnapshot, SessionEvent>;

const traversalOptions = (
  variant: ModelVariant,
  generator: PathGenerator,
  bounds: TraversalBounds,
  fromState: SessionSnapshot | undefined,
) => ({
  input: variant.input,
  // A user `events` option replaces xstate's default event descriptors: timers and actor results
  // are produced by `feasibleEvents` itself.
  events: (snapshot: SessionSnapshot) => feasibleEvents(snapshot, bounds),
  serializeState: generator === 'shortest' ? serializeArrival : serializeState,
  ...(fromState === undefined ? {} : { fromState }),
});

/** The events of a path, without the `xstate.init` step `xstate/graph` puts first. */
const eventsOf = (path: GraphPath): StampedEvent[] =>
  path.steps.map((step) => step.event as StampedEvent).filter((event) => event.type !== 'xstate.init');

const sequenceKey = (variant: ModelVariant, events: readonly StampedEvent[]): string =>
  JSON.stringify([variant.name, events.map(({ at: _at, ...event }) => event)]);

/** No cap: any number of requests and streams at once. */
const UNBOUNDED: TraversalBounds = {
  requestsInFlight: Number.POSITIVE_INFINITY,
  openStreams: Number.POSITIVE_INFINITY,
  busy: Number.POSITIVE_INFINITY,
};

/**
 * The machine events of `actions` performed in order from admission, and the snapshot they lead to.
 * Throws if an action cannot happen where it occurs under the traversal rules.
 */
function eventsOfActions(
  variant: ModelVariant,
  actions: readonly ModelAction[],
): { events: StampedEvent[]; snapshot: SessionSnapshot } {
  let [snapshot] = initialTransition(sessionMachine, variant.input);
  const events: StampedEvent[] = [];
  for (const [index, action] of actions.entries()) {
    const wanted = JSON.stringify(action);
    const event = (feasibleEvents(snapshot, UNBOUNDED) as StampedEvent[]).find(
      (candidate) => JSON.stringify(actionOf(candidate, snapshot)) === wanted,
    );
    if (!event) {
      throw new Error(
        `Action ${index + 1}, ${describeAction(action)}, cannot happen in ${stateName(snapshot)}`,
      );
    }
    [snapshot] = transition(sessionMachine, snapshot, event as SessionEvent);
    events.push(event);
  }
  return { events, snapshot };
}

function generate(
  prefix: readonly ModelAction[],
  bounds: Readonly<Record<PathGenerator, TraversalBounds>>,
): GeneratedPaths {
  const merged = new Map<
    string,
    { variant: ModelVariant; events: StampedEvent[]; generators: PathGenerator[] }
  >();
  const counts: Record<PathGenerator, number> = { shortest: 0, simple: 0 };
  for (const variant of MODEL_VARIANTS) {
    const start = prefix.length ? eventsOfActions(variant, prefix) : undefined;
    const options = (generator: PathGenerator) =>
      traversalOptions(variant, generator, bounds[generator], start?.snapshot);
    const byGenerator: Array<[PathGenerator, GraphPath[]]> = [
      ['shortest', getShortestPaths(sessionMachine, options('shortest'))],
      ['simple', getSimplePaths(sessionMachine, options('simple'))],
    ];
    for (const [generator, paths] of byGenerator) {
      counts[generator] += paths.length;
      for (const path of paths) {
        const events = [...(start?.events ?? []), ...eventsOf(path)];
        const key = sequenceKey(variant, events);
        const entry = merged.get(key) ?? { variant, events, generators: [] };
        if (!entry.generators.includes(generator)) entry.generators.push(generator);
        merged.set(key, entry);
      }
    }
  }
  const paths = [...merged.values()].map(({ variant, events, generators }) => ({
    ...replay(variant, events),
    generators,
  }));
  return { paths, counts };
}

let generated: GeneratedPaths | undefined;

/**
 * Shortest and simple paths of the session machine for every {@link MODEL_VARIANTS} entry, merged
 * by event sequence (a shortest path is usually also a simple one). Computed once per process.
 */
export function generateSessionPaths(): GeneratedPaths {
  generated ??= generate([], TRAVERSAL_BOUNDS);
  return generated;
}

/**
 * Shortest and simple paths that begin with `prefix`, for runtimes whose sessions always start the
 * same way (over HTTP, with the initialize request in flight): the traversal starts from the state
 * the prefix leads to, under `bounds`, and every path is replayed from admission, prefix included.
 */
export function generateSessionPathsAfter(
  prefix: readonly ModelAction[],
  bounds: Readonly<Record<PathGenerator, TraversalBounds>> = TRAVERSAL_BOUNDS,
): GeneratedPaths {
  return generate(prefix, bounds);
}

/**
 * The path a runtime follows when it performs `actions` in order from admission, for runtimes that
 * reach the machine's states by other routes than the generated ones. Replayed like a generated
 * path, so its expected states, transitions taken and output come from the machine itself. Throws if
 * an action cannot happen where it occurs under the traversal rules (a timer that is not the next to
 * fire, a request ending with none in flight, an event the machine would ignore, …).
 */
export function pathOfActions(
  variant: ModelVariant,
  actions: readonly ModelAction[],
  generators: readonly PathGenerator[] = [],
): ModelPath {
  return { ...replay(variant, eventsOfActions(variant, actions).events), generators };
}

/** Ids of the transitions taken by at least one step of `paths`. */
export function transitionsTaken(paths: readonly ModelPath[]): Set<string> {
  return new Set(paths.flatMap((path) => path.steps.flatMap((step) => step.transitions)));
}

/** Ids of the state nodes the session was in on at least one of `paths`. */
export function stateNodesVisited(paths: readonly ModelPath[]): Set<string> {
  return new Set(paths.flatMap((path) => path.stateNodes));
}

/** What a test observes of the session; live sessions are found by id, ended ones are not. */
export interface Observed extends ExpectedSession {
  readonly found: boolean;
}

const isLiveState = (state: string): boolean => state === 'created' || state === 'active' || state === 'idle';

/** The observation the model predicts for a step. */
export const expectedObservation = (expected: ExpectedSession): Observed => ({
  ...expected,
  found: isLiveState(expected.state),
});
