/**
 * Model-based tests: every path `xstate/graph` finds through the real session machine, and every
 * path through the spec's own lifecycle, is replayed on the real runtime (a supervisor on a
 * simulated clock). After each step the session must be where the oracle — the spec's lifecycle
 * written as a plain model (test/support/lifecycle-oracle.ts), not the machine — says, a timer must
 * fire at the oracle's deadline and not 1 ms before, the supervisor's counts must agree, and a
 * disposed session's output must be the oracle's. See test/support/session-model.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  enumerateStateNodes,
  enumerateTransitions,
  expectedCountsByState,
  expectedObservation,
  generateSessionPaths,
  MODEL_VARIANTS,
  type ModelPath,
  type ModelStep,
  type ModelVariant,
  pathOfActions,
  STEP_GAP,
  stateNodesVisited,
  transitionsTaken,
} from './support/session-model.js';
import { type ActOutcome, type SessionRuntime, startSessionRuntime } from './support/session-runtime.js';

const { paths } = generateSessionPaths();

/** What the oracle says a step does, in the shape the runtime reports it. */
const expectedOutcome = (step: ModelStep): ActOutcome => ({
  movedTo: step.movedTo,
  session: expectedObservation(step.expected),
});

/** A supervisor configured like the generation input, on a simulated clock, with one session open. */
function startRuntime(path: ModelPath): SessionRuntime {
  const { createdAt, timeouts, streamsCountAsActivity } = path.variant.input;
  return startSessionRuntime({ createdAt, timeouts, streamsCountAsActivity });
}

/**
 * Performs the step at its time. A timeout is also checked at its edge: 1 ms before the oracle's
 * deadline nothing may have happened yet.
 */
async function runStep(
  runtime: SessionRuntime,
  step: ModelStep,
): Promise<{ early: ActOutcome | undefined; outcome: ActOutcome }> {
  const early = step.action.kind === 'timeout' ? await runtime.act(step.at - 1) : undefined;
  return { early, outcome: await runtime.act(step.at, step.action) };
}

describe('a supervised session follows every path generated from its machine', () => {
  it.each(paths.map((path) => [path.description, path] as const))('%s', async (_description, path) => {
    const runtime = startRuntime(path);
    expect(runtime.admitted, 'after admission').toEqual(expectedObservation(path.initial));
    let previous = path.initial;
    for (const [index, step] of path.steps.entries()) {
      const label = `step ${index + 1}, ${step.description} at ${step.at} ms`;
      const { early, outcome } = await runStep(runtime, step);
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
    for (const step of path.steps) await runStep(runtime, step);
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
