import type { SessionEndReason } from '../../machines/session.machine.js';
import type {
  AdmitRequest,
  AdmitResult,
  ClaimRequest,
  ClaimResult,
  ClusterListener,
  ClusterMessage,
  ClusterRegistry,
  ClusterSessionRecord,
  ClusterSessionState,
  ReassertEntry,
  TouchEntry,
  TouchOutcome,
} from './registry.js';

interface Entry {
  owner: string;
  state: ClusterSessionState;
  createdAt: number;
  lastActivityAt: number;
  expiresAt: number;
  readonly principal: string | undefined;
  readonly initialize: ClusterSessionRecord['initialize'];
}

/**
 * A {@link ClusterRegistry} held in memory: the cluster semantics (global cap, cluster-wide LRU,
 * takeover, messages to owners) for several supervisors in ONE process — tests, and a baseline
 * against which a networked registry's cost is measured. Same rules as the Redis scripts: records
 * expire `ttlMs` after their last write, ended sessions leave a tombstone for as long.
 *
 * @example
 * ```ts
 * const registry = new MemoryClusterRegistry();
 * const a = createSessionSupervisor({ createServer, cluster: { registry, nodeId: 'a' } });
 * const b = createSessionSupervisor({ createServer, cluster: { registry, nodeId: 'b' } });
 * ```
 */
export class MemoryClusterRegistry implements ClusterRegistry {
  private readonly sessions = new Map<string, Entry>();
  private readonly tombstones = new Map<string, { reason: SessionEndReason; expiresAt: number }>();
  private readonly listeners = new Map<string, ClusterListener>();
  private purgedAt = Number.NEGATIVE_INFINITY;

  /** @param now time source, ms (tests may pass a simulated one). */
  constructor(private readonly now: () => number = Date.now) {}

  async admit({ sessionId, nodeId, principal, initialize, limits }: AdmitRequest): Promise<AdmitResult> {
    const now = this.now();
    // Expired records still count until purged: purge when full (where it matters) or once a second.
    if (this.sessions.size >= limits.maxSessions || now - this.purgedAt >= 1_000) this.purge(now);
    const { maxSessionsPerPrincipal } = limits;
    if (principal !== undefined && maxSessionsPerPrincipal !== undefined) {
      let held = 0;
      for (const entry of this.sessions.values()) if (entry.principal === principal) held += 1;
      if (held >= maxSessionsPerPrincipal) return { admitted: false, code: 'principal-capacity' };
    }
    let evicted: { sessionId: string; owner: string } | undefined;
    while (this.sessions.size >= limits.maxSessions) {
      const victim = limits.whenFull === 'evict-idle-lru' ? this.leastRecentlyActiveIdle() : undefined;
      if (victim === undefined) return { admitted: false, code: 'capacity' };
      const owner = this.end(victim, 'evicted', limits.ttlMs, now, true);
      evicted = { sessionId: victim, owner: owner ?? '' };
    }
    this.sessions.set(sessionId, {
      owner: nodeId,
      state: 'created',
      createdAt: now,
      lastActivityAt: now,
      expiresAt: now + limits.ttlMs,
      principal,
      initialize,
    });
    return { admitted: true, evicted };
  }

  async claim({ sessionId, nodeId, principal, ttlMs }: ClaimRequest): Promise<ClaimResult | undefined> {
    const now = this.now();
    const entry = this.live(sessionId, now);
    if (!entry || entry.principal !== principal) return undefined;
    const previousOwner = entry.owner;
    if (previousOwner !== nodeId) {
      entry.owner = nodeId;
      this.deliver(previousOwner, { type: 'moved', sessionId, to: nodeId });
    }
    entry.state = 'active';
    entry.lastActivityAt = now;
    entry.expiresAt = now + ttlMs;
    return { previousOwner, record: toRecord(sessionId, entry) };
  }

  async touch(nodeId: string, entries: readonly TouchEntry[], ttlMs: number): Promise<TouchOutcome[]> {
    const now = this.now();
    return entries.map((entry) => this.touchOne(nodeId, entry, now, ttlMs));
  }

  async reassert(nodeId: string, entries: readonly ReassertEntry[], ttlMs: number): Promise<TouchOutcome[]> {
    const now = this.now();
    return entries.map((entry) => {
      const outcome = this.touchOne(nodeId, entry, now, ttlMs);
      if (outcome.status !== 'missing') return outcome;
      this.sessions.set(entry.sessionId, {
        owner: nodeId,
        state: entry.state,
        createdAt: now - entry.ageMs,
        lastActivityAt: now - entry.idleForMs,
        expiresAt: now + ttlMs,
        principal: entry.principal,
        initialize: entry.initialize,
      });
      return { status: 'recreated' };
    });
  }

  async release(
    sessionId: string,
    nodeId: string,
    reason: SessionEndReason,
    ttlMs: number,
  ): Promise<boolean> {
    const now = this.now();
    if (this.live(sessionId, now)?.owner !== nodeId) return false;
    this.end(sessionId, reason, ttlMs, now, false);
    return true;
  }

  async lookup(sessionId: string): Promise<ClusterSessionRecord | undefined> {
    const entry = this.live(sessionId, this.now());
    return entry && toRecord(sessionId, entry);
  }

  async count(): Promise<number> {
    this.purge(this.now());
    return this.sessions.size;
  }

  async listen(nodeId: string, listener: ClusterListener): Promise<() => Promise<void>> {
    if (this.listeners.has(nodeId)) throw new Error(`node ${nodeId} is already listening`);
    this.listeners.set(nodeId, listener);
    return async () => {
      if (this.listeners.get(nodeId) === listener) this.listeners.delete(nodeId);
    };
  }

  private touchOne(nodeId: string, touch: TouchEntry, now: number, ttlMs: number): TouchOutcome {
    const entry = this.live(touch.sessionId, now);
    if (!entry) {
      const tombstone = this.tombstones.get(touch.sessionId);
      if (tombstone && tombstone.expiresAt > now) return { status: 'ended', reason: tombstone.reason };
      return { status: 'missing' };
    }
    if (entry.owner !== nodeId) return { status: 'moved' };
    entry.state = touch.state;
    entry.lastActivityAt = now - touch.idleForMs;
    entry.expiresAt = now + ttlMs;
    return { status: 'ok' };
  }

  /** O(n): this registry serves tests and small clusters in one process, not 100 000 sessions. */
  private leastRecentlyActiveIdle(): string | undefined {
    let victim: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [id, entry] of this.sessions) {
      if (entry.state === 'idle' && entry.lastActivityAt < oldest) {
        oldest = entry.lastActivityAt;
        victim = id;
      }
    }
    return victim;
  }

  private end(
    sessionId: string,
    reason: SessionEndReason,
    ttlMs: number,
    now: number,
    notify: boolean,
  ): string | undefined {
    const entry = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    this.tombstones.set(sessionId, { reason, expiresAt: now + ttlMs });
    if (notify && entry) this.deliver(entry.owner, { type: 'ended', sessionId, reason });
    return entry?.owner;
  }

  private live(sessionId: string, now: number): Entry | undefined {
    const entry = this.sessions.get(sessionId);
    if (entry && entry.expiresAt <= now) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return entry;
  }

  private purge(now: number): void {
    this.purgedAt = now;
    for (const [id, entry] of this.sessions) if (entry.expiresAt <= now) this.sessions.delete(id);
    for (const [id, tombstone] of this.tombstones) if (tombstone.expiresAt <= now) this.tombstones.delete(id);
  }

  /** Asynchronously, as pub/sub would: the decision's caller never runs the receiver's reaction inline. */
  private deliver(nodeId: string, message: ClusterMessage): void {
    queueMicrotask(() => this.listeners.get(nodeId)?.message(message));
  }
}

const toRecord = (sessionId: string, entry: Entry): ClusterSessionRecord => ({
  sessionId,
  owner: entry.owner,
  state: entry.state,
  createdAt: entry.createdAt,
  lastActivityAt: entry.lastActivityAt,
  principal: entry.principal,
  initialize: entry.initialize,
});
