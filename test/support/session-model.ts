/**
 * Model-based test generation for the session lifecycle.
 *
 * Two sources of paths, one source of truth:
 * - `xstate/graph` walks the real `sessionMachine` (its `after` timers and invoked actors included)
 *   and yields event sequences reaching every state and transition of the machine; an adapter turns
 *   each machine event into an act of the spec (a request started, time running to the next
 *   deadline, the server factory rejecting, …), so renamed internal events change one table;
 * - {@link exploreSpec} walks the spec's own lifecycle (test/support/lifecycle-oracle.ts) and yields
 *   the acts through every edge of it, so a transition the machine lacks is still taken.
 * What each step must lead to — the state, the counts, the instant a timer fires, the output of a
 * disposed session — comes from {@link LifecycleOracle}, which never looks at the machine. The
 * machine is replayed only to report which of its transitions a path takes (coverage).
 *
 * Time: acts are spaced {@link STEP_GAP} ms apart (never across a deadline), so that idle deadlines,
 * `endedAt` stamps and last-activity times differ from admission; a `timeout` step happens at the
 * oracle's next deadline, and an executor checks that nothing happens 1 ms before it.
 *
 * Traversal rules that keep the machine's paths executable against a runtime:
 * - only events the runtime can actually produce are offered: a `REQUEST.END` needs a request in
 *   flight, `prepare` settles once, releasing a session whose server was never built has nothing
 *   that could fail or overrun, and ignored events are left out (they would only be self-loops);
 * - counts are capped (see {@link TRAVERSAL_BOUNDS}) so the state space stays finite;
 * - of the timers pending in a state only the one with the shortest delay is offered.
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
  type SessionMachine,
  type SessionMachineInput,
  type SessionTimeouts,
  sessionMachine,
  sessionMachineWithoutLifetime,
} from '../../machines/session.machine.js';
import {
  type EndReason,
  exploreSpec,
  LifecycleOracle,
  type LifecycleState,
  type OracleOutput,
  type SpecAction,
  type TimerName,
} from './lifecycle-oracle.js';

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
  spec: { requestsInFlight: 2, openStreams: 2, busy: 4 },
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
  /** The chart the runtime runs for this configuration, which the paths are generated from. */
  readonly machine: SessionMachine;
  /**
   * Whether the first request of a busy spell comes as the supervisor's runtime sends it, with the
   * sender's count (`requestsInFlight`), so the machine counts nothing itself; otherwise every
   * request event is bare and the machine counts them (the machine's own counting, which tests and
   * direct users rely on).
   */
  readonly senderCounts: boolean;
}

const variant = (streamsCountAsActivity: boolean, lifetime: boolean, senderCounts = false): ModelVariant => ({
  name: `streams ${streamsCountAsActivity ? 'count' : 'uncounted'}${lifetime ? '' : ', no maxLifetime'}${
    senderCounts ? ', requests counted by the sender' : ''
  }`,
  input: {
    sessionId: 'model',
    createdAt: 0,
    timeouts: lifetime ? MODEL_TIMEOUTS : { ...MODEL_TIMEOUTS, maxLifetime: undefined },
    streamsCountAsActivity,
  },
  machine: lifetime ? sessionMachine : sessionMachineWithoutLifetime,
  senderCounts,
});

/**
 * Both settings of `streamsCountAsActivity` (only when streams count does closing the last one make
 * the session idle; only when they do not can a stream be opened or closed while idle), with and
 * without `maxLifetime` (the runtime runs a chart without the lifetime timer when none is set);
 * and once with busy spells as the runtime reports them (see {@link ModelVariant.senderCounts}).
 */
export const MODEL_VARIANTS: readonly ModelVariant[] = [
  variant(true, true),
  variant(false, true),
  variant(true, false),
  variant(false, false),
  variant(true, true, true),
];

/** What a step does, in the spec's terms (see {@link SpecAction}); a `timeout` runs to the next deadline. */
export type ModelAction = SpecAction;

/** What must be observable of the session after a step. */
export interface ExpectedSession {
  readonly state: LifecycleState;
  readonly requestsInFlight: number;
  readonly openStreams: number;
}

export interface ModelStep {
  readonly action: ModelAction;
  readonly description: string;
  /** The session after the step, as the oracle says. */
  readonly expected: ExpectedSession;
  /** The states the session passes through during the step, in order (none if it stays). */
  readonly movedTo: readonly LifecycleState[];
  /** Why the session ended, once it has. */
  readonly reason: EndReason | undefined;
  /**
   * Milliseconds since admission at which the step happens: for a timeout, the deadline of the
   * timer that fires (nothing may happen 1 ms before); for any other act, the previous step's time
   * plus the spacing.
   */
  readonly at: number;
  /** For a timeout: the timer the oracle says fires (none pending: time passes and nothing happens). */
  readonly timer: TimerName | undefined;
  /** Ids (see {@link enumerateTransitions}) of the transitions the machine took on this step. */
  readonly transitions: readonly string[];
}

/** `shortest`/`simple`: `xstate/graph` on the machine; `spec`: {@link exploreSpec} on the oracle. */
export type PathGenerator = 'shortest' | 'simple' | 'spec';

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
  /** The oracle's output when the path ends in `disposed` (times in ms since admission). */
  readonly output: OracleOutput | undefined;
  /** Ids of every state node of the machine the session was in along the path (coverage). */
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
  return (snapshot.machine as Machine)
    .getTransitionData(snapshot, event as SessionEvent)
    .map((definition) => {
      const branches = definition.source.transitions.get(definition.eventType) ?? [];
      return describeTransition(definition, branches.indexOf(definition)).id;
    });
}

// ---------------------------------------------------------------------------------------------
// The adapter: machine events ↔ acts of the spec

/**
 * Which act of the spec a machine event is. Matched by pattern rather than by exact name, so that
 * the machine can rename or replace its internal events (an invoked actor's result becoming an
 * event the runtime sends, say) without the oracle noticing; an event no rule matches is an error
 * that names it, to be taught here.
 */
const ACT_OF_EVENT: ReadonlyArray<readonly [RegExp, (event: StampedEvent) => ModelAction]> = [
  [/^xstate\.after\./, () => ({ kind: 'timeout' })],
  [/^INITIALI[SZ]ED$/, () => ({ kind: 'initialized' })],
  [/^REQUEST\.(START|BEGIN)$/, () => ({ kind: 'request-start' })],
  [/^REQUEST\.(END|DONE)$/, () => ({ kind: 'request-end' })],
  [/^STREAM\.OPEN$/, () => ({ kind: 'stream-open' })],
  [/^STREAM\.CLOSE$/, () => ({ kind: 'stream-close' })],
  [/^(ACTIVITY|NOTIFIED|NOTIFICATION)$/, () => ({ kind: 'notification' })],
  [/^(CLOSE|END)$/, (event) => ({ kind: 'close', reason: event.reason as SessionEndReason as EndReason })],
  [
    /(error|fail).*prepar|prepar.*(error|fail)/i,
    () => ({ kind: 'settle', actor: 'prepare', outcome: 'error' }),
  ],
  [/prepar|server\.(ready|built)/i, () => ({ kind: 'settle', actor: 'prepare', outcome: 'done' })],
  [
    /(error|fail).*releas|releas.*(error|fail)/i,
    () => ({ kind: 'settle', actor: 'release', outcome: 'error' }),
  ],
  [/releas/i, () => ({ kind: 'settle', actor: 'release', outcome: 'done' })],
];

function actOf(event: StampedEvent): ModelAction {
  for (const [pattern, act] of ACT_OF_EVENT) if (pattern.test(event.type)) return act(event);
  throw new Error(`The session model does not know which act of the spec ${event.type} is`);
}

/** A concrete machine event of `type`, with the payload the runtime would give it. */
function eventOfType(type: string): StampedEvent[] {
  if (timersByEventType.has(type)) return [{ type }];
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (actor) {
    return actor[1] === 'done'
      ? [{ type, output: undefined, actorId: actor[2] }]
      : [{ type, error: 'settled with an error', actorId: actor[2] }];
  }
  if (actOf({ type }).kind === 'close') return CLOSE_REASONS.map((reason) => ({ type, reason, at: 0 }));
  return [{ type, at: 0 }];
}

// ---------------------------------------------------------------------------------------------
// Traversal of the machine

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

/** The timer events whose delay is the shortest of those pending in `snapshot` (ties: all of them). */
function firstTimers(snapshot: SessionSnapshot): Set<string> {
  const pending = __unsafe_getAllOwnEventDescriptors(snapshot)
    .map(String)
    .filter(isTimerEvent)
    .map((type) => ({ type, ms: delayMs((timersByEventType.get(type) as TimerInfo).delay, snapshot) }));
  const shortest = Math.min(...pending.map(({ ms }) => ms));
  return new Set(pending.filter(({ ms }) => ms === shortest).map(({ type }) => type));
}

/** A machine event as traversal produces it: runtime events carry `at`, actor results a payload. */
type StampedEvent = EventObject & { readonly at?: number; readonly [payload: string]: unknown };

/** The context fields the traversal reads; a machine without one of them reads as zero/none. */
interface CountsOf {
  readonly requestsInFlight: number;
  readonly openStreams: number;
  /** Whether the session had its handshake, so a server it could fail to release. */
  readonly initialized: boolean;
}

const countsOf = (snapshot: SessionSnapshot): CountsOf => {
  const context = snapshot.context as Partial<SessionSnapshot['context']>;
  return {
    requestsInFlight: context.requestsInFlight ?? 0,
    openStreams: context.openStreams ?? 0,
    initialized: context.initializedAt !== undefined,
  };
};

/**
 * The runtime's report that a session's server was built. The machine takes no event for it (the
 * handshake can only run on a built server), so it is a no-op for the machine; the oracle and the
 * runtimes under test settle the build with it.
 */
const SERVER_BUILT: StampedEvent = { type: 'server.built' };

const isBuildDone = (action: ModelAction): boolean =>
  action.kind === 'settle' && action.actor === 'prepare' && action.outcome === 'done';

/**
 * A machine path as the runtime performs it: the build settles right before the first handshake
 * (a runtime only reports `INITIALIZED` once its server exists), unless the path settled it itself.
 */
function withBuildBeforeHandshake(events: readonly StampedEvent[]): StampedEvent[] {
  const built = events.some((event) => event.type === SERVER_BUILT.type);
  const first = events.findIndex((event) => actOf(event).kind === 'initialized');
  if (built || first < 0) return [...events];
  return [...events.slice(0, first), SERVER_BUILT, ...events.slice(first)];
}

/**
 * The concrete events the runtime can produce in `snapshot` and the machine does not ignore.
 */
function feasibleEvents(
  snapshot: SessionSnapshot,
  bounds: TraversalBounds,
  senderCounts: boolean,
): SessionEvent[] {
  const { requestsInFlight, openStreams, initialized } = countsOf(snapshot);
  const busy = requestsInFlight + openStreams;
  const first = firstTimers(snapshot);
  const state = stateNameOf(snapshot.value);
  // A busy spell the sender counts: active with nothing the machine counted keeping it (one request
  // in flight, by the sender's count). Only its end, a close or a timer are offered in it, so the
  // machine's replay follows what the runtime does.
  const countedSpell =
    senderCounts &&
    state === 'active' &&
    requestsInFlight === 0 &&
    !(snapshot.context.streamsCountAsActivity && openStreams > 0);
  const withSenderCount = (event: StampedEvent): StampedEvent => {
    const kind = actOf(event).kind;
    if (senderCounts && state === 'idle' && kind === 'request-start')
      return { ...event, requestsInFlight: 1 };
    if (countedSpell && kind === 'request-end') return { ...event, requestsInFlight: 0 };
    return event;
  };
  // Paths from the machine build the server right before the handshake (see
  // withBuildBeforeHandshake), so one that ended before it holds nothing: releasing it cannot fail
  // or overrun its deadline. Spec paths build it earlier too.
  const feasible = (event: StampedEvent): boolean => {
    const timer = timersByEventType.get(event.type);
    if (timer) return first.has(event.type) && (initialized || timer.delay !== 'disposeTimeout');
    const act = actOf(event);
    if (countedSpell) return act.kind === 'request-end' || act.kind === 'close';
    switch (act.kind) {
      case 'request-start':
        return requestsInFlight < bounds.requestsInFlight && busy < bounds.busy;
      case 'request-end':
        return requestsInFlight > 0;
      case 'stream-open':
        return openStreams < bounds.openStreams && busy < bounds.busy;
      case 'stream-close':
        return openStreams > 0;
      case 'settle':
        // `prepare` reports only a failure, before the handshake; a release can only fail if
        // there was something to release.
        if (act.actor === 'prepare') return !initialized;
        return act.outcome === 'done' || initialized;
      default:
        return true;
    }
  };
  return (__unsafe_getAllOwnEventDescriptors(snapshot) as string[])
    .flatMap(eventOfType)
    .map(withSenderCount)
    .filter(feasible)
    .filter((event) => takenTransitions(snapshot, event).length > 0) as SessionEvent[];
}

/** The lifecycle state by its spec name, however deep the machine nests it (`live`, sub-states of `idle`). */
function stateNameOf(value: SessionSnapshot['value'] | string): LifecycleState {
  if (typeof value === 'string') return value as LifecycleState;
  const [key, inner] = Object.entries(value as Record<string, unknown>)[0] ?? [];
  if (key === undefined) throw new Error('A machine state without a value');
  return key === 'live' ? stateNameOf(inner as string) : (key as LifecycleState);
}

const isLive = (state: LifecycleState): boolean =>
  state === 'created' || state === 'active' || state === 'idle';

/**
 * The traversal key. Bounded because the counts are capped by {@link feasibleEvents}; timestamps and
 * the lifetime total of requests are left out (they never change what the machine can do). Once the
 * session has ended, only how it ended matters.
 */
function serializeState(snapshot: SessionSnapshot): string {
  const { context } = snapshot;
  const state = stateNameOf(snapshot.value);
  const { requestsInFlight, openStreams, initialized } = countsOf(snapshot);
  if (!isLive(state)) return JSON.stringify([state, context.reason, context.releaseIncomplete]);
  return JSON.stringify([state, initialized, requestsInFlight, openStreams]);
}

/**
 * The traversal key for shortest paths: the state together with how it was reached (transition
 * and previous state), as `createTestModel` does, so that there is a shortest path through every
 * edge of the bounded state graph and not only to every state.
 */
function serializeArrival(
  snapshot: SessionSnapshot,
  event: SessionEvent | undefined,
  previous?: SessionSnapshot,
): string {
  if (!event || !previous) return serializeState(snapshot);
  return `${serializeState(snapshot)} via ${takenTransitions(previous, event).join(' + ')} from ${serializeState(previous)}`;
}

/** How a step reads in a test name. */
export function describeAction(action: ModelAction, timer?: TimerName): string {
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
    case 'notification':
      return 'ACTIVITY';
    case 'close':
      return `CLOSE(${action.reason})`;
    case 'timeout':
      return timer ? `${timer} elapses` : 'time passes';
    case 'settle':
      return `${action.actor} ${action.outcome === 'done' ? 'resolves' : 'rejects'}`;
  }
}

const allNodes = allStateNodes(sessionMachine.root);

/** What the machine does on a sequence of events: only for coverage, never for what must happen. */
interface MachineTrace {
  /** Per event, the transitions taken. */
  readonly transitions: readonly (readonly string[])[];
  readonly stateNodes: readonly string[];
}

function traceMachine(variant: ModelVariant, events: readonly StampedEvent[]): MachineTrace {
  // Both charts take the same events; only the shape of their state values differs.
  const machine = variant.machine as Machine;
  let [snapshot] = initialTransition(machine, variant.input);
  const visited = new Set<string>();
  const visit = (current: SessionSnapshot): void => {
    for (const node of allNodes) {
      if (current.matches(pathToStateValue(node.path) as never)) visited.add(node.id);
    }
  };
  visit(snapshot);
  const transitions = events.map((event) => {
    const taken = takenTransitions(snapshot, event);
    [snapshot] = transition(machine, snapshot, event as SessionEvent);
    visit(snapshot);
    return taken;
  });
  return { transitions, stateNodes: [...visited] };
}

/** Milliseconds between two acts, odd so that no idle deadline meets another deadline. */
export const STEP_GAP = 7;
/** How long a `timeout` with nothing pending lets pass: longer than any timeout, and nothing may happen. */
export const QUIET_SPAN = 10 * Math.max(...Object.values(MODEL_TIMEOUTS));

export interface PathTiming {
  /** Whether time passes before act `index` (default: before every act but the first). */
  readonly spaced?: (index: number, actions: readonly ModelAction[]) => boolean;
  /** Whether time passes before a build failure (see {@link SPACE_BEFORE_BUILD_FAILURE}). */
  readonly spaceBeforeBuildFailure?: boolean;
}

const spacedByDefault = (index: number): boolean => index > 0;

/**
 * Whether time passes right before a build fails. The machine once stamped a failed build with the
 * session's last activity (the error of an invoked actor carried no time); the runtime's
 * `PREPARE.FAILED` report now carries the moment of the failure, which is the spec's `endedAt`,
 * so the paths space it like every other step.
 */
export const SPACE_BEFORE_BUILD_FAILURE = true;

const isBuildFailure = (action: ModelAction): boolean =>
  action.kind === 'settle' && action.actor === 'prepare' && action.outcome === 'error';

/**
 * Builds a path from acts of the spec: every expectation from {@link LifecycleOracle}, the
 * machine's transitions (from `events`, when the acts came from the machine) for coverage only.
 */
function buildPath(
  variant: ModelVariant,
  actions: readonly ModelAction[],
  generators: readonly PathGenerator[],
  trace: MachineTrace,
  timing: PathTiming = {},
): ModelPath {
  const { createdAt, timeouts, streamsCountAsActivity } = variant.input;
  const oracle = new LifecycleOracle({ createdAt, timeouts, streamsCountAsActivity });
  const spaced = timing.spaced ?? spacedByDefault;
  const initial = oracle.view();
  const steps = actions.map((action, index): ModelStep => {
    const before = oracle.state;
    let timer: TimerName | undefined;
    if (action.kind === 'timeout') {
      const next = oracle.nextDeadline();
      if (next) timer = oracle.fireNextTimer().timer;
      else oracle.waitUntil(oracle.now + QUIET_SPAN);
    } else {
      const next = oracle.nextDeadline();
      const at = oracle.now + STEP_GAP;
      const spaceHere =
        spaced(index, actions) &&
        (!isBuildFailure(action) || (timing.spaceBeforeBuildFailure ?? SPACE_BEFORE_BUILD_FAILURE));
      if (spaceHere && (!next || at < next.at - 1)) oracle.waitUntil(at);
      oracle.apply(action);
    }
    const after = oracle.state;
    const movedTo: LifecycleState[] =
      after === before ? [] : isLive(before) && after === 'disposed' ? ['expired', 'disposed'] : [after];
    return {
      action,
      description: describeAction(action, timer),
      expected: oracle.view(),
      movedTo,
      reason: oracle.reason,
      at: oracle.now,
      timer,
      transitions: trace.transitions[index] ?? [],
    };
  });
  const final = oracle.view();
  const description = `${variant.name}: ${
    steps.length ? steps.map((step) => step.description).join(' → ') : '(admission only)'
  } ⇒ ${final.state}`;
  return {
    description,
    variant,
    generators,
    initial,
    steps,
    final,
    output: oracle.output(),
    stateNodes: trace.stateNodes,
  };
}

type GraphPath = StatePath<SessionSnapshot, SessionEvent>;

const traversalOptions = (
  generator: 'shortest' | 'simple',
  variant: ModelVariant,
  bounds: TraversalBounds,
  fromState: SessionSnapshot | undefined,
) => ({
  input: variant.input,
  // A user `events` option replaces xstate's default event descriptors: timers and actor results
  // are produced by `feasibleEvents` itself.
  events: (snapshot: SessionSnapshot) => feasibleEvents(snapshot, bounds, variant.senderCounts),
  serializeState: generator === 'shortest' ? serializeArrival : serializeState,
  ...(fromState === undefined ? {} : { fromState }),
});

/** The events of a path, without the `xstate.init` step `xstate/graph` puts first. */
const eventsOf = (path: GraphPath): StampedEvent[] =>
  path.steps.map((step) => step.event as StampedEvent).filter((event) => event.type !== 'xstate.init');

const actionsKey = (variant: ModelVariant, actions: readonly ModelAction[]): string =>
  JSON.stringify([variant.name, actions]);

/** No cap: any number of requests and streams at once. */
const UNBOUNDED: TraversalBounds = {
  requestsInFlight: Number.POSITIVE_INFINITY,
  openStreams: Number.POSITIVE_INFINITY,
  busy: Number.POSITIVE_INFINITY,
};

/**
 * Machine events for `actions` performed in order from admission, and the snapshot they lead to.
 * Stops at the first act the machine does not take (a machine that disagrees with the spec): the
 * path is still run, its coverage ends there.
 */
function eventsOfActions(
  variant: ModelVariant,
  actions: readonly ModelAction[],
): { events: StampedEvent[]; snapshot: SessionSnapshot } {
  const machine = variant.machine as Machine;
  let [snapshot] = initialTransition(machine, variant.input);
  const events: StampedEvent[] = [];
  for (const action of actions) {
    if (isBuildDone(action)) {
      events.push(SERVER_BUILT);
      continue;
    }
    const wanted = JSON.stringify(action);
    const event = (feasibleEvents(snapshot, UNBOUNDED, variant.senderCounts) as StampedEvent[]).find(
      (candidate) => JSON.stringify(actOf(candidate)) === wanted,
    );
    if (!event) break;
    [snapshot] = transition(machine, snapshot, event as SessionEvent);
    events.push(event);
  }
  return { events, snapshot };
}

function generate(
  prefix: readonly ModelAction[],
  bounds: Readonly<Record<PathGenerator, TraversalBounds>>,
  timing: PathTiming,
): GeneratedPaths {
  const merged = new Map<
    string,
    { variant: ModelVariant; actions: ModelAction[]; events: StampedEvent[]; generators: PathGenerator[] }
  >();
  const counts: Record<PathGenerator, number> = { shortest: 0, simple: 0, spec: 0 };
  const add = (
    variant: ModelVariant,
    generator: PathGenerator,
    actions: ModelAction[],
    events: StampedEvent[],
  ): void => {
    counts[generator] += 1;
    // A notification changes nothing but time (the idle timer restarts): a path ending with one
    // also runs to the next deadline, so that a notification that restarted nothing is caught.
    if (actions.at(-1)?.kind === 'notification') actions = [...actions, { kind: 'timeout' }];
    const key = actionsKey(variant, actions);
    const entry = merged.get(key) ?? { variant, actions, events, generators: [] };
    if (!entry.generators.includes(generator)) entry.generators.push(generator);
    merged.set(key, entry);
  };
  for (const variant of MODEL_VARIANTS) {
    const start = eventsOfActions(variant, prefix);
    const fromState = prefix.length ? start.snapshot : undefined;
    for (const generator of ['shortest', 'simple'] as const) {
      const options = traversalOptions(generator, variant, bounds[generator], fromState);
      const machine = variant.machine as Machine;
      const graphPaths =
        generator === 'shortest' ? getShortestPaths(machine, options) : getSimplePaths(machine, options);
      for (const path of graphPaths) {
        const events = withBuildBeforeHandshake([...start.events, ...eventsOf(path)]);
        add(variant, generator, events.map(actOf), events);
      }
    }
    const { createdAt, timeouts, streamsCountAsActivity } = variant.input;
    for (const actions of exploreSpec({ createdAt, timeouts, streamsCountAsActivity }, prefix, bounds.spec)) {
      add(variant, 'spec', actions, eventsOfActions(variant, actions).events);
    }
  }
  const paths = [...merged.values()].map(({ variant, actions, events, generators }) =>
    buildPath(variant, actions, generators, traceMachine(variant, events), timing),
  );
  return { paths, counts };
}

let generated: GeneratedPaths | undefined;

/**
 * Paths from the machine (shortest and simple) and from the spec, for every {@link MODEL_VARIANTS}
 * entry, merged by their acts. Computed once per process.
 */
export function generateSessionPaths(): GeneratedPaths {
  generated ??= generate([], TRAVERSAL_BOUNDS, {});
  return generated;
}

/**
 * Paths that begin with `prefix`, for runtimes whose sessions always start the same way (over HTTP,
 * with the initialize request in flight): the traversals start from the state the prefix leads to,
 * under `bounds`, and every path is built from admission, prefix included.
 */
export function generateSessionPathsAfter(
  prefix: readonly ModelAction[],
  bounds: Readonly<Record<PathGenerator, TraversalBounds>> = TRAVERSAL_BOUNDS,
  timing: PathTiming = {},
): GeneratedPaths {
  return generate(prefix, bounds, timing);
}

/**
 * The path a runtime follows when it performs `actions` in order from admission, for runtimes that
 * reach the lifecycle's states by other routes than the generated ones. Expectations come from the
 * oracle; the machine is replayed for coverage.
 */
export function pathOfActions(
  variant: ModelVariant,
  actions: readonly ModelAction[],
  generators: readonly PathGenerator[] = [],
  timing: PathTiming = {},
): ModelPath {
  const trace = traceMachine(variant, eventsOfActions(variant, actions).events);
  return buildPath(variant, actions, generators, trace, timing);
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

/** The observation the model predicts for a step. */
export const expectedObservation = (expected: ExpectedSession): Observed => ({
  ...expected,
  found: isLive(expected.state),
});

/** The supervisor's counts by state while it holds this one session (none once disposed). */
export function expectedCountsByState(
  state: LifecycleState,
): Record<Exclude<LifecycleState, 'disposed'>, number> {
  return {
    created: state === 'created' ? 1 : 0,
    active: state === 'active' ? 1 : 0,
    idle: state === 'idle' ? 1 : 0,
    expired: state === 'expired' ? 1 : 0,
  };
}
