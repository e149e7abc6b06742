import type { TrafficEvent, TrafficListener } from '../http/era-router.js';
import type { SessionSupervisor } from '../supervisor.js';

/*
 * The sessionless (2026-07-28) leg as the live view shows it. That leg opens no session, so there is
 * nothing to draw on the charts: it is counted per request, like the metrics do.
 *
 * Memory is bounded whatever the traffic: one counter per method label (the router already folds
 * unknown methods into `other`; past MAX_METHODS more are folded here too), one per status class,
 * and a ring of RATE_WINDOW_S one-second buckets for the recent rate. No request is kept.
 */

/** The recent rate is requests over this many seconds (the current one included), divided by it. */
export const RATE_WINDOW_S = 10;
/** Method labels kept apart; any further one is counted as `other`. */
const MAX_METHODS = 32;

/** What the page shows of the modern leg: totals since the live view was created, and the rate now. */
export interface LiveModernTraffic {
  /** The supervisor serves the 2026-07-28 revision (it was given a `modern` handler). */
  readonly served: boolean;
  /** Requests the modern leg answered. */
  readonly total: number;
  /** Per JSON-RPC method (or `batch`, `response`, `other`; `GET`/`DELETE` for those HTTP methods). */
  readonly byMethod: Readonly<Record<string, number>>;
  /** Per HTTP status class: `2xx`, `4xx`… (only classes seen). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Requests per second over the last {@link RATE_WINDOW_S} seconds. */
  readonly perSecond: number;
  /** Wall-clock time of the last request, when there was one. */
  readonly lastAt: number | undefined;
}

/** What the live view needs of a supervisor serving both eras (`McpSessionSupervisor`). */
interface TrafficSource {
  subscribeTraffic(listener: TrafficListener): () => void;
  readonly servesModernEra?: boolean;
}

/** Counts of the modern leg's requests: O(1) per request, constant memory. */
export class ModernTrafficTally {
  private total = 0;
  private readonly byMethod = new Map<string, number>();
  private readonly byStatus = new Map<string, number>();
  /** Ring of per-second counts: `seconds[i]` says which second `counts[i]` holds. */
  private readonly seconds = new Array<number>(RATE_WINDOW_S).fill(-1);
  private readonly counts = new Array<number>(RATE_WINDOW_S).fill(0);
  private lastAt: number | undefined;

  constructor(private readonly served: boolean) {}

  record(event: TrafficEvent): void {
    this.total += 1;
    const method =
      this.byMethod.has(event.method) || this.byMethod.size < MAX_METHODS ? event.method : 'other';
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
    const status = `${Math.floor(event.status / 100)}xx`;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    const second = Math.floor(event.at / 1000);
    const slot = second % RATE_WINDOW_S;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + 1;
    this.lastAt = Math.max(this.lastAt ?? event.at, event.at);
  }

  /** The counts as of `now` (wall-clock ms, the clock of the events' `at`). */
  summary(now: number): LiveModernTraffic {
    const current = Math.floor(now / 1000);
    let recent = 0;
    for (let slot = 0; slot < RATE_WINDOW_S; slot += 1) {
      const age = current - (this.seconds[slot] ?? -1);
      if (age >= 0 && age < RATE_WINDOW_S) recent += this.counts[slot] ?? 0;
    }
    return {
      served: this.served,
      total: this.total,
      byMethod: Object.fromEntries(this.byMethod),
      byStatus: Object.fromEntries(this.byStatus),
      perSecond: recent / RATE_WINDOW_S,
      lastAt: this.lastAt,
    };
  }
}

/**
 * Counts `supervisor`'s modern traffic from now on; `stop` unsubscribes. A supervisor without a
 * modern leg (no `modern` handler, or not an `McpSessionSupervisor`) gives a tally that stays empty
 * and says it is not served.
 */
export function countModernTraffic(supervisor: SessionSupervisor<unknown>): {
  readonly tally: ModernTrafficTally;
  stop(): void;
} {
  const source = supervisor as Partial<TrafficSource>;
  const served = typeof source.subscribeTraffic === 'function' && source.servesModernEra === true;
  const tally = new ModernTrafficTally(served);
  const stop = served ? (source as TrafficSource).subscribeTraffic((event) => tally.record(event)) : () => {};
  return { tally, stop };
}
