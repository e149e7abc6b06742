import { assign, setup } from 'xstate';
import type { SessionEndReason, SessionStateName } from './session.machine.js';

/** What to do with an `initialize` that arrives when every slot is taken. */
export type WhenFull = 'evict-idle-lru' | 'reject';

/** Why an admission was refused. */
export type RejectionCode = 'capacity' | 'principal-capacity' | 'draining';

/** States a tracked (not yet disposed) session can be in. */
export type TrackedState = Exclude<SessionStateName, 'disposed'>;

export type StateCounts = Record<TrackedState, number>;
export type EndCounts = Record<SessionEndReason, number>;

export interface SupervisorMachineInput {
  readonly maxSessions: number;
  readonly whenFull: WhenFull;
  /** Most live sessions one principal may hold; `undefined`: no per-principal limit. */
  readonly maxSessionsPerPrincipal: number | undefined;
}

export interface SupervisorMachineContext extends SupervisorMachineInput {
  /** Sessions by state, maintained on every report: O(1) to read. */
  counts: StateCounts;
  admitted: number;
  rejected: number;
  /** Sessions that reached `expired`, by reason. */
  ended: EndCounts;
  disposed: number;
  /** Grace period of the drain in progress (ms). */
  grace: number;
}

export type SupervisorEvent =
  | {
      type: 'ADMIT';
      sessionId: string;
      at: number;
      /** Live sessions the requesting principal already holds (counted by the runtime); none if anonymous. */
      principalSessions?: number;
    }
  | {
      type: 'SESSION.MOVED';
      sessionId: string;
      from: TrackedState;
      to: SessionStateName;
      reason?: SessionEndReason;
    }
  | { type: 'SHUTDOWN'; grace: number };

const emptyEnds = (): EndCounts => ({
  'init-timeout': 0,
  'idle-timeout': 0,
  lifetime: 0,
  deleted: 0,
  evicted: 0,
  shutdown: 0,
  failed: 0,
  moved: 0,
});

/** Sessions that hold a slot: everything not yet expired. */
export const liveCount = (counts: StateCounts): number => counts.created + counts.active + counts.idle;

/**
 * The supervisor: admission against a capacity limit, accounting of every session, and the
 * `running → draining → stopped` lifecycle.
 *
 * Admission is one synchronous transition on `ADMIT`: the capacity check, the eviction of the
 * least recently active idle session (when `whenFull` allows) and the reservation of the slot all
 * happen before any asynchronous work, so concurrent initializes can never overshoot the cap.
 * Sessions are not children of this actor (xstate's children bookkeeping is O(n) per spawn); the
 * runtime starts each as its own actor in `startSession` and reports every move with `SESSION.MOVED`.
 */
export const supervisorMachine = setup({
  types: {
    input: {} as SupervisorMachineInput,
    context: {} as SupervisorMachineContext,
    events: {} as SupervisorEvent,
  },
  actions: {
    startSession: (_args, _params: { sessionId: string }) => {},
    rejectAdmission: (_args, _params: { sessionId: string; code: RejectionCode }) => {},
    evictLeastRecentlyActive: (_args, _params: { at: number }) => {},
    /** Ends every session that has no request in flight (open streams do not hold a drain). */
    retireSettledSessions: () => {},
    retireAllSessions: () => {},
    forgetSession: (_args, _params: { sessionId: string }) => {},
    reserveSlot: assign(({ context }) => ({
      admitted: context.admitted + 1,
      counts: { ...context.counts, created: context.counts.created + 1 },
    })),
    countRejection: assign(({ context }) => ({ rejected: context.rejected + 1 })),
    recordMove: assign(({ context, event }) => {
      if (event.type !== 'SESSION.MOVED') return {};
      const counts = { ...context.counts, [event.from]: context.counts[event.from] - 1 };
      if (event.to === 'disposed') return { counts, disposed: context.disposed + 1 };
      counts[event.to] += 1;
      if (event.to !== 'expired' || event.reason === undefined) return { counts };
      return { counts, ended: { ...context.ended, [event.reason]: context.ended[event.reason] + 1 } };
    }),
    setGrace: assign(({ event }) => (event.type === 'SHUTDOWN' ? { grace: event.grace } : {})),
  },
  guards: {
    hasFreeSlot: ({ context }) => liveCount(context.counts) < context.maxSessions,
    principalAtLimit: ({ context, event }) =>
      event.type === 'ADMIT' &&
      context.maxSessionsPerPrincipal !== undefined &&
      event.principalSessions !== undefined &&
      event.principalSessions >= context.maxSessionsPerPrincipal,
    canEvictIdle: ({ context }) => context.whenFull === 'evict-idle-lru' && context.counts.idle > 0,
    isDisposal: ({ event }) => event.type === 'SESSION.MOVED' && event.to === 'disposed',
    noSessionsLeft: ({ context }) => liveCount(context.counts) + context.counts.expired === 0,
  },
  delays: {
    shutdownGrace: ({ context }) => context.grace,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    ...input,
    counts: { created: 0, active: 0, idle: 0, expired: 0 },
    admitted: 0,
    rejected: 0,
    ended: emptyEnds(),
    disposed: 0,
    grace: 0,
  }),
  initial: 'running',
  on: {
    'SESSION.MOVED': [
      {
        guard: 'isDisposal',
        actions: [
          'recordMove',
          { type: 'forgetSession', params: ({ event }) => ({ sessionId: event.sessionId }) },
        ],
      },
      { actions: 'recordMove' },
    ],
  },
  states: {
    running: {
      on: {
        ADMIT: [
          {
            // One principal may not take the whole house, and never evicts to get more.
            guard: 'principalAtLimit',
            actions: [
              'countRejection',
              {
                type: 'rejectAdmission',
                params: ({ event }) => ({ sessionId: event.sessionId, code: 'principal-capacity' as const }),
              },
            ],
          },
          {
            guard: 'hasFreeSlot',
            actions: [
              'reserveSlot',
              { type: 'startSession', params: ({ event }) => ({ sessionId: event.sessionId }) },
            ],
          },
          {
            guard: 'canEvictIdle',
            actions: [
              { type: 'evictLeastRecentlyActive', params: ({ event }) => ({ at: event.at }) },
              'reserveSlot',
              { type: 'startSession', params: ({ event }) => ({ sessionId: event.sessionId }) },
            ],
          },
          {
            actions: [
              'countRejection',
              {
                type: 'rejectAdmission',
                params: ({ event }) => ({ sessionId: event.sessionId, code: 'capacity' as const }),
              },
            ],
          },
        ],
        SHUTDOWN: { target: 'draining', actions: 'setGrace' },
      },
    },
    draining: {
      entry: 'retireSettledSessions',
      always: { guard: 'noSessionsLeft', target: 'stopped' },
      after: {
        shutdownGrace: { actions: 'retireAllSessions' },
      },
      on: {
        ADMIT: {
          actions: [
            'countRejection',
            {
              type: 'rejectAdmission',
              params: ({ event }) => ({ sessionId: event.sessionId, code: 'draining' as const }),
            },
          ],
        },
      },
    },
    stopped: {
      type: 'final',
    },
  },
});
