import type { SupervisedSession } from '../session.js';
import { BoundedEventStore } from './event-store.js';
import { loadedSdkForServer, sdkForServer } from './sdk-loader.js';
import type { SessionHttpTransport } from './sdk-types.js';

/**
 * What the supervisor needs of an MCP server: `McpServer` and the low-level `Server` of SDK v1
 * (`@modelcontextprotocol/sdk`) or SDK v2 (`@modelcontextprotocol/server`) all fit. Each is served
 * through its own SDK's transport, so a v2 server's handlers see the real request (`ctx.http.req`).
 */
export interface McpServerLike {
  // Method syntax on purpose: either SDK's `connect(transport: Transport)` fits.
  connect(transport: never): Promise<void>;
  close(): Promise<void>;
}

export interface SessionTransportOptions {
  /** Per-session event store size for resumable streams; `undefined` turns resumability off. */
  readonly maxEventsPerSession: number | undefined;
  /** SSE `retry` of each stream's priming event, in ms (resumable streams only). */
  readonly retryInterval: number | undefined;
  /** Called when the client DELETEs the session. */
  readonly onDeleted: () => void;
  /** Called when the server side closed the transport while the session was still live. */
  readonly onClosedByServer: () => void;
}

/**
 * Connects one session's MCP server to its own Streamable HTTP transport, whose session id is the
 * supervisor's (never derived from client input), and registers the release of everything built
 * here on the session: transport closed (ending its open streams), events purged.
 */
export async function connectSessionTransport(
  session: SupervisedSession<McpServerLike>,
  server: McpServerLike,
  options: SessionTransportOptions,
): Promise<SessionHttpTransport> {
  const { Transport } = loadedSdkForServer(server) ?? (await sdkForServer(server));
  const eventStore =
    options.maxEventsPerSession === undefined
      ? undefined
      : new BoundedEventStore(options.maxEventsPerSession);
  const transport = new Transport({
    sessionIdGenerator: () => session.id,
    onsessionclosed: options.onDeleted,
    ...(eventStore ? { eventStore } : {}),
    ...(eventStore && options.retryInterval !== undefined ? { retryInterval: options.retryInterval } : {}),
  });
  // Set before connect(): the SDK's Protocol chains handlers that are already there.
  transport.onclose = () => {
    if (session.isLive) options.onClosedByServer();
  };
  transport.onerror = (error) => session.logger?.debug({ err: error }, 'transport refused a request');
  await (server as { connect(transport: unknown): Promise<void> }).connect(transport);
  session.cleanups = [() => eventStore?.purge(), () => transport.close()];
  return transport;
}
