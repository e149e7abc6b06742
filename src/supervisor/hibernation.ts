import type { AnyActorRef, AnyEventObject, AnyStateMachine } from 'xstate';
import type { Clock } from '../clock.js';
import type { SessionActor, SupervisedSession } from '../session.js';
import { runWithoutActor } from './actorless-run.js';

/** The part of a session actor's persisted snapshot that hibernation trims and puts back. */
interface PersistedSession {
  context: { sessionId?: string; timeouts?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

/** Whether a session is in `idle.hibernated`, in either chart shape (with a `live` parent or without). */
const isHibernatedSnapshot = (snapshot: { matches(value: never): boolean }): boolean =>
  snapshot.matches({ idle: 'hibernated' } as never) ||
  snapshot.matches({ live: { idle: 'hibernated' } } as never);

/**
 * Whether a woken session did not end: anywhere but `expired` (its timers re-armed, it waits). One
 * comparison: `matches` on both chart shapes allocated ~0.6 KB per session of an expiry storm.
 */
const didNotEnd = (snapshot: { value: unknown }): boolean => snapshot.value !== 'expired';

/**
 * Bounds the shared shapes (frame + context keys); there are about as many as hibernated state
 * values times the context fields a session may or may not have set (a handful today).
 */
const MAX_SHARED_SHAPES = 64;
const OPENING_BRACE = 0x7b;

/** What hibernated sessions share: a snapshot's frame (all but the context) and its context's keys. */
interface SnapshotShape {
  readonly frame: Readonly<Record<string, unknown>>;
  readonly keys: readonly string[];
}

/** The keys `JSON.stringify` would write for `value` (it leaves out undefined, functions, symbols). */
const writtenKeys = (value: Record<string, unknown>): string[] =>
  Object.keys(value).filter((key) => {
    const field = value[key];
    return field !== undefined && typeof field !== 'function' && typeof field !== 'symbol';
  });

/**
 * A flat copy of `text`: V8 builds long strings (JSON.stringify's, randomUUID's) as trees of cons
 * strings, which cost more than their characters while they are kept. Lossless for well-formed
 * UTF-16, which JSON.stringify always produces.
 */
export const flat = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

/** Upper bounds (ms) of the wake-up latency histogram's buckets; the last one is open. */
export const WAKE_UP_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 250, 500, 1_000, 2_500];

export interface HibernationCounts {
  /** Sessions hibernated right now (they count as `idle` too). */
  readonly hibernated: number;
  readonly hibernations: number;
  readonly wakeUps: number;
  /** Wake-ups by latency (actor restored → server rebuilt), one count per {@link WAKE_UP_BUCKETS_MS} bound, then the rest. */
  readonly wakeUpLatencyBuckets: readonly number[];
  readonly wakeUpLatencySumMs: number;
  /**
   * Hibernated sessions that ended without their actor being restored: the machine ran on their
   * persisted snapshot (idle deadline due, as in an expiry storm, or closed: evicted, deleted, shut down).
   */
  readonly endedAsleep: number;
}

export interface HibernationHooks {
  readonly clock: Clock;
  readonly idleTimeout: number;
  /** Absolute lifetime (ms) or `undefined`: a hibernated session's deadline is the earlier of the two. */
  readonly maxLifetime: number | undefined;
  /** A new actor from a persisted snapshot, its handle attached, started. */
  restore(session: SupervisedSession<unknown>, snapshot: unknown): SessionActor;
  /** One never-started actor every hibernated session points to instead of its stopped one. */
  placeholder(): SessionActor;
  /** Releases the server and transport, not the session. */
  release(session: SupervisedSession<unknown>): Promise<void>;
  /** Rebuilds the server (and replays the handshake); rejects if it cannot. */
  rebuild(session: SupervisedSession<unknown>): Promise<void>;
  /**
   * The session logic to run a hibernated session's end on without an actor (see
   * {@link runWithoutActor}); `undefined` to always restore an actor (e.g. while an inspector
   * watches, so that it sees the session wake and end).
   */
  actorlessLogic(): AnyStateMachine | undefined;
  /** What stands in for the session's actor as `self` in the runtime's actions of an actorless run. */
  standIn(session: SupervisedSession<unknown>, send: (event: AnyEventObject) => void): AnyActorRef;
}

/**
 * Hibernation of idle sessions. The machine decides when (`idle.awake` → `idle.hibernated` after
 * `hibernateAfter`, with nothing open); this does what its `hibernate` action asks:
 *
 * - keep the actor's persisted snapshot (JSON, ~0.5 KB), stop the actor, release server + transport;
 * - arm one clock timer at the idle deadline. Persisted snapshots keep no pending `after` timers
 *   (xstate #5331), so at the deadline the machine is sent `WAKE`: at or past a deadline it ends the
 *   session in that step (before one, it re-enters `idle` with what remains of the idle timeout);
 * - on the next request, restore the actor (synchronously, before any event reaches it) and rebuild
 *   the server once, however many requests arrive together.
 */
export class Hibernation {
  private hibernatedNow = 0;
  private hibernations = 0;
  private wakeUps = 0;
  private readonly latencyBuckets = new Array<number>(WAKE_UP_BUCKETS_MS.length + 1).fill(0);
  private latencySumMs = 0;
  /** Told each wake-up's latency (ms), e.g. by the metrics' histogram; see `subscribeWakeUps`. */
  readonly wakeUpListeners = new Set<(latencyMs: number) => void>();
  /** The timeouts of the first session hibernated, which the others share (see {@link compact}). */
  private sharedTimeouts: { json: string; value: unknown } | undefined;
  /**
   * Snapshot shapes shared by hibernated sessions, by index (see {@link compact}), the frames
   * parsed once: xstate only reads a frame when it restores a snapshot.
   */
  private readonly shapes: SnapshotShape[] = [];
  private readonly shapeIndex = new Map<string, number>();
  private endedAsleep = 0;

  constructor(private readonly hooks: HibernationHooks) {}

  /** The wake-up callback every hibernated session shares (see `Clock.setTimeoutFor`). */
  private readonly deadlineCame = (session: SupervisedSession<unknown>): void => this.deadline(session);

  counts(): HibernationCounts {
    return {
      hibernated: this.hibernatedNow,
      hibernations: this.hibernations,
      wakeUps: this.wakeUps,
      wakeUpLatencyBuckets: [...this.latencyBuckets],
      wakeUpLatencySumMs: this.latencySumMs,
      endedAsleep: this.endedAsleep,
    };
  }

  /** The `hibernate` entry action ran; acts once that transition is committed. */
  requested(session: SupervisedSession<unknown>): void {
    queueMicrotask(() => this.hibernate(session));
  }

  private hibernate(session: SupervisedSession<unknown>): void {
    const { actor } = session;
    // Something reached the session since the machine decided (it is no longer hibernated there).
    if (session.hibernation || !isHibernatedSnapshot(actor.getSnapshot())) return;
    const snapshot = this.compact(actor.getPersistedSnapshot() as unknown as PersistedSession);
    actor.stop();
    const { clock, idleTimeout, maxLifetime } = this.hooks;
    // The machine's next deadline: its idle timeout, or its lifetime if that comes first.
    const idleDeadline = session.lastActivityAt + idleTimeout;
    const deadline =
      maxLifetime === undefined ? idleDeadline : Math.min(idleDeadline, session.createdAt + maxLifetime);
    const remaining = Math.max(0, deadline - clock.now());
    // One shared callback when the clock offers it: a closure per session stayed for its whole sleep.
    const wakeUp = clock.setTimeoutFor
      ? clock.setTimeoutFor(this.deadlineCame, remaining, session)
      : clock.setTimeout(() => this.deadline(session), remaining);
    session.hibernation = snapshot;
    session.wakeUp = wakeUp;
    session.settleHibernated(this.hooks.placeholder());
    this.hibernatedNow += 1;
    this.hibernations += 1;
    session.logger?.debug({ snapshotBytes: snapshot.length }, 'session hibernated');
    this.hooks.release(session).catch((error: unknown) => {
      session.logger?.error({ err: error }, 'releasing the server of a hibernating session failed');
    });
  }

  /**
   * The persisted snapshot as kept while hibernated: without the session id (the handle has it) and
   * without the timeouts when they are the ones every session of this supervisor shares, as one flat
   * string. Heap snapshots showed the plain `JSON.stringify` result kept as a rope (cons strings,
   * ~100 B of nodes) and ~150 characters repeated in every session. What nearly every session
   * repeats, the frame and the context's key names, is kept once as a shape; a session keeps the
   * shape's index and its context's values: `0[1796155872845,true,…]`, ~70 characters instead of
   * ~195 (the names were two thirds of it).
   */
  private compact(persisted: PersistedSession): string {
    const { context } = persisted;
    const { sessionId: _sessionId, timeouts, ...rest } = context;
    const timeoutsJson = JSON.stringify(timeouts);
    this.sharedTimeouts ??= { json: timeoutsJson, value: Object.freeze(JSON.parse(timeoutsJson)) };
    const kept = timeoutsJson === this.sharedTimeouts.json ? rest : { ...rest, timeouts };
    // The frame (status, state value, history, children) and the context's keys are the same for
    // nearly every hibernated session: kept once, each session keeps the index and its values.
    const { context: _context, ...frame } = persisted;
    const keys = writtenKeys(kept);
    const frameJson = JSON.stringify(frame);
    const shapeKey = `${frameJson}${JSON.stringify(keys)}`;
    let index = this.shapeIndex.get(shapeKey);
    if (index === undefined && this.shapes.length < MAX_SHARED_SHAPES) {
      index =
        this.shapes.push({ frame: Object.freeze(JSON.parse(frameJson)), keys: Object.freeze(keys) }) - 1;
      this.shapeIndex.set(shapeKey, index);
    }
    if (index === undefined) return flat(JSON.stringify({ ...persisted, context: kept }));
    return flat(`${index}${JSON.stringify(keys.map((key) => kept[key]))}`);
  }

  private expand(session: SupervisedSession<unknown>, snapshot: string): PersistedSession {
    let persisted: PersistedSession;
    if (snapshot.charCodeAt(0) === OPENING_BRACE) persisted = JSON.parse(snapshot);
    else {
      const start = snapshot.indexOf('[');
      const { frame, keys } = this.shapes[Number(snapshot.slice(0, start))] as SnapshotShape;
      const values = JSON.parse(snapshot.slice(start)) as unknown[];
      const context: PersistedSession['context'] = {};
      for (let i = 0; i < keys.length; i++) context[keys[i] as string] = values[i];
      persisted = { ...frame, context };
    }
    persisted.context.sessionId = session.id;
    persisted.context.timeouts ??= this.sharedTimeouts?.value;
    return persisted;
  }

  /**
   * The deadline of a hibernated session came (idle timeout, or lifetime). The machine decides what
   * it means: `WAKE` is run on its snapshot without an actor, and if the machine ends the session
   * on it (a deadline passed), it expires and is disposed right there, no actor built. If it is not
   * due (the machine stays idle and would wait: a wheel that fired early), or the session still
   * holds something to release, an actor is restored as for a request and the machine's own timer
   * takes it from there.
   */
  private deadline(session: SupervisedSession<unknown>): void {
    const hibernation = session.hibernation;
    if (!hibernation) return;
    const logic = this.hooks.actorlessLogic();
    if (logic && session.server === undefined && session.cleanups === undefined) {
      const at = this.hooks.clock.now();
      const persisted = this.expand(session, hibernation);
      let committed = false;
      const snapshot = runWithoutActor(logic, persisted, {
        standIn: (send) => this.hooks.standIn(session, send),
        first: { type: 'WAKE', at },
        waits: didNotEnd,
        commit: () => {
          committed = true;
          this.forget(session);
        },
      });
      if (committed) {
        this.endedAsleep += 1;
        if (snapshot?.status !== 'done') {
          session.logger?.error(
            { state: snapshot?.value },
            'an actorless run of a hibernated session did not end',
          );
        }
        return;
      }
    }
    this.awaken(session);
  }

  /**
   * Ends a hibernated session (evicted, deleted, shut down) on its snapshot: `WAKE`, then `close`,
   * run without an actor as at its deadline. `false` (nothing done) when an actor is needed: an
   * inspector watches, or the session still holds something to release.
   */
  endAsleep(session: SupervisedSession<unknown>, close: AnyEventObject): boolean {
    const hibernation = session.hibernation;
    const logic = this.hooks.actorlessLogic();
    if (!hibernation || !logic || session.server !== undefined || session.cleanups !== undefined)
      return false;
    const snapshot = runWithoutActor(logic, this.expand(session, hibernation), {
      standIn: (send) => this.hooks.standIn(session, send),
      first: { type: 'WAKE', at: this.hooks.clock.now() },
      next: close,
      commit: () => this.forget(session),
    });
    this.endedAsleep += 1;
    if (snapshot?.status !== 'done') {
      session.logger?.error(
        { state: snapshot?.value },
        'an actorless run of a hibernated session did not end',
      );
    }
    return true;
  }

  /** The session leaves hibernation: no wake-up timer, not counted as hibernated. */
  private forget(session: SupervisedSession<unknown>): void {
    if (session.hibernation === undefined) return;
    this.hooks.clock.clearTimeout(session.wakeUp);
    session.hibernation = undefined;
    session.wakeUp = undefined;
    this.hibernatedNow -= 1;
  }

  /** Restores the actor from its snapshot and tells it so (`WAKE`); the server is not rebuilt here. */
  awaken(session: SupervisedSession<unknown>): void {
    const hibernation = session.hibernation;
    if (!hibernation) return;
    const { clock } = this.hooks;
    this.forget(session);
    session.actor = this.hooks.restore(session, this.expand(session, hibernation));
    session.actor.send({ type: 'WAKE', at: clock.now() });
  }

  /**
   * Wakes a hibernated session for a request: actor restored, server rebuilt, once for concurrent
   * callers. A failed rebuild ends the session with reason `failed` (the request then gets 404).
   */
  wake(session: SupervisedSession<unknown>): Promise<void> {
    if (session.waking) return session.waking;
    if (!session.hibernation) return Promise.resolve();
    const started = performance.now();
    this.awaken(session);
    // At or past its deadline the machine ended it on WAKE: nothing to rebuild, the request gets 404.
    if (!session.isLive) return Promise.resolve();
    this.wakeUps += 1;
    const waking = this.hooks
      .rebuild(session)
      .then(
        () => {
          const ms = performance.now() - started;
          this.recordLatency(ms);
          for (const listener of this.wakeUpListeners) listener(ms);
          session.logger?.debug({ wakeUpMs: Math.round(ms * 100) / 100 }, 'session woke up');
        },
        (error: unknown) => {
          session.logger?.error({ err: error }, 'rebuilding the server of a woken session failed');
          if (session.isLive) session.end('failed', this.hooks.clock.now());
        },
      )
      .finally(() => {
        session.waking = undefined;
      });
    session.waking = waking;
    return waking;
  }

  private recordLatency(ms: number): void {
    const index = WAKE_UP_BUCKETS_MS.findIndex((bound) => ms <= bound);
    const bucket = index === -1 ? WAKE_UP_BUCKETS_MS.length : index;
    this.latencyBuckets[bucket] = (this.latencyBuckets[bucket] ?? 0) + 1;
    this.latencySumMs += ms;
  }
}
