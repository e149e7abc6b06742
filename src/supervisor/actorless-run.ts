import type { AnyActorRef, AnyActorScope, AnyEventObject, AnyMachineSnapshot, AnyStateMachine } from 'xstate';

/** A delayed event the machine asked for (an `after` timer), as xstate's scheduler would hold it. */
interface PendingTimer {
  readonly id: string | undefined;
  readonly event: AnyEventObject;
  readonly delay: number;
}

interface ExecutableAction {
  readonly type: string;
  readonly info: unknown;
  readonly params: unknown;
  readonly exec: ((info: unknown, params: unknown) => void) | undefined;
}

export interface ActorlessRun {
  /** What stands in for the actor as `self` in the actions; `send` queues an event for the run. */
  standIn(send: (event: AnyEventObject) => void): AnyActorRef;
  /** Taken on the restored snapshot, with its actions held back until the run goes on. */
  readonly first: AnyEventObject;
  /** Taken next, if given (the run then always goes on). */
  readonly next?: AnyEventObject | undefined;
  /** Called once the run goes on, before any held-back action runs. */
  commit(): void;
  /**
   * Whether the snapshot `first` led to is one the machine would sit in, waiting for a timer or an
   * event (e.g. still idle): then, with nothing due either, the run does not go on. By default
   * any state is.
   */
  waits?(snapshot: AnyMachineSnapshot): boolean;
}

/** The inspection hook xstate's macrostep calls; nothing inspects an actorless run. */
const quietSystem = { _sendInspectionEvent: () => {} };

/**
 * Runs a session's machine on a persisted snapshot with xstate's pure transition function
 * (`machine.transition(snapshot, event, scope)`), with no actor, no actor system and no scheduler:
 * what a hibernated session needs when its idle deadline comes or it is closed, where restoring a
 * full actor per session (~25 µs and a few KB of young objects, kept alive by the old session that
 * pointed to it) made an expiry storm of 1 000 000 sessions a storm of GC pauses.
 *
 * The machine still decides everything: `first` (e.g. `WAKE`) is taken on the restored snapshot
 * with its actions held back; the run goes on only if the machine then has something to do now —
 * it left the states it would wait in (`waits`; a `WAKE` past the idle deadline ends the session),
 * a `next` event (e.g. `CLOSE`) or an `after` timer it armed with a delay of 0. Otherwise nothing
 * happened (no action ran) and the caller restores an actor instead. Once it goes on, the held-back actions run, then — as an actor would —
 * events the actions send to `self` (in order), then timers that are due (in the order armed),
 * until the machine reaches its final state or has nothing left to do now.
 *
 * @example
 * ```ts
 * const ended = runWithoutActor(logic, persisted, {
 *   standIn: (send) => ({ send }) as AnyActorRef,
 *   first: { type: 'WAKE', at: Date.now() },
 *   commit: () => {},
 * });
 * if (ended === undefined) restoreActor(); // not due: the machine would wait
 * ```
 */
export function runWithoutActor(
  logic: AnyStateMachine,
  persisted: unknown,
  { standIn, first, next, commit, waits }: ActorlessRun,
): AnyMachineSnapshot | undefined {
  const mailbox: AnyEventObject[] = next ? [next] : [];
  const timers: PendingTimer[] = [];
  let heldBack: ExecutableAction[] | undefined = [];
  const execute = (action: ExecutableAction): void => {
    if (action.type === 'xstate.raise') {
      const { event, id, delay } = action.params as { event: AnyEventObject; id?: string; delay?: number };
      if (typeof delay === 'number') timers.push({ id, event, delay });
      return;
    }
    if (action.type === 'xstate.cancel') {
      const { sendId } = action.params as { sendId: string };
      const index = timers.findIndex((timer) => timer.id === sendId);
      if (index !== -1) timers.splice(index, 1);
      return;
    }
    if (heldBack) heldBack.push(action);
    else action.exec?.(action.info, action.params);
  };
  const scope = {
    self: standIn((event) => mailbox.push(event)),
    id: '',
    sessionId: '',
    logger: () => {},
    defer: () => {},
    emit: () => {},
    system: quietSystem,
    stopChild: () => {},
    actionExecutor: execute,
  } as unknown as AnyActorScope;
  const restored = logic.restoreSnapshot?.(persisted as never, scope) as AnyMachineSnapshot;
  let snapshot = logic.transition(restored, first, scope) as AnyMachineSnapshot;
  const dueTimer = (): number => timers.findIndex((timer) => timer.delay <= 0);
  const waiting = snapshot.status === 'active' && (waits?.(snapshot) ?? true);
  if (waiting && mailbox.length === 0 && dueTimer() === -1) return undefined;
  commit();
  const actions = heldBack;
  heldBack = undefined;
  for (const action of actions) action.exec?.(action.info, action.params);
  while (snapshot.status === 'active') {
    let event = mailbox.shift();
    if (event === undefined) {
      const index = dueTimer();
      if (index === -1) break;
      event = (timers.splice(index, 1)[0] as PendingTimer).event;
    }
    snapshot = logic.transition(snapshot, event, scope) as AnyMachineSnapshot;
  }
  return snapshot;
}
