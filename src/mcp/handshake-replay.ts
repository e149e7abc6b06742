import type { StoredInitialize } from '../cluster/registry.js';
import type { InitializeMessage } from '../http/dispatch.js';
import { LATEST_LEGACY_PROTOCOL_VERSION, LEGACY_PROTOCOL_VERSIONS } from './protocol-versions.js';
import type { SessionHttpTransport } from './sdk-types.js';

/** Never reaches a socket: the transport only reads headers and body from it. */
const REPLAY_URL = 'http://replay.invalid/mcp';
const REPLAY_ID = 'cluster-replay';
// Shared by cluster takeover and hibernation wake-ups: both rebuild a session's server from its handshake.
const HEADERS = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };

/**
 * What to keep of an `initialize` so another node can rebuild the session: the client's
 * capabilities and info, and the protocol version the server will answer with (the SDK's rule:
 * the client's if supported, else the latest), so every rebuilt server agrees with the first.
 */
export function storedInitialize(initialize: InitializeMessage): StoredInitialize {
  const params = initialize.params as InitializeMessage['params'] & {
    capabilities?: Record<string, unknown>;
  };
  const requested = params.protocolVersion;
  return {
    protocolVersion: LEGACY_PROTOCOL_VERSIONS.includes(requested)
      ? requested
      : LATEST_LEGACY_PROTOCOL_VERSION,
    capabilities: sharedWhenEmpty(params.capabilities),
    clientInfo: params.clientInfo,
  };
}

/**
 * Most clients declare no capabilities: one frozen `{}` serves them all, rather than one object
 * per stored handshake (56 B each in heap snapshots of hibernated sessions).
 */
const NO_CAPABILITIES: Record<string, unknown> = Object.freeze({});

const sharedWhenEmpty = (capabilities: Record<string, unknown> | undefined): Record<string, unknown> =>
  capabilities === undefined || Object.keys(capabilities).length === 0 ? NO_CAPABILITIES : capabilities;

/** The message form, for `sessionMetadata` on the node that rebuilds the session. */
export const toInitializeMessage = (stored: StoredInitialize): InitializeMessage => ({
  params: { protocolVersion: stored.protocolVersion, clientInfo: stored.clientInfo },
});

/**
 * Brings a freshly connected server + transport to the state the session had after its handshake,
 * without the client: the stored `initialize` and `notifications/initialized` go through the
 * transport as if they came over HTTP, and the answers are read to their end and dropped. The
 * transport's `sessionIdGenerator` returns the existing id, so it adopts it on this `initialize`.
 *
 * @example
 * ```ts
 * await server.connect(transport);              // transport: sessionIdGenerator: () => sessionId
 * await replayInitialize(transport, sessionId, record.initialize);
 * ```
 */
export async function replayInitialize(
  transport: SessionHttpTransport,
  sessionId: string,
  initialize: StoredInitialize,
): Promise<void> {
  const message = { jsonrpc: '2.0', id: REPLAY_ID, method: 'initialize', params: initialize };
  const response = await transport.handleRequest(post(HEADERS, message), { parsedBody: message });
  // The SSE answer ends once the server wrote its result; an unfinished one ends with the session.
  const text = await response.text();
  if (response.status !== 200 || !text.includes('"result"')) {
    throw new Error(`replaying initialize failed: ${response.status} ${text.slice(0, 200)}`);
  }
  if (transport.sessionId !== sessionId) {
    throw new Error('replaying initialize gave the transport another session id');
  }
  const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
  const headers = {
    ...HEADERS,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': initialize.protocolVersion,
  };
  const answer = await transport.handleRequest(post(headers, initialized), { parsedBody: initialized });
  await answer.arrayBuffer();
  if (answer.status !== 202) throw new Error(`replaying notifications/initialized failed: ${answer.status}`);
}

const post = (headers: Record<string, string>, body: unknown): Request =>
  new Request(REPLAY_URL, { method: 'POST', headers, body: JSON.stringify(body) });
