import type { SessionMachineContext, SessionStateName } from '../../machines/session.machine.js';
import type { SessionTransitionEvent, SupervisorEvent, SupervisorListener } from '../events.js';
import { type Logger, logTransition, transitionLevel } from '../logging.js';
import type { SupervisedSession } from '../session.js';

/** Tells the logger and the subscribers what happened; builds nothing when nobody listens. */
export class Announcer {
  readonly listeners = new Set<SupervisorListener>();

  constructor(
    private readonly logger: Logger | undefined,
    private readonly now: () => number,
  ) {}

  get listened(): boolean {
    return this.listeners.size > 0;
  }

  transition(
    session: SupervisedSession<unknown>,
    context: SessionMachineContext,
    from: SessionStateName | undefined,
    to: SessionStateName,
    trigger: string,
  ): void {
    // An active ⇄ idle move logs at debug: at info nobody would read the event built for it.
    const logged = this.logger?.isLevelEnabled(transitionLevel(to, context.releaseIncomplete)) === true;
    if (!logged && this.listeners.size === 0) return;
    const event: SessionTransitionEvent = {
      type: 'transition',
      sessionId: context.sessionId,
      from,
      to,
      reason: context.reason,
      trigger,
      at: this.now(),
      createdAt: context.createdAt,
      lastActivityAt: session.lastActivityAt,
      requests: session.requests,
      releaseIncomplete: context.releaseIncomplete,
    };
    if (logged && this.logger) logTransition(this.logger, event);
    this.emit(event);
  }

  emit(event: SupervisorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A faulty observer must not break the lifecycle of the sessions it observes.
        this.logger?.error({ err: error }, 'a supervisor event listener threw');
      }
    }
  }
}
