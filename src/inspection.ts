/**
 * Watching the supervisor and its sessions in the Stately inspector (https://stately.ai/inspect).
 *
 * Kept out of the main entry point on purpose: it loads `@statelyai/inspect` and `ws`, which an
 * application that never inspects should not pay for. Import it from `mcp-session-supervisor/inspection`.
 *
 * Two pieces:
 * - {@link createStatelyInspection}: the XState inspection observer to give the supervisor as
 *   `inspect`. It drops what the inspector cannot use before any work is spent on it, reduces every
 *   context and event to an explicit allow-list (no request bodies, no metadata, no principals), and
 *   streams the rest over a WebSocket to a relay.
 * - {@link startInspectorRelay}: that relay, listening on loopback only. It serves a page that
 *   embeds the hosted Stately inspector and forwards the events into it; a browser with internet
 *   access opens that page.
 *
 * Why not `createWebSocketInspector` and `createInspectorServer` of `@statelyai/inspect` 0.7.2 as
 * they are: the server listens on every interface with no host option, checks neither `Host` nor
 * `Origin` (any web page the developer visits could read the events), and cannot run on port 0; the
 * client, once stopped while unable to connect, retries every 5 s forever and so keeps the process
 * alive (verified), never reconnects after the relay restarts, and resends its whole buffer on each
 * reconnect. Here `createInspector` of `@statelyai/inspect` still turns XState events into the
 * inspector's wire format; the socket and the relay are ours, and speak the same protocol, so
 * `createWebSocketInspector` and `createWebSocketReceiver` work with this relay too.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo, isIPv4, isIPv6 } from 'node:net';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import type { WebSocket as WebSocketType } from 'ws';
import type { AnyEventObject, InspectionEvent, MachineContext, Observer } from 'xstate';
import { SupervisorError } from './errors.js';
import { importPeer } from './peer.js';

// Optional peer dependencies, loaded by this subpath only; missing ones fail the import with a
// `missing-peer-dependency` error naming the package.
const FEATURE = 'mcp-session-supervisor/inspection';
const { createInspector } = await importPeer(
  '@statelyai/inspect',
  FEATURE,
  () => import('@statelyai/inspect'),
);
const { WebSocket, WebSocketServer } = await importPeer('ws', FEATURE, () => import('ws'));

/** The relay's default port, the same as `@statelyai/inspect/server`. */
export const DEFAULT_INSPECTOR_PORT = 8080;

/** The hosted inspector the relay page embeds. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';

/** Where inspection events go: the shape `createInspector` of `@statelyai/inspect` drives. */
export interface InspectionAdapter {
  start?: () => void;
  stop?: () => void;
  /** Receives each event in the inspector's wire format, after sanitizing; must not throw. */
  send(event: StatelyInspectionEvent): void;
}

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

/**
 * Context fields that may leave the process, from the session and supervisor machines. An
 * allow-list rather than a deny-list: a field added to a machine later stays private until it is
 * named here.
 */
export const INSPECTED_CONTEXT_KEYS: ReadonlySet<string> = new Set([
  // session.machine.ts
  'sessionId',
  'createdAt',
  'timeouts',
  'streamsCountAsActivity',
  'lastActivityAt',
  'requestsInFlight',
  'openStreams',
  'requests',
  'prepared',
  'reason',
  'endedAt',
  'releaseIncomplete',
  // supervisor.machine.ts
  'maxSessions',
  'whenFull',
  'maxSessionsPerPrincipal',
  'counts',
  'admitted',
  'rejected',
  'ended',
  'disposed',
  'grace',
]);

/** Event fields that may leave the process besides `type`: what the machines' events carry. */
export const INSPECTED_EVENT_KEYS: ReadonlySet<string> = new Set([
  'at',
  'reason',
  'sessionId',
  'from',
  'to',
  'code',
  'grace',
  'principalSessions',
  // xstate.done.actor.* / xstate.error.actor.*
  'actorId',
]);

/** Longer strings are cut: nothing the machines hold is longer, so anything longer is not ours. */
const MAX_STRING_LENGTH = 256;

type Scalar = string | number | boolean | null;

function scalar(value: unknown): Scalar | undefined {
  if (typeof value === 'string')
    return value.length > MAX_STRING_LENGTH ? value.slice(0, MAX_STRING_LENGTH) : value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  return undefined;
}

/** A scalar, or a flat record of scalars (the machines' `timeouts`, `counts`, `ended`). */
function flatValue(value: unknown): Scalar | Record<string, Scalar> | undefined {
  const plain = scalar(value);
  if (plain !== undefined || typeof value !== 'object' || value === null || Array.isArray(value))
    return plain;
  const record: Record<string, Scalar> = {};
  let fields = 0;
  for (const [key, item] of Object.entries(value)) {
    const kept = scalar(item);
    if (kept === undefined) continue;
    record[key] = kept;
    // The machines' records have at most 7 fields: a large one is something else, not ours.
    if (++fields >= 32) break;
  }
  return record;
}

/**
 * The default context sanitizer: keeps only the fields in {@link INSPECTED_CONTEXT_KEYS}, and only
 * scalars or flat records of scalars, so neither a body, a server object, metadata nor a principal
 * can reach the inspector whatever a context happens to hold. Never throws.
 */
export function sanitizeInspectedContext(context: MachineContext): MachineContext {
  const kept: MachineContext = {};
  if (typeof context !== 'object' || context === null) return kept;
  try {
    for (const key of INSPECTED_CONTEXT_KEYS) {
      const value = flatValue((context as Record<string, unknown>)[key]);
      if (value !== undefined) kept[key] = value;
    }
  } catch {
    // A throwing getter on a foreign context: show nothing rather than fail the deferred send.
  }
  return kept;
}

/**
 * The default event sanitizer: `type` plus the scalar fields in {@link INSPECTED_EVENT_KEYS}. An
 * `error` (of `xstate.error.actor.*`) is reduced to its name and message; `input` (of
 * `xstate.init`) and `output` are dropped: the context they become is shown, sanitized. Never throws.
 */
export function sanitizeInspectedEvent(event: AnyEventObject): AnyEventObject {
  try {
    const kept: AnyEventObject = { type: String(event.type) };
    for (const key of INSPECTED_EVENT_KEYS) {
      const value = scalar((event as Record<string, unknown>)[key]);
      if (value !== undefined) kept[key] = value;
    }
    const error: unknown = (event as { error?: unknown }).error;
    if (error instanceof Error) kept.error = { name: error.name, message: scalar(error.message) };
    else if (error !== undefined) kept.error = { message: scalar(String(error)) };
    return kept;
  } catch {
    return { type: 'unknown' };
  }
}

/** Serializes for the socket; a value JSON cannot hold (a cycle, a BigInt) drops the event. */
function serialize(event: StatelyInspectionEvent): string | undefined {
  try {
    return JSON.stringify(event);
  } catch {
    return undefined;
  }
}

/** Bytes queued on the socket beyond which events are dropped rather than queued. */
const MAX_SOCKET_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * A WebSocket client to the relay: buffers while disconnected (bounded, oldest dropped, sent once),
 * reconnects after a close on an unref'd timer, and after `stop()` neither reconnects nor sends.
 */
class RelaySocketAdapter implements InspectionAdapter {
  private socket: WebSocketType | undefined;
  private readonly backlog: string[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly maxBuffered: number,
    private readonly reconnectDelay: number,
  ) {}

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.backlog.length = 0;
    const socket = this.socket;
    this.socket = undefined;
    if (socket?.readyState === WebSocket.OPEN) socket.close(1000);
    else socket?.terminate();
  }

  send(event: StatelyInspectionEvent): void {
    if (this.stopped) return;
    const text = serialize(event);
    if (text === undefined) return;
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) {
      // A relay that stops reading must not make this process buffer without bound.
      if (socket.bufferedAmount < MAX_SOCKET_BACKLOG_BYTES) socket.send(text);
      return;
    }
    this.backlog.push(text);
    if (this.backlog.length > this.maxBuffered) this.backlog.shift();
  }

  private connect(): void {
    const socket = new WebSocket(this.url, { perMessageDeflate: false });
    this.socket = socket;
    socket.on('open', () => {
      // Sent once: the buffer is emptied, so a later reconnect does not replay it again.
      for (const text of this.backlog.splice(0)) socket.send(text);
    });
    // Connection failures are routine (relay not started yet); 'close' follows and retries.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.stopped || this.socket !== socket) return;
      this.socket = undefined;
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
      // Inspection alone must never keep a process alive.
      this.reconnectTimer.unref();
    });
  }
}

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

// ---------------------------------------------------------------------------------------------
// The relay
// ---------------------------------------------------------------------------------------------

/** Options of {@link startInspectorRelay}. */
export interface InspectorRelayOptions {
  /** Port to listen on; `0` picks a free one. Default 8080. */
  port?: number;
  /** A loopback address or `localhost`; anything else is refused. Default `127.0.0.1`. */
  host?: string;
  /** Events replayed to a page that connects late (the inspector needs each actor's first event). Default 200. */
  replay?: number;
  /** The inspector the page embeds. Default `https://stately.ai/inspect`. */
  inspectorUrl?: string;
}

/** A running relay, from {@link startInspectorRelay}. */
export interface InspectorRelay {
  /** WebSocket URL for {@link createStatelyInspection} (or `createWebSocketInspector`). */
  readonly url: string;
  /** The page to open in a browser; it embeds the hosted inspector, so the browser needs internet. */
  readonly pageUrl: string;
  /** Where it listens: always a loopback address. */
  address(): AddressInfo;
  /** WebSocket clients connected now: inspected processes and open inspector pages. */
  clients(): number;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

/** Largest message the relay accepts; inspection events of these machines are a few KB. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

const isLoopbackAddress = (address: string): boolean =>
  (isIPv4(address) && address.startsWith('127.')) ||
  address === '::1' ||
  (isIPv6(address) && address.toLowerCase().startsWith('::ffff:127.'));

const isLoopbackHost = (host: string): boolean =>
  host.toLowerCase() === 'localhost' || isLoopbackAddress(host);

const hostWithPort = (address: string, port: number): string =>
  `${isIPv6(address) ? `[${address}]` : address}:${port}`;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The bridge page: the same behaviour as the page of `@statelyai/inspect/server` (buffer until the
 * embedded inspector says it is connected, then `postMessage` every event into it), but it
 * connects back to whatever host and port served it, and runs under a strict CSP.
 */
function bridgePage(
  inspectorUrl: URL,
  nonce: string,
  socketUrls: readonly string[],
): { html: string; csp: string } {
  const html = `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Stately Inspector — mcp-session-supervisor</title>
  <style nonce="${nonce}">
    * { margin: 0; padding: 0; }
    html, body { height: 100%; }
    iframe { width: 100%; height: 100%; border: none; }
  </style>
</head>
<body>
  <iframe id="inspector" src="${escapeHtml(inspectorUrl.href)}"></iframe>
  <script nonce="${nonce}">
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (event) => {
      if (!event.data || event.data.type !== '@statelyai.connected') return;
      connected = true;
      for (const data of buffer.splice(0)) iframe.contentWindow.postMessage(data, '*');
    });
    const socket = new WebSocket('ws://' + location.host);
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `frame-src ${inspectorUrl.origin}`,
    // 'self' covers ws: on the same host and port in CSP 3 browsers; the explicit sources are for
    // older ones. IPv6 literals are not valid CSP sources, so those rely on 'self' alone.
    `connect-src 'self' ${socketUrls.filter((url) => !url.includes('[')).join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return { html, csp };
}

/**
 * Starts the relay between a Node process and the Stately inspector in a browser, listening on a
 * loopback address only (never on all interfaces): Node clients stream inspection events to it
 * over WebSocket, and it serves a page, at {@link InspectorRelay.pageUrl}, that embeds the hosted
 * inspector and forwards the events into it. Opening that page needs a browser with internet
 * access (the inspector UI is served by stately.ai; the events go from the page to the embedded
 * inspector, not through our relay to the internet).
 *
 * Compatible with `@statelyai/inspect`'s `createInspectorServer` protocol (each client's messages
 * go to every other client; the last `replay` are replayed to newcomers), with these differences:
 * loopback only; requests whose `Host` is not a loopback name on this port are refused (DNS
 * rebinding), and so are WebSocket handshakes from any web origin but the relay's own page (a
 * page on another site could otherwise read every event); no browser is opened.
 *
 * @example
 * ```ts
 * const relay = await startInspectorRelay();              // ws://127.0.0.1:8080
 * console.log(`open ${relay.pageUrl}`);
 * const inspection = createStatelyInspection({ url: relay.url });
 * // …
 * inspection.stop();
 * await relay.close();
 * ```
 */
export async function startInspectorRelay(options: InspectorRelayOptions = {}): Promise<InspectorRelay> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new SupervisorError(
      'invalid-option',
      { option: 'host', value: host, expected: 'a loopback address or localhost' },
      `Invalid option host: ${host} (the inspector relay listens on loopback only)`,
    );
  }
  const port = options.port ?? DEFAULT_INSPECTOR_PORT;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new SupervisorError(
      'invalid-option',
      { option: 'port', value: port, expected: 'a port number, 0 to 65535' },
      `Invalid option port: ${port}`,
    );
  }
  const replay = options.replay ?? 200;
  const inspectorUrl = new URL(options.inspectorUrl ?? STATELY_INSPECTOR_URL);
  if (inspectorUrl.protocol !== 'https:' && inspectorUrl.protocol !== 'http:') {
    throw new SupervisorError(
      'invalid-option',
      { option: 'inspectorUrl', value: options.inspectorUrl, expected: 'an http(s) URL' },
      'Invalid option inspectorUrl (expected an http(s) URL)',
    );
  }

  // Filled in once listening: the port may have been 0.
  let allowedHosts: ReadonlySet<string> = new Set();
  let allowedOrigins: ReadonlySet<string> = new Set();
  let page: { html: string; csp: string } | undefined;
  const isAllowedHost = (value: string | undefined): boolean =>
    value !== undefined && allowedHosts.has(value.toLowerCase());

  const server = http.createServer((req, res) => {
    if (!isAllowedHost(req.headers.host)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: unexpected Host\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
      return;
    }
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': page?.csp ?? "default-src 'none'",
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      })
      .end(req.method === 'HEAD' ? undefined : page?.html);
  });

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; browsers always do, and only our own page may connect.
    if (
      !isAllowedHost(req.headers.host) ||
      (origin !== undefined && !allowedOrigins.has(origin.toLowerCase()))
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (client) => sockets.emit('connection', client, req));
  });

  const recent: string[] = [];
  sockets.on('connection', (client: WebSocketType) => {
    for (const message of recent) client.send(message);
    client.on('error', () => {});
    client.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = data.toString();
      if (replay > 0) {
        recent.push(message);
        if (recent.length > replay) recent.shift();
      }
      for (const other of sockets.clients) {
        if (other !== client && other.readyState === WebSocket.OPEN) other.send(message);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  if (!isLoopbackAddress(address.address)) {
    // `localhost` resolving to something else: refuse rather than serve beyond this machine.
    server.close();
    throw new SupervisorError(
      'invalid-option',
      { option: 'host', value: host, expected: 'a loopback address or localhost' },
      `Invalid option host: ${host} resolved to ${address.address}, which is not loopback`,
    );
  }
  const bound = hostWithPort(address.address, address.port);
  const names = new Set([
    bound,
    hostWithPort('127.0.0.1', address.port),
    `localhost:${address.port}`,
    hostWithPort('::1', address.port),
  ]);
  allowedHosts = names;
  allowedOrigins = new Set([...names].map((name) => `http://${name}`));
  page = bridgePage(
    inspectorUrl,
    randomBytes(16).toString('base64'),
    [...names].map((name) => `ws://${name}`),
  );

  let closing: Promise<void> | undefined;
  return {
    url: `ws://${bound}`,
    pageUrl: `http://${bound}/`,
    address: () => ({ ...address }),
    clients: () => sockets.clients.size,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
