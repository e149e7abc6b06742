import { SupervisorError } from './errors.js';
import {
  type Authenticate,
  type DispatchHost,
  type DispatchOptions,
  dispatchRequest,
  type InitializeMessage,
  type RequestExtras,
} from './http/dispatch.js';
import { createEraRouter, type ModernHandler, type TrafficListener } from './http/era-router.js';
import { createNodeHandler, type NodeHandler } from './http/node-adapter.js';
import { DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_BYTES } from './http/request-body.js';
import { answerRequestsCutOff } from './mcp/cut-off.js';
import { DEFAULT_MAX_EVENTS_PER_SESSION } from './mcp/event-store.js';
import { loadLegacyClassifier } from './mcp/sdk-loader.js';
import type { SessionHttpTransport } from './mcp/sdk-types.js';
import { connectSessionTransport, type McpServerLike } from './mcp/session-transport.js';
import { McpWakeUps, servable } from './mcp/wake-up.js';
import { type Duration, toMilliseconds } from './options.js';
import type {
  ClusterAttachment,
  ClusterMembership,
  PlacementContext,
  SessionPlacement,
} from './placement.js';
import type { SupervisedSession } from './session.js';
import { SessionSupervisor, type SessionSupervisorOptions, type ShutdownOptions } from './supervisor.js';

/** Options of {@link createSessionSupervisor}: the core options plus how to serve HTTP. */
export interface McpSessionSupervisorOptions<TServer = McpServerLike>
  extends SessionSupervisorOptions<TServer> {
  /** Largest request body accepted, in bytes (413 above). Default 4 MiB, as the SDK. */
  maxBodyBytes?: number;
  /**
   * Time allowed for a whole request body to arrive, from the moment it is first read (408 with
   * `Connection: close` after it), so a client that trickles its body cannot hold a request open.
   * Default `'30s'`. Header size and header time are node:http's own (`maxHeaderSize`,
   * `headersTimeout`, `requestTimeout` on `http.createServer`).
   */
  bodyTimeout?: Duration;
  /** Host names accepted in `Host` (DNS-rebinding protection); unset: no check. See `LOOPBACK_HOSTS`. */
  allowedHosts?: readonly string[] | undefined;
  /** Origins accepted in `Origin` when a request has one; unset: no check. */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * Resumable streams (`Last-Event-ID`): each session keeps its last events in a bounded store
   * that is purged with the session. Default off. `retryInterval` is the SSE `retry` sent with each
   * stream's priming event (clients of 2025-11-25 on): how long a client whose stream the server
   * closed (SSE polling, `closeSSEStream`) waits before resuming. Default: the client's own.
   */
  resumability?: boolean | { maxEventsPerSession?: number; retryInterval?: Duration };
  /**
   * Establishes who is calling. Each session is bound to the principal that created it; requests
   * for it from anyone else (or from no one) get 404, exactly as an unknown session. Combine with
   * `maxSessionsPerPrincipal` so one client cannot take the whole capacity.
   */
  authenticate?: Authenticate;
  /** Metadata recorded on a session from its `initialize`. Default: client info and protocol version. */
  sessionMetadata?: (initialize: InitializeMessage) => Record<string, unknown>;
  /**
   * Scale-out: `joinCluster({ registry })` from `mcp-session-supervisor/cluster` shares sessions with
   * other nodes through a registry (`RedisClusterRegistry`), so the cap is cluster-wide and any node
   * serves any session. Default: this process alone, in memory.
   */
  cluster?: ClusterAttachment;
  /**
   * Serve the 2026-07-28 revision on the same endpoint: SDK v2's `createMcpHandler(factory, { legacy:
   * 'reject' })`. Each request then passes the supervisor's gate (Host/Origin, `authenticate`, body
   * limits) and is classified by SDK v2's `isLegacyRequest`: 2025-era traffic goes to supervised
   * sessions, the rest to this handler, which opens no session and takes no slot. Closed by `shutdown`.
   * Needs `@modelcontextprotocol/server`. Default: 2025-era sessions only (a 2026-07-28 request is
   * answered -32022 with the revisions served, so a negotiating client falls back).
   *
   * @example
   * ```ts
   * import { createMcpHandler } from '@modelcontextprotocol/server';
   * const supervisor = createSessionSupervisor({
   *   createServer: () => buildServer(),
   *   modern: createMcpHandler(() => buildServer(), { legacy: 'reject' }),
   * });
   * ```
   */
  modern?: ModernHandler;
}

const invalid = (option: string, value: unknown, expected: string) =>
  new SupervisorError(
    'invalid-option',
    { option, value, expected },
    `Invalid option ${option} (expected ${expected})`,
  );

function resolveStringList(
  option: string,
  value: readonly string[] | undefined,
): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw invalid(option, value, 'an array of non-empty strings');
  }
  return value.map((item) => item.toLowerCase());
}

function resolveRetryInterval(resumability: McpSessionSupervisorOptions['resumability']): number | undefined {
  if (typeof resumability !== 'object' || resumability.retryInterval === undefined) return undefined;
  return toMilliseconds('resumability.retryInterval', resumability.retryInterval);
}

function resolveMaxEvents(resumability: McpSessionSupervisorOptions['resumability']): number | undefined {
  if (resumability === undefined || resumability === false) return undefined;
  const max = resumability === true ? DEFAULT_MAX_EVENTS_PER_SESSION : resumability.maxEventsPerSession;
  const value = max ?? DEFAULT_MAX_EVENTS_PER_SESSION;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalid('resumability.maxEventsPerSession', value, 'a whole number ≥ 1');
  }
  return value;
}

function resolveModern(modern: ModernHandler | undefined): ModernHandler | undefined {
  if (modern === undefined) return undefined;
  if (typeof (modern as { fetch?: unknown } | null)?.fetch !== 'function') {
    throw invalid(
      'modern',
      modern,
      "a handler with fetch(request), e.g. createMcpHandler(factory, { legacy: 'reject' })",
    );
  }
  return modern;
}

const defaultMetadata = (initialize: InitializeMessage): Record<string, unknown> => ({
  clientInfo: initialize.params.clientInfo,
  protocolVersion: initialize.params.protocolVersion,
});

/** `McpServer.isConnected()`, or the low-level `Server`'s transport. */
const isConnected = (server: McpServerLike): boolean => {
  const candidate = server as { isConnected?: () => boolean; transport?: unknown };
  return typeof candidate.isConnected === 'function'
    ? candidate.isConnected()
    : candidate.transport !== undefined;
};

const isMcpServer = (server: unknown): server is McpServerLike =>
  typeof (server as { connect?: unknown } | undefined)?.connect === 'function';

function attachCluster<S extends SupervisedSession<unknown>>(
  attachment: ClusterAttachment | undefined,
  context: PlacementContext<S>,
): SessionPlacement<S> | undefined {
  if (attachment === undefined) return undefined;
  if (typeof attachment?.attach !== 'function') {
    throw invalid('cluster', attachment, "joinCluster({ registry }) from 'mcp-session-supervisor/cluster'");
  }
  return attachment.attach(context);
}

/**
 * A {@link SessionSupervisor} that serves MCP Streamable HTTP: one MCP server and one transport
 * per session, for node:http / Express (`handleRequest`) and web-standard runtimes (`fetch`).
 */
export class McpSessionSupervisor<TServer = McpServerLike> extends SessionSupervisor<TServer> {
  /**
   * Web-standard entry point (Hono, Bun, Deno, workers). Bound, so it can be passed around as is.
   *
   * @example
   * ```ts
   * app.all('/mcp', (c) => supervisor.fetch(c.req.raw));            // Hono
   * export default { fetch: supervisor.fetch };                      // Bun, Deno, workers
   * ```
   */
  readonly fetch: (request: Request, extras?: RequestExtras) => Promise<Response>;

  /**
   * node:http and Express entry point; pass `req.body` when a JSON body parser already ran.
   *
   * @example
   * ```ts
   * app.all('/mcp', (req, res) => supervisor.handleRequest(req, res, req.body)); // Express 5
   * http.createServer((req, res) => supervisor.handleRequest(req, res));         // node:http
   * ```
   */
  readonly handleRequest: NodeHandler;

  private readonly transports = new WeakMap<SupervisedSession<TServer>, SessionHttpTransport>();
  private readonly maxEventsPerSession: number | undefined;
  private readonly retryInterval: number | undefined;
  /** This supervisor's membership in a cluster, when created with the `cluster` option. */
  readonly cluster: ClusterMembership | undefined;
  private readonly placement: SessionPlacement<SupervisedSession<TServer>> | undefined;
  private clusterStopped: Promise<void> | undefined;
  private readonly modern: ModernHandler | undefined;
  private readonly trafficListeners = new Set<TrafficListener>();
  /** Set with `hibernateAfter`: the handshakes replayed into woken sessions. */
  private readonly wakeUps: McpWakeUps | undefined;

  constructor(options: McpSessionSupervisorOptions<TServer> = {}) {
    super(options);
    const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
      throw invalid('maxBodyBytes', maxBodyBytes, 'a whole number of bytes ≥ 1');
    }
    const bodyTimeoutMs = toMilliseconds('bodyTimeout', options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT);
    this.maxEventsPerSession = resolveMaxEvents(options.resumability);
    this.retryInterval = resolveRetryInterval(options.resumability);
    const dispatch: DispatchOptions = {
      maxBodyBytes,
      bodyTimeoutMs,
      allowedHosts: resolveStringList('allowedHosts', options.allowedHosts),
      allowedOrigins: resolveStringList('allowedOrigins', options.allowedOrigins),
      authenticate: options.authenticate,
    };
    if (options.authenticate !== undefined && typeof options.authenticate !== 'function') {
      throw invalid('authenticate', options.authenticate, 'a function');
    }
    const sessionMetadata = options.sessionMetadata ?? defaultMetadata;
    if (this.options.hibernateAfter !== undefined) {
      // A hibernated session keeps no event history and no node of a cluster can wake another's.
      if (this.maxEventsPerSession !== undefined || options.cluster !== undefined) {
        throw invalid('hibernateAfter', this.options.hibernateAfter, 'no resumability and no cluster');
      }
      this.wakeUps = new McpWakeUps();
    }
    const wakeUps = this.wakeUps;
    const cluster = attachCluster(options.cluster, {
      host: this,
      sessionMetadata,
      logger: options.logger,
    });
    this.placement = cluster;
    this.cluster = cluster;
    const host: DispatchHost<SupervisedSession<TServer>> = {
      dispatch,
      logger: options.logger,
      get: cluster ? (sessionId) => cluster.get(sessionId) : (sessionId) => servable(this.get(sessionId)),
      admit: cluster
        ? (initialize, principal) => cluster.admit(initialize, principal?.id)
        : (initialize, principal) => {
            const session = this.open({
              metadata: sessionMetadata(initialize),
              ...(principal === undefined ? {} : { principal: principal.id }),
            });
            wakeUps?.remember(session, initialize);
            return session;
          },
      ...(cluster
        ? {
            recover: (sessionId: string, principalId: string | undefined) =>
              cluster.recover(sessionId, principalId),
          }
        : wakeUps
          ? {
              // A hibernated session is a miss for `get`: woken here (once), then served.
              recover: async (sessionId: string) => {
                const session = this.get(sessionId);
                if (session) await this.wake(session);
                return servable(this.get(sessionId));
              },
            }
          : {}),
      close: (sessionId, reason) => this.close(sessionId, reason),
      transportOf: (session) => {
        const transport = this.transports.get(session);
        if (!transport && session.isLive && session.server !== undefined && !isMcpServer(session.server)) {
          options.logger?.error('createServer must return an MCP server (McpServer or Server) to serve HTTP');
        }
        return transport;
      },
    };
    const legacy = (request: Request, extras?: RequestExtras) => dispatchRequest(host, request, extras);
    this.modern = resolveModern(options.modern);
    this.fetch = this.modern ? this.routeEras(this.modern, dispatch, legacy, options.logger) : legacy;
    this.handleRequest = createNodeHandler(this.fetch);
  }

  protected override async onServerCreated(
    session: SupervisedSession<TServer>,
    server: TServer,
  ): Promise<void> {
    if (!isMcpServer(server)) return;
    if (isConnected(server)) {
      // Shared with another session: closing it on our failure would end that session too.
      this.borrowedServers.add(server);
      throw new Error(
        'createServer returned a server that is already connected: return a new server per session',
      );
    }
    const transport = await connectSessionTransport(session as SupervisedSession<McpServerLike>, server, {
      maxEventsPerSession: this.maxEventsPerSession,
      retryInterval: this.retryInterval,
      onDeleted: () => {
        this.close(session.id, 'deleted');
      },
      onClosedByServer: () => {
        // Closed by our own release of a hibernating session: the session lives on.
        if (session.hibernation) return;
        session.logger?.warn('the MCP server closed its transport; ending the session');
        this.close(session.id, 'failed');
      },
    });
    this.transports.set(session, transport);
    // Released with the server when the session hibernates; a woken session gets a new one. First
    // in the list, so it runs last: the transport's own close stays the first await of a release.
    session.cleanups?.unshift(() => this.transports.delete(session));
    await this.wakeUps?.restore(session, transport);
    // Release steps run last first: requests still running are answered before the transport closes.
    session.cleanups?.push(() => answerRequestsCutOff(session, transport));
    // A session taken over from another node gets its handshake replayed before it is ready.
    if (this.placement) await this.placement.restore(session, transport);
  }

  /** Whether this supervisor serves the 2026-07-28 revision beside its sessions (the `modern` option). */
  get servesModernEra(): boolean {
    return this.modern !== undefined;
  }

  /**
   * Calls `listener` on every request the modern (2026-07-28) leg served, with its method and status
   * (metrics, live views). The 2025-era leg is reported per session by {@link SessionSupervisor.subscribe}.
   * Returns the function that unsubscribes it.
   */
  subscribeTraffic(listener: TrafficListener): () => void {
    this.trafficListeners.add(listener);
    return () => {
      this.trafficListeners.delete(listener);
    };
  }

  private routeEras(
    modern: ModernHandler,
    gate: DispatchOptions,
    legacy: (request: Request, extras?: RequestExtras) => Promise<Response>,
    logger: McpSessionSupervisorOptions['logger'],
  ): (request: Request, extras?: RequestExtras) => Promise<Response> {
    // Loaded now, awaited per request: a missing SDK v2 shows as a 500 naming it, and in the log.
    const classifier = loadLegacyClassifier();
    classifier.catch((error: unknown) =>
      logger?.error({ err: error }, 'cannot serve the 2026-07-28 revision'),
    );
    return createEraRouter({
      gate,
      modern,
      legacy,
      logger,
      classify: () => classifier,
      onTraffic: (event) => {
        logger?.debug({ era: event.era, method: event.method, status: event.status }, 'modern request');
        for (const listener of this.trafficListeners) {
          try {
            listener(event);
          } catch (error) {
            logger?.error({ err: error }, 'traffic listener threw');
          }
        }
      },
    });
  }

  /**
   * As {@link SessionSupervisor.shutdown}; a cluster member then stops listening to the registry, and
   * the `modern` handler is closed.
   */
  override shutdown(options: ShutdownOptions = {}): Promise<void> {
    const stopped = super.shutdown(options);
    const cluster = this.placement;
    const modern = this.modern;
    this.clusterStopped ??= stopped.then(async () => {
      await cluster?.stop();
      await modern?.close?.();
    });
    return this.clusterStopped;
  }
}

/**
 * Creates a supervisor for an MCP server over Streamable HTTP.
 *
 * @example
 * ```ts
 * import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
 * import { createSessionSupervisor, LOOPBACK_HOSTS } from 'mcp-session-supervisor';
 *
 * const supervisor = createSessionSupervisor({
 *   createServer: () => {
 *     const server = new McpServer({ name: 'demo', version: '1.0.0' });
 *     server.registerTool('ping', { description: 'Answers pong' }, async () => ({
 *       content: [{ type: 'text', text: 'pong' }],
 *     }));
 *     return server;
 *   },
 *   maxSessions: 1_000,
 *   idleTimeout: '15m',
 *   allowedHosts: LOOPBACK_HOSTS,
 * });
 * http.createServer((req, res) => supervisor.handleRequest(req, res)).listen(3000, '127.0.0.1');
 * process.on('SIGTERM', () => supervisor.shutdown({ grace: '10s' }));
 * ```
 */
export function createSessionSupervisor<TServer = McpServerLike>(
  options: McpSessionSupervisorOptions<TServer> = {},
): McpSessionSupervisor<TServer> {
  return new McpSessionSupervisor(options);
}
