/**
 * The few shapes this library needs of an MCP SDK, written structurally so that neither SDK is
 * imported for its types: an application installs `@modelcontextprotocol/sdk` (v1) or
 * `@modelcontextprotocol/server` (v2), and both SDKs' values fit these.
 */

/** Verified credentials handed to the MCP server's handlers (v1 `extra.authInfo`, v2 `ctx.http.authInfo`). */
export interface AuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: Record<string, unknown>;
}

/** A JSON-RPC message as the transports carry it; this library never looks inside. */
export type JsonRpcMessage = object;

export type StreamId = string;
export type EventId = string;

/** The resumability store both SDKs' Streamable HTTP transports accept (`eventStore`). */
export interface EventStore {
  storeEvent(streamId: StreamId, message: JsonRpcMessage): Promise<EventId>;
  getStreamIdForEventId?(eventId: EventId): Promise<StreamId | undefined>;
  replayEventsAfter(
    lastEventId: EventId,
    options: { send: (eventId: EventId, message: JsonRpcMessage) => Promise<void> },
  ): Promise<StreamId>;
}

/** What the HTTP layer does with a session's transport: both SDKs' `WebStandardStreamableHTTPServerTransport`. */
export interface SessionHttpTransport {
  readonly sessionId?: string | undefined;
  handleRequest(request: Request, options?: { parsedBody?: unknown; authInfo?: AuthInfo }): Promise<Response>;
  close(): Promise<void>;
}
