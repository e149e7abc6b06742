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
export {
  createStatelyInspection,
  type InspectionStats,
  type StatelyInspection,
  type StatelyInspectionOptions,
} from './inspection/observer.js';
export { STATELY_INSPECTOR_URL } from './inspection/relay-page.js';
export {
  DEFAULT_INSPECTOR_PORT,
  type InspectorRelay,
  type InspectorRelayOptions,
  startInspectorRelay,
} from './inspection/relay-server.js';
export {
  INSPECTED_CONTEXT_KEYS,
  INSPECTED_EVENT_KEYS,
  sanitizeInspectedContext,
  sanitizeInspectedEvent,
} from './inspection/sanitize.js';
export type { InspectionAdapter } from './inspection/socket-adapter.js';
