/**
 * Model-based tests: every path `xstate/graph` finds through the real session machine, and every
 * path through the spec's own lifecycle, is replayed on the real runtime (a supervisor on a
 * simulated clock). After each step the session must be where the oracle — the spec's lifecycle
 * written as a plain model (test/support/lifecycle-oracle.ts), not the machine — says, a timer must
 * fire at the oracle's deadline and not 1 ms before, the supervisor's counts must agree, and a
 * disposed session's output must be the oracle's. See test/support/session-model.ts.
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
  enumerateStateNodes,
  enumerateTransitions,
  expectedCountsByState,
  expectedObservation,
  generateSessionPaths,
  MODEL_VARIANTS,
  type ModelAction,
  type ModelPath,
  type ModelStep,
  type ModelVariant,
  type Observed,
  pathOfActions,
  STEP_GAP,
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

/** What the oracle says a step does, in the same shape. */
const expectedOutcome = (step: ModelStep): StepOutcome => ({
  movedTo: step.movedTo,
  session: expectedObservation(step.expected),
});

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
        // The clock was brought to the deadline by `step`.
        return;
      case 'settle': {
        const target = action.actor === 'prepare' ? prepare : release;
        if (action.outcome === 'error') {
          target.reject(new Error(`${action.actor} failed`));
        } else if (action.actor === 'prepare') {
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
  /** Brings the simulated clock to `at` (ms since admission) and lets what fell due settle. */
  const advanceTo = async (at: number): Promise<void> => {
    const by = input.createdAt + at - clock.now();
    if (by < 0) throw new Error(`The path goes back in time, to ${at}`);
    if (by > 0) clock.increment(by);
    await flush();
  };

  /**
   * Performs the step at its time and lets every promise it started settle, so whatever the step
   * caused is attributed to it. A timeout is checked at its edge: 1 ms before the oracle's deadline
   * nothing may have happened yet.
   */
  const step = async (
    model: ModelStep,
  ): Promise<{ early: StepOutcome | undefined; outcome: StepOutcome }> => {
    let early: StepOutcome | undefined;
    if (model.action.kind === 'timeout') {
      const first = moves.length;
      await advanceTo(model.at - 1);
      early = { movedTo: moves.slice(first).map(({ state }) => state), session: observe() };
    }
    const first = moves.length;
    await advanceTo(model.at);
    perform(model.action);
    await flush();
    const during = moves.slice(first);
    return {
      early,
      outcome: { movedTo: during.map(({ state }) => state), session: during.at(-1) ?? observe() },
    };
  };

  return { session, supervisor, admitted, step };
}

describe('a supervised session follows every path generated from its machine', () => {
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_description, path) => {
    const runtime = startRuntime(path);
    expect(runtime.admitted, 'after admission').toEqual(expectedObservation(path.initial));
    let previous = path.initial;
    for (const [index, step] of path.steps.entries()) {
      const label = `step ${index + 1}, ${step.description} at ${step.at} ms`;
      const { early, outcome } = await runtime.step(step);
      if (early) {
        expect(early, `${label}: 1 ms before the deadline`).toEqual({
          movedTo: [],
          session: expectedObservation(previous),
        });
      }
      expect(outcome, label).toEqual(expectedOutcome(step));
      const statistics = runtime.supervisor.getStatistics();
      expect(statistics.byState, `${label}: sessions by state`).toEqual(
        expectedCountsByState(step.expected.state),
      );
      const ended = Object.entries(statistics.endedByReason).filter(([, count]) => count > 0);
      expect(ended, `${label}: sessions ended by reason`).toEqual(step.reason ? [[step.reason, 1]] : []);
      previous = step.expected;
    }
    if (path.output) {
      // Oracle times count from admission, and the runtime's clock started at the model's createdAt.
      await expect(runtime.session.whenDisposed()).resolves.toEqual({
        ...path.output,
        sessionId: runtime.session.id,
      });
    } else {
      expect(path.final.state, 'a path that does not end in disposed').not.toBe('disposed');
    }
  });
});

describe('former disagreements with the spec (fixed in the machine)', () => {
  // The runtime's PREPARE.FAILED report carries the time of the failure.
  it('a failed build is stamped with the moment it failed, not the last activity', async () => {
    const variant = MODEL_VARIANTS[0] as ModelVariant;
    const path = pathOfActions(
      variant,
      [{ kind: 'request-start' }, { kind: 'settle', actor: 'prepare', outcome: 'error' }],
      [],
      { spaceBeforeBuildFailure: true },
    );
    expect(path.output?.endedAt).toBe(STEP_GAP);
    const runtime = startRuntime(path);
    for (const step of path.steps) await runtime.step(step);
    await expect(runtime.session.whenDisposed()).resolves.toEqual({
      ...path.output,
      sessionId: runtime.session.id,
    });
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
