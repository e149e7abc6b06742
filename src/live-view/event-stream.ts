import type { ServerResponse } from 'node:http';
import type { SupervisorEvent } from '../events.js';
import type { SessionSupervisor, SupervisorStatistics } from '../supervisor.js';
import type { LiveCharts } from './charts.js';
import type { ModernTrafficTally } from './modern-traffic.js';
import { chartState, clientName, type LiveEvent, takeSnapshot } from './snapshot.js';

export interface EventStreamLimits {
  /** Most pages streaming at once. */
  readonly maxClients: number;
  readonly maxListedSessions: number;
  /** Comment line sent this often (ms) so idle proxies keep the stream open. */
  readonly heartbeatMs: number;
}

/** Events are sent in batches this often (ms): one write per page per batch, one statistics read. */
const FLUSH_MS = 50;
/**
 * With no event to send, statistics (in flight, phase) and the modern leg's counts (whose requests
 * are not supervisor events) still reach the pages this often (ms).
 */
const TICK_MS = 1_000;
/** More events than this in one batch: drop them and send a fresh snapshot instead... */
const MAX_PENDING_EVENTS = 1_000;
/** ...no sooner than this (ms), since a snapshot lists every live session. */
const RESYNC_MS = 1_000;
/** A page that reads slower than this much output is behind for good: drop it (it reconnects). */
const MAX_BUFFERED_BYTES = 1 << 20;

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  // Reverse proxies (nginx) would otherwise buffer the stream.
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
} as const;

const sseMessage = (event: string, data: unknown): string =>
  `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * The `<base>/events` stream: a snapshot on connect, then every supervisor event, in batches.
 * It listens to the supervisor only while at least one page is open, so a live view nobody
 * watches costs the supervisor nothing (it builds no events without listeners).
 */
export class LiveEventStream {
  private readonly clients = new Set<ServerResponse>();
  private pending: LiveEvent[] = [];
  /** Numbers every supervisor event, so a page can skip those its snapshot already includes. */
  private seq = 0;
  private overflowed = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private tick: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Times each drawn arrow was taken while listening, by transition id. */
  private readonly taken = new Map<string, number>();
  /** The statistics at the last flush, to see the phase move and count unannounced moves. */
  private lastStats: SupervisorStatistics | undefined;

  constructor(
    private readonly supervisor: SessionSupervisor<unknown>,
    private readonly charts: LiveCharts,
    private readonly limits: EventStreamLimits,
    private readonly traffic: ModernTrafficTally,
  ) {}

  /** Pages streaming now. */
  get size(): number {
    return this.clients.size;
  }

  /** Streams to `res` until either side closes; `false` (nothing written) when full. */
  add(res: ServerResponse): boolean {
    if (this.clients.size >= this.limits.maxClients) return false;
    if (this.clients.size === 0) this.start();
    this.clients.add(res);
    // `close` on the response: the connection went away (or we ended it); the request's own
    // `close` only says its body was read.
    const drop = () => this.remove(res);
    res.once('close', drop);
    res.once('error', drop);
    res.writeHead(200, SSE_HEADERS);
    this.write(res, 'retry: 2000\n\n');
    this.write(res, sseMessage('snapshot', this.snapshot()));
    return true;
  }

  /** Ends every stream and stops listening to the supervisor. */
  close(): void {
    for (const res of [...this.clients]) {
      this.remove(res);
      res.end();
    }
  }

  private snapshot() {
    return takeSnapshot(
      this.supervisor,
      this.charts,
      this.taken,
      this.seq,
      this.limits.maxListedSessions,
      // The traffic's times are wall-clock (see TrafficEvent.at), whatever clock the supervisor runs.
      this.traffic.summary(Date.now()),
    );
  }

  private count(ids: readonly string[]): void {
    for (const id of ids) this.taken.set(id, (this.taken.get(id) ?? 0) + 1);
  }

  private start(): void {
    this.lastStats = this.supervisor.getStatistics();
    this.unsubscribe = this.supervisor.subscribe((event) => this.record(event));
    this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), this.limits.heartbeatMs);
    this.heartbeat.unref();
    this.tick = setInterval(() => {
      if (this.flushTimer === undefined) this.flush();
    }, TICK_MS);
    this.tick.unref();
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res) || this.clients.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    clearInterval(this.tick);
    this.tick = undefined;
    clearTimeout(this.flushTimer);
    this.heartbeat = undefined;
    this.flushTimer = undefined;
    this.pending = [];
    this.overflowed = false;
    this.taken.clear();
  }

  /** Called synchronously inside the supervisor's transitions: queue, never write here. */
  private record(event: SupervisorEvent): void {
    this.seq += 1;
    const transitions = event.type === 'transition' ? this.charts.sessionTransitions(event) : [];
    this.count(transitions);
    if (this.overflowed) return;
    if (this.pending.length >= MAX_PENDING_EVENTS) {
      this.overflowed = true;
      this.pending = [];
      clearTimeout(this.flushTimer);
      this.schedule(RESYNC_MS);
      return;
    }
    if (event.type === 'rejected') {
      this.pending.push({ ...event, seq: this.seq });
    } else {
      // Who the session is for is read once, when it appears; later events do not repeat it.
      const session = event.to === 'created' ? this.supervisor.get(event.sessionId) : undefined;
      this.pending.push({
        ...event,
        seq: this.seq,
        client: clientName(session?.metadata),
        principal: session?.principal,
        transitions,
      });
    }
    if (this.flushTimer === undefined) this.schedule(FLUSH_MS);
  }

  private schedule(ms: number): void {
    this.flushTimer = setTimeout(() => this.flush(), ms);
    this.flushTimer.unref();
  }

  private flush(): void {
    this.flushTimer = undefined;
    const stats = this.supervisor.getStatistics();
    const before = this.lastStats;
    if (before !== undefined) {
      if (stats.phase !== before.phase)
        this.count(this.charts.supervisorTransitions(before.phase, stats.phase));
      for (const [id, times] of this.charts.countedMoves(before, stats)) {
        this.taken.set(id, (this.taken.get(id) ?? 0) + times);
      }
    }
    this.lastStats = stats;
    if (this.overflowed) {
      this.overflowed = false;
      this.broadcast(sseMessage('snapshot', this.snapshot()));
      return;
    }
    const events = this.pending;
    this.pending = [];
    const batch = {
      now: this.supervisor.options.clock.now(),
      stats,
      ...chartState(this.charts, stats, this.taken),
      modern: this.traffic.summary(Date.now()),
      events,
    };
    this.broadcast(sseMessage('batch', batch));
  }

  private broadcast(text: string): void {
    for (const res of [...this.clients]) this.write(res, text);
  }

  private write(res: ServerResponse, text: string): void {
    if (res.destroyed || res.writableEnded) return;
    res.write(text);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.remove(res);
      res.destroy();
    }
  }
}
