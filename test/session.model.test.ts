/**
 * Model-based tests: every path `xstate/graph` finds through the real session machine is replayed
 * on the real runtime (a supervisor on a simulated clock), and after each step the session must be
 * where the machine says. See test/support/session-model.ts for how the paths are generated.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createSessionSupervisor,
  type SessionStateName,
  type SessionSupervisor,
  type SupervisedSession,
} from '../src/index.js';
import { flush, gate } from './support/gate.js';
import {
  type ExpectedSession,
  enumerateStateNodes,
  enumerateTransitions,
  expectedObservation,
  generateSessionPaths,
  type ModelAction,
  type ModelPath,
  type Observed,
  stateNodesVisited,
  transitionsTaken,
} from './support/session-model.js';

const { paths } = generateSessionPaths();

interface ServerDouble {
  close(): Promise<void>;
}

/** What one step did in the runtime: the states the session moved to, and the session afterwards. */
interface StepOutcome {
  readonly movedTo: readonly SessionStateName[];
  /** Observed right after the move (or at the end of the step if it did not move). */
  readonly session: Observed;
}

/** What the model says a step does, in the same shape. */
const expectedOutcome = (previous: ExpectedSession, next: ExpectedSession): StepOutcome => ({
  movedTo: next.state === previous.state ? [] : [next.state],
  session: expectedObservation(next),
});

const isReleaseDone = (action: ModelAction): boolean =>
  action.kind === 'settle' && action.actor === 'release' && action.outcome === 'done';

/**
 * A supervisor configured like the generation input, on a simulated clock, with one session open.
 * Building the server (`prepare`) and closing it (`release`) wait for the path to settle them.
 */
function startRuntime(path: ModelPath) {
  const { input } = path.variant;
  const clock = new SimulatedClock();
  clock.set(input.createdAt);
  const prepare = gate<ServerDouble>();
  const release = gate<void>();
  const server: ServerDouble = { close: () => release.promise };
  let serverBuilt = false;
  const { initTimeout, idleTimeout, maxLifetime, disposeTimeout } = input.timeouts;
  const supervisor: SessionSupervisor<ServerDouble> = createSessionSupervisor({
    clock,
    initTimeout,
    idleTimeout,
    disposeTimeout,
    ...(maxLifetime === undefined ? {} : { maxLifetime }),
    streamsCountAsActivity: input.streamsCountAsActivity,
    createServer: () => prepare.promise,
  });
  const session: SupervisedSession<ServerDouble> = supervisor.open();
  const endRequest: Array<() => void> = [];
  const closeStream: Array<() => void> = [];

  const pop = (stack: Array<() => void>, what: string): (() => void) => {
    const end = stack.pop();
    if (!end) throw new Error(`The path ends a ${what} that was never started`);
    return end;
  };

  /** Does in the runtime what the step does in the model. */
  const perform = (action: ModelAction): void => {
    switch (action.kind) {
      case 'initialized':
        session.markInitialized();
        return;
      case 'request-start':
        endRequest.push(session.beginRequest());
        return;
      case 'request-end':
        pop(endRequest, 'request')();
        return;
      case 'stream-open':
        closeStream.push(session.openStream());
        return;
      case 'stream-close':
        pop(closeStream, 'stream')();
        return;
      case 'close':
        supervisor.close(session.id, action.reason);
        return;
      case 'timeout':
        clock.increment(action.advanceBy);
        return;
      case 'settle': {
        const target = action.actor === 'prepare' ? prepare : release;
        if (action.outcome === 'error') {
          target.reject(new Error(`${action.actor} failed`));
        } else if (action.actor === 'prepare') {
          serverBuilt = true;
          prepare.resolve(server);
        } else {
          release.resolve();
        }
        return;
      }
    }
  };

  const observe = (): Observed => {
    const { requestsInFlight, openStreams } = session.info();
    return { state: session.state, requestsInFlight, openStreams, found: supervisor.has(session.id) };
  };

  const admitted = observe();
  // Every change of state, observed the moment it happens.
  const moves: Observed[] = [];
  session.actor.subscribe(() => {
    if (session.state !== (moves.at(-1) ?? admitted).state) moves.push(observe());
  });
  let releasedAhead: Observed | undefined;

  /**
   * Performs the step and lets every promise it started settle, so whatever the step caused is
   * attributed to it. One move may belong to a later step: a session whose server was never built
   * holds nothing, so the runtime disposes of it as soon as it expires, without waiting for the
   * model's `release` step. That move is kept for the step that expects it.
   */
  const step = async (action: ModelAction): Promise<StepOutcome> => {
    const first = moves.length;
    perform(action);
    await flush();
    const during = moves.slice(first);
    if (releasedAhead && isReleaseDone(action)) {
      during.unshift(releasedAhead);
      releasedAhead = undefined;
    } else if (!serverBuilt && during.length > 1 && during.at(-1)?.state === 'disposed') {
      releasedAhead = during.pop();
    }
    return { movedTo: during.map(({ state }) => state), session: during.at(-1) ?? observe() };
  };

  return { session, admitted, step };
}

describe('a supervised session follows every path generated from its machine', () => {
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_description, path) => {
    const runtime = startRuntime(path);
    expect(runtime.admitted, 'after admission').toEqual(expectedObservation(path.initial));
    let previous = path.initial;
    for (const [index, step] of path.steps.entries()) {
      const outcome = await runtime.step(step.action);
      expect(outcome, `step ${index + 1}, ${step.description}`).toEqual(
        expectedOutcome(previous, step.expected),
      );
      previous = step.expected;
    }
    if (path.output) {
      // Model times count from admission, and the runtime's clock started at the model's createdAt.
      await expect(runtime.session.whenDisposed()).resolves.toEqual({
        ...path.output,
        sessionId: runtime.session.id,
      });
    }
  });
});

describe('the generated paths cover the session machine', () => {
  it('visit every state node', () => {
    const visited = stateNodesVisited(paths);
    expect(enumerateStateNodes().filter((id) => !visited.has(id))).toEqual([]);
  });

  it('take every transition, guarded branches included', () => {
    const taken = transitionsTaken(paths);
    expect(
      enumerateTransitions()
        .map((transition) => transition.id)
        .filter((id) => !taken.has(id)),
    ).toEqual([]);
  });
});
