import { and, assign, fromPromise, setup } from 'xstate';

/**
 * Why a session ended. Carried from `expired` into the final output and into
 * every log line and metric about the end of a session.
 */
export type SessionEndReason =
  | 'init-timeout'
  | 'idle-timeout'
  | 'lifetime'
  | 'deleted'
  | 'evicted'
  | 'shutdown'
  | 'failed'
  /** Taken over by another node of a cluster: it lives on there, only this node's copy ended. */
  | 'moved';

/** The five lifecycle states, by the names the spec and the logs use. */
export type SessionStateName = 'created' | 'active' | 'idle' | 'expired' | 'disposed';

/** Timeouts in milliseconds, already validated by the runtime. */
export interface SessionTimeouts {
  readonly initTimeout: number;
  readonly idleTimeout: number;
  /** Absolute lifetime; `undefined` means unbounded. */
  readonly maxLifetime: number | undefined;
  readonly disposeTimeout: number;
}

export interface SessionMachineInput {
  readonly sessionId: string;
  /** Clock time at admission (ms). Events carry their own `at`, so the machine never reads a clock. */
  readonly createdAt: number;
  readonly timeouts: SessionTimeouts;
  /** Whether an open GET (SSE) stream keeps the session `active`, as a request in flight does. */
  readonly streamsCountAsActivity: boolean;
}

export interface SessionMachineContext extends SessionMachineInput {
  lastActivityAt: number;
  requestsInFlight: number;
  openStreams: number;
  /** Requests started over the whole life of the session. */
  requests: number;
  prepared: boolean;
  reason: SessionEndReason | undefined;
  endedAt: number | undefined;
  /** Set when resources were not released before `disposeTimeout` or release failed. */
  releaseIncomplete: boolean;
}

/** What a disposed session reports: the root-level output of the machine. */
export interface SessionOutput {
  readonly sessionId: string;
  readonly reason: SessionEndReason;
  readonly createdAt: number;
  readonly endedAt: number;
  readonly requests: number;
}

export type SessionEvent =
  | { type: 'INITIALIZED'; at: number }
  | { type: 'REQUEST.START'; at: number }
  | { type: 'REQUEST.END'; at: number }
  | { type: 'STREAM.OPEN'; at: number }
  | { type: 'STREAM.CLOSE'; at: number }
  | { type: 'CLOSE'; reason: SessionEndReason; at: number };

/** Upper bound of a Node timer; longer delays would fire after 1 ms. */
const MAX_TIMER_DELAY = 2_147_483_647;

type Counts = Pick<SessionMachineContext, 'requestsInFlight' | 'openStreams' | 'streamsCountAsActivity'>;

const isBusy = (c: Counts): boolean =>
  c.requestsInFlight > 0 || (c.streamsCountAsActivity && c.openStreams > 0);

/**
 * One MCP session: `created → active ⇄ idle → expired → disposed`.
 *
 * Activity is reference-counted: `REQUEST.START`/`REQUEST.END` (and, when streams count,
 * `STREAM.OPEN`/`STREAM.CLOSE`) move the session between `active` and `idle`. Every timeout is a
 * delayed transition on a named delay read from context. Building and releasing the MCP server are
 * the string-keyed actors `prepareSession` and `releaseSession`, provided by the runtime; the entry
 * action `notifyEntered` is how the runtime learns of each state.
 */
export const sessionMachine = setup({
  types: {
    input: {} as SessionMachineInput,
    context: {} as SessionMachineContext,
    events: {} as SessionEvent,
    output: {} as SessionOutput,
  },
  actors: {
    prepareSession: fromPromise<void, { sessionId: string }>(async () => {}),
    releaseSession: fromPromise<void, { sessionId: string; reason: SessionEndReason }>(async () => {}),
  },
  actions: {
    notifyEntered: (_args, _params: { state: SessionStateName }) => {},
    /** Runs once the machine has recorded the server as built, so `INITIALIZED` is accepted from then on. */
    notifyPrepared: () => {},
    startRequest: assign(({ context, event }) => ({
      requestsInFlight: context.requestsInFlight + 1,
      requests: context.requests + 1,
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    endRequest: assign(({ context, event }) => ({
      requestsInFlight: Math.max(0, context.requestsInFlight - 1),
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    openStream: assign(({ context, event }) => ({
      openStreams: context.openStreams + 1,
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    closeStream: assign(({ context, event }) => ({
      openStreams: Math.max(0, context.openStreams - 1),
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    touch: assign(({ context, event }) => ({
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    markPrepared: assign({ prepared: true }),
    endBecauseClosed: assign(({ event }) =>
      event.type === 'CLOSE' ? { reason: event.reason, endedAt: event.at } : {},
    ),
    // Timer-driven ends are stamped with the timer's own deadline, so the machine stays clock-free.
    endBecauseInitTimedOut: assign(({ context }) => ({
      reason: 'init-timeout' as const,
      endedAt: context.createdAt + context.timeouts.initTimeout,
    })),
    endBecauseIdleTimedOut: assign(({ context }) => ({
      reason: 'idle-timeout' as const,
      endedAt: context.lastActivityAt + context.timeouts.idleTimeout,
    })),
    endBecauseLifetimeReached: assign(({ context }) => ({
      reason: 'lifetime' as const,
      endedAt: context.createdAt + (context.timeouts.maxLifetime ?? 0),
    })),
    endBecausePreparationFailed: assign(({ context }) => ({
      reason: 'failed' as const,
      endedAt: context.lastActivityAt,
    })),
    markReleaseIncomplete: assign({ releaseIncomplete: true }),
  },
  guards: {
    isPrepared: ({ context }) => context.prepared,
    isBusy: ({ context }) => isBusy(context),
    hasMaxLifetime: ({ context }) => context.timeouts.maxLifetime !== undefined,
    hasRequestInFlight: ({ context }) => context.requestsInFlight > 0,
    hasOpenStream: ({ context }) => context.openStreams > 0,
    lastRequestEnding: ({ context }) =>
      context.requestsInFlight === 1 && !isBusy({ ...context, requestsInFlight: 0 }),
    lastStreamClosing: ({ context }) =>
      context.streamsCountAsActivity && context.openStreams === 1 && context.requestsInFlight === 0,
    streamsCountAsActivity: ({ context }) => context.streamsCountAsActivity,
  },
  delays: {
    initTimeout: ({ context }) => context.timeouts.initTimeout,
    idleTimeout: ({ context }) => context.timeouts.idleTimeout,
    maxLifetime: ({ context }) => context.timeouts.maxLifetime ?? MAX_TIMER_DELAY,
    disposeTimeout: ({ context }) => context.timeouts.disposeTimeout,
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => ({
    ...input,
    lastActivityAt: input.createdAt,
    requestsInFlight: 0,
    openStreams: 0,
    requests: 0,
    prepared: false,
    reason: undefined,
    endedAt: undefined,
    releaseIncomplete: false,
  }),
  initial: 'live',
  states: {
    live: {
      initial: 'created',
      after: {
        maxLifetime: { guard: 'hasMaxLifetime', target: 'expired', actions: 'endBecauseLifetimeReached' },
      },
      on: {
        CLOSE: { target: 'expired', actions: 'endBecauseClosed' },
      },
      states: {
        created: {
          entry: { type: 'notifyEntered', params: { state: 'created' } },
          invoke: {
            id: 'prepare',
            src: 'prepareSession',
            input: ({ context }) => ({ sessionId: context.sessionId }),
            onDone: { actions: ['markPrepared', 'notifyPrepared'] },
            onError: { target: '#session.expired', actions: 'endBecausePreparationFailed' },
          },
          after: {
            initTimeout: { target: '#session.expired', actions: 'endBecauseInitTimedOut' },
          },
          on: {
            // Ignored until prepared: a handshake cannot have completed without its server.
            INITIALIZED: [
              { guard: and(['isPrepared', 'isBusy']), target: 'active', actions: 'touch' },
              { guard: 'isPrepared', target: 'idle', actions: 'touch' },
            ],
            'REQUEST.START': { actions: 'startRequest' },
            'REQUEST.END': { guard: 'hasRequestInFlight', actions: 'endRequest' },
            'STREAM.OPEN': { actions: 'openStream' },
            'STREAM.CLOSE': { guard: 'hasOpenStream', actions: 'closeStream' },
          },
        },
        active: {
          entry: { type: 'notifyEntered', params: { state: 'active' } },
          on: {
            'REQUEST.START': { actions: 'startRequest' },
            'REQUEST.END': [
              { guard: 'lastRequestEnding', target: 'idle', actions: 'endRequest' },
              { guard: 'hasRequestInFlight', actions: 'endRequest' },
            ],
            'STREAM.OPEN': { actions: 'openStream' },
            'STREAM.CLOSE': [
              { guard: 'lastStreamClosing', target: 'idle', actions: 'closeStream' },
              { guard: 'hasOpenStream', actions: 'closeStream' },
            ],
          },
        },
        idle: {
          entry: { type: 'notifyEntered', params: { state: 'idle' } },
          after: {
            idleTimeout: { target: '#session.expired', actions: 'endBecauseIdleTimedOut' },
          },
          on: {
            'REQUEST.START': { target: 'active', actions: 'startRequest' },
            'STREAM.OPEN': [
              { guard: 'streamsCountAsActivity', target: 'active', actions: 'openStream' },
              // An uncounted stream is still client activity: restart the idle timer.
              { target: 'idle', reenter: true, actions: 'openStream' },
            ],
            // Only uncounted streams can be open here; closing one is activity too.
            'STREAM.CLOSE': { guard: 'hasOpenStream', target: 'idle', reenter: true, actions: 'closeStream' },
          },
        },
      },
    },
    expired: {
      entry: { type: 'notifyEntered', params: { state: 'expired' } },
      invoke: {
        id: 'release',
        src: 'releaseSession',
        input: ({ context }) => ({ sessionId: context.sessionId, reason: context.reason ?? 'failed' }),
        onDone: { target: 'disposed' },
        onError: { target: 'disposed', actions: 'markReleaseIncomplete' },
      },
      after: {
        disposeTimeout: { target: 'disposed', actions: 'markReleaseIncomplete' },
      },
    },
    disposed: {
      type: 'final',
      entry: { type: 'notifyEntered', params: { state: 'disposed' } },
    },
  },
  output: ({ context }) => ({
    sessionId: context.sessionId,
    reason: context.reason ?? 'failed',
    createdAt: context.createdAt,
    endedAt: context.endedAt ?? context.lastActivityAt,
    requests: context.requests,
  }),
});
