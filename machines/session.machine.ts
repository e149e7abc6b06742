import { assign, setup, stateIn } from 'xstate';

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
  /**
   * Idle time after which a session with nothing open hibernates (its actor is persisted and
   * stopped by the runtime); `undefined`: never. Only the hibernating charts read it.
   */
  readonly hibernateAfter?: number | undefined;
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
  /**
   * The last activity the machine recorded: the handshake, a stream opened or closed, the end of a
   * busy spell (`REQUEST.END`), a notification while idle (`ACTIVITY`). Under the runtime the
   * idle → active edge records nothing, so this is exact whenever the session is idle (what the idle
   * timeout and a wake-up read); while it is busy, `SupervisedSession.lastActivityAt` is the later of
   * this and the runtime's own stamp.
   */
  lastActivityAt: number;
  /**
   * Requests in flight that the machine counted itself, from `REQUEST.START`/`REQUEST.END` events
   * that carry no count. A sender that counts (the supervisor's runtime) puts its exact count on
   * every activity event (`requestsInFlight`): the machine decides with that count and keeps 0 here,
   * so a session moving idle → active takes no context update. Under the runtime the count is on the
   * events (the inspector shows it there) and in `SupervisedSession.info().requestsInFlight`.
   */
  requestsInFlight: number;
  openStreams: number;
  /**
   * Requests started over the whole life of the session. Under the runtime, exact whenever the
   * session is idle or ended (`REQUEST.END` and `CLOSE` carry the total; the idle → active edge
   * records nothing); the session's output and logs use the runtime's count.
   */
  requests: number;
  /**
   * When the handshake completed (`INITIALIZED`), `undefined` before: a session that ends without
   * one may never have had a server to release.
   */
  initializedAt: number | undefined;
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

/** Upper bound of a Node timer; longer delays would fire after 1 ms. */
const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * What a sender that counts puts on each activity event: its exact number of requests in flight
 * once the event has happened. With it the machine counts nothing itself (see
 * {@link SessionMachineContext.requestsInFlight}); without it, it counts the events.
 */
export interface SenderCount {
  readonly requestsInFlight?: number;
}

export type SessionEvent =
  /**
   * The handshake completed. `requestsInFlight`, when given, is the runtime's count at that moment:
   * the supervisor's runtime does not report requests before the handshake (the initialize request
   * itself, mostly), so a session takes no macrostep for them; the count decides active or idle.
   */
  | { type: 'INITIALIZED'; at: number; requestsInFlight?: number }
  /**
   * A request started. The runtime sends only the edge from none to one request in flight (and
   * `REQUEST.END` only for the edge back), so nested requests cost no macrostep; `requests`, when
   * given, is the exact number of requests started over the session's life, counted by the runtime.
   */
  | ({ type: 'REQUEST.START'; at: number; requests?: number } & SenderCount)
  | ({ type: 'REQUEST.END'; at: number; requests?: number } & SenderCount)
  /**
   * The client sent a message that asks for no answer (a notification, or its answer to a request of
   * the server's): activity, not a request. An idle session stays `idle` and its idle timer starts
   * again; the runtime sends it only then (a busy session's activity is stamped when it goes idle).
   */
  | { type: 'ACTIVITY'; at: number }
  | ({ type: 'STREAM.OPEN'; at: number } & SenderCount)
  | ({ type: 'STREAM.CLOSE'; at: number } & SenderCount)
  | { type: 'CLOSE'; reason: SessionEndReason; at: number; requests?: number }
  /** Building failed at `at` (clock time): the session ends then, with reason `failed`. */
  | { type: 'PREPARE.FAILED'; at?: number; error?: unknown }
  /** The runtime released every resource of the ended session. */
  | { type: 'RELEASED' }
  | { type: 'RELEASE.FAILED'; error?: unknown }
  /**
   * A hibernated session's actor was restored from its persisted snapshot at `at` (a request came,
   * or its idle deadline did): the idle timer is re-armed with what remains of it, since persisted
   * snapshots keep no pending timers (xstate #5331). At or past a deadline the session ends at once.
   */
  | { type: 'WAKE'; at: number };

/** When the idle timeout ends an idle session that has seen no activity since. */
const idleDeadline = (context: SessionMachineContext): number =>
  context.lastActivityAt + context.timeouts.idleTimeout;

/** When the lifetime ends the session (never when no lifetime is set). */
const lifetimeDeadline = (context: SessionMachineContext): number =>
  context.timeouts.maxLifetime === undefined
    ? Number.POSITIVE_INFINITY
    : context.createdAt + context.timeouts.maxLifetime;

/** The exact lifetime total when the runtime reports it, else one more than the machine counted. */
const requestsAfterStart = (context: SessionMachineContext, event: SessionEvent): number =>
  'requests' in event && event.requests !== undefined ? event.requests : context.requests + 1;

const requestsReported = (context: SessionMachineContext, event: SessionEvent): number =>
  'requests' in event && event.requests !== undefined ? event.requests : context.requests;

/** The sender's count of requests in flight after `event`, if it counts (see {@link SenderCount}). */
const senderCount = (event: SessionEvent): number | undefined =>
  'requestsInFlight' in event ? event.requestsInFlight : undefined;

/** Requests in flight at the handshake: the runtime's count when `INITIALIZED` carries one. */
const requestsAtHandshake = (context: SessionMachineContext, event: SessionEvent): number =>
  senderCount(event) ?? context.requestsInFlight;

/** Requests in flight once `event` (not a request event) has happened: the sender's count, else the machine's. */
const requestsInFlightNow = (context: SessionMachineContext, event: SessionEvent): number =>
  senderCount(event) ?? context.requestsInFlight;

/** What the machine keeps counted after `event`: 0 when the sender counts, else `counted`. */
const keptCount = (event: SessionEvent, counted: number): number =>
  senderCount(event) === undefined ? counted : 0;

const session = setup({
  types: {
    input: {} as SessionMachineInput,
    context: {} as SessionMachineContext,
    events: {} as SessionEvent,
    output: {} as SessionOutput,
  },
  actions: {
    notifyEntered: (_args, _params: { state: SessionStateName }) => {},
    /**
     * Starts building the server. Success is not news to the machine: the runtime lets the handshake
     * run once the server is built, and `INITIALIZED` follows it. A failure is (`PREPARE.FAILED`).
     */
    prepareServer: () => {},
    /** Starts releasing the resources; the runtime answers `RELEASED` or `RELEASE.FAILED`. */
    releaseServer: () => {},
    startRequest: assign(({ context, event }) => ({
      requestsInFlight: keptCount(event, context.requestsInFlight + 1),
      requests: requestsAfterStart(context, event),
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    endRequest: assign(({ context, event }) => ({
      requestsInFlight: keptCount(event, Math.max(0, context.requestsInFlight - 1)),
      requests: requestsReported(context, event),
      lastActivityAt: 'at' in event ? event.at : context.lastActivityAt,
    })),
    recordActivity: assign(({ context, event }) => ({
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
    completeHandshake: assign(({ context, event }) => {
      const at = 'at' in event ? event.at : context.lastActivityAt;
      return {
        lastActivityAt: at,
        initializedAt: at,
        requestsInFlight: keptCount(event, context.requestsInFlight),
      };
    }),
    endBecauseClosed: assign(({ context, event }) =>
      event.type === 'CLOSE'
        ? { reason: event.reason, endedAt: event.at, requests: requestsReported(context, event) }
        : {},
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
    endBecausePreparationFailed: assign(({ context, event }) => ({
      reason: 'failed' as const,
      endedAt: event.type === 'PREPARE.FAILED' && event.at !== undefined ? event.at : context.lastActivityAt,
    })),
    markReleaseIncomplete: assign({ releaseIncomplete: true }),
    /** The runtime persists the snapshot, stops the actor and releases the server and transport. */
    hibernate: () => {},
  },
  guards: {
    busyAtHandshake: ({ context, event }) =>
      requestsAtHandshake(context, event) > 0 || (context.streamsCountAsActivity && context.openStreams > 0),
    /** A sender that counts reported the event: nothing for the machine to count. */
    countedBySender: ({ event }) => senderCount(event) !== undefined,
    // A request end from a sender that counts always ended a request it counted.
    hasRequestInFlight: ({ context, event }) =>
      senderCount(event) !== undefined || context.requestsInFlight > 0,
    hasOpenStream: ({ context }) => context.openStreams > 0,
    // Busy with no request in flight means kept by counted streams; no context copy per request.
    lastRequestEnding: ({ context, event }) =>
      (senderCount(event) ?? context.requestsInFlight - 1) === 0 &&
      !(context.streamsCountAsActivity && context.openStreams > 0),
    lastStreamClosing: ({ context, event }) =>
      context.streamsCountAsActivity &&
      context.openStreams === 1 &&
      requestsInFlightNow(context, event) === 0,
    streamsCountAsActivity: ({ context }) => context.streamsCountAsActivity,
    /**
     * A wake-up at or past the idle deadline (and not past an earlier end of the lifetime): the
     * idle timeout is due, so the session ends in this step rather than re-arming a 0 ms timer.
     */
    idleDeadlinePassed: ({ context, event }) =>
      event.type === 'WAKE' &&
      idleDeadline(context) <= event.at &&
      !(lifetimeDeadline(context) < idleDeadline(context)),
    /** A wake-up at or past the end of the lifetime, which came no later than the idle deadline. */
    lifetimeDeadlinePassed: ({ context, event }) =>
      event.type === 'WAKE' &&
      lifetimeDeadline(context) <= event.at &&
      lifetimeDeadline(context) <= idleDeadline(context),
    /** Nothing the session holds would be lost by releasing its server: no stream open. */
    nothingOpen: ({ context }) => context.openStreams === 0 && context.requestsInFlight === 0,
  },
  delays: {
    initTimeout: ({ context }) => context.timeouts.initTimeout,
    // After a wake-up, what remains of the idle time since the last activity.
    idleTimeout: ({ context, event }) =>
      event?.type === 'WAKE'
        ? Math.max(0, context.lastActivityAt + context.timeouts.idleTimeout - event.at)
        : context.timeouts.idleTimeout,
    hibernateAfter: ({ context }) => context.timeouts.hibernateAfter ?? MAX_TIMER_DELAY,
    // After a wake-up, what remains of the lifetime since admission.
    maxLifetime: ({ context, event }) =>
      event?.type === 'WAKE'
        ? Math.max(0, context.createdAt + (context.timeouts.maxLifetime ?? MAX_TIMER_DELAY) - event.at)
        : (context.timeouts.maxLifetime ?? MAX_TIMER_DELAY),
    disposeTimeout: ({ context }) => context.timeouts.disposeTimeout,
  },
});

// Every field written out, no `...input`: on Node 20's V8, a spread followed by new keys gives each
// object a hidden class of its own once optimized, so each session's first context cost a fresh map
// (old-space garbage) and sent xstate's code megamorphic: ~25 % of the actor layer's churn CPU.
const initialContext = ({ input }: { input: SessionMachineInput }): SessionMachineContext => ({
  sessionId: input.sessionId,
  createdAt: input.createdAt,
  timeouts: input.timeouts,
  streamsCountAsActivity: input.streamsCountAsActivity,
  lastActivityAt: input.createdAt,
  requestsInFlight: 0,
  openStreams: 0,
  requests: 0,
  initializedAt: undefined,
  reason: undefined,
  endedAt: undefined,
  releaseIncomplete: false,
});

const outputOf = ({ context }: { context: SessionMachineContext }): SessionOutput => ({
  sessionId: context.sessionId,
  reason: context.reason ?? 'failed',
  createdAt: context.createdAt,
  endedAt: context.endedAt ?? context.lastActivityAt,
  requests: context.requests,
});

const created = session.createStateConfig({
  entry: [{ type: 'notifyEntered', params: { state: 'created' } }, 'prepareServer'],
  after: {
    initTimeout: { target: '#session.expired', actions: 'endBecauseInitTimedOut' },
  },
  on: {
    'PREPARE.FAILED': { target: '#session.expired', actions: 'endBecausePreparationFailed' },
    // The runtime reports a handshake only once the server it ran on was built.
    INITIALIZED: [
      { guard: 'busyAtHandshake', target: 'active', actions: 'completeHandshake' },
      { target: 'idle', actions: 'completeHandshake' },
    ],
    'REQUEST.START': { actions: 'startRequest' },
    'REQUEST.END': { guard: 'hasRequestInFlight', actions: 'endRequest' },
    'STREAM.OPEN': { actions: 'openStream' },
    'STREAM.CLOSE': { guard: 'hasOpenStream', actions: 'closeStream' },
  },
});

const active = session.createStateConfig({
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
});

const idle = session.createStateConfig({
  entry: { type: 'notifyEntered', params: { state: 'idle' } },
  after: {
    idleTimeout: { target: '#session.expired', actions: 'endBecauseIdleTimedOut' },
  },
  on: {
    'REQUEST.START': [
      // From a sender that counts, the first request is a pure state move: no context copy, no
      // second snapshot (what a busy spell costs beyond XState's floor); `REQUEST.END` records it.
      { guard: 'countedBySender', target: 'active' },
      { target: 'active', actions: 'startRequest' },
    ],
    'STREAM.OPEN': [
      { guard: 'streamsCountAsActivity', target: 'active', actions: 'openStream' },
      // An uncounted stream is still client activity: restart the idle timer.
      { target: 'idle', reenter: true, actions: 'openStream' },
    ],
    // Only uncounted streams can be open here; closing one is activity too.
    'STREAM.CLOSE': { guard: 'hasOpenStream', target: 'idle', reenter: true, actions: 'closeStream' },
    // A notification is no request: one step that restarts the idle timer, not idle → active → idle.
    ACTIVITY: { target: 'idle', reenter: true, actions: 'recordActivity' },
  },
});

/**
 * A wake-up at or past a deadline ends the session in that step: the timer it would re-arm is due
 * already. Re-entering `idle` with a 0 ms timer and taking that timer cost an expiry storm of
 * hibernated sessions two more macrosteps per session (a third of what each end allocated).
 */
const wakeAfterDeadline = [
  { guard: 'lifetimeDeadlinePassed', target: '#session.expired', actions: 'endBecauseLifetimeReached' },
  { guard: 'idleDeadlinePassed', target: '#session.expired', actions: 'endBecauseIdleTimedOut' },
] as const;

/**
 * `idle` for sessions that hibernate: still `idle` for capacity, LRU order and the idle timeout,
 * with an `awake` sub-state (server and transport held) and a `hibernated` one (the runtime keeps
 * only the persisted snapshot). `WAKE` at or past a deadline ends the session; before it, `WAKE`
 * re-enters `idle` (`idleId`), re-arming the idle timer with what is left; in a chart with a
 * lifetime, `live` takes that `WAKE` instead (`idleId` undefined).
 */
const hibernatingIdle = (idleId: '#session.idle' | undefined) =>
  session.createStateConfig({
    ...idle,
    initial: 'awake',
    states: {
      awake: {
        after: {
          hibernateAfter: { guard: 'nothingOpen', target: 'hibernated' },
        },
      },
      hibernated: {
        entry: 'hibernate',
        // With a lifetime, `live` takes a WAKE before the deadlines (see hibernatingSessionMachine).
        on: {
          WAKE:
            idleId === undefined
              ? wakeAfterDeadline
              : [...wakeAfterDeadline, { target: idleId, reenter: true }],
        },
      },
    },
  });

const close = { target: '#session.expired', actions: 'endBecauseClosed' } as const;

/**
 * `created → active ⇄ idle`, the states that hold a slot and serve requests, inside `live`: the
 * parent that scopes the lifetime timer, so that moves between them never restart it.
 */
const live = session.createStateConfig({
  initial: 'created',
  on: { CLOSE: close },
  states: { created, active, idle },
});

/**
 * `live` for sessions that hibernate and have a lifetime. A persisted snapshot keeps no timer, so
 * `WAKE` re-enters `live` itself (not only `idle`): its lifetime timer is re-armed with what
 * remains of the lifetime, and `idle`'s timer with what remains of the idle time.
 */
const hibernatingLive = session.createStateConfig({
  ...live,
  on: {
    ...live.on,
    WAKE: { guard: stateIn('#session.live.idle.hibernated'), target: '#session.live.idle', reenter: true },
  },
  states: { created, active, idle: hibernatingIdle(undefined) },
});

/**
 * The same three states at the top level, for charts with no lifetime timer: with nothing to scope,
 * a `live` parent would only make every transition compute one more level (~10 % of an activity
 * event). Each takes `CLOSE` itself.
 */
const withClose = <T extends { readonly on?: object }>(state: T) => ({
  ...state,
  on: { ...state.on, CLOSE: close },
});
const flatLive = { created: withClose(created), active: withClose(active), idle: withClose(idle) };
const flatHibernatingLive = { ...flatLive, idle: withClose(hibernatingIdle('#session.idle')) };

/** `live` ending after `maxLifetime` whatever the activity: the timer it scopes. */
const withLifetime = <T extends object>(state: T) => ({
  ...state,
  after: {
    maxLifetime: { target: '#session.expired', actions: 'endBecauseLifetimeReached' },
  } as const,
});

/** Releasing: answers 404 from now on; done when the runtime reports `RELEASED` or the deadline passes. */
const expired = session.createStateConfig({
  entry: [{ type: 'notifyEntered', params: { state: 'expired' } }, 'releaseServer'],
  after: {
    disposeTimeout: { target: 'disposed', actions: 'markReleaseIncomplete' },
  },
  on: {
    RELEASED: { target: 'disposed' },
    'RELEASE.FAILED': { target: 'disposed', actions: 'markReleaseIncomplete' },
  },
});

const disposed = session.createStateConfig({
  type: 'final',
  entry: { type: 'notifyEntered', params: { state: 'disposed' } },
});

/**
 * One MCP session with an absolute lifetime: `created → active ⇄ idle → expired → disposed`, and
 * `live` ends after `maxLifetime` whatever the activity.
 *
 * Activity is reference-counted: `REQUEST.START`/`REQUEST.END` (and, when streams count,
 * `STREAM.OPEN`/`STREAM.CLOSE`) move the session between `active` and `idle`; `ACTIVITY` (a
 * notification, which is no request) restarts an idle session's timer. Every timeout is a
 * delayed transition on a named delay read from context. Building and releasing the MCP server is
 * work the runtime does when the entry actions `prepareServer` / `releaseServer` ask for it; it
 * reports back with `PREPARE.FAILED` (a built server is not news: the handshake, `INITIALIZED`, can
 * only run on it) and `RELEASED` / `RELEASE.FAILED` (no child actor per session). The entry action
 * `notifyEntered` is how the runtime learns of each state.
 *
 * Sessions without a `maxLifetime` run {@link sessionMachineWithoutLifetime}, the same chart
 * without the lifetime timer, so they never arm a timer that cannot fire.
 *
 * @example
 * ```ts
 * const actor = createActor(sessionMachine.provide({ actions: { releaseServer: ({ self }) => self.send({ type: 'RELEASED' }) } }), { input });
 * ```
 */
export const sessionMachine = session.createMachine({
  id: 'session',
  context: initialContext,
  initial: 'live',
  states: {
    live: withLifetime(live),
    expired,
    disposed,
  },
  output: outputOf,
});

/**
 * {@link sessionMachine} without the `maxLifetime` timer: what sessions run when none is configured.
 * With no lifetime to scope there is no `live` parent: `created`, `active`, `idle`, `expired` and
 * `disposed` are its top-level states.
 */
export const sessionMachineWithoutLifetime = session.createMachine({
  id: 'session',
  context: initialContext,
  initial: 'created',
  states: { ...flatLive, expired, disposed },
  output: outputOf,
});

/** The session chart for the given timeouts: the lifetime timer only when a lifetime is set. */
export type SessionMachine = typeof sessionMachine | typeof sessionMachineWithoutLifetime;

/** Any of the session charts the runtime may run (with or without lifetime, hibernating or not). */
export type AnySessionMachine =
  | SessionMachine
  | typeof hibernatingSessionMachine
  | typeof hibernatingSessionMachineWithoutLifetime;

/** {@link sessionMachine} whose idle sessions hibernate after `hibernateAfter` (see `hibernatingIdle`). */
export const hibernatingSessionMachine = session.createMachine({
  id: 'session',
  context: initialContext,
  initial: 'live',
  states: {
    live: withLifetime(hibernatingLive),
    expired,
    disposed,
  },
  output: outputOf,
});

/** {@link hibernatingSessionMachine} without the `maxLifetime` timer (no `live` parent either). */
export const hibernatingSessionMachineWithoutLifetime = session.createMachine({
  id: 'session',
  context: initialContext,
  initial: 'created',
  states: { ...flatHibernatingLive, expired, disposed },
  output: outputOf,
});
