import type { Clock } from '../clock.js';
import type { ClusterRegistry, TouchEntry, TouchOutcome } from './registry.js';

/** What the reporter needs of one session this node holds. */
export interface ReportedSession {
  readonly sessionId: string;
  /** Activity as last seen locally. */
  activity: 'active' | 'idle';
  /** Clock time of the last write to the registry (`-Infinity`: never). */
  touchedAt: number;
  /** When the last request or stream event happened, by the node's clock. */
  readonly lastActivityAt: number;
  /** False once the session ended here or another node took it: its writes are dropped. */
  readonly reportable: boolean;
}

export interface ActivityReporterOptions {
  readonly registry: ClusterRegistry;
  readonly nodeId: string;
  readonly clock: Clock;
  /** Least time between two writes for one session (except the first wake-up after a quiet spell). */
  readonly touchInterval: number;
  /** How often a session busy all along (long stream) gets its record's expiry pushed back. */
  readonly refreshInterval: number;
  readonly ttlMs: number;
  /** What the registry answered for a session. */
  readonly settle: (session: ReportedSession, outcome: TouchOutcome) => void;
  /** A write failed (registry unreachable): the sessions are marked for the next round. */
  readonly failed: (error: unknown) => void;
}

/**
 * Keeps the registry's view of this node's sessions (state, last activity, expiry) close enough
 * without a write per request: each session is written at most about once per `touchInterval`,
 * batched into one registry call per flush, off the request path (requests never await it).
 *
 * A session waking after a quiet spell is written at once, because until the registry knows it is
 * busy it is a candidate for cluster-wide LRU eviction.
 */
export class ActivityReporter {
  private readonly dirty = new Set<ReportedSession>();
  private readonly busy = new Set<ReportedSession>();
  private flushScheduled = false;

  constructor(private readonly options: ActivityReporterOptions) {}

  /** A session moved between active and idle. O(1); writes happen later, in batches. */
  note(session: ReportedSession, activity: 'active' | 'idle', at: number): void {
    session.activity = activity;
    this.dirty.add(session);
    if (activity === 'active') this.busy.add(session);
    else this.busy.delete(session);
    if (activity === 'active' && at - session.touchedAt >= this.options.touchInterval) this.flushSoon();
  }

  /** The session ended here or left for another node: nothing more to report for it. */
  forget(session: ReportedSession): void {
    this.dirty.delete(session);
    this.busy.delete(session);
  }

  /**
   * The periodic round: every changed session, plus busy ones whose record would otherwise
   * expire. Returns once the registry answered (or failed).
   */
  flushAll(): Promise<void> {
    const now = this.options.clock.now();
    for (const session of this.busy) {
      if (now - session.touchedAt >= this.options.refreshInterval) this.dirty.add(session);
    }
    return this.flush(now, false);
  }

  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the current burst of events: one registry call carries every session due by then.
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush(this.options.clock.now(), true);
    });
  }

  private async flush(now: number, onlyDue: boolean): Promise<void> {
    const { touchInterval, registry, nodeId, ttlMs, settle, failed } = this.options;
    const sessions: ReportedSession[] = [];
    const entries: TouchEntry[] = [];
    for (const session of this.dirty) {
      if (onlyDue && now - session.touchedAt < touchInterval) continue;
      this.dirty.delete(session);
      if (!session.reportable) continue;
      session.touchedAt = now;
      sessions.push(session);
      entries.push({
        sessionId: session.sessionId,
        state: session.activity,
        idleForMs: session.activity === 'idle' ? Math.max(0, now - session.lastActivityAt) : 0,
      });
    }
    if (entries.length === 0) return;
    let outcomes: TouchOutcome[];
    try {
      outcomes = await registry.touch(nodeId, entries, ttlMs);
    } catch (error) {
      // Tried again next round; after a reconnection the node reasserts everything anyway.
      for (const session of sessions) {
        session.touchedAt = Number.NEGATIVE_INFINITY;
        if (session.reportable) this.dirty.add(session);
      }
      failed(error);
      return;
    }
    outcomes.forEach((outcome, index) => {
      const session = sessions[index];
      if (session) settle(session, outcome);
    });
  }
}
