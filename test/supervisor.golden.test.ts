/**
 * Reviewed golden paths of the supervisor, written out by hand from the spec ("Supervisor"):
 * admission against the cap, the eviction order when full (the least recently active idle session
 * first, then the least recently active one kept only by GET streams, never one with a request in
 * flight), `whenFull: 'reject'`, and the drain. Each row is an act at an instant and the state of
 * every named session afterwards; nothing here is computed from the supervisor machine.
 *
 * Configuration: maxSessions 2, idleTimeout 1 000 ms, streams count as activity, servers that
 * release at once (an ended session is disposed within its row).
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createSessionSupervisor,
  isSupervisorError,
  type SessionEndReason,
  type SupervisedSession,
  type WhenFull,
} from '../src/index.js';
import { flush } from './support/gate.js';

type State = 'created' | 'active' | 'idle' | 'expired' | 'disposed';
type Phase = 'running' | 'draining' | 'stopped';

type Act =
  | readonly ['open', string]
  | readonly ['open refused', string, 'capacity-exceeded' | 'draining']
  | readonly ['initialize', string]
  | readonly ['request', string]
  | readonly ['request ends', string]
  | readonly ['stream', string]
  | readonly ['shutdown', number]
  | readonly ['wait'];

type Row = readonly [at: number, act: Act, sessions: Readonly<Record<string, State>>, phase?: Phase];

interface GoldenSupervisorPath {
  readonly name: string;
  readonly whenFull: WhenFull;
  readonly rows: readonly Row[];
  /** How each session that ended did so. */
  readonly reasons: Readonly<Record<string, SessionEndReason>>;
}

const PATHS: readonly GoldenSupervisorPath[] = [
  {
    name: 'when full, evicts the least recently active idle session',
    whenFull: 'evict-idle-lru',
    rows: [
      [0, ['open', 'a'], { a: 'created' }],
      [0, ['initialize', 'a'], { a: 'idle' }],
      [10, ['open', 'b'], { a: 'idle', b: 'created' }],
      [10, ['initialize', 'b'], { a: 'idle', b: 'idle' }],
      [20, ['request', 'a'], { a: 'active', b: 'idle' }],
      [30, ['request ends', 'a'], { a: 'idle', b: 'idle' }],
      // b was last active at 10, a at 30.
      [40, ['open', 'c'], { a: 'idle', b: 'disposed', c: 'created' }],
    ],
    reasons: { b: 'evicted' },
  },
  {
    name: 'evicts idle sessions first, then one kept only by GET streams, never one with a request in flight',
    whenFull: 'evict-idle-lru',
    rows: [
      [0, ['open', 'a'], { a: 'created' }],
      [0, ['initialize', 'a'], { a: 'idle' }],
      [0, ['stream', 'a'], { a: 'active' }],
      [10, ['open', 'b'], { a: 'active', b: 'created' }],
      [10, ['initialize', 'b'], { a: 'active', b: 'idle' }],
      // a is less recently active, but b is idle.
      [20, ['open', 'c'], { a: 'active', b: 'disposed', c: 'created' }],
      [20, ['initialize', 'c'], { a: 'active', c: 'idle' }],
      [30, ['request', 'c'], { a: 'active', c: 'active' }],
      // No idle session: a holds only a stream, c a request.
      [40, ['open', 'd'], { a: 'disposed', c: 'active', d: 'created' }],
      // c has a request in flight, d is being set up: nobody can go.
      [50, ['open refused', 'e', 'capacity-exceeded'], { c: 'active', d: 'created' }],
    ],
    reasons: { a: 'evicted', b: 'evicted' },
  },
  {
    name: "with whenFull 'reject', refuses when full even with idle sessions",
    whenFull: 'reject',
    rows: [
      [0, ['open', 'a'], { a: 'created' }],
      [0, ['initialize', 'a'], { a: 'idle' }],
      [10, ['open', 'b'], { a: 'idle', b: 'created' }],
      [10, ['initialize', 'b'], { a: 'idle', b: 'idle' }],
      [20, ['open refused', 'c', 'capacity-exceeded'], { a: 'idle', b: 'idle' }],
    ],
    reasons: {},
  },
  {
    name: 'a drain retires settled sessions at once, refuses newcomers, and retires a busy one when its request ends',
    whenFull: 'evict-idle-lru',
    rows: [
      [0, ['open', 'a'], { a: 'created' }],
      [0, ['initialize', 'a'], { a: 'idle' }],
      [0, ['open', 'b'], { a: 'idle', b: 'created' }],
      [0, ['initialize', 'b'], { a: 'idle', b: 'idle' }],
      [10, ['request', 'b'], { a: 'idle', b: 'active' }, 'running'],
      [20, ['shutdown', 500], { a: 'disposed', b: 'active' }, 'draining'],
      [30, ['open refused', 'c', 'draining'], { b: 'active' }, 'draining'],
      [100, ['request ends', 'b'], { b: 'disposed' }, 'stopped'],
    ],
    reasons: { a: 'shutdown', b: 'shutdown' },
  },
  {
    name: 'a drain retires a session still busy at the grace deadline, and not 1 ms before',
    whenFull: 'evict-idle-lru',
    rows: [
      [0, ['open', 'a'], { a: 'created' }],
      [0, ['initialize', 'a'], { a: 'idle' }],
      [0, ['request', 'a'], { a: 'active' }],
      [10, ['shutdown', 500], { a: 'active' }, 'draining'],
      [509, ['wait'], { a: 'active' }, 'draining'],
      [510, ['wait'], { a: 'disposed' }, 'stopped'],
    ],
    reasons: { a: 'shutdown' },
  },
];

interface Server {
  close(): Promise<void>;
}

function startSupervisor(whenFull: WhenFull) {
  const clock = new SimulatedClock();
  clock.set(0);
  const supervisor = createSessionSupervisor<Server>({
    clock,
    maxSessions: 2,
    whenFull,
    idleTimeout: 1_000,
    createServer: () => ({ close: async () => {} }),
  });
  const sessions = new Map<string, SupervisedSession<Server>>();
  const requests = new Map<string, () => void>();

  const session = (name: string): SupervisedSession<Server> => {
    const found = sessions.get(name);
    if (!found) throw new Error(`No session ${name}`);
    return found;
  };

  const perform = async (act: Act): Promise<void> => {
    switch (act[0]) {
      case 'open':
        sessions.set(act[1], supervisor.open());
        return;
      case 'open refused': {
        const [, , code] = act;
        let refusal: unknown;
        try {
          supervisor.open();
        } catch (error) {
          refusal = error;
        }
        expect(isSupervisorError(refusal, code), `${act[1]} refused with ${code}`).toBe(true);
        return;
      }
      case 'initialize':
        await session(act[1]).ready();
        session(act[1]).markInitialized();
        return;
      case 'request':
        requests.set(act[1], session(act[1]).beginRequest());
        return;
      case 'request ends':
        requests.get(act[1])?.();
        return;
      case 'stream':
        session(act[1]).openStream();
        return;
      case 'shutdown':
        supervisor.shutdown({ grace: act[1] }).catch(() => {});
        return;
      case 'wait':
        return;
    }
  };

  const act = async (at: number, step: Act): Promise<void> => {
    if (at > clock.now()) clock.increment(at - clock.now());
    await flush();
    await perform(step);
    await flush();
  };

  const states = (names: readonly string[]): Record<string, State> =>
    Object.fromEntries(names.map((name) => [name, session(name).state]));

  return { supervisor, clock, sessions, act, states };
}

describe('the supervisor follows every reviewed golden path', () => {
  it.each(PATHS)('$name', async (path) => {
    const runtime = startSupervisor(path.whenFull);
    try {
      for (const [at, act, expected, phase] of path.rows) {
        await runtime.act(at, act);
        const label = `at ${at} ms, ${act.join(' ')}`;
        expect(runtime.states(Object.keys(expected)), label).toEqual(expected);
        if (phase) expect(runtime.supervisor.phase, `${label}: phase`).toBe(phase);
      }
      const reasons: Record<string, SessionEndReason> = {};
      for (const [name, session] of runtime.sessions) {
        if (session.state === 'disposed') reasons[name] = (await session.whenDisposed()).reason;
      }
      expect(reasons).toEqual(path.reasons);
    } finally {
      // Whatever is left is retired at a 1 ms grace deadline; servers release at once.
      const stopped = runtime.supervisor.shutdown({ grace: 1 });
      runtime.clock.increment(1);
      await stopped;
    }
  });
});
