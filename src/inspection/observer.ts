/**
 * The XState inspection observer: drops what the inspector cannot use, bounds the deferred work,
 * and hands the rest (sanitized) to an adapter, by default a socket to the relay.
 *
 * @module
 */
import type { AnyEventObject, InspectionEvent, MachineContext, Observer } from 'xstate';
import { SupervisorError } from '../errors.js';
import { createInspector } from './peers.js';
import { DEFAULT_INSPECTOR_PORT } from './relay-server.js';
import { sanitizeInspectedContext, sanitizeInspectedEvent } from './sanitize.js';
import { type InspectionAdapter, RelaySocketAdapter } from './socket-adapter.js';

/** Options of {@link createStatelyInspection}. */
export interface StatelyInspectionOptions {
  /** The relay's WebSocket URL (see {@link startInspectorRelay}). Default `ws://127.0.0.1:8080`. */
  url?: string;
  /**
   * Where to send events instead of a WebSocket: for tests, logging or a custom sink. `url`,
   * `maxBufferedEvents` and `reconnectDelay` are then unused.
   */
  adapter?: InspectionAdapter;
  /**
   * Which XState inspection events to forward, decided synchronously before any serialization is
   * spent on them. `actorId` is the id of the actor concerned: `'supervisor'`, `'session:<id>'`,
   * or the invoked `'prepare'` / `'release'`; e.g. `(_, id) => id === 'supervisor'` shows the
   * supervisor alone. Only `@xstate.actor`, `@xstate.event` and `@xstate.snapshot` ever reach it:
   * microsteps and actions are dropped first, since the inspector does not display them.
   */
  filter?: (event: InspectionEvent, actorId: string) => boolean;
  /** Replaces the default context allow-list ({@link sanitizeInspectedContext}). */
  sanitizeContext?: (context: MachineContext) => MachineContext;
  /** Replaces the default event allow-list ({@link sanitizeInspectedEvent}). */
  sanitizeEvent?: (event: AnyEventObject) => AnyEventObject;
  /**
   * Most events accepted but not yet serialized (the inspector defers each to a later turn of the
   * event loop). Beyond it new events are dropped and counted, so a burst of sessions cannot pile up
   * seconds of deferred work. Default 10 000.
   */
  maxPendingEvents?: number;
  /** Serialized events kept while the relay is unreachable; the oldest go first. Default 200. */
  maxBufferedEvents?: number;
  /** Wait before reconnecting to the relay, in ms. Default 1 000. */
  reconnectDelay?: number;
}

/** Counters of a {@link StatelyInspection}, for tests and for judging its cost. */
export interface InspectionStats {
  /** Handed to the inspector for serialization. */
  readonly forwarded: number;
  /** Left out on purpose: microsteps, actions, other types, and what `filter` refused. */
  readonly skipped: number;
  /** Refused because `maxPendingEvents` were already waiting. */
  readonly dropped: number;
  /** Serialized and given to the adapter (or socket). */
  readonly delivered: number;
  /** Forwarded but not yet delivered. */
  readonly pending: number;
}

/** What {@link createStatelyInspection} returns. */
export interface StatelyInspection {
  /** The observer to pass as the supervisor's `inspect` option. */
  readonly inspect: Observer<InspectionEvent>;
  stats(): InspectionStats;
  /** Resolves once every forwarded event has been delivered (serialization is deferred). */
  whenIdle(): Promise<void>;
  /** Stops forwarding, closes the socket (no reconnect afterwards), drops whatever is buffered. */
  stop(): void;
}

/** The only XState inspection events the Stately inspector displays. */
const FORWARDED_TYPES: ReadonlySet<string> = new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);

const positiveInteger = (option: string, value: number | undefined, fallback: number): number => {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new SupervisorError(
      'invalid-option',
      { option, value, expected: 'a whole number ≥ 1' },
      `Invalid option ${option} (expected a whole number ≥ 1)`,
    );
  }
  return resolved;
};

/**
 * Creates the inspection observer for the Stately inspector: pass `inspect` to the supervisor, and
 * run a relay ({@link startInspectorRelay}) for it to stream to. Meant for development: each
 * forwarded event is serialized (on a later turn of the event loop, off the request path), which
 * costs far more than the session itself (see `npm run bench:inspect`).
 *
 * Each session is its own root actor, so the inspector lists the supervisor and every session
 * side by side (with their invoked `prepare`/`release` actors), not as one tree.
 *
 * @example
 * ```ts
 * import { createSessionSupervisor } from 'mcp-session-supervisor';
 * import { createStatelyInspection, startInspectorRelay } from 'mcp-session-supervisor/inspection';
 *
 * const relay = await startInspectorRelay({ port: 8080 });        // 127.0.0.1 only
 * const inspection = createStatelyInspection({ url: relay.url });
 * const supervisor = createSessionSupervisor({ createServer, inspect: inspection.inspect });
 * console.log(`open ${relay.pageUrl} in a browser (it embeds https://stately.ai/inspect)`);
 * // on shutdown:
 * await supervisor.shutdown();
 * inspection.stop();
 * await relay.close();
 * ```
 */
export function createStatelyInspection(options: StatelyInspectionOptions = {}): StatelyInspection {
  const maxPending = positiveInteger('maxPendingEvents', options.maxPendingEvents, 10_000);
  const target =
    options.adapter ??
    new RelaySocketAdapter(
      options.url ?? `ws://127.0.0.1:${DEFAULT_INSPECTOR_PORT}`,
      positiveInteger('maxBufferedEvents', options.maxBufferedEvents, 200),
      positiveInteger('reconnectDelay', options.reconnectDelay, 1_000),
    );
  const filter = options.filter;
  let stopped = false;
  let forwarded = 0;
  let skipped = 0;
  let dropped = 0;
  let delivered = 0;
  let idleWaiters: Array<() => void> = [];

  const settleOne = (): void => {
    delivered += 1;
    if (forwarded === delivered && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  // Counts deliveries, and keeps events deferred before stop() from reaching the target after it.
  const adapter: InspectionAdapter = {
    start: () => target.start?.(),
    stop: () => target.stop?.(),
    send: (event) => {
      try {
        if (!stopped) target.send(event);
      } catch {
        // A failing sink must not throw inside the inspector's timer callback (it would crash the process).
      } finally {
        settleOne();
      }
    },
  };

  const inspector = createInspector(adapter, {
    sanitizeContext: options.sanitizeContext ?? sanitizeInspectedContext,
    sanitizeEvent: options.sanitizeEvent ?? sanitizeInspectedEvent,
  });
  inspector.start();

  const accepts = (event: InspectionEvent): boolean => {
    if (!FORWARDED_TYPES.has(event.type)) return false;
    if (filter === undefined) return true;
    try {
      return filter(event, (event.actorRef as { id?: unknown }).id?.toString() ?? '');
    } catch {
      return false;
    }
  };

  return {
    inspect: {
      next: (event) => {
        if (stopped || !accepts(event)) {
          skipped += 1;
          return;
        }
        if (forwarded - delivered >= maxPending) {
          dropped += 1;
          return;
        }
        forwarded += 1;
        inspector.inspect.next?.(event);
      },
    },
    stats: () => ({ forwarded, skipped, dropped, delivered, pending: forwarded - delivered }),
    whenIdle: () =>
      forwarded === delivered ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    stop: () => {
      if (stopped) return;
      stopped = true;
      inspector.stop();
    },
  };
}
