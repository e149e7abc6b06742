import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import {
  type SessionEndReason,
  type SessionEvent,
  type SessionStateName,
  type SessionTimeouts,
  sessionMachine,
  sessionMachineWithoutLifetime,
} from '../machines/session.machine.js';

/** A promise the test settles by hand (or never). */
interface Controlled {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function controlled(): Controlled {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A promise nobody ended up awaiting must not become an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** Lets promise actors deliver their result (microtasks only; no time passes on any clock). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const CREATED_AT = 1_000;
const TIMEOUTS: SessionTimeouts = {
  initTimeout: 3_000,
  idleTimeout: 10_000,
  maxLifetime: undefined,
  disposeTimeout: 5_000,
};
/** The longest delay a Node timer honours; the machine uses it when there is no maxLifetime. */
const MAX_TIMER_DELAY = 2_147_483_647;

interface HarnessOptions {
  timeouts?: Partial<SessionTimeouts>;
  streamsCountAsActivity?: boolean;
}

type EventWithoutTime<E = SessionEvent> = E extends SessionEvent ? Omit<E, 'at'> : never;

/**
 * The pure session machine on a simulated clock starting at {@link CREATED_AT}, with test doubles
 * for everything the runtime provides. `prepare` and `release` stay pending until the test settles them.
 */
function startSession(options: HarnessOptions = {}) {
  const clock = new SimulatedClock();
  clock.set(CREATED_AT);
  const entered: SessionStateName[] = [];
  const enteredAt: Array<{ state: SessionStateName; at: number }> = [];
  const prepare = controlled();
  const release = controlled();
  const prepareInputs: Array<{ sessionId: string }> = [];
  const releaseInputs: Array<{ sessionId: string; reason: SessionEndReason }> = [];
  const timeouts = { ...TIMEOUTS, ...options.timeouts };
  // As the runtime does: the chart without the lifetime timer when no lifetime is set.
  const machine = timeouts.maxLifetime === undefined ? sessionMachineWithoutLifetime : sessionMachine;
  const logic = machine.provide({
    actions: {
      notifyEntered: (_, { state }) => {
        entered.push(state);
        enteredAt.push({ state, at: clock.now() });
      },
      // The runtime's side of `prepareServer` / `releaseServer`: do the work, report the outcome.
      prepareServer: ({ context, self }) => {
        prepareInputs.push({ sessionId: context.sessionId });
        // A runtime never reports to a session that has already ended (its actor is stopped).
        const report = (event: SessionEvent) => {
          if (self.getSnapshot().status === 'active') self.send(event);
        };
        // A built server is not news to the machine (the handshake, INITIALIZED, runs on it).
        prepare.promise.then(
          () => {},
          (error: unknown) => report({ type: 'PREPARE.FAILED', error }),
        );
      },
      releaseServer: ({ context, self }) => {
        releaseInputs.push({ sessionId: context.sessionId, reason: context.reason ?? 'failed' });
        const report = (event: SessionEvent) => {
          if (self.getSnapshot().status === 'active') self.send(event);
        };
        release.promise.then(
          () => report({ type: 'RELEASED' }),
          (error: unknown) => report({ type: 'RELEASE.FAILED', error }),
        );
      },
    },
  });
  const actor = createActor(logic, {
    clock,
    input: {
      sessionId: 'session-1',
      createdAt: CREATED_AT,
      timeouts,
      streamsCountAsActivity: options.streamsCountAsActivity ?? true,
    },
  });
  actor.start();

  /** Sends an event stamped with the clock's current time. */
  const send = (event: EventWithoutTime): void => {
    actor.send({ ...event, at: clock.now() } as SessionEvent);
  };
  /** The lifecycle state by its spec name, whether or not it is nested under `live`. */
  const state = (): SessionStateName => {
    const { value } = actor.getSnapshot();
    return typeof value === 'string' ? value : value.live;
  };
  const context = () => actor.getSnapshot().context;

  /** Builds the server and completes the handshake: the session is then idle (or active if busy). */
  const initialize = async (): Promise<void> => {
    prepare.resolve();
    await settle();
    send({ type: 'INITIALIZED' });
  };

  return {
    actor,
    clock,
    entered,
    enteredAt,
    prepare,
    release,
    prepareInputs,
    releaseInputs,
    send,
    state,
    context,
    initialize,
  };
}

type Session = ReturnType<typeof startSession>;

/** Brings a fresh session into one of the three live states. */
const reachLiveState: Record<'created' | 'active' | 'idle', (session: Session) => Promise<void>> = {
  created: async () => {},
  idle: async (session) => {
    await session.initialize();
  },
  active: async (session) => {
    session.send({ type: 'REQUEST.START' });
    await session.initialize();
  },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('session machine: created', () => {
  it('starts in created and asks the runtime to prepare the session', () => {
    const session = startSession();

    expect({ state: session.state(), entered: session.entered, prepare: session.prepareInputs }).toEqual({
      state: 'created',
      entered: ['created'],
      prepare: [{ sessionId: 'session-1' }],
    });
  });

  it('goes idle on INITIALIZED', async () => {
    const session = startSession();

    await session.initialize();

    expect(session.entered).toEqual(['created', 'idle']);
  });

  it('goes active on INITIALIZED that reports a request in flight, none reported before; the sender keeps the count', async () => {
    const session = startSession();
    session.prepare.resolve();
    await settle();

    session.send({ type: 'INITIALIZED', requestsInFlight: 1 });

    expect({ state: session.state(), inFlight: session.context().requestsInFlight }).toEqual({
      state: 'active',
      inFlight: 0,
    });
  });

  it('goes idle on INITIALIZED that reports no request in flight, whatever was reported before', async () => {
    const session = startSession();
    session.send({ type: 'REQUEST.START' });
    session.prepare.resolve();
    await settle();

    session.send({ type: 'INITIALIZED', requestsInFlight: 0 });

    expect(session.state()).toBe('idle');
  });

  it('takes no event for a built server: it stays created until the handshake', async () => {
    const session = startSession();

    session.prepare.resolve();
    await settle();

    expect(session.entered).toEqual(['created']);
  });

  it.each([
    {
      busyWith: 'a request in flight',
      event: 'REQUEST.START',
      streamsCountAsActivity: true,
      expected: 'active',
    },
    {
      busyWith: 'an open stream (streams count)',
      event: 'STREAM.OPEN',
      streamsCountAsActivity: true,
      expected: 'active',
    },
    {
      busyWith: "an open stream (streams don't count)",
      event: 'STREAM.OPEN',
      streamsCountAsActivity: false,
      expected: 'idle',
    },
  ] as const)(
    'with $busyWith at INITIALIZED goes $expected',
    async ({ event, streamsCountAsActivity, expected }) => {
      const session = startSession({ streamsCountAsActivity });
      session.send({ type: event });

      await session.initialize();

      expect(session.entered).toEqual(['created', expected]);
    },
  );

  it('expires with reason init-timeout when the handshake takes longer than initTimeout', () => {
    const session = startSession();

    session.clock.set(CREATED_AT + TIMEOUTS.initTimeout);

    expect({ state: session.state(), reason: session.context().reason }).toEqual({
      state: 'expired',
      reason: 'init-timeout',
    });
  });

  it('does not time out one millisecond before initTimeout', () => {
    const session = startSession();

    session.clock.set(CREATED_AT + TIMEOUTS.initTimeout - 1);

    expect(session.state()).toBe('created');
  });

  it('stamps an init timeout with endedAt = createdAt + initTimeout, however late the clock is read', () => {
    const session = startSession();

    session.clock.set(CREATED_AT + TIMEOUTS.initTimeout + 777);

    expect(session.context().endedAt).toBe(CREATED_AT + TIMEOUTS.initTimeout);
  });

  it('times out a session whose server was built but whose handshake never completes', async () => {
    const session = startSession();
    session.prepare.resolve();
    await settle();

    session.clock.set(CREATED_AT + TIMEOUTS.initTimeout);

    expect(session.context().reason).toBe('init-timeout');
  });

  it('expires with reason failed when preparing the session fails', async () => {
    const session = startSession();

    session.prepare.reject(new Error('factory exploded'));
    await settle();

    expect({ entered: session.entered, reason: session.context().reason }).toEqual({
      entered: ['created', 'expired'],
      reason: 'failed',
    });
  });
});

describe('session machine: reference-counted activity', () => {
  it('goes active on a request in idle and back to idle when it ends', async () => {
    const session = startSession();
    await session.initialize();

    session.send({ type: 'REQUEST.START' });
    session.send({ type: 'REQUEST.END' });

    expect(session.entered).toEqual(['created', 'idle', 'active', 'idle']);
  });

  it('stays active until both of two overlapping requests have ended', async () => {
    const session = startSession();
    await session.initialize();
    session.send({ type: 'REQUEST.START' });
    session.send({ type: 'REQUEST.START' });

    session.send({ type: 'REQUEST.END' });
    const afterFirstEnd = session.state();
    session.send({ type: 'REQUEST.END' });

    expect([afterFirstEnd, session.state()]).toEqual(['active', 'idle']);
  });

  it('counts every request started over the life of the session', async () => {
    const session = startSession();
    session.send({ type: 'REQUEST.START' });
    await session.initialize();
    session.send({ type: 'REQUEST.START' });
    session.send({ type: 'REQUEST.END' });
    session.send({ type: 'REQUEST.END' });
    session.send({ type: 'REQUEST.START' });

    expect(session.context().requests).toBe(3);
  });

  it.each(['created', 'idle'] as const)('ignores a REQUEST.END without a start in %s', async (state) => {
    const session = startSession();
    await reachLiveState[state](session);
    const entered = [...session.entered];

    session.send({ type: 'REQUEST.END' });

    expect({ entered: session.entered, inFlight: session.context().requestsInFlight }).toEqual({
      entered,
      inFlight: 0,
    });
  });

  it('ignores a REQUEST.END without a start in active (held by a stream)', async () => {
    const session = startSession({ streamsCountAsActivity: true });
    await session.initialize();
    session.send({ type: 'STREAM.OPEN' });

    session.send({ type: 'REQUEST.END' });

    expect({ state: session.state(), inFlight: session.context().requestsInFlight }).toEqual({
      state: 'active',
      inFlight: 0,
    });
  });

  it('never counts below zero: after stray ends, one request makes it active and its end makes it idle', async () => {
    const session = startSession();
    session.send({ type: 'REQUEST.END' });
    await session.initialize();
    session.send({ type: 'REQUEST.END' });
    session.send({ type: 'REQUEST.END' });

    session.send({ type: 'REQUEST.START' });
    const whileInFlight = session.state();
    session.send({ type: 'REQUEST.END' });

    expect([whileInFlight, session.state()]).toEqual(['active', 'idle']);
  });

  describe('when open streams count as activity', () => {
    it('goes active when a stream opens in idle and idle when it closes', async () => {
      const session = startSession({ streamsCountAsActivity: true });
      await session.initialize();

      session.send({ type: 'STREAM.OPEN' });
      session.send({ type: 'STREAM.CLOSE' });

      expect(session.entered).toEqual(['created', 'idle', 'active', 'idle']);
    });

    it('stays active while a stream is open after the last request ended', async () => {
      const session = startSession({ streamsCountAsActivity: true });
      await session.initialize();
      session.send({ type: 'STREAM.OPEN' });
      session.send({ type: 'REQUEST.START' });

      session.send({ type: 'REQUEST.END' });

      expect(session.state()).toBe('active');
    });

    it('stays active while a request is in flight after the last stream closed', async () => {
      const session = startSession({ streamsCountAsActivity: true });
      await session.initialize();
      session.send({ type: 'REQUEST.START' });
      session.send({ type: 'STREAM.OPEN' });

      session.send({ type: 'STREAM.CLOSE' });

      expect(session.state()).toBe('active');
    });

    it('never idles out while a stream stays open', async () => {
      const session = startSession({ streamsCountAsActivity: true });
      await session.initialize();
      session.send({ type: 'STREAM.OPEN' });

      session.clock.increment(TIMEOUTS.idleTimeout * 10);

      expect(session.state()).toBe('active');
    });
  });

  describe("when open streams don't count as activity", () => {
    it('stays idle when a stream opens', async () => {
      const session = startSession({ streamsCountAsActivity: false });
      await session.initialize();

      session.send({ type: 'STREAM.OPEN' });

      expect(session.state()).toBe('idle');
    });

    it('restarts the idle timer when a stream opens in idle', async () => {
      const session = startSession({ streamsCountAsActivity: false });
      await session.initialize();
      const idleSince = session.clock.now();
      session.clock.set(idleSince + 6_000);
      session.send({ type: 'STREAM.OPEN' });

      session.clock.set(idleSince + TIMEOUTS.idleTimeout);

      expect(session.state()).toBe('idle');
    });

    it('expires idleTimeout after the stream opened', async () => {
      const session = startSession({ streamsCountAsActivity: false });
      await session.initialize();
      const openedAt = session.clock.now() + 6_000;
      session.clock.set(openedAt);
      session.send({ type: 'STREAM.OPEN' });

      session.clock.set(openedAt + TIMEOUTS.idleTimeout);

      expect({ state: session.state(), endedAt: session.context().endedAt }).toEqual({
        state: 'expired',
        endedAt: openedAt + TIMEOUTS.idleTimeout,
      });
    });

    it('goes idle when the last request ends although a stream is still open', async () => {
      const session = startSession({ streamsCountAsActivity: false });
      await session.initialize();
      session.send({ type: 'STREAM.OPEN' });
      session.send({ type: 'REQUEST.START' });

      session.send({ type: 'REQUEST.END' });

      expect(session.state()).toBe('idle');
    });

    it('reports an idle timeout at the moment it happened, even after a stream closed in idle', async () => {
      const session = startSession({ streamsCountAsActivity: false });
      await session.initialize();
      const idleSince = session.clock.now();
      session.clock.set(idleSince + 2_000);
      session.send({ type: 'STREAM.OPEN' });
      session.clock.set(idleSince + 7_000);
      session.send({ type: 'STREAM.CLOSE' });

      // Walk the clock forward in 100 ms steps until the session expires, wherever its deadline is.
      while (session.state() === 'idle' && session.clock.now() < idleSince + 3 * TIMEOUTS.idleTimeout) {
        session.clock.increment(100);
      }
      const expiredAt = session.enteredAt.find((entry) => entry.state === 'expired')?.at;

      expect(session.context().endedAt).toBe(expiredAt);
    });
  });
});

describe('session machine: activity from a sender that counts (the runtime)', () => {
  it('moves idle → active on a counted first request without a new context', async () => {
    const session = startSession();
    await session.initialize();
    const before = session.context();

    session.send({ type: 'REQUEST.START', requests: 1, requestsInFlight: 1 });

    expect({ state: session.state(), sameContext: session.context() === before }).toEqual({
      state: 'active',
      sameContext: true,
    });
  });

  it('records the busy spell at its end: last activity, the total, nothing counted in flight', async () => {
    const session = startSession();
    await session.initialize();
    session.send({ type: 'REQUEST.START', requests: 1, requestsInFlight: 1 });
    session.clock.increment(40);

    session.send({ type: 'REQUEST.END', requests: 3, requestsInFlight: 0 });

    const { requestsInFlight, requests, lastActivityAt } = session.context();
    expect({ state: session.state(), requestsInFlight, requests, lastActivityAt }).toEqual({
      state: 'idle',
      requestsInFlight: 0,
      requests: 3,
      lastActivityAt: session.clock.now(),
    });
  });

  it('stays active when a request end leaves requests in flight by the sender count', async () => {
    const session = startSession();
    await session.initialize();
    session.send({ type: 'REQUEST.START', requestsInFlight: 1 });

    session.send({ type: 'REQUEST.END', requestsInFlight: 1 });

    expect(session.state()).toBe('active');
  });

  it('stays active when the last counted stream closes with a request in flight by the sender count', async () => {
    const session = startSession({ streamsCountAsActivity: true });
    await session.initialize();
    session.send({ type: 'STREAM.OPEN', requestsInFlight: 0 });
    session.send({ type: 'REQUEST.START', requestsInFlight: 1 });

    session.send({ type: 'STREAM.CLOSE', requestsInFlight: 1 });
    const whileRequestOpen = session.state();
    session.send({ type: 'REQUEST.END', requestsInFlight: 0 });

    expect([whileRequestOpen, session.state()]).toEqual(['active', 'idle']);
  });

  it('times an idle session out from the end of its last counted spell', async () => {
    const session = startSession();
    await session.initialize();
    session.send({ type: 'REQUEST.START', requestsInFlight: 1 });
    session.clock.increment(100);
    session.send({ type: 'REQUEST.END', requestsInFlight: 0 });
    const endedAt = session.clock.now();

    session.clock.increment(TIMEOUTS.idleTimeout);

    expect({ reason: session.context().reason, endedAt: session.context().endedAt }).toEqual({
      reason: 'idle-timeout',
      endedAt: endedAt + TIMEOUTS.idleTimeout,
    });
  });
});

describe('session machine: idle timeout', () => {
  it('expires with reason idle-timeout after idleTimeout without activity', async () => {
    const session = startSession();
    await session.initialize();

    session.clock.increment(TIMEOUTS.idleTimeout);

    expect({ state: session.state(), reason: session.context().reason }).toEqual({
      state: 'expired',
      reason: 'idle-timeout',
    });
  });

  it('measures the idle timeout from the last activity: endedAt = lastActivityAt + idleTimeout', async () => {
    const session = startSession();
    await session.initialize();
    session.clock.set(CREATED_AT + 400);
    session.send({ type: 'REQUEST.START' });
    session.clock.set(CREATED_AT + 900);
    session.send({ type: 'REQUEST.END' });

    session.clock.set(CREATED_AT + 900 + TIMEOUTS.idleTimeout + 123);

    expect({ lastActivityAt: session.context().lastActivityAt, endedAt: session.context().endedAt }).toEqual({
      lastActivityAt: CREATED_AT + 900,
      endedAt: CREATED_AT + 900 + TIMEOUTS.idleTimeout,
    });
  });

  it('is still idle one millisecond before idleTimeout after the last activity', async () => {
    const session = startSession();
    await session.initialize();
    session.clock.set(CREATED_AT + 900);
    session.send({ type: 'REQUEST.START' });
    session.send({ type: 'REQUEST.END' });

    session.clock.set(CREATED_AT + 900 + TIMEOUTS.idleTimeout - 1);

    expect(session.state()).toBe('idle');
  });

  it('restarts the idle clock on activity in idle', async () => {
    const session = startSession();
    await session.initialize();
    const idleSince = session.clock.now();
    session.clock.set(idleSince + 6_000);
    session.send({ type: 'REQUEST.START' });
    session.send({ type: 'REQUEST.END' });

    session.clock.set(idleSince + TIMEOUTS.idleTimeout);
    const atFirstDeadline = session.state();
    session.clock.set(idleSince + 6_000 + TIMEOUTS.idleTimeout);

    expect([atFirstDeadline, session.state()]).toEqual(['idle', 'expired']);
  });

  it('never idles out while a request is in flight', async () => {
    const session = startSession();
    await session.initialize();
    session.send({ type: 'REQUEST.START' });

    session.clock.increment(TIMEOUTS.idleTimeout * 10);

    expect(session.state()).toBe('active');
  });
});

describe('session machine: maxLifetime', () => {
  const maxLifetime = 60_000;

  it.each([
    {
      situation: 'a busy session',
      arrange: async (session: Session) => {
        session.send({ type: 'REQUEST.START' });
        await session.initialize();
      },
    },
    {
      situation: 'an idle session fed uncounted streams',
      streamsCountAsActivity: false,
      idleTimeout: 20_000,
      arrange: async (session: Session) => {
        await session.initialize();
        for (let at = CREATED_AT + 15_000; at < CREATED_AT + maxLifetime; at += 15_000) {
          session.clock.set(at);
          session.send({ type: 'STREAM.OPEN' });
        }
      },
    },
    {
      situation: 'a session cycling active/idle',
      arrange: async (session: Session) => {
        await session.initialize();
        for (let at = CREATED_AT + 5_000; at < CREATED_AT + maxLifetime; at += 5_000) {
          session.clock.set(at);
          session.send({ type: 'REQUEST.START' });
          session.send({ type: 'REQUEST.END' });
        }
      },
    },
  ])('ends $situation with reason lifetime at createdAt + maxLifetime', async (row) => {
    const session = startSession({
      timeouts: { maxLifetime, ...(row.idleTimeout ? { idleTimeout: row.idleTimeout } : {}) },
      streamsCountAsActivity: row.streamsCountAsActivity ?? true,
    });
    await row.arrange(session);

    session.clock.set(CREATED_AT + maxLifetime);

    expect({
      state: session.state(),
      reason: session.context().reason,
      endedAt: session.context().endedAt,
    }).toEqual({ state: 'expired', reason: 'lifetime', endedAt: CREATED_AT + maxLifetime });
  });

  it('ends a session still in created when maxLifetime is shorter than initTimeout', () => {
    const session = startSession({ timeouts: { maxLifetime: 1_000 } });

    session.clock.set(CREATED_AT + 1_000);

    expect(session.context().reason).toBe('lifetime');
  });

  it('without maxLifetime, the session chart has no lifetime timer to arm', () => {
    const timers = (machine: typeof sessionMachine | typeof sessionMachineWithoutLifetime) =>
      machine.root.states.live?.after.map((definition) => String(definition.delay)) ?? [];

    expect({ without: timers(sessionMachineWithoutLifetime), with: timers(sessionMachine) }).toEqual({
      without: [],
      with: ['maxLifetime'],
    });
  });

  it('without maxLifetime, never ends a busy session, even after a very long time', async () => {
    const session = startSession({ timeouts: { maxLifetime: undefined } });
    session.send({ type: 'REQUEST.START' });
    await session.initialize();

    for (let i = 0; i < 4; i += 1) session.clock.increment(MAX_TIMER_DELAY);

    expect({ state: session.state(), reason: session.context().reason }).toEqual({
      state: 'active',
      reason: undefined,
    });
  });
});

describe('session machine: CLOSE', () => {
  const reasons: SessionEndReason[] = [
    'init-timeout',
    'idle-timeout',
    'lifetime',
    'deleted',
    'evicted',
    'shutdown',
    'failed',
  ];
  const cases = (['created', 'active', 'idle'] as const).flatMap((state) =>
    reasons.map((reason) => ({ state, reason })),
  );

  it.each(cases)(
    'CLOSE $reason from $state expires with that reason at the event time',
    async ({ state, reason }) => {
      const session = startSession();
      await reachLiveState[state](session);
      session.clock.set(CREATED_AT + 2_500);

      session.send({ type: 'CLOSE', reason });

      expect({
        state: session.state(),
        reason: session.context().reason,
        endedAt: session.context().endedAt,
      }).toEqual({ state: 'expired', reason, endedAt: CREATED_AT + 2_500 });
    },
  );

  it('hands the end reason to releaseServer', async () => {
    const session = startSession();
    await session.initialize();

    session.send({ type: 'CLOSE', reason: 'evicted' });

    expect(session.releaseInputs).toEqual([{ sessionId: 'session-1', reason: 'evicted' }]);
  });

  it('is ignored once the session has expired (the first reason stands)', () => {
    const session = startSession();
    session.send({ type: 'CLOSE', reason: 'deleted' });

    session.send({ type: 'CLOSE', reason: 'shutdown' });

    expect({ reason: session.context().reason, entered: session.entered }).toEqual({
      reason: 'deleted',
      entered: ['created', 'expired'],
    });
  });
});

describe('session machine: expired → disposed', () => {
  /** A session closed at CREATED_AT + 2 000 ms after one request, now releasing its resources. */
  const expireSession = async (): Promise<Session> => {
    const session = startSession();
    await session.initialize();
    session.send({ type: 'REQUEST.START' });
    session.send({ type: 'REQUEST.END' });
    session.clock.set(CREATED_AT + 2_000);
    session.send({ type: 'CLOSE', reason: 'deleted' });
    return session;
  };

  it('is disposed as soon as the release resolves', async () => {
    const session = await expireSession();

    session.release.resolve();
    await settle();

    expect({ entered: session.entered, releaseIncomplete: session.context().releaseIncomplete }).toEqual({
      entered: ['created', 'idle', 'active', 'idle', 'expired', 'disposed'],
      releaseIncomplete: false,
    });
  });

  it('is disposed with releaseIncomplete when the release rejects', async () => {
    const session = await expireSession();

    session.release.reject(new Error('transport.close failed'));
    await settle();

    expect({ state: session.state(), releaseIncomplete: session.context().releaseIncomplete }).toEqual({
      state: 'disposed',
      releaseIncomplete: true,
    });
  });

  it('waits for a release that never settles until disposeTimeout', async () => {
    const session = await expireSession();

    session.clock.set(CREATED_AT + 2_000 + TIMEOUTS.disposeTimeout - 1);
    await settle();

    expect(session.state()).toBe('expired');
  });

  it('is disposed with releaseIncomplete at disposeTimeout when the release never settles', async () => {
    const session = await expireSession();

    session.clock.set(CREATED_AT + 2_000 + TIMEOUTS.disposeTimeout);

    expect({ state: session.state(), releaseIncomplete: session.context().releaseIncomplete }).toEqual({
      state: 'disposed',
      releaseIncomplete: true,
    });
  });

  it('outputs { sessionId, reason, createdAt, endedAt, requests } when disposed', async () => {
    const session = await expireSession();

    session.release.resolve();
    await settle();

    expect({
      status: session.actor.getSnapshot().status,
      output: session.actor.getSnapshot().output,
    }).toEqual({
      status: 'done',
      output: {
        sessionId: 'session-1',
        reason: 'deleted',
        createdAt: CREATED_AT,
        endedAt: CREATED_AT + 2_000,
        requests: 1,
      },
    });
  });

  it('ignores a release that settles after the dispose deadline', async () => {
    const session = await expireSession();
    session.clock.set(CREATED_AT + 2_000 + TIMEOUTS.disposeTimeout);

    session.release.resolve();
    await settle();

    expect({
      entered: session.entered.filter((s) => s === 'disposed'),
      incomplete: session.context().releaseIncomplete,
    }).toEqual({ entered: ['disposed'], incomplete: true });
  });

  it('changes nothing when events arrive after disposal', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const session = await expireSession();
    session.release.resolve();
    await settle();
    const snapshot = session.actor.getSnapshot();
    const entered = [...session.entered];

    for (const event of [
      { type: 'INITIALIZED' },
      { type: 'REQUEST.START' },
      { type: 'REQUEST.END' },
      { type: 'STREAM.OPEN' },
      { type: 'STREAM.CLOSE' },
      { type: 'CLOSE', reason: 'shutdown' },
    ] as const) {
      session.send(event);
    }
    session.clock.increment(MAX_TIMER_DELAY);

    expect(session.actor.getSnapshot()).toBe(snapshot);
    expect(session.entered).toEqual(entered);
  });
});
