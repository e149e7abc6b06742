import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/**
 * A web `Request` view of a node `IncomingMessage`, for the node entry point.
 *
 * Why not `new Request(...)`: undici builds a `Headers` list, an `AbortController` and a body
 * stream for every request, ~11 µs before anything is read, and the answer table only reads the
 * method, the URL and a few headers. This view answers those from the `IncomingMessage` (headers
 * from `rawHeaders`, with the web's rules: case-insensitive names, repeated headers joined with
 * `, `) and builds the real `Request` only when something else is asked of it — `body`, `json()`,
 * `clone()`, … — so an `authenticate` hook or an SDK v2 handler reading `ctx.http.req` still sees
 * a complete `Request` (`instanceof Request` holds). Its `signal` aborts when the client goes away
 * before the response is over.
 *
 * @example
 * ```ts
 * const request = nodeRequestView(req);
 * request.headers.get('mcp-session-id'); // from req.rawHeaders, no undici object built
 * ```
 */
export function nodeRequestView(req: IncomingMessage): Request & AbortableRequest {
  return new NodeRequestView(req) as unknown as Request & AbortableRequest;
}

/** The part of the view the node adapter drives. */
export interface AbortableRequest {
  /** Aborts `signal` (if anyone asked for it): the client went away before its answer was over. */
  abort(reason: string): void;
}

/** Read-only web `Headers` over node's `rawHeaders`. */
export class RawHeaders {
  private map: Map<string, string> | undefined;
  private sorted: [string, string][] | undefined;

  constructor(private readonly raw: readonly string[]) {}

  private get combined(): Map<string, string> {
    if (this.map !== undefined) return this.map;
    const map = new Map<string, string>();
    const raw = this.raw;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      const value = raw[i + 1] as string;
      const previous = map.get(name);
      map.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
    this.map = map;
    return map;
  }

  get(name: string): string | null {
    return this.combined.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.combined.has(name.toLowerCase());
  }

  getSetCookie(): string[] {
    const cookies: string[] = [];
    for (let i = 0; i + 1 < this.raw.length; i += 2) {
      if ((this.raw[i] as string).toLowerCase() === 'set-cookie') cookies.push(this.raw[i + 1] as string);
    }
    return cookies;
  }

  forEach(callback: (value: string, name: string, headers: RawHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  /** Sorted by name, as the web's `Headers` iterates (the MCP SDK copies them once per POST). */
  entries(): IterableIterator<[string, string]> {
    this.sorted ??= [...this.combined].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sorted[Symbol.iterator]();
  }

  *keys(): Generator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): Generator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

/** Host names and ports only, so a hostile Host header cannot make the URL unparseable. */
const PLAIN_HOST = /^[a-z0-9.[\]:-]+$/i;
/** A request target in absolute form (`POST http://host/mcp HTTP/1.1`), as a proxy may send. */
const ABSOLUTE = /^https?:\/\/[^\s]+$/i;

class NodeRequestView {
  private real: Request | undefined;
  private headerView: RawHeaders | undefined;
  private controller: AbortController | undefined;
  private abortedFor: string | undefined;

  constructor(private readonly req: IncomingMessage) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get url(): string {
    // HTTP/2 through node's compatibility API names the host `:authority`.
    const host = this.req.headers.host ?? (this.req.headers[':authority'] as string | undefined);
    const scheme = (this.req.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http';
    const target = this.req.url ?? '/';
    if (ABSOLUTE.test(target)) return target;
    const path = target.startsWith('/') ? target : '/';
    return `${scheme}://${host !== undefined && PLAIN_HOST.test(host) ? host : 'localhost'}${path}`;
  }

  get headers(): RawHeaders {
    this.headerView ??= new RawHeaders(this.req.rawHeaders);
    return this.headerView;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedFor !== undefined) this.controller.abort(this.abortedFor);
    }
    return this.controller.signal;
  }

  abort(reason: string): void {
    this.abortedFor = reason;
    this.controller?.abort(reason);
  }

  /** The complete `Request`, built once, for anything the view does not answer itself. */
  toRequest(): Request {
    if (this.real !== undefined) return this.real;
    const { method, req } = this;
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers: [...this.headers.entries()],
      signal: this.signal,
    };
    if (method !== 'GET' && method !== 'HEAD' && !req.readableEnded) {
      init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    this.real = new Request(this.url, init);
    return this.real;
  }
}

// Everything else a `Request` has goes to the real one, built on first use; the view inherits from
// `Request.prototype` so `instanceof Request` holds, and overrides each member whose native
// implementation would refuse a receiver that is not a real `Request`.
const answeredByView = new Set<PropertyKey>(['constructor', 'method', 'url', 'headers', 'signal']);
Object.setPrototypeOf(NodeRequestView.prototype, Request.prototype);
for (const key of Reflect.ownKeys(Request.prototype)) {
  if (answeredByView.has(key)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, key);
  if (descriptor === undefined) continue;
  if (typeof descriptor.value === 'function') {
    Object.defineProperty(NodeRequestView.prototype, key, {
      configurable: true,
      writable: true,
      value(this: NodeRequestView, ...args: unknown[]) {
        const real = this.toRequest();
        return (Reflect.get(real, key) as (...args: unknown[]) => unknown).apply(real, args);
      },
    });
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(NodeRequestView.prototype, key, {
      configurable: true,
      get(this: NodeRequestView) {
        return Reflect.get(this.toRequest(), key);
      },
    });
  }
}
