import { type AnyActorRef, type AnyEventObject, type AnyStateMachine, createActor } from 'xstate';
import {
  hibernatingSessionMachine,
  hibernatingSessionMachineWithoutLifetime,
  type SessionMachineContext,
  type SessionMachineInput,
  type SessionStateName,
  type SessionTimeouts,
  sessionMachine,
  sessionMachineWithoutLifetime,
} from '../../machines/session.machine.js';
import type { Clock } from '../clock.js';
import type { SessionActor, SupervisedSession } from '../session.js';
import type { InspectionObserver } from './types.js';

/**
 * Each session actor carries a reference to its handle, so the runtime's actions (entered a state,
 * build, release) reach the session in O(1) without a lookup by id on the request path.
 */
const HANDLE = Symbol('supervisedSession');

type WithHandle = { [HANDLE]?: SupervisedSession<unknown> };

const handleOf = (self: AnyActorRef): SupervisedSession<unknown> | undefined => (self as WithHandle)[HANDLE];

/**
 * The `sessionId` every uninspected session actor runs under. xstate keys each pending delayed
 * event by `${sessionId}.${delayed event id}` in two plain objects of the actor's own system, so
 * with its default ids (`x:0`, `x:1`, …, unique in the process) every timer a session arms adds a
 * property name V8 has never seen to an empty object: a new hidden class, a transition from the
 * shared empty-object map and a new internalized string, 3–4 µs each (a repeated name: 0.08 µs),
 * for each of a session's init, idle and dispose timers and again whenever a full GC has dropped
 * the hidden class of an idle timer that was cancelled. Each session has a system of its own, so
 * a shared id collides with nothing: xstate uses it only to key that system's actors and timers
 * and to name the actor to an inspector (an inspected supervisor keeps xstate's unique ids).
 */
const SHARED_SESSION_ID = 'session';

interface ActionArgs {
  readonly context: SessionMachineContext;
  readonly event: { readonly type: string };
  readonly self: AnyActorRef;
}

/** What the session chart's actions do, implemented by the supervisor's runtime. */
export interface SessionActionHooks {
  entered(
    session: SupervisedSession<unknown> | undefined,
    context: SessionMachineContext,
    to: SessionStateName,
    trigger: string,
  ): void;
  prepare(session: SupervisedSession<unknown>, self: AnyActorRef): void;
  /** `reason` is set on the session before this runs: release steps may read it. */
  release(session: SupervisedSession<unknown>, self: AnyActorRef): void;
  hibernate(session: SupervisedSession<unknown>): void;
}

export interface SessionActorsOptions {
  readonly clock: Clock;
  readonly timeouts: SessionTimeouts;
  readonly streamsCountAsActivity: boolean;
  readonly inspect: InspectionObserver | undefined;
  readonly hooks: SessionActionHooks;
}

/**
 * The session chart for these timeouts: without a lifetime it has no lifetime timer, without
 * hibernation no hibernation timer, so nothing is armed that could never fire.
 */
export function sessionChartFor({ maxLifetime, hibernateAfter }: SessionTimeouts): AnyStateMachine {
  if (hibernateAfter === undefined) {
    return maxLifetime === undefined ? sessionMachineWithoutLifetime : sessionMachine;
  }
  return maxLifetime === undefined ? hibernatingSessionMachineWithoutLifetime : hibernatingSessionMachine;
}

/**
 * Creates, starts and restores the session actors of one supervisor: the chart with the runtime's
 * actions provided, the options every actor shares, and the handle each actor carries.
 */
export class SessionActors {
  /** The session chart (machine definition), e.g. for drawing it. */
  readonly chart: AnyStateMachine;
  private readonly logic: typeof sessionMachine;
  /**
   * What every started session actor keeps as its `options`. xstate spreads the options into a fresh
   * object whose `input` key makes V8 build a hidden class (map + descriptors) per actor, ~0.3 KB of
   * an idle session; xstate reads `options` only while constructing and starting the actor.
   */
  private readonly startedActorOptions: SessionActor['options'];
  private placeholderActor: SessionActor | undefined;

  constructor(private readonly options: SessionActorsOptions) {
    const { hooks } = options;
    this.chart = sessionChartFor(options.timeouts);
    this.startedActorOptions = Object.freeze({ clock: options.clock });
    this.logic = (this.chart as typeof sessionMachine).provide({
      actions: {
        notifyEntered: ({ event, self, context }: ActionArgs, { state }: { state: SessionStateName }) =>
          hooks.entered(handleOf(self), context, state, event.type),
        prepareServer: ({ self }: ActionArgs) => {
          const session = handleOf(self);
          if (session) hooks.prepare(session, self);
        },
        releaseServer: ({ self, context }: ActionArgs) => {
          const session = handleOf(self);
          if (!session) {
            self.send({ type: 'RELEASED' });
            return;
          }
          // Release steps run inside this transition, before the actor's snapshot shows the end.
          session.endReason = context.reason;
          hooks.release(session, self);
        },
        hibernate: ({ self }: ActionArgs) => {
          const session = handleOf(self);
          if (session) hooks.hibernate(session);
        },
      },
    });
  }

  /** The provided chart, for runs without an actor (see `actorless-run.ts`). */
  get machine(): AnyStateMachine {
    return this.logic;
  }

  /** A new session's actor, not started yet: {@link start} it once its handle exists. */
  create(sessionId: string, createdAt: number): SessionActor {
    const { clock, inspect } = this.options;
    const input = this.input(sessionId, createdAt);
    // Written out, not spread in: a spread into the options literal is a runtime call per session.
    // Named for the inspector only: a per-session string is memory nobody reads otherwise.
    return inspect
      ? createActor(this.logic, { id: `session:${sessionId}`, inspect, input, clock })
      : createActor(this.logic, { input, clock });
  }

  /** Starts `actor` for `session`: from here on its actions reach the session. */
  start(actor: SessionActor, session: SupervisedSession<unknown>): void {
    (actor as WithHandle)[HANDLE] = session;
    // Before start(), which registers the actor in its system under this id (see SHARED_SESSION_ID).
    if (!this.options.inspect) actor.sessionId = SHARED_SESSION_ID;
    actor.start();
    actor.options = this.startedActorOptions;
  }

  /** A hibernated session's actor, restored from its persisted snapshot and started. */
  restore(session: SupervisedSession<unknown>, snapshot: unknown): SessionActor {
    const { clock, inspect } = this.options;
    // Ignored when restoring from a snapshot; xstate's types ask for it all the same.
    const input = this.input(session.id, session.createdAt);
    const restored = snapshot as never;
    // Written out, not spread in (see `create`).
    const actor: SessionActor = inspect
      ? createActor(this.logic, { snapshot: restored, id: `session:${session.id}`, inspect, input, clock })
      : createActor(this.logic, { snapshot: restored, input, clock });
    this.start(actor, session);
    return actor;
  }

  /** Never started: it holds no timer and answers getSnapshot() with an initial context. */
  placeholder(): SessionActor {
    this.placeholderActor ??= createActor(this.logic, {
      input: this.input('', 0),
      clock: this.options.clock,
    });
    return this.placeholderActor;
  }

  /** An actor reference for a run without an actor: its actions reach `session`, its sends `send`. */
  standIn(session: SupervisedSession<unknown>, send: (event: AnyEventObject) => void): AnyActorRef {
    return { [HANDLE]: session, send } as unknown as AnyActorRef;
  }

  private input(sessionId: string, createdAt: number): SessionMachineInput {
    const { timeouts, streamsCountAsActivity } = this.options;
    return { sessionId, createdAt, timeouts, streamsCountAsActivity };
  }
}
