import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import type { SessionEndReason, SessionStateName } from '../machines/session.machine.js';
import {
  type StateCounts,
  type SupervisorMachineContext,
  type SupervisorMachineInput,
  supervisorMachine,
  type TrackedState,
} from '../machines/supervisor.machine.js';

type ActionName =
  | 'startSession'
  | 'rejectAdmission'
  | 'evictLeastRecentlyActiveIdle'
  | 'evictLeastRecentlyActiveStreamsOnly'
  | 'retireSettledSessions'
  | 'retireAllSessions'
  | 'awaitReleases';

interface Call {
  readonly action: ActionName;
  readonly params?: unknown;
}

/**
 * The pure supervisor machine on a simulated clock, with every runtime action replaced by a spy
 * that records its name and params, in call order. Sessions exist only in a small runtime double:
 * it knows each session's state (as the real runtime does) and tells the machine only what the
 * real runtime tells it: admissions (with the eviction candidates), ends, and once a drain awaits
 * them, that every release is done.
 */
function startSupervisor(input: Partial<SupervisorMachineInput> = {}) {
  const clock = new SimulatedClock();
  const calls: Call[] = [];
  /** The runtime double's side of `awaitReleases`: report the last disposal from then on. */
  let awaitingReleases = false;
  const releasing = (): number => [...states.values()].filter((value) => value === 'expired').length;
  /** Live-slot count as seen by `startSession` when it runs (proves the reservation came first). */
  const liveCountAtStart: number[] = [];
  const record = (action: ActionName, params?: unknown): void => {
    calls.push(params === undefined ? { action } : { action, params });
  };
  const logic = supervisorMachine.provide({
    actions: {
      startSession: ({ context }, params) => {
        liveCountAtStart.push(context.live);
        record('startSession', params);
      },
      rejectAdmission: (_, params) => record('rejectAdmission', params),
      evictLeastRecentlyActiveIdle: (_, params) => record('evictLeastRecentlyActiveIdle', params),
      evictLeastRecentlyActiveStreamsOnly: (_, params) =>
        record('evictLeastRecentlyActiveStreamsOnly', params),
      retireSettledSessions: () => record('retireSettledSessions'),
      retireAllSessions: () => record('retireAllSessions'),
      awaitReleases: ({ self }) => {
        record('awaitReleases');
        awaitingReleases = true;
        if (releasing() === 0) self.send({ type: 'SESSIONS.RELEASED' });
      },
    },
  });
  const actor = createActor(logic, {
    clock,
    input: { maxSessions: 3, whenFull: 'evict-idle-lru', maxSessionsPerPrincipal: undefined, ...input },
  });
  actor.start();

  /** The runtime double: each session's state, and which active ones are kept by streams only. */
  const states = new Map<string, SessionStateName>();
  const streamsOnly = new Set<string>();
  const countOf = (state: SessionStateName): number =>
    [...states.values()].filter((value) => value === state).length;
  const admit = (sessionId: string): void => {
    const before = actor.getSnapshot().context.admitted;
    actor.send({
      type: 'ADMIT',
      sessionId,
      at: clock.now(),
      idleSessions: countOf('idle'),
      streamsOnlySessions: streamsOnly.size,
    });
    if (actor.getSnapshot().context.admitted > before) states.set(sessionId, 'created');
  };
  const move = (
    sessionId: string,
    from: TrackedState,
    to: SessionStateName,
    reason?: SessionEndReason,
  ): void => {
    if (states.get(sessionId) !== from) throw new Error(`${sessionId} is not ${from} in this test`);
    states.set(sessionId, to);
    if (to !== 'active') streamsOnly.delete(sessionId);
    if (to === 'expired') actor.send({ type: 'SESSION.ENDED', sessionId, reason: reason ?? 'failed' });
    if (to === 'disposed') {
      states.delete(sessionId);
      if (awaitingReleases && releasing() === 0) actor.send({ type: 'SESSIONS.RELEASED' });
    }
  };
  /** An active session's last request ended while its GET stream stays open. */
  const keepByStreamsOnly = (sessionId: string): void => {
    streamsOnly.add(sessionId);
  };
  /** Admits a session and reports it reaching `state` as the runtime would. */
  const admitInto = (sessionId: string, state: 'created' | 'active' | 'idle'): void => {
    admit(sessionId);
    if (state !== 'created') move(sessionId, 'created', state);
  };
  const context = () => actor.getSnapshot().context;
  const called = (action: ActionName): Call[] => calls.filter((call) => call.action === action);
  /** Forgets what was recorded so far: the assertions that follow are about the next step only. */
  const clearCalls = (): void => {
    calls.length = 0;
    liveCountAtStart.length = 0;
  };

  return {
    actor,
    clock,
    calls,
    liveCountAtStart,
    admit,
    move,
    admitInto,
    keepByStreamsOnly,
    context,
    called,
    clearCalls,
  };
}

/** What the machine counts for sessions in these states: the live slots. */
const counts = (partial: Partial<StateCounts>): { live: number } => ({
  live: (partial.created ?? 0) + (partial.active ?? 0) + (partial.idle ?? 0),
});

const countsOf = ({ live }: SupervisorMachineContext) => ({ live });

describe('supervisor machine: admission', () => {
  it('starts running with nothing counted', () => {
    const supervisor = startSupervisor();

    expect({
      value: supervisor.actor.getSnapshot().value,
      counts: countsOf(supervisor.context()),
      admitted: supervisor.context().admitted,
      rejected: supervisor.context().rejected,
    }).toEqual({ value: 'running', counts: counts({}), admitted: 0, rejected: 0 });
  });

  it('reserves a slot under capacity: created + 1 and admitted + 1', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'idle');

    supervisor.admit('b');

    expect({ counts: countsOf(supervisor.context()), admitted: supervisor.context().admitted }).toEqual({
      counts: counts({ created: 1, idle: 1 }),
      admitted: 2,
    });
  });

  it('starts the admitted session under capacity, with its id', () => {
    const supervisor = startSupervisor();

    supervisor.admit('a');

    expect(supervisor.calls).toEqual([{ action: 'startSession', params: { sessionId: 'a' } }]);
  });

  it('reserves the slot in the same transition, before the session starts', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');

    supervisor.admit('b');

    expect(supervisor.liveCountAtStart).toEqual([1, 2]);
  });

  it('admits up to exactly maxSessions', () => {
    const supervisor = startSupervisor({ maxSessions: 3, whenFull: 'reject' });

    for (const id of ['a', 'b', 'c', 'd']) supervisor.admit(id);

    expect(supervisor.called('startSession').map((call) => call.params)).toEqual([
      { sessionId: 'a' },
      { sessionId: 'b' },
      { sessionId: 'c' },
    ]);
  });

  describe('at capacity', () => {
    it.each([
      { whenFull: 'reject', sessions: ['active', 'created'] },
      { whenFull: 'reject', sessions: ['idle', 'idle'] },
      { whenFull: 'evict-idle-lru', sessions: ['active', 'created'] },
    ] as const)(
      'with whenFull $whenFull and sessions $sessions, rejects with code capacity',
      ({ whenFull, sessions }) => {
        const supervisor = startSupervisor({ maxSessions: 2, whenFull });
        sessions.forEach((state, i) => {
          supervisor.admitInto(`s${i}`, state);
        });
        supervisor.clearCalls();

        supervisor.admit('newcomer');

        expect(supervisor.calls).toEqual([
          { action: 'rejectAdmission', params: { sessionId: 'newcomer', code: 'capacity' } },
        ]);
      },
    );

    it('counts a rejection and reserves nothing', () => {
      const supervisor = startSupervisor({ maxSessions: 1, whenFull: 'reject' });
      supervisor.admitInto('a', 'idle');

      supervisor.admit('b');

      expect({
        rejected: supervisor.context().rejected,
        admitted: supervisor.context().admitted,
        counts: countsOf(supervisor.context()),
      }).toEqual({ rejected: 1, admitted: 1, counts: counts({ idle: 1 }) });
    });

    it("with 'evict-idle-lru' and an idle session, evicts the least recently active one, then starts the newcomer", () => {
      const supervisor = startSupervisor({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      supervisor.admitInto('a', 'active');
      supervisor.admitInto('b', 'idle');
      supervisor.clock.set(4_200);
      supervisor.clearCalls();

      supervisor.admit('c');

      expect(supervisor.calls).toEqual([
        { action: 'evictLeastRecentlyActiveIdle', params: { at: 4_200 } },
        { action: 'startSession', params: { sessionId: 'c' } },
      ]);
    });

    it("with 'evict-idle-lru', no idle session and one kept by streams only, evicts that one", () => {
      const supervisor = startSupervisor({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      supervisor.admitInto('a', 'active');
      supervisor.admitInto('b', 'active');
      supervisor.keepByStreamsOnly('b');
      supervisor.clock.set(4_200);
      supervisor.clearCalls();

      supervisor.admit('c');

      expect(supervisor.calls).toEqual([
        { action: 'evictLeastRecentlyActiveStreamsOnly', params: { at: 4_200 } },
        { action: 'startSession', params: { sessionId: 'c' } },
      ]);
    });

    it("with 'evict-idle-lru', prefers an idle session to one kept by streams only", () => {
      const supervisor = startSupervisor({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      supervisor.admitInto('a', 'active');
      supervisor.keepByStreamsOnly('a');
      supervisor.admitInto('b', 'idle');
      supervisor.clearCalls();

      supervisor.admit('c');

      expect(supervisor.called('evictLeastRecentlyActiveStreamsOnly')).toEqual([]);
    });

    it("with 'reject', never evicts a session kept by streams only", () => {
      const supervisor = startSupervisor({ maxSessions: 1, whenFull: 'reject' });
      supervisor.admitInto('a', 'active');
      supervisor.keepByStreamsOnly('a');
      supervisor.clearCalls();

      supervisor.admit('b');

      expect(supervisor.calls).toEqual([
        { action: 'rejectAdmission', params: { sessionId: 'b', code: 'capacity' } },
      ]);
    });

    it('counts an admission by eviction as admitted, not rejected', () => {
      const supervisor = startSupervisor({ maxSessions: 1, whenFull: 'evict-idle-lru' });
      supervisor.admitInto('a', 'idle');

      supervisor.admit('b');

      expect({ admitted: supervisor.context().admitted, rejected: supervisor.context().rejected }).toEqual({
        admitted: 2,
        rejected: 0,
      });
    });

    it('is back at exactly maxSessions live once the evicted session reports its expiry', () => {
      const supervisor = startSupervisor({ maxSessions: 2, whenFull: 'evict-idle-lru' });
      supervisor.admitInto('a', 'idle');
      supervisor.admitInto('b', 'active');

      supervisor.admit('c');
      supervisor.move('a', 'idle', 'expired', 'evicted');

      expect(countsOf(supervisor.context())).toEqual(counts({ created: 1, active: 1, expired: 1 }));
    });
  });
});

describe('supervisor machine: session reports (SESSION.ENDED)', () => {
  it.each([
    { from: 'created', to: 'active', before: { created: 1 }, after: { active: 1 } },
    { from: 'created', to: 'idle', before: { created: 1 }, after: { idle: 1 } },
    { from: 'active', to: 'idle', before: { active: 1 }, after: { idle: 1 } },
    { from: 'idle', to: 'active', before: { idle: 1 }, after: { active: 1 } },
    { from: 'idle', to: 'expired', before: { idle: 1 }, after: { expired: 1 } },
    { from: 'expired', to: 'disposed', before: { expired: 1 }, after: {} },
  ] as const)('$from → $to keeps the live count right', ({ from, to, before, after }) => {
    const supervisor = startSupervisor();
    supervisor.admit('a');
    const path: Record<TrackedState, TrackedState[]> = {
      created: [],
      active: ['active'],
      idle: ['idle'],
      expired: ['idle', 'expired'],
    };
    let current: TrackedState = 'created';
    for (const next of path[from]) {
      supervisor.move('a', current, next, next === 'expired' ? 'deleted' : undefined);
      current = next;
    }
    const countsBefore = countsOf(supervisor.context());

    supervisor.move('a', from, to, to === 'expired' ? 'idle-timeout' : undefined);

    expect({ before: countsBefore, after: countsOf(supervisor.context()) }).toEqual({
      before: counts(before),
      after: counts(after),
    });
  });

  it('hears nothing of moves between active and idle (they are not admission news)', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'idle');
    const events: string[] = [];
    supervisor.actor.system.inspect((event) => {
      if (event.type === '@xstate.event') events.push(event.event.type);
    });

    supervisor.move('a', 'idle', 'active');
    supervisor.move('a', 'active', 'idle');
    supervisor.move('a', 'idle', 'expired', 'idle-timeout');

    expect(events).toEqual(['SESSION.ENDED']);
  });

  it.each(['init-timeout', 'idle-timeout', 'lifetime', 'deleted', 'evicted', 'shutdown', 'failed'] as const)(
    'counts an expiry with reason %s under ended[reason]',
    (reason) => {
      const supervisor = startSupervisor();
      supervisor.admit('a');

      supervisor.move('a', 'created', 'expired', reason);

      expect(supervisor.context().ended).toEqual({
        'init-timeout': 0,
        'idle-timeout': 0,
        lifetime: 0,
        deleted: 0,
        evicted: 0,
        shutdown: 0,
        failed: 0,
        moved: 0,
        [reason]: 1,
      });
    },
  );

  it('hears nothing of a disposal while running (it is no admission news)', () => {
    const supervisor = startSupervisor();
    supervisor.admit('a');
    supervisor.move('a', 'created', 'expired', 'failed');
    const events: string[] = [];
    supervisor.actor.system.inspect((event) => {
      if (event.type === '@xstate.event') events.push(event.event.type);
    });

    supervisor.move('a', 'expired', 'disposed', 'failed');

    expect(events).toEqual([]);
  });

  it('frees the slot when a session expires, so the next admission fits again', () => {
    const supervisor = startSupervisor({ maxSessions: 1, whenFull: 'reject' });
    supervisor.admitInto('a', 'active');
    supervisor.move('a', 'active', 'expired', 'deleted');
    supervisor.clearCalls();

    supervisor.admit('b');

    expect(supervisor.calls).toEqual([{ action: 'startSession', params: { sessionId: 'b' } }]);
  });
});

describe('supervisor machine: shutdown', () => {
  it('enters draining on SHUTDOWN and retires the settled sessions on entry', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.clearCalls();

    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    expect({ value: supervisor.actor.getSnapshot().value, calls: supervisor.calls }).toEqual({
      value: { draining: 'retiring' },
      calls: [{ action: 'retireSettledSessions' }],
    });
  });

  it('asks the runtime to report the releases once no session is live', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });
    supervisor.clearCalls();

    supervisor.move('a', 'active', 'expired', 'shutdown');

    expect({ value: supervisor.actor.getSnapshot().value, calls: supervisor.calls }).toEqual({
      value: { draining: 'releasing' },
      calls: [{ action: 'awaitReleases' }],
    });
  });

  it('does not await the releases while a session is still live', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.admitInto('b', 'active');
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    supervisor.move('a', 'active', 'expired', 'shutdown');

    expect(supervisor.called('awaitReleases')).toEqual([]);
  });

  it('rejects an ADMIT while draining with code draining, counting it, starting nothing', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });
    supervisor.clearCalls();

    supervisor.admit('b');

    expect({ calls: supervisor.calls, rejected: supervisor.context().rejected }).toEqual({
      calls: [{ action: 'rejectAdmission', params: { sessionId: 'b', code: 'draining' } }],
      rejected: 1,
    });
  });

  it('does not retire everything before the grace deadline', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.clock.set(10_000);
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    supervisor.clock.set(10_999);

    expect(supervisor.called('retireAllSessions')).toEqual([]);
  });

  it('retires every remaining session at the grace deadline', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.clock.set(10_000);
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    supervisor.clock.set(11_000);

    expect(supervisor.called('retireAllSessions')).toEqual([{ action: 'retireAllSessions' }]);
  });

  it('keeps draining while a session is expired but not yet disposed', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    supervisor.move('a', 'active', 'expired', 'shutdown');

    expect(supervisor.actor.getSnapshot().status).toBe('active');
  });

  it('stops (final) once the last session is disposed while draining', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'idle');
    supervisor.admitInto('b', 'active');
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });
    supervisor.move('a', 'idle', 'expired', 'shutdown');
    supervisor.move('b', 'active', 'expired', 'shutdown');
    supervisor.move('a', 'expired', 'disposed', 'shutdown');

    supervisor.move('b', 'expired', 'disposed', 'shutdown');

    expect({
      value: supervisor.actor.getSnapshot().value,
      status: supervisor.actor.getSnapshot().status,
    }).toEqual({
      value: 'stopped',
      status: 'done',
    });
  });

  it('stops immediately when SHUTDOWN arrives with no session at all', () => {
    const supervisor = startSupervisor();

    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    expect({
      value: supervisor.actor.getSnapshot().value,
      status: supervisor.actor.getSnapshot().status,
    }).toEqual({
      value: 'stopped',
      status: 'done',
    });
  });

  it('stops immediately when every session ever admitted is already disposed', () => {
    const supervisor = startSupervisor();
    supervisor.admit('a');
    supervisor.move('a', 'created', 'expired', 'deleted');
    supervisor.move('a', 'expired', 'disposed', 'deleted');

    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });

    expect(supervisor.actor.getSnapshot().status).toBe('done');
  });

  it('never fires the grace deadline after it has stopped', () => {
    const supervisor = startSupervisor();
    supervisor.admitInto('a', 'active');
    supervisor.actor.send({ type: 'SHUTDOWN', grace: 1_000 });
    supervisor.move('a', 'active', 'expired', 'shutdown');
    supervisor.move('a', 'expired', 'disposed', 'shutdown');

    supervisor.clock.increment(5_000);

    expect(supervisor.called('retireAllSessions')).toEqual([]);
  });
});

describe('supervisor machine: per-principal limit', () => {
  const admitFor = (
    supervisor: ReturnType<typeof startSupervisor>,
    sessionId: string,
    held: number,
  ): void => {
    supervisor.actor.send({ type: 'ADMIT', sessionId, at: supervisor.clock.now(), principalSessions: held });
  };

  it('admits a principal below its limit', () => {
    const supervisor = startSupervisor({ maxSessionsPerPrincipal: 2 });

    admitFor(supervisor, 'a', 1);

    expect(supervisor.called('startSession')).toEqual([
      { action: 'startSession', params: { sessionId: 'a' } },
    ]);
  });

  it('refuses a principal at its limit with code principal-capacity, even with free slots', () => {
    const supervisor = startSupervisor({ maxSessionsPerPrincipal: 2 });

    admitFor(supervisor, 'a', 2);

    expect(supervisor.calls).toEqual([
      { action: 'rejectAdmission', params: { sessionId: 'a', code: 'principal-capacity' } },
    ]);
  });

  it('never evicts another session to make room for a principal at its limit', () => {
    const supervisor = startSupervisor({ maxSessions: 1, maxSessionsPerPrincipal: 1 });
    supervisor.admitInto('idle-one', 'idle');
    supervisor.clearCalls();

    admitFor(supervisor, 'b', 1);

    expect([
      ...supervisor.called('evictLeastRecentlyActiveIdle'),
      ...supervisor.called('evictLeastRecentlyActiveStreamsOnly'),
    ]).toEqual([]);
  });

  it('applies no per-principal limit to anonymous admissions', () => {
    const supervisor = startSupervisor({ maxSessionsPerPrincipal: 1 });

    supervisor.admit('a');
    supervisor.admit('b');

    expect(supervisor.called('startSession')).toHaveLength(2);
  });
});
