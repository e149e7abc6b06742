/**
 * One supervised session in process, driven act by act: the runtime side of the model-based and
 * golden session suites. A supervisor on a `SimulatedClock` opens one session whose server build
 * (`prepare`) and release wait for the test to settle them.
 */
import { SimulatedClock } from 'xstate';
import { createSessionSupervisor, type SessionSupervisor, type SupervisedSession } from '../../src/index.js';
import { flush, gate } from './gate.js';
import type { LifecycleConfig, LifecycleState, SpecAction } from './lifecycle-oracle.js';

interface ServerDouble {
  close(): Promise<void>;
}

/** What a test observes of the session; live sessions are found by id, ended ones are not. */
export interface SessionObservation {
  readonly state: LifecycleState;
  readonly requestsInFlight: number;
  readonly openStreams: number;
  readonly found: boolean;
}

/** What one act did: the states the session moved to, and the session afterwards. */
export interface ActOutcome {
  readonly movedTo: readonly LifecycleState[];
  /** Observed right after the last move (or at the end of the act if it did not move). */
  readonly session: SessionObservation;
}

export interface SessionRuntime {
  readonly supervisor: SessionSupervisor<ServerDouble>;
  readonly session: SupervisedSession<ServerDouble>;
  /** The session right after admission. */
  readonly admitted: SessionObservation;
  observe(): SessionObservation;
  /**
   * Brings the clock to `at` (ms since admission), performs `action` if any, and lets every promise
   * it started settle, so whatever happened is attributed to this call. A `timeout` action performs
   * nothing: the clock brought it.
   */
  act(at: number, action?: SpecAction): Promise<ActOutcome>;
}

const isClientAct = (action: SpecAction): boolean =>
  action.kind === 'request-start' ||
  action.kind === 'request-end' ||
  action.kind === 'stream-open' ||
  action.kind === 'stream-close' ||
  action.kind === 'notification' ||
  action.kind === 'initialized';

export function startSessionRuntime(config: LifecycleConfig): SessionRuntime {
  const clock = new SimulatedClock();
  clock.set(config.createdAt);
  const prepare = gate<ServerDouble>();
  const release = gate<void>();
  let builds = 0;
  // The session's own release waits for the path; a hibernating session's release is immediate.
  const server: ServerDouble = { close: () => (session.isLive ? Promise.resolve() : release.promise) };
  const { initTimeout, idleTimeout, maxLifetime, disposeTimeout } = config.timeouts;
  const supervisor: SessionSupervisor<ServerDouble> = createSessionSupervisor({
    clock,
    initTimeout,
    idleTimeout,
    disposeTimeout,
    ...(maxLifetime === undefined ? {} : { maxLifetime }),
    streamsCountAsActivity: config.streamsCountAsActivity,
    ...(config.hibernateAfter === undefined ? {} : { hibernateAfter: config.hibernateAfter }),
    // The first build waits for the path; rebuilds after hibernation succeed at once.
    createServer: () => {
      builds += 1;
      return builds === 1 ? prepare.promise : Promise.resolve(server);
    },
  });
  const session: SupervisedSession<ServerDouble> = supervisor.open();
  const endRequest: Array<() => void> = [];
  const closeStream: Array<() => void> = [];

  const pop = (stack: Array<() => void>, what: string): (() => void) => {
    const end = stack.pop();
    if (!end) throw new Error(`The path ends a ${what} that was never started`);
    return end;
  };

  const perform = (action: SpecAction): void => {
    switch (action.kind) {
      case 'initialized':
        session.markInitialized();
        return;
      case 'request-start':
        endRequest.push(session.beginRequest());
        return;
      case 'request-end':
        pop(endRequest, 'request')();
        return;
      case 'stream-open':
        closeStream.push(session.openStream());
        return;
      case 'stream-close':
        pop(closeStream, 'stream')();
        return;
      case 'notification':
        session.recordActivity();
        return;
      case 'close':
        supervisor.close(session.id, action.reason);
        return;
      case 'timeout':
        return;
      case 'settle': {
        const target = action.actor === 'prepare' ? prepare : release;
        if (action.outcome === 'error') target.reject(new Error(`${action.actor} failed`));
        else if (action.actor === 'prepare') prepare.resolve(server);
        else release.resolve();
        return;
      }
    }
  };

  const observe = (): SessionObservation => {
    const { requestsInFlight, openStreams } = session.info();
    return { state: session.state, requestsInFlight, openStreams, found: supervisor.has(session.id) };
  };

  const admitted = observe();
  // Every change of state, as the supervisor announces it (the session's actor is replaced when a
  // hibernated session wakes up, so its own subscription would not see every move).
  const moves: LifecycleState[] = [];
  supervisor.subscribe((event) => {
    if (event.type === 'transition' && event.sessionId === session.id && event.from !== undefined) {
      moves.push(event.to);
    }
  });

  const act = async (at: number, action?: SpecAction): Promise<ActOutcome> => {
    const first = moves.length;
    const by = config.createdAt + at - clock.now();
    if (by < 0) throw new Error(`The path goes back in time, to ${at}`);
    if (by > 0) clock.increment(by);
    await flush();
    // A real clock runs a timer armed with 0 ms right away; the simulated one only on its next move.
    clock.increment(0);
    await flush();
    // A client act on a hibernated session wakes it as the HTTP layer does: actor and server back first.
    if (action && isClientAct(action) && session.hibernation) await supervisor.wake(session);
    if (action) perform(action);
    await flush();
    return { movedTo: moves.slice(first), session: observe() };
  };

  return { supervisor, session, admitted, observe, act };
}
