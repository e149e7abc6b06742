/**
 * Sections 1–3: the real supervisor (`createSessionSupervisor`) with no `createServer`, so what is
 * measured is the actor layer alone: admission, session actors, timers, registry and accounting.
 */
import {
  createSessionSupervisor,
  type SessionSupervisor,
  type SessionSupervisorOptions,
  type SupervisedSession,
} from '../src/index.js';
import { progress } from './report.js';
import { heapUsedAfterGc, msSince, now, type Sample, sample } from './timing.js';

export type Supervisor = SessionSupervisor<unknown>;
type Session = SupervisedSession<unknown>;

/** Sessions opened per `await` while filling: enough to amortize the await, few enough to stay responsive. */
const FILL_CHUNK = 1_000;
/** Admit+dispose cycles in flight together: the live count stays within N…N+100 during a batch. */
const CHURN_CHUNK = 100;

/** Idle sessions kept alive by the bench: handles in admission order, plus their ids. */
export class LivePool {
  readonly sessions: Session[] = [];
  readonly ids: string[] = [];
}

/** A supervisor sized for the bench: no cap in the way, and an idle timeout no case outlives. */
/**
 * `BENCH_V8_PRETENURING=keep` (or `off`): the supervisors' `v8Pretenuring`; unset, their default
 * (`'off'`). The flag is process-wide, so it holds for the floor measured beside them too.
 */
export const BENCH_V8_PRETENURING = ((): 'off' | 'keep' | undefined => {
  const value = process.env.BENCH_V8_PRETENURING;
  if (value === undefined || value === '') return undefined;
  if (value !== 'off' && value !== 'keep') throw new Error('BENCH_V8_PRETENURING must be off or keep');
  return value;
})();

export function benchSupervisor(options: SessionSupervisorOptions<unknown> = {}): Supervisor {
  return createSessionSupervisor({
    maxSessions: 1_000_000,
    idleTimeout: '1h',
    ...(BENCH_V8_PRETENURING ? { v8Pretenuring: BENCH_V8_PRETENURING } : {}),
    ...options,
  });
}

/** Opens sessions until `target` are live and idle, the way the HTTP layer does: open, ready, initialized. */
export async function fillIdle(supervisor: Supervisor, pool: LivePool, target: number): Promise<number> {
  const started = now();
  const before = pool.sessions.length;
  while (pool.sessions.length < target) {
    const count = Math.min(FILL_CHUNK, target - pool.sessions.length);
    const batch = Array.from({ length: count }, () => supervisor.open());
    await Promise.all(batch.map((session) => session.ready()));
    for (const session of batch) {
      session.markInitialized();
      pool.sessions.push(session);
      pool.ids.push(session.id);
    }
  }
  assertIdle(supervisor, target);
  return ((pool.sessions.length - before) * 1000) / msSince(started);
}

/** The figures below are only meaningful if every pooled session really is live and idle. */
export function assertIdle(supervisor: Supervisor, expected: number): void {
  const { byState, liveSessions } = supervisor.getStatistics();
  if (byState.idle !== expected || liveSessions !== expected) {
    throw new Error(`expected ${expected} idle sessions, found ${JSON.stringify(byState)}`);
  }
}

/** `ops` cycles of open() + close() + await whenDisposed(), CHURN_CHUNK at a time. */
export async function admitDispose(supervisor: Supervisor, ops: number): Promise<void> {
  for (let done = 0; done < ops; ) {
    const count = Math.min(CHURN_CHUNK, ops - done);
    const disposals: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const session = supervisor.open();
      supervisor.close(session.id);
      disposals.push(session.whenDisposed());
    }
    await Promise.all(disposals);
    done += count;
  }
}

/**
 * `ops` full lifecycles, as initialize → DELETE over HTTP: open(), await ready(), markInitialized()
 * (→ idle, idle timer armed), close(), await whenDisposed(). Unlike {@link admitDispose}, the
 * server is built before the close, so no pending `prepareSession` promise actor is aborted.
 */
export async function admitInitializeDispose(supervisor: Supervisor, ops: number): Promise<void> {
  for (let done = 0; done < ops; ) {
    const count = Math.min(CHURN_CHUNK, ops - done);
    const batch = Array.from({ length: count }, () => supervisor.open());
    await Promise.all(batch.map((session) => session.ready()));
    const disposals = batch.map((session) => {
      session.markInitialized();
      supervisor.close(session.id);
      return session.whenDisposed();
    });
    await Promise.all(disposals);
    done += count;
  }
}

/**
 * `pairs` request begin/end pairs, round-robin over the pool. Each pair looks the session up by id
 * (as a request carrying `Mcp-Session-Id` would), then sends REQUEST.START (idle → active, idle
 * timer cancelled) and REQUEST.END (active → idle, idle timer re-armed): 2 activity events.
 */
export function activityPairs(supervisor: Supervisor, pool: LivePool, pairs: number, offset: number): void {
  const { ids } = pool;
  for (let i = 0; i < pairs; i++) {
    const id = ids[(offset + i) % ids.length] as string;
    const session = supervisor.get(id);
    if (!session) throw new Error(`session ${id} vanished during the activity bench`);
    const end = session.beginRequest();
    end();
  }
}

/**
 * `pairs` request begin/end pairs on ONE session (the hot key): the same session looked up by id
 * and made active then idle again, over and over (2 activity events per pair).
 */
export function hotActivityPairs(supervisor: Supervisor, sessionId: string, pairs: number): void {
  for (let i = 0; i < pairs; i++) {
    const session = supervisor.get(sessionId);
    if (!session) throw new Error(`session ${sessionId} vanished during the activity bench`);
    const end = session.beginRequest();
    end();
  }
}

/**
 * `pairs` nested requests in a session that is already busy (one request stays in flight around
 * them): what a second concurrent call costs.
 */
export function nestedActivityPairs(supervisor: Supervisor, sessionId: string, pairs: number): void {
  const session = supervisor.get(sessionId);
  if (!session) throw new Error(`session ${sessionId} vanished during the activity bench`);
  const outer = session.beginRequest();
  for (let i = 0; i < pairs; i++) session.beginRequest()();
  outer();
}

/** The two admit+dispose cycles timed, by the name the report prints. */
export const CYCLES = {
  'open+close': admitDispose,
  'open+ready+init+close': admitInitializeDispose,
} as const;
export type CycleName = keyof typeof CYCLES;
const CYCLE_NAMES = Object.keys(CYCLES) as CycleName[];

export interface SupervisorResults {
  /** Admit+dispose samples by cycle, then by live size. */
  readonly churn: ReadonlyMap<CycleName, ReadonlyMap<number, Sample>>;
  readonly activity: ReadonlyMap<number, Sample>;
  readonly heapPerSession: ReadonlyMap<number, number>;
  readonly fillRate: ReadonlyMap<number, number>;
  readonly shutdownMs: number;
  readonly shutdownSessions: number;
}

export interface SupervisorPlan {
  /** Live sizes at which admit+dispose is timed, ascending. */
  readonly churnAt: readonly number[];
  /** Live sizes at which activity is timed. */
  readonly activityAt: readonly number[];
  /** Live sizes at which heap per idle session is read. */
  readonly heapAt: readonly number[];
  readonly churnOpsPerBatch: number;
  readonly activityPairsPerBatch: number;
  readonly batches: number;
}

/**
 * Grows one supervisor through every size of the plan: fill, then (after a GC) read the heap,
 * then time admit+dispose and activity at that size. One supervisor for all sizes keeps the JIT
 * state comparable between sizes; the heap baseline is read before the first session.
 */
export async function runSupervisorCase(plan: SupervisorPlan): Promise<SupervisorResults> {
  const supervisor = benchSupervisor();
  const pool = new LivePool();
  const heapEmpty = heapUsedAfterGc();
  const churn = new Map(CYCLE_NAMES.map((name) => [name, new Map<number, Sample>()]));
  const activity = new Map<number, Sample>();
  const heapPerSession = new Map<number, number>();
  const fillRate = new Map<number, number>();
  const sizes = [...new Set([...plan.churnAt, ...plan.activityAt, ...plan.heapAt])].sort((a, b) => a - b);
  let offset = 0;
  for (const size of sizes) {
    progress(`supervisor: filling to ${size} idle sessions`);
    fillRate.set(size, await fillIdle(supervisor, pool, size));
    if (plan.heapAt.includes(size)) heapPerSession.set(size, (heapUsedAfterGc() - heapEmpty) / size);
    if (plan.churnAt.includes(size)) {
      for (const name of CYCLE_NAMES) {
        progress(`supervisor: admit+dispose (${name}) at ${size} live`);
        const cycle = CYCLES[name];
        const measured = await sample((ops) => cycle(supervisor, ops), {
          opsPerBatch: plan.churnOpsPerBatch,
          batches: plan.batches,
          warmupOps: plan.churnOpsPerBatch / 2,
        });
        churn.get(name)?.set(size, measured);
        assertIdle(supervisor, size);
      }
    }
    if (plan.activityAt.includes(size)) {
      progress(`supervisor: activity at ${size} live`);
      const work = (pairs: number): void => {
        activityPairs(supervisor, pool, pairs, offset);
        offset += pairs;
      };
      activity.set(
        size,
        await sample(work, {
          opsPerBatch: plan.activityPairsPerBatch,
          batches: plan.batches,
          warmupOps: plan.activityPairsPerBatch / 2,
        }),
      );
      assertIdle(supervisor, size);
    }
  }
  progress(`supervisor: shutdown with ${pool.sessions.length} idle sessions`);
  const shutdownStarted = now();
  await supervisor.shutdown({ grace: '1s' });
  return {
    churn,
    activity,
    heapPerSession,
    fillRate,
    shutdownMs: msSince(shutdownStarted),
    shutdownSessions: pool.sessions.length,
  };
}

/** Runs every code path once at a small size so the first measured size is not paying for the JIT. */
export async function warmUpSupervisor(): Promise<void> {
  const supervisor = benchSupervisor();
  const pool = new LivePool();
  await fillIdle(supervisor, pool, 2_000);
  await admitDispose(supervisor, 5_000);
  await admitInitializeDispose(supervisor, 5_000);
  activityPairs(supervisor, pool, 20_000, 0);
  await supervisor.shutdown({ grace: '1s' });
}
