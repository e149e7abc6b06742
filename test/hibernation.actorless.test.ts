/**
 * A hibernated session whose idle deadline comes ends without an actor being restored: its machine
 * runs on its persisted snapshot with xstate's pure transition function (`runWithoutActor`). The
 * oracle is the actor path itself: the same sessions under a supervisor with an inspector attached
 * (which always restores an actor) must end the same way, line for line, event for event.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { Clock } from '../src/clock.js';
import type { SupervisorEvent } from '../src/events.js';
import { type Logger, SessionSupervisor } from '../src/index.js';
import { createSupervisorMetrics } from '../src/metrics.js';
import { recordingLogger as recordInto } from './support/recording-logger.js';

const HIBERNATE_AFTER = 1_000;
const IDLE_TIMEOUT = 10_000;

/** Lets promise callbacks run (no time passes on the simulated clock). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Each log line as `level message fields`, or `level message` when it has no fields. */
const recordingLogger = (lines: string[]): Logger =>
  recordInto(({ level, fields, message }) => {
    lines.push(
      Object.keys(fields).length === 0
        ? `${level} ${message}`
        : `${level} ${message} ${JSON.stringify(fields)}`,
    );
  });

/**
 * A simulated clock whose pending callbacks the test can also run early, as a wheel that fired
 * before the deadline would (the real one never does).
 */
function earlyFiringClock(): Clock & { simulated: SimulatedClock; runPendingNow(): void } {
  const simulated = new SimulatedClock();
  simulated.set(0);
  type Entry = { callback: () => void; handle: number };
  const pending = new Set<Entry>();
  return {
    simulated,
    now: () => simulated.now(),
    setTimeout(callback, ms) {
      const entry: Entry = { callback, handle: 0 };
      entry.handle = simulated.setTimeout(() => {
        pending.delete(entry);
        callback();
      }, ms);
      pending.add(entry);
      return entry;
    },
    clearTimeout(handle) {
      const entry = handle as Entry;
      pending.delete(entry);
      simulated.clearTimeout(entry.handle);
    },
    runPendingNow() {
      for (const entry of [...pending]) {
        pending.delete(entry);
        simulated.clearTimeout(entry.handle);
        entry.callback();
      }
    },
  };
}

async function hibernatedSessions(options: { inspected: boolean; count: number }) {
  const clock = new SimulatedClock();
  clock.set(0);
  const lines: string[] = [];
  const events: SupervisorEvent[] = [];
  const supervisor = new SessionSupervisor({
    clock,
    idleTimeout: IDLE_TIMEOUT,
    hibernateAfter: HIBERNATE_AFTER,
    logger: recordingLogger(lines),
    createServer: () => ({ close: () => {} }),
    ...(options.inspected ? { inspect: () => {} } : {}),
  });
  supervisor.subscribe((event) => events.push(event));
  const sessions = [];
  for (let i = 0; i < options.count; i += 1) {
    const session = supervisor.open({ sessionId: `session-${i}` });
    await session.ready();
    session.markInitialized();
    sessions.push(session);
    clock.increment(100);
  }
  clock.increment(HIBERNATE_AFTER);
  await settle();
  return { clock, supervisor, sessions, lines, events };
}

type Ending = 'deadline' | 'delete' | 'shutdown';

/** Everything observable of a run after the hibernations, with the session's actor kind left out. */
async function expireAll(inspected: boolean, ending: Ending = 'deadline') {
  const run = await hibernatedSessions({ inspected, count: 3 });
  const { clock, supervisor, sessions } = run;
  const { events, lines } = run;
  const before = { events: events.length, lines: lines.length };
  const { registry, stop } = createSupervisorMetrics(supervisor);
  if (ending === 'delete') for (const session of sessions) supervisor.close(session.id);
  if (ending === 'shutdown') void supervisor.shutdown({ grace: 0 });
  if (ending === 'deadline') clock.increment(IDLE_TIMEOUT);
  await settle();
  // An actor waits one more (simulated) tick for its idle timer of 0 ms; the actorless run does not.
  clock.increment(10);
  await settle();
  const outputs = await Promise.all(sessions.map((session) => session.whenDisposed()));
  const metrics = await registry.metrics();
  stop();
  const statistics = supervisor.getStatistics();
  return {
    outputs,
    transitions: events.slice(before.events),
    lines: lines.slice(before.lines),
    byState: statistics.byState,
    totals: statistics.totals,
    live: statistics.liveSessions,
    hibernated: statistics.hibernation.hibernated,
    endedAsleep: statistics.hibernation.endedAsleep,
    metricLines: metrics
      .split('\n')
      .filter((line) => /^mcp_session_(ended|active|hibernat|sessions)/.test(line)),
  };
}

describe('a hibernated session at its idle deadline ends without an actor', () => {
  it('ends with no actor restored: each session disposed once, reason idle-timeout, endedAt its deadline', async () => {
    const { outputs, endedAsleep, transitions } = await expireAll(false);

    expect({
      endedAsleep,
      outputs: outputs.map(({ reason, endedAt }) => ({ reason, endedAt })),
      disposals: transitions.filter((event) => event.type === 'transition' && event.to === 'disposed').length,
    }).toEqual({
      endedAsleep: 3,
      outputs: [
        { reason: 'idle-timeout', endedAt: 0 + IDLE_TIMEOUT },
        { reason: 'idle-timeout', endedAt: 100 + IDLE_TIMEOUT },
        { reason: 'idle-timeout', endedAt: 200 + IDLE_TIMEOUT },
      ],
      disposals: 3,
    });
  });

  it('reports exactly what a restored actor reports: transitions, log lines, statistics, metrics', async () => {
    const withoutActor = await expireAll(false);
    const withActor = await expireAll(true);

    // Only the (simulated) time of the reports differs: an actor's idle timer of 0 ms waits a tick.
    const timeless = (run: typeof withActor) => ({
      ...run,
      endedAsleep: undefined,
      transitions: run.transitions.map((event) => ({ ...event, at: undefined })),
      lines: run.lines.map((line) => line.replace(/"at":\d+,?/, '')),
    });
    expect(withActor.endedAsleep).toBe(0);
    expect(timeless(withoutActor)).toEqual(timeless(withActor));
  });

  it.each(['delete', 'shutdown'] as const)(
    'ends on %s with no actor restored, reporting exactly what a restored actor reports',
    async (ending) => {
      const withoutActor = await expireAll(false, ending);
      const withActor = await expireAll(true, ending);

      expect({
        endedAsleep: [withoutActor.endedAsleep, withActor.endedAsleep],
        reasons: withoutActor.outputs.map((output) => output.reason),
      }).toEqual({
        endedAsleep: [3, 0],
        reasons: Array(3).fill(ending === 'delete' ? 'deleted' : 'shutdown'),
      });
      expect({ ...withoutActor, endedAsleep: 0 }).toEqual({ ...withActor, endedAsleep: 0 });
    },
  );

  it('restores an actor instead when its deadline is not due yet: the machine waits, then ends it on time', async () => {
    const clock = earlyFiringClock();
    const supervisor = new SessionSupervisor({
      clock,
      idleTimeout: IDLE_TIMEOUT,
      hibernateAfter: HIBERNATE_AFTER,
    });
    const session = supervisor.open();
    await session.ready();
    session.markInitialized();
    clock.simulated.increment(HIBERNATE_AFTER);
    await settle();
    expect(session.hibernation).toBeDefined();

    clock.runPendingNow(); // the wake-up fires 9 s before the deadline
    await settle();
    const early = { state: session.state, hibernated: session.hibernation !== undefined };
    clock.simulated.increment(IDLE_TIMEOUT - HIBERNATE_AFTER);
    await settle();

    expect({
      early,
      output: await session.whenDisposed(),
      endedAsleep: supervisor.getStatistics().hibernation.endedAsleep,
    }).toMatchObject({
      early: { state: 'idle', hibernated: false },
      output: { reason: 'idle-timeout', endedAt: IDLE_TIMEOUT },
      endedAsleep: 0,
    });
  });

  it('restores an actor while an inspector watches, so that it sees the session wake and end', async () => {
    const { clock, supervisor, sessions } = await hibernatedSessions({ inspected: true, count: 1 });

    clock.increment(IDLE_TIMEOUT);
    await settle();
    clock.increment(10);
    await settle();

    expect({
      reason: (await sessions[0]?.whenDisposed())?.reason,
      endedAsleep: supervisor.getStatistics().hibernation.endedAsleep,
    }).toEqual({ reason: 'idle-timeout', endedAsleep: 0 });
  });
});
