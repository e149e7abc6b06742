/**
 * The supervisor's public API, example by example, against the spec's table "Parity with the
 * original manager": what the Map-based `SessionManager` offered must still be possible.
 *
 * Time is a `SimulatedClock`; promise work (building and releasing servers) runs by awaiting a
 * few `setImmediate` turns. Nothing sleeps on real time.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  createSessionSupervisor,
  isSupervisorError,
  type McpSessionSupervisorOptions,
  type SupervisedSession,
  SupervisorError,
} from '../src/index.js';

interface TestServer {
  closes: number;
  close(): Promise<void>;
}

const server = (close: () => Promise<void> = () => Promise.resolve()): TestServer => {
  const built: TestServer = {
    closes: 0,
    close: () => {
      built.closes += 1;
      return close();
    },
  };
  return built;
};

/** Lets promise work run: server builds, releases, settled promises' callbacks. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

function supervise(options: McpSessionSupervisorOptions<TestServer> = {}) {
  const clock = new SimulatedClock();
  const supervisor = createSessionSupervisor<TestServer>({ clock, createServer: () => server(), ...options });
  return { clock, supervisor };
}

type Supervisor = ReturnType<typeof supervise>['supervisor'];

/** Opens a session and completes its handshake (server built, `initialize` answered): it is idle. */
async function openIdle(
  supervisor: Supervisor,
  metadata?: Record<string, unknown>,
): Promise<SupervisedSession<TestServer>> {
  const session = supervisor.open(metadata ? { metadata } : {});
  await session.ready();
  await flush(); // see 'markInitialized() right after ready() resolves' below
  session.markInitialized();
  return session;
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.unreachable('expected an error to be thrown');
}

describe('opening a session (original: createSession(server, metadata?))', () => {
  it('returns a session with its id, createdAt, lastActivityAt and metadata', () => {
    const { clock, supervisor } = supervise();
    clock.increment(1_000);

    const session = supervisor.open({ metadata: { client: 'inspector' } });

    expect(session.info()).toMatchObject({
      id: session.id,
      state: 'created',
      createdAt: 1_000,
      lastActivityAt: 1_000,
      metadata: { client: 'inspector' },
    });
  });

  it('hands the metadata and session id to createServer', async () => {
    const seen: unknown[] = [];
    const { supervisor } = supervise({
      createServer: ({ sessionId, metadata }) => {
        seen.push({ sessionId, metadata });
        return server();
      },
    });

    const session = supervisor.open({ metadata: { client: 'cli' } });
    await flush();

    expect(seen).toEqual([{ sessionId: session.id, metadata: { client: 'cli' } }]);
  });

  it('resolves ready() with the server createServer built', async () => {
    const built = server();
    const { supervisor } = supervise({ createServer: () => built });

    await expect(supervisor.open().ready()).resolves.toBe(built);
  });

  it('markInitialized() right after ready() resolves completes the handshake', async () => {
    const { supervisor } = supervise();
    const session = supervisor.open();

    await session.ready();
    session.markInitialized();

    expect(session.state).toBe('idle');
  });

  it('reports no request before the handshake: INITIALIZED carries the count, and the session is active', async () => {
    const events: string[] = [];
    const { supervisor } = supervise({
      inspect: (event) => {
        if (event.type === '@xstate.event' && /^(REQUEST|INITIALIZED)/.test(event.event.type))
          events.push(event.event.type);
      },
    });
    const session = supervisor.open();
    await session.ready();

    session.beginRequest(); // the initialize request, still in flight at the handshake
    session.markInitialized();

    expect({ state: session.state, events }).toEqual({
      state: 'active',
      events: ['INITIALIZED'],
    });
  });

  it('goes idle when a request that began before the handshake ends after it', async () => {
    const { supervisor } = supervise();
    const session = supervisor.open();
    await session.ready();
    const done = session.beginRequest();
    session.markInitialized();

    done();

    expect(session.state).toBe('idle');
  });

  it('is idle at the handshake when the requests before it have ended', async () => {
    const { supervisor } = supervise();
    const session = supervisor.open();
    await session.ready();
    session.beginRequest()();

    session.markInitialized();

    expect(session.state).toBe('idle');
  });

  it('ignores markInitialized() before the server is built: no handshake ran on it', async () => {
    const { supervisor } = supervise();
    const session = supervisor.open();

    session.markInitialized();
    await session.ready();

    expect(session.state).toBe('created');
  });

  it('still completes a later handshake after an early markInitialized() was ignored', async () => {
    const { supervisor } = supervise();
    const session = supervisor.open();
    session.markInitialized();

    await session.ready();
    session.markInitialized();

    expect(session.state).toBe('idle');
  });
});

describe('capacity (original: throws "Maximum number of sessions (N) reached. Please try again later.")', () => {
  it('refuses an open beyond maxSessions with a capacity-exceeded error carrying the original message', () => {
    const { supervisor } = supervise({ maxSessions: 2, whenFull: 'reject', retryAfter: '7s' });
    supervisor.open();
    supervisor.open();

    const error = thrownBy(() => supervisor.open());

    expect(error).toBeInstanceOf(SupervisorError);
    expect(isSupervisorError(error, 'capacity-exceeded') && [error.message, error.data]).toEqual([
      'Maximum number of sessions (2) reached. Please try again later.',
      { maxSessions: 2, retryAfterMs: 7_000 },
    ]);
  });

  it("with 'evict-idle-lru' and no idle session to evict, refuses as well", async () => {
    const { supervisor } = supervise({ maxSessions: 1, whenFull: 'evict-idle-lru' });
    const busy = await openIdle(supervisor);
    busy.beginRequest();

    expect(
      isSupervisorError(
        thrownBy(() => supervisor.open()),
        'capacity-exceeded',
      ),
    ).toBe(true);
  });

  it("with 'evict-idle-lru', retires the least recently active idle session with reason evicted", async () => {
    const { clock, supervisor } = supervise({ maxSessions: 2, whenFull: 'evict-idle-lru' });
    const first = await openIdle(supervisor);
    clock.increment(10);
    const second = await openIdle(supervisor);
    clock.increment(10);
    first.beginRequest()(); // first is now the more recently active one

    supervisor.open();

    expect([first.state, second.state]).toEqual(['idle', 'expired']);
    await expect(second.whenDisposed()).resolves.toMatchObject({ reason: 'evicted' });
  });

  it('counts every live session against the cap, including one whose server is still being built', () => {
    const { supervisor } = supervise({
      maxSessions: 1,
      whenFull: 'reject',
      createServer: () => new Promise(() => {}),
    });
    supervisor.open();

    expect(
      isSupervisorError(
        thrownBy(() => supervisor.open()),
        'capacity-exceeded',
      ),
    ).toBe(true);
  });
});

describe('lookup (original: getSession(id) refreshed lastActivityAt; hasSession(id) false once timed out)', () => {
  it('get() returns the live session without counting as activity', async () => {
    const { clock, supervisor } = supervise({ idleTimeout: 1_000 });
    const session = await openIdle(supervisor);
    clock.increment(600);

    expect(supervisor.get(session.id)).toBe(session);
    expect(session.info().lastActivityAt).toBe(0);
  });

  it('a session looked up but not used still expires idleTimeout after its last activity', async () => {
    const { clock, supervisor } = supervise({ idleTimeout: 1_000 });
    const session = await openIdle(supervisor);
    clock.increment(600);
    supervisor.get(session.id);
    supervisor.has(session.id);

    clock.increment(400);

    expect(session.state).not.toBe('idle');
    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'idle-timeout', endedAt: 1_000 });
  });

  it('has() is false and get() undefined once the session timed out', async () => {
    const { clock, supervisor } = supervise({ idleTimeout: 1_000 });
    const session = await openIdle(supervisor);

    clock.increment(1_000);

    expect([supervisor.has(session.id), supervisor.get(session.id)]).toEqual([false, undefined]);
  });

  it('has() is false for an id that was never admitted', () => {
    const { supervisor } = supervise();

    expect(supervisor.has('6f1c1c4e-9a51-4a8e-a8c2-1f7b8d2b0c11')).toBe(false);
  });
});

describe('close(id) → boolean (original: removeSession(id))', () => {
  it('returns true for a live session and ends it with reason deleted', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);

    expect(supervisor.close(session.id)).toBe(true);
    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'deleted' });
  });

  it('returns false for a session already closed', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);
    supervisor.close(session.id);

    expect(supervisor.close(session.id)).toBe(false);
  });

  it('returns false for an unknown id', () => {
    const { supervisor } = supervise();

    expect(supervisor.close('no-such-session')).toBe(false);
  });
});

describe('listing and counting (original: getAllSessions(), getSessionCount())', () => {
  it('lists the live sessions, oldest first, and counts them', async () => {
    const { clock, supervisor } = supervise();
    const a = await openIdle(supervisor);
    clock.increment(10);
    const b = await openIdle(supervisor);
    clock.increment(10);
    const c = await openIdle(supervisor);
    supervisor.close(b.id);

    expect([supervisor.sessions().map((info) => info.id), supervisor.size]).toEqual([[a.id, c.id], 2]);
  });
});

describe('getStatistics() (original: activeSessions, maxSessions, sessionTimeout, oldestSession, newestSession)', () => {
  it('reports the original fields', async () => {
    const { clock, supervisor } = supervise({ maxSessions: 5, idleTimeout: '10m' });
    const oldest = await openIdle(supervisor);
    clock.increment(10);
    const newest = await openIdle(supervisor);

    expect(supervisor.getStatistics()).toMatchObject({
      activeSessions: 2,
      maxSessions: 5,
      sessionTimeout: 600_000,
      oldestSession: { id: oldest.id, createdAt: 0 },
      newestSession: { id: newest.id, createdAt: 10 },
    });
  });

  it('has no oldest or newest session when none is live', () => {
    const { supervisor } = supervise();

    expect(supervisor.getStatistics()).toMatchObject({ oldestSession: undefined, newestSession: undefined });
  });

  it('counts sessions by state', async () => {
    const { supervisor } = supervise();
    supervisor.open(); // created
    await openIdle(supervisor); // idle
    (await openIdle(supervisor)).beginRequest(); // active

    expect(supervisor.getStatistics().byState).toEqual({ created: 1, active: 1, idle: 1, expired: 0 });
  });

  it('counts admissions, refusals and ends', async () => {
    const { supervisor } = supervise({ maxSessions: 1, whenFull: 'reject' });
    const session = await openIdle(supervisor);
    thrownBy(() => supervisor.open());
    supervisor.close(session.id);
    await flush();

    const { totals, endedByReason } = supervisor.getStatistics();

    expect([totals, endedByReason.deleted]).toEqual([
      { admitted: 1, rejected: 1, evicted: 0, expired: 0, deleted: 1, failed: 0, shutdown: 0, disposed: 1 },
      1,
    ]);
  });

  it('counts the requests in flight', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);
    session.beginRequest();
    const done = session.beginRequest();
    done();

    expect(supervisor.getStatistics().requestsInFlight).toBe(1);
  });

  it('stops counting the requests of a session once it has ended', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);
    session.beginRequest(); // its handler has not finished yet
    supervisor.close(session.id);
    await flush();

    expect(supervisor.getStatistics().requestsInFlight).toBe(0);
  });

  it('counts an open refused while draining in totals.rejected', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);
    session.beginRequest(); // keeps the drain going
    void supervisor.shutdown({ grace: '10s' });
    thrownBy(() => supervisor.open());

    expect(supervisor.getStatistics().totals.rejected).toBe(1);
  });
});

describe('shutdown() (original: stopped the sweep timer and cleared all)', () => {
  it('lets a request in flight finish, then retires its session with reason shutdown and resolves', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);
    const done = session.beginRequest();
    let stopped = false;
    const shutdown = supervisor.shutdown({ grace: '10s' }).then(() => {
      stopped = true;
    });
    await flush();
    expect([session.state, stopped]).toEqual(['active', false]);

    done();
    await shutdown;

    expect(supervisor.phase).toBe('stopped');
    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'shutdown' });
  });

  it('retires idle sessions at once', async () => {
    const { supervisor } = supervise();
    const session = await openIdle(supervisor);

    await supervisor.shutdown();

    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'shutdown' });
  });

  it('retires sessions still busy when the grace period runs out', async () => {
    const { clock, supervisor } = supervise();
    const session = await openIdle(supervisor);
    session.beginRequest(); // never finishes
    const shutdown = supervisor.shutdown({ grace: 500 });
    await flush();

    clock.increment(500);
    await shutdown;

    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'shutdown' });
  });

  it("refuses open() while draining with code 'draining'", async () => {
    const { supervisor } = supervise();
    (await openIdle(supervisor)).beginRequest();
    void supervisor.shutdown();

    const error = thrownBy(() => supervisor.open());

    expect(isSupervisorError(error, 'draining') && error.data.phase).toBe('draining');
  });

  it("refuses open() once stopped with code 'draining'", async () => {
    const { supervisor } = supervise();
    await supervisor.shutdown();

    const error = thrownBy(() => supervisor.open());

    expect(isSupervisorError(error, 'draining') && error.data.phase).toBe('stopped');
  });

  it('returns the same promise when called again', () => {
    const { supervisor } = supervise();

    expect(supervisor.shutdown({ grace: 100 })).toBe(supervisor.shutdown({ grace: 200 }));
  });
});

describe('createServer failures', () => {
  it('a factory that throws ends the session with reason failed', async () => {
    const { supervisor } = supervise({
      createServer: () => {
        throw new Error('no server today');
      },
    });
    const session = supervisor.open();
    await flush();

    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'failed' });
  });

  it('a factory that rejects frees the slot for the next session', async () => {
    const { supervisor } = supervise({
      maxSessions: 1,
      whenFull: 'reject',
      createServer: () => Promise.reject(new Error('no server today')),
    });
    supervisor.open();
    await flush();

    expect(supervisor.open().state).toBe('created');
  });

  it('ready() rejects with session-not-found when the factory fails', async () => {
    const { supervisor } = supervise({ createServer: () => Promise.reject(new Error('no server today')) });

    const ready = supervisor.open().ready();

    await expect(ready).rejects.toSatisfy((error) => isSupervisorError(error, 'session-not-found'));
  });

  it('a server built after its session already ended is closed', async () => {
    let finishBuilding: (built: TestServer) => void = () => {};
    const { clock, supervisor } = supervise({
      initTimeout: 100,
      createServer: () =>
        new Promise<TestServer>((resolve) => {
          finishBuilding = resolve;
        }),
    });
    const session = supervisor.open();
    clock.increment(100); // init timeout: the session ends while its server is being built
    await flush();
    const late = server();

    finishBuilding(late);
    await flush();

    expect([session.state, late.closes]).toEqual(['disposed', 1]);
  });
});

describe('releasing a session (server.close) within disposeTimeout', () => {
  it('closes the server of a session when it ends', async () => {
    const built = server();
    const { supervisor } = supervise({ createServer: () => built });
    const session = await openIdle(supervisor);

    supervisor.close(session.id);
    await flush();

    expect([session.state, built.closes]).toEqual(['disposed', 1]);
  });

  it('a close() that rejects still ends in disposed, with the reason of the end', async () => {
    const { supervisor } = supervise({
      createServer: () => server(() => Promise.reject(new Error('stuck'))),
    });
    const session = await openIdle(supervisor);

    supervisor.close(session.id);
    await flush();

    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'deleted' });
  });

  it('a close() that never settles ends in disposed at the disposeTimeout deadline, not before', async () => {
    const { clock, supervisor } = supervise({
      disposeTimeout: 50,
      createServer: () => server(() => new Promise<void>(() => {})),
    });
    const session = await openIdle(supervisor);
    supervisor.close(session.id);
    await flush();

    clock.increment(49);
    const before = session.state;
    clock.increment(1);

    expect([before, session.state]).toEqual(['expired', 'disposed']);
  });

  it('a session whose release hangs still holds no slot', async () => {
    const { supervisor } = supervise({
      maxSessions: 1,
      whenFull: 'reject',
      createServer: () => server(() => new Promise<void>(() => {})),
    });
    const session = await openIdle(supervisor);
    supervisor.close(session.id);

    expect(supervisor.open().state).toBe('created');
  });
});

describe('options (code invalid-option, data.option names the option)', () => {
  const invalidOption = (options: McpSessionSupervisorOptions<TestServer>): unknown => {
    const error = thrownBy(() => createSessionSupervisor(options));
    return isSupervisorError(error, 'invalid-option') ? error.data.option : error;
  };

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxSessions %s', (maxSessions) => {
    expect(invalidOption({ maxSessions })).toBe('maxSessions');
  });

  it.each([
    { option: 'idleTimeout', value: 0 },
    { option: 'idleTimeout', value: -5 },
    { option: 'idleTimeout', value: 'soon' },
    { option: 'initTimeout', value: '' },
    { option: 'initTimeout', value: Number.NaN },
    { option: 'disposeTimeout', value: '-1s' },
    { option: 'maxLifetime', value: 0 },
    { option: 'maxLifetime', value: '30 days' },
  ] as const)('refuses $option $value', ({ option, value }) => {
    expect(invalidOption({ [option]: value })).toBe(option);
  });

  it('refuses an unknown whenFull', () => {
    expect(invalidOption({ whenFull: 'lru' as 'reject' })).toBe('whenFull');
  });

  it("accepts durations as strings like '30m'", () => {
    const { supervisor } = supervise({ idleTimeout: '30m', initTimeout: '2s', disposeTimeout: '500ms' });

    expect(supervisor.options).toMatchObject({
      idleTimeout: 1_800_000,
      initTimeout: 2_000,
      disposeTimeout: 500,
    });
  });

  it("an idleTimeout of '30m' expires an idle session 30 minutes after its last activity, not before", async () => {
    const { clock, supervisor } = supervise({ idleTimeout: '30m' });
    const session = await openIdle(supervisor);

    clock.increment(30 * 60_000 - 1);
    const before = session.state;
    clock.increment(1);

    expect([before, supervisor.has(session.id)]).toEqual(['idle', false]);
  });
});

describe('shutdown with no grace', () => {
  it('retires a session with a request in flight at once when grace is 0', async () => {
    const clock = new SimulatedClock();
    const supervisor = createSessionSupervisor({ clock });
    const session = supervisor.open();
    await session.ready();
    session.markInitialized();
    session.beginRequest();

    const stopped = supervisor.shutdown({ grace: 0 });
    clock.increment(0);

    expect((await session.whenDisposed()).reason).toBe('shutdown');
    await stopped;
  });
});

describe("session actors' ids (xstate keys each pending timer by the actor's sessionId)", () => {
  it('gives every uninspected session actor the same sessionId, so timer keys repeat across sessions', async () => {
    const { supervisor } = supervise();
    const first = await openIdle(supervisor);
    const second = await openIdle(supervisor);

    expect(second.actor.sessionId).toBe(first.actor.sessionId);
  });

  it("keeps each session's timers its own under the shared id: closing one leaves the other's idle timeout armed", async () => {
    const { clock, supervisor } = supervise({ idleTimeout: '1m' });
    const closed = await openIdle(supervisor);
    const kept = await openIdle(supervisor);

    supervisor.close(closed.id);
    clock.increment(60_000);
    await flush();

    expect((await kept.whenDisposed()).reason).toBe('idle-timeout');
  });

  it("gives an inspected supervisor's session actors xstate's own unique ids (the inspector tells actors apart by them)", async () => {
    const { supervisor } = supervise({ inspect: () => {} });
    const first = await openIdle(supervisor);
    const second = await openIdle(supervisor);

    expect(second.actor.sessionId).not.toBe(first.actor.sessionId);
  });
});
