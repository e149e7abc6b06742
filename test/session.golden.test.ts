/**
 * The reviewed golden paths of test/support/session-golden.ts, each written out by hand from the
 * spec's lifecycle table: the oracle the model-based suites trust must reproduce every row, and so
 * must a supervised session driven through the same acts at the same instants.
 */
import { describe, expect, it } from 'vitest';
import { type LifecycleConfig, LifecycleOracle } from './support/lifecycle-oracle.js';
import { actOfGoldenRow, GOLDEN_PATHS, GOLDEN_TIMEOUTS, type GoldenPath } from './support/session-golden.js';
import { startSessionRuntime } from './support/session-runtime.js';

const configOf = (path: GoldenPath): LifecycleConfig => ({
  createdAt: 0,
  timeouts: { ...GOLDEN_TIMEOUTS, maxLifetime: path.maxLifetime },
  streamsCountAsActivity: path.streamsCountAsActivity,
  hibernateAfter: path.hibernateAfter,
});

const isLive = (state: string): boolean => state === 'created' || state === 'active' || state === 'idle';

describe('the lifecycle oracle reproduces every reviewed golden path', () => {
  it.each(GOLDEN_PATHS)('$name', (path) => {
    const oracle = new LifecycleOracle(configOf(path));
    for (const [at, act, state, requestsInFlight, openStreams, hibernated] of path.rows) {
      oracle.advanceTo(at);
      const action = actOfGoldenRow(act);
      if (action) oracle.apply(action);
      expect(oracle.view(), `at ${at} ms, ${act}`).toEqual({ state, requestsInFlight, openStreams });
      if (hibernated !== undefined)
        expect(oracle.hibernated, `at ${at} ms, ${act}: hibernated`).toBe(hibernated);
    }
    expect(oracle.output()).toEqual({ ...path.output, createdAt: 0 });
    expect(oracle.hibernations).toBe(path.hibernations ?? 0);
  });
});

describe('a supervised session follows every reviewed golden path', () => {
  it.each(GOLDEN_PATHS)('$name', async (path) => {
    const runtime = startSessionRuntime(configOf(path));
    for (const [at, act, state, requestsInFlight, openStreams, hibernated] of path.rows) {
      const { session } = await runtime.act(at, actOfGoldenRow(act));
      if (hibernated !== undefined) {
        const { hibernation } = runtime.supervisor.getStatistics();
        expect(hibernation.hibernated, `at ${at} ms, ${act}: hibernated`).toBe(hibernated ? 1 : 0);
      }
      expect(session, `at ${at} ms, ${act}`).toEqual({
        state,
        requestsInFlight,
        openStreams,
        found: isLive(state),
      });
    }
    await expect(runtime.session.whenDisposed()).resolves.toEqual({
      ...path.output,
      createdAt: 0,
      sessionId: runtime.session.id,
    });
    expect(runtime.supervisor.getStatistics().hibernation.hibernations).toBe(path.hibernations ?? 0);
  });
});
