/**
 * The optional peer dependencies of `mcp-session-supervisor/inspection`, loaded by this subpath only:
 * a missing one fails the import with a `missing-peer-dependency` error naming the package.
 *
 * @module
 */
import { importPeer } from '../peer.js';

const FEATURE = 'mcp-session-supervisor/inspection';

export const { createInspector } = await importPeer(
  '@statelyai/inspect',
  FEATURE,
  () => import('@statelyai/inspect'),
);
export const { WebSocket, WebSocketServer } = await importPeer('ws', FEATURE, () => import('ws'));
