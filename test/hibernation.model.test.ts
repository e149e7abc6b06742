/**
 * Model-based paths for hibernation. The oracle is an abstract model written from issue 10 (not the
 * session machine): `awake` idle, `hibernated`, `busy` (a request in flight), `ended`, with the
 * timers as explicit events. `xstate/graph` walks the abstract model (shortest and simple paths);
 * each path is replayed on the real runtime (a supervisor with `hibernateAfter` on a simulated
 * clock) and after each step the session must look as the model says. A second check: the replays
 * together take every transition of the real hibernating chart's `idle` node (by target too: a
 * `WAKE` before the deadline re-enters `idle`, one at the deadline ends the session).
 */
import { describe, expect, it } from 'vitest';
import {
  type AnyEventObject,
  createMachine,
  type InspectionEvent,
  initialTransition,
  SimulatedClock,
  transition,
} from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { SessionSupervisor, type SupervisedSession } from '../src/index.js';

const HIBERNATE_AFTER = 1_000;
const IDLE_TIMEOUT = 10_000;

type AbstractState = 'awake' | 'hibernated' | 'busy' | 'ended';

/** What the issue says, as a chart: timers are events here, so the graph can walk them. */
const model = createMachine({
  id: 'hibernation-model',
  initial: 'awake',
  states: {
    awake: {
      on: { REQUEST: 'busy', SLEEP_TIMER: 'hibernated', DEADLINE: 'ended', DELETE: 'ended' },
    },
    hibernated: {
      on: { REQUEST: 'busy', DEADLINE: 'ended', DELETE: 'ended' },
    },
    busy: { on: { DONE: 'awake', DELETE: 'ended' } },
    ended: { type: 'final' },
  },
});

class Server {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runtime() {
  const clock = new SimulatedClock();
  clock.set(0);
  const taken = new Set<string>();
  const inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.microstep') return;
    for (const transition of event._transitions) {
      if (transition.source.id.startsWith('session.idle')) {
        const targets = (transition.target ?? []).map((target) => target.id).join(',');
        taken.add(`${transition.source.id} ${String(transition.eventType)} → ${targets}`);
      }
    }
  };
  const supervisor = new SessionSupervisor<Server>({
    clock,
    idleTimeout: IDLE_TIMEOUT,
    hibernateAfter: HIBERNATE_AFTER,
    createServer: () => new Server(),
    inspect,
  });
  const session: SupervisedSession<Server> = supervisor.open();
  await session.ready();
  session.markInitialized();
  let done: (() => void) | undefined;
  const perform = async (type: string): Promise<void> => {
    switch (type) {
      case 'REQUEST':
        await supervisor.wake(session);
        done = session.beginRequest();
        await session.ready();
        break;
      case 'DONE':
        done?.();
        break;
      case 'SLEEP_TIMER':
        clock.increment(HIBERNATE_AFTER);
        break;
      case 'DEADLINE':
        clock.increment(session.lastActivityAt + IDLE_TIMEOUT - clock.now());
        await settle();
        clock.increment(10);
        break;
      case 'DELETE':
        supervisor.close(session.id);
        break;
    }
    await settle();
  };
  const observe = (): AbstractState => {
    if (!supervisor.has(session.id)) return 'ended';
    if (session.state === 'active') return 'busy';
    if (session.state === 'idle') return session.hibernation ? 'hibernated' : 'awake';
    return session.state as never;
  };
  const serverHeld = (): boolean => session.server !== undefined && !session.server.closed;
  /** Ends what is open and shuts down on the simulated clock (deadlines fire only when time moves). */
  const stop = async (): Promise<void> => {
    done?.();
    const stopped = supervisor.shutdown({ grace: 1 });
    clock.increment(IDLE_TIMEOUT);
    await settle();
    await stopped;
  };
  return { perform, observe, serverHeld, session, supervisor, taken, stop };
}

const events = ['REQUEST', 'DONE', 'SLEEP_TIMER', 'DEADLINE', 'DELETE'].map((type) => ({ type }));
const typesOf = (path: { steps: ReadonlyArray<{ event: AnyEventObject }> }): string[] =>
  path.steps.map((step) => step.event.type).filter((type) => type !== 'xstate.init');

// Every edge of the model: the shortest path to its source state, then the edge itself; plus every
// simple path.
const edgePaths = getShortestPaths(model, { events }).flatMap((path) => {
  const prefix = typesOf(path);
  return events
    .filter(({ type }) => model.getTransitionData(path.state, { type }).length > 0)
    .map(({ type }) => [...prefix, type]);
});
const simplePaths = getSimplePaths(model, { events }).map(typesOf);
const unique = [
  ...new Map([...edgePaths, ...simplePaths].map((steps) => [steps.join(' → '), steps])).entries(),
];

describe('hibernation follows every path of its abstract model', () => {
  const allTaken = new Set<string>();

  it.each(unique)('%s', async (_name, steps) => {
    const sut = await runtime();
    let [snapshot] = initialTransition(model);
    for (const [index, type] of steps.entries()) {
      await sut.perform(type);
      [snapshot] = transition(model, snapshot, { type });
      const expected = snapshot.value as AbstractState;
      const observed = sut.observe();
      expect({ step: index + 1, type, state: observed }).toEqual({ step: index + 1, type, state: expected });
      // Awake or busy: the server is there; hibernated: it was released.
      if (observed === 'awake' || observed === 'busy')
        expect(sut.serverHeld(), `${type}: server held`).toBe(true);
      if (observed === 'hibernated') expect(sut.serverHeld(), `${type}: server released`).toBe(false);
    }
    for (const id of sut.taken) allTaken.add(id);
    await sut.stop();
  });

  it('takes every transition of the hibernating idle node in the real chart', () => {
    expect([...allTaken].sort()).toEqual(
      expect.arrayContaining([
        'session.idle REQUEST.START → session.active',
        'session.idle xstate.after.idleTimeout.session.idle → session.expired',
        'session.idle.awake xstate.after.hibernateAfter.session.idle.awake → session.idle.hibernated',
        // Woken before its deadline (a request), and at its deadline (the session ends then).
        'session.idle.hibernated WAKE → session.idle',
        'session.idle.hibernated WAKE → session.expired',
      ]),
    );
  });
});
