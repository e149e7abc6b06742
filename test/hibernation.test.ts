/**
 * Hibernation in the runtime (no HTTP): an idle session with nothing open keeps only its persisted
 * snapshot after `hibernateAfter`; its next request restores the actor and rebuilds the server once;
 * its idle timeout is still decided by the machine's own `after`. On a simulated clock.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialTransition, SimulatedClock, transition } from 'xstate';
import {
  hibernatingSessionMachine,
  hibernatingSessionMachineWithoutLifetime,
} from '../machines/session.machine.js';
import { type SessionContext, SessionSupervisor, type SupervisedSession } from '../src/index.js';
import { createSupervisorMetrics } from '../src/metrics.js';

const HIBERNATE_AFTER = 1_000;
const IDLE_TIMEOUT = 10_000;

class Server {
  closed = 0;
  constructor(readonly restored: boolean) {}
  close(): void {
    this.closed += 1;
  }
}

/** Lets promise callbacks run (no time passes on the simulated clock). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function start(
  options: {
    failRebuild?: boolean;
    maxSessions?: number;
    streamsCountAsActivity?: boolean;
    maxLifetime?: number;
  } = {},
) {
  const clock = new SimulatedClock();
  clock.set(0);
  const built: Server[] = [];
  const supervisor = new SessionSupervisor<Server>({
    clock,
    idleTimeout: IDLE_TIMEOUT,
    hibernateAfter: HIBERNATE_AFTER,
    maxSessions: options.maxSessions ?? 10,
    streamsCountAsActivity: options.streamsCountAsActivity ?? true,
    ...(options.maxLifetime === undefined ? {} : { maxLifetime: options.maxLifetime }),
    createServer: (context: SessionContext) => {
      if (context.restored && options.failRebuild) throw new Error('cannot rebuild');
      const server = new Server(context.restored === true);
      built.push(server);
      return server;
    },
  });
  const open = async () => {
    const session = supervisor.open();
    await session.ready();
    session.markInitialized();
    return session;
  };
  return { clock, supervisor, built, open };
}

describe('hibernation', () => {
  it('hibernates an idle session after hibernateAfter: actor stopped, server closed, still idle', async () => {
    const { clock, supervisor, built, open } = await start();
    const session = await open();
    const actor = session.actor;

    clock.increment(HIBERNATE_AFTER);
    await settle();

    expect({
      state: session.state,
      hibernated: session.hibernation !== undefined,
      actor: actor.getSnapshot().status,
      actorDropped: session.actor !== actor,
      closed: built[0]?.closed,
      byState: supervisor.getStatistics().byState.idle,
      counts: supervisor.getStatistics().hibernation,
    }).toMatchObject({
      state: 'idle',
      hibernated: true,
      actor: 'stopped',
      actorDropped: true,
      closed: 1,
      byState: 1,
      counts: { hibernated: 1, hibernations: 1, wakeUps: 0 },
    });
  });

  it('wakes on its next request: same session, server rebuilt with ctx.restored, once for concurrent wakes', async () => {
    const { clock, supervisor, built, open } = await start();
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();

    await Promise.all([supervisor.wake(session), supervisor.wake(session), supervisor.wake(session)]);
    const done = session.beginRequest();
    const server = await session.ready();
    done();

    expect({
      state: session.state,
      rebuilt: built.length,
      restored: server?.restored,
      same: supervisor.get(session.id) === session,
      counts: supervisor.getStatistics().hibernation,
    }).toMatchObject({
      state: 'idle',
      rebuilt: 2,
      restored: true,
      same: true,
      counts: { hibernated: 0, hibernations: 1, wakeUps: 1 },
    });
  });

  it('still expires at its idle deadline while hibernated, decided by the machine (reason idle-timeout)', async () => {
    const { clock, open } = await start();
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();

    clock.increment(IDLE_TIMEOUT - HIBERNATE_AFTER);
    await settle();
    clock.increment(10);
    await settle();

    await expect(session.whenDisposed()).resolves.toMatchObject({
      reason: 'idle-timeout',
      endedAt: IDLE_TIMEOUT,
    });
  });

  it('does not expire early after a wake-up: the idle timer is re-armed with what remains', async () => {
    const { clock, supervisor, open } = await start();
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();
    clock.increment(2_000);
    await supervisor.wake(session);

    clock.increment(IDLE_TIMEOUT - HIBERNATE_AFTER - 2_000 - 1);
    await settle();

    expect(session.state).toBe('idle');
  });

  it('can be evicted while hibernated (it is idle for the LRU order), exactly once', async () => {
    const { clock, supervisor, open } = await start({ maxSessions: 1 });
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();

    const newcomer = supervisor.open();
    const output = await session.whenDisposed();

    expect({
      reason: output.reason,
      newcomer: newcomer.state,
      disposed: supervisor.getStatistics().totals.disposed,
    }).toEqual({
      reason: 'evicted',
      newcomer: 'created',
      disposed: 1,
    });
  });

  it('shows hibernated sessions, hibernations and wake-ups in the metrics', async () => {
    const { clock, supervisor, open } = await start();
    const { registry, stop } = createSupervisorMetrics(supervisor);
    const [first] = [await open(), await open()];
    clock.increment(HIBERNATE_AFTER);
    await settle();
    await supervisor.wake(first as SupervisedSession<Server>);

    const value = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    expect({
      hibernated: await value('mcp_session_hibernated'),
      hibernations: await value('mcp_session_hibernations_total'),
      wakeUps: await value('mcp_session_wake_ups_total'),
    }).toEqual({ hibernated: 1, hibernations: 2, wakeUps: 1 });
    stop();
  });

  it('observes each wake-up in the wake_up_seconds histogram, and counts totals as counters', async () => {
    const { clock, supervisor, open } = await start();
    const { registry, stop } = createSupervisorMetrics(supervisor);
    const [first, second] = [await open(), await open()];
    clock.increment(HIBERNATE_AFTER);
    await settle();
    await supervisor.wake(first as SupervisedSession<Server>);
    await supervisor.wake(second as SupervisedSession<Server>);

    const text = await registry.metrics();
    expect({
      count: /^mcp_session_wake_up_seconds_count (\d+)$/m.exec(text)?.[1],
      wakeUpsType: /^# TYPE mcp_session_wake_ups_total (\w+)$/m.exec(text)?.[1],
      hibernationsType: /^# TYPE mcp_session_hibernations_total (\w+)$/m.exec(text)?.[1],
    }).toEqual({ count: '2', wakeUpsType: 'counter', hibernationsType: 'counter' });
    stop();
  });

  it('ends the session with reason failed when the rebuild fails', async () => {
    const { clock, supervisor, open } = await start({ failRebuild: true });
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();

    await supervisor.wake(session);

    await expect(session.whenDisposed()).resolves.toMatchObject({ reason: 'failed' });
  });

  it('never hibernates a session with an open stream (streams uncounted: it is idle)', async () => {
    const { clock, open } = await start({ streamsCountAsActivity: false });
    const session = await open();
    const close = session.openStream();

    clock.increment(HIBERNATE_AFTER * 2);
    await settle();

    expect({ state: session.state, hibernated: session.hibernation !== undefined }).toEqual({
      state: 'idle',
      hibernated: false,
    });
    close();
  });

  it('is disposed exactly once at shutdown while hibernated', async () => {
    const { clock, supervisor, open } = await start();
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();
    let disposals = 0;
    supervisor.subscribe((event) => {
      if (event.type === 'transition' && event.to === 'disposed') disposals += 1;
    });

    await supervisor.shutdown({ grace: 0 });

    expect({ disposals, reason: (await session.whenDisposed()).reason }).toEqual({
      disposals: 1,
      reason: 'shutdown',
    });
  });
});

describe('hibernation interleaved with requests, streams, eviction, DELETE and shutdown (property)', () => {
  type Op =
    | { kind: 'open' }
    | { kind: 'request'; index: number }
    | { kind: 'end-request'; index: number }
    | { kind: 'stream'; index: number }
    | { kind: 'close-stream'; index: number }
    | { kind: 'wake'; index: number }
    | { kind: 'delete'; index: number }
    | { kind: 'advance'; ms: number };

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant<Op>({ kind: 'open' }),
    fc.nat(9).map<Op>((index) => ({ kind: 'request', index })),
    fc.nat(9).map<Op>((index) => ({ kind: 'end-request', index })),
    fc.nat(9).map<Op>((index) => ({ kind: 'stream', index })),
    fc.nat(9).map<Op>((index) => ({ kind: 'close-stream', index })),
    fc.nat(9).map<Op>((index) => ({ kind: 'wake', index })),
    fc.nat(9).map<Op>((index) => ({ kind: 'delete', index })),
    fc
      .constantFrom(10, HIBERNATE_AFTER, HIBERNATE_AFTER * 3, IDLE_TIMEOUT)
      .map<Op>((ms) => ({ kind: 'advance', ms })),
  );

  it('disposes every session exactly once, never rebuilds a server twice for one sleep, closes every server', async () => {
    // Over all runs: the interleavings did hibernate and wake sessions (the property is not vacuous).
    let hibernationsSeen = 0;
    let wakeUpsSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.boolean(), async (ops, streamsCount) => {
        const clock = new SimulatedClock();
        clock.set(0);
        const servers: Array<{ sessionId: string; restored: boolean; closed: number }> = [];
        const supervisor = new SessionSupervisor<{ close(): void }>({
          clock,
          idleTimeout: IDLE_TIMEOUT,
          hibernateAfter: HIBERNATE_AFTER,
          maxSessions: 3,
          streamsCountAsActivity: streamsCount,
          createServer: (context) => {
            const record = { sessionId: context.sessionId, restored: context.restored === true, closed: 0 };
            servers.push(record);
            return {
              close: () => {
                record.closed += 1;
              },
            };
          },
        });
        const disposals = new Map<string, number>();
        supervisor.subscribe((event) => {
          if (event.type === 'transition' && event.to === 'disposed') {
            disposals.set(event.sessionId, (disposals.get(event.sessionId) ?? 0) + 1);
          }
        });
        const sessions: Array<SupervisedSession<{ close(): void }>> = [];
        const requests: Array<() => void> = [];
        const streams: Array<() => void> = [];
        const at = <T>(list: readonly T[], index: number): T | undefined =>
          list[index % Math.max(1, list.length)];
        for (const step of ops) {
          try {
            switch (step.kind) {
              case 'open': {
                const session = supervisor.open();
                sessions.push(session);
                await session.ready().catch(() => {});
                if (session.isLive) session.markInitialized();
                break;
              }
              case 'request': {
                const session = at(sessions, step.index);
                if (session?.isLive) requests.push(session.beginRequest());
                break;
              }
              case 'end-request':
                requests.splice(step.index % Math.max(1, requests.length), 1)[0]?.();
                break;
              case 'stream': {
                const session = at(sessions, step.index);
                if (session?.isLive) streams.push(session.openStream());
                break;
              }
              case 'close-stream':
                streams.splice(step.index % Math.max(1, streams.length), 1)[0]?.();
                break;
              case 'wake': {
                const session = at(sessions, step.index);
                if (session?.isLive) await supervisor.wake(session);
                break;
              }
              case 'delete': {
                const session = at(sessions, step.index);
                if (session) supervisor.close(session.id);
                break;
              }
              case 'advance':
                clock.increment(step.ms);
                break;
            }
          } catch (error) {
            // Only a full house may refuse an open.
            expect(String(error)).toMatch(/Maximum number of sessions|capacity/i);
          }
          await settle();
        }
        // On a simulated clock the grace and dispose deadlines fire only when time is moved.
        const stopped = supervisor.shutdown({ grace: 1 });
        for (let i = 0; i < 3; i += 1) {
          clock.increment(IDLE_TIMEOUT);
          await settle();
        }
        await stopped;
        const { wakeUps, hibernations } = supervisor.getStatistics().hibernation;
        hibernationsSeen += hibernations;
        wakeUpsSeen += wakeUps;
        const rebuilt = servers.filter((server) => server.restored).length;
        expect({
          everyDisposedOnce: sessions.every((s) => disposals.get(s.id) === 1),
          rebuildsWithinWakeUps: rebuilt <= wakeUps,
          everyServerClosedOnce: servers.every((server) => server.closed === 1),
          live: supervisor.getStatistics().liveSessions,
        }).toEqual({
          everyDisposedOnce: true,
          rebuildsWithinWakeUps: true,
          everyServerClosedOnce: true,
          live: 0,
        });
      }),
      { numRuns: 40, seed: 10 },
    );
    expect({ hibernated: hibernationsSeen > 0, woken: wakeUpsSeen > 0 }).toEqual({
      hibernated: true,
      woken: true,
    });
  }, 60_000);
});

describe('hibernation and the lifetime', () => {
  const LIFETIME = 5_000;

  it('ends a hibernated session at its lifetime, before its idle deadline', async () => {
    const { clock, open } = await start({ maxLifetime: LIFETIME });
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();

    clock.increment(LIFETIME - HIBERNATE_AFTER);
    await settle();

    expect(await session.whenDisposed()).toMatchObject({ reason: 'lifetime', endedAt: LIFETIME });
  });

  it('still ends a session at its lifetime after it woke up and hibernated again', async () => {
    const { clock, open } = await start({ maxLifetime: LIFETIME });
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();
    clock.increment(1_000);
    session.beginRequest()(); // wakes it: actor restored from its snapshot, server rebuilt
    await settle();
    clock.increment(HIBERNATE_AFTER); // hibernates again at 3 000
    await settle();

    clock.increment(LIFETIME - 3_000);
    await settle();

    expect(await session.whenDisposed()).toMatchObject({ reason: 'lifetime', endedAt: LIFETIME });
  });

  it('ends a woken session at its lifetime while it is awake', async () => {
    const { clock, open } = await start({ maxLifetime: LIFETIME });
    const session = await open();
    clock.increment(HIBERNATE_AFTER);
    await settle();
    clock.increment(1_000);
    const done = session.beginRequest(); // awake and busy from 2 000 on: it cannot hibernate
    await settle();

    clock.increment(LIFETIME - 2_000);
    await settle();
    done();

    expect(await session.whenDisposed()).toMatchObject({ reason: 'lifetime', endedAt: LIFETIME });
  });
});

describe('a wake-up at or past a deadline ends the session in that step', () => {
  const LIFETIME = 5_000;
  const hibernatedAt = (machine: typeof hibernatingSessionMachine, idleTimeout: number) => {
    const timeouts = {
      initTimeout: 1_000,
      idleTimeout,
      maxLifetime: machine === hibernatingSessionMachine ? LIFETIME : undefined,
      disposeTimeout: 1_000,
      hibernateAfter: HIBERNATE_AFTER,
    };
    const input = { sessionId: 's', createdAt: 0, timeouts, streamsCountAsActivity: true };
    let [snapshot] = initialTransition(machine, input);
    [snapshot] = transition(machine, snapshot, { type: 'INITIALIZED', at: 0 });
    const sleep = machine === hibernatingSessionMachine ? 'session.live.idle.awake' : 'session.idle.awake';
    [snapshot] = transition(machine, snapshot, { type: `xstate.after.hibernateAfter.${sleep}` } as never);
    return snapshot;
  };
  const wake = (machine: typeof hibernatingSessionMachine, idleTimeout: number, at: number) => {
    const [snapshot] = transition(machine, hibernatedAt(machine, idleTimeout), { type: 'WAKE', at });
    return {
      value: snapshot.value,
      reason: snapshot.context.reason,
      endedAt: snapshot.context.endedAt,
    };
  };
  const withoutLifetime =
    hibernatingSessionMachineWithoutLifetime as unknown as typeof hibernatingSessionMachine;

  it('without a lifetime: before the idle deadline it wakes; at or past it, it ends with idle-timeout at the deadline', () => {
    expect(
      [IDLE_TIMEOUT - 1, IDLE_TIMEOUT, IDLE_TIMEOUT + 60_000].map((at) =>
        wake(withoutLifetime, IDLE_TIMEOUT, at),
      ),
    ).toEqual([
      { value: { idle: 'awake' }, reason: undefined, endedAt: undefined },
      { value: 'expired', reason: 'idle-timeout', endedAt: IDLE_TIMEOUT },
      { value: 'expired', reason: 'idle-timeout', endedAt: IDLE_TIMEOUT },
    ]);
  });

  it('with a lifetime: the deadline that came first decides the reason and the end time', () => {
    const lifetimeFirst = IDLE_TIMEOUT; // idle deadline 10 000, lifetime 5 000
    const idleFirst = 3_000; // idle deadline 3 000, lifetime 5 000
    expect({
      beforeBoth: wake(hibernatingSessionMachine, lifetimeFirst, LIFETIME - 1).value,
      atLifetime: wake(hibernatingSessionMachine, lifetimeFirst, LIFETIME),
      pastBothLifetimeFirst: wake(hibernatingSessionMachine, lifetimeFirst, IDLE_TIMEOUT + 1),
      atIdleDeadline: wake(hibernatingSessionMachine, idleFirst, idleFirst),
      pastBothIdleFirst: wake(hibernatingSessionMachine, idleFirst, LIFETIME + 1),
    }).toEqual({
      beforeBoth: { live: { idle: 'awake' } },
      atLifetime: { value: 'expired', reason: 'lifetime', endedAt: LIFETIME },
      pastBothLifetimeFirst: { value: 'expired', reason: 'lifetime', endedAt: LIFETIME },
      atIdleDeadline: { value: 'expired', reason: 'idle-timeout', endedAt: idleFirst },
      pastBothIdleFirst: { value: 'expired', reason: 'idle-timeout', endedAt: idleFirst },
    });
  });

  it('a request that comes after the deadline, before the wake-up ran, is refused and rebuilds nothing', async () => {
    const simulated = new SimulatedClock();
    simulated.set(0);
    let late = 0;
    // The wake-up timer waits (a storm's backlog); the time the machine is told has moved on.
    const clock = {
      now: () => simulated.now() + late,
      setTimeout: (callback: () => void, ms: number) => simulated.setTimeout(callback, ms),
      clearTimeout: (handle: unknown) => simulated.clearTimeout(handle as number),
    };
    let builds = 0;
    const supervisor = new SessionSupervisor({
      clock,
      idleTimeout: IDLE_TIMEOUT,
      hibernateAfter: HIBERNATE_AFTER,
      createServer: () => {
        builds += 1;
        return { close: () => {} };
      },
    });
    const session = supervisor.open();
    await session.ready();
    session.markInitialized();
    simulated.increment(HIBERNATE_AFTER);
    await settle();
    expect(session.hibernation).toBeDefined();
    late = IDLE_TIMEOUT;

    const refused = (() => {
      try {
        session.beginRequest();
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    })();
    await supervisor.wake(session);
    await settle();

    expect({
      refused,
      builds,
      inFlight: supervisor.getStatistics().requestsInFlight,
      output: await session.whenDisposed(),
    }).toMatchObject({
      refused: 'session-not-found',
      builds: 1,
      inFlight: 0,
      output: { reason: 'idle-timeout', endedAt: IDLE_TIMEOUT, requests: 0 },
    });
  });
});
