/**
 * Section 4: the floor. A plain `Map<id, { createdAt, lastActivityAt }>`, as the original
 * `SessionManager` kept it (no actors, no per-session timer; its expiry was a periodic sweep, not
 * measured here). Ids come from the same uuid v4 (`crypto.randomUUID`) the supervisor uses, so id generation is in both.
 */
import { randomUUID as uuidv4 } from 'node:crypto';
import { heapUsedAfterGc, type Sample, sample } from './timing.js';

interface Entry {
  createdAt: number;
  lastActivityAt: number;
}

class MapSessions {
  readonly entries = new Map<string, Entry>();

  admit(): string {
    const id = uuidv4();
    const at = Date.now();
    this.entries.set(id, { createdAt: at, lastActivityAt: at });
    return id;
  }

  dispose(id: string): boolean {
    return this.entries.delete(id);
  }
}

export interface BaselineResults {
  readonly churn: ReadonlyMap<number, Sample>;
  readonly activity: ReadonlyMap<number, Sample>;
  readonly heapPerEntry: ReadonlyMap<number, number>;
}

export interface BaselinePlan {
  readonly churnAt: readonly number[];
  readonly activityAt: readonly number[];
  readonly heapAt: readonly number[];
  readonly opsPerBatch: number;
  readonly batches: number;
}

/** Mirrors `admitDispose`: admit a fresh session, dispose it. */
function admitDispose(sessions: MapSessions, ops: number): void {
  for (let i = 0; i < ops; i++) sessions.dispose(sessions.admit());
}

/** Mirrors `activityPairs`: one lookup by id, then the begin and the end each stamp the time (2 events). */
function activityPairs(sessions: MapSessions, ids: readonly string[], pairs: number, offset: number): void {
  for (let i = 0; i < pairs; i++) {
    const entry = sessions.entries.get(ids[(offset + i) % ids.length] as string);
    if (!entry) throw new Error('baseline entry vanished');
    entry.lastActivityAt = Date.now();
    entry.lastActivityAt = Date.now();
  }
}

export async function runBaselineCase(plan: BaselinePlan): Promise<BaselineResults> {
  const sessions = new MapSessions();
  const ids: string[] = [];
  const heapEmpty = heapUsedAfterGc();
  const churn = new Map<number, Sample>();
  const activity = new Map<number, Sample>();
  const heapPerEntry = new Map<number, number>();
  const sizes = [...new Set([...plan.churnAt, ...plan.activityAt, ...plan.heapAt])].sort((a, b) => a - b);
  const options = { opsPerBatch: plan.opsPerBatch, batches: plan.batches, warmupOps: plan.opsPerBatch };
  let offset = 0;
  for (const size of sizes) {
    while (ids.length < size) ids.push(sessions.admit());
    if (plan.heapAt.includes(size)) heapPerEntry.set(size, (heapUsedAfterGc() - heapEmpty) / size);
    if (plan.churnAt.includes(size))
      churn.set(size, await sample((ops) => admitDispose(sessions, ops), options));
    if (plan.activityAt.includes(size)) {
      const work = (pairs: number): void => {
        activityPairs(sessions, ids, pairs, offset);
        offset += pairs;
      };
      activity.set(size, await sample(work, options));
    }
    if (sessions.entries.size !== size)
      throw new Error(`baseline holds ${sessions.entries.size}, not ${size}`);
  }
  return { churn, activity, heapPerEntry };
}
