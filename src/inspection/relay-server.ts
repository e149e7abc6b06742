/**
 * The loopback-only relay between inspected Node processes and the inspector page in a browser.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo, isIPv4, isIPv6 } from 'node:net';
import type { WebSocket as WebSocketType } from 'ws';
import { SupervisorError } from '../errors.js';
import { WebSocket, WebSocketServer } from './peers.js';
import { bridgePage, STATELY_INSPECTOR_URL } from './relay-page.js';

/** The relay's default port, the same as `@statelyai/inspect/server`. */
export const DEFAULT_INSPECTOR_PORT = 8080;

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
