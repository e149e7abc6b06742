// Moved to src/mcp/handshake-replay.ts: hibernation wake-ups replay handshakes too, without loading the cluster.
export { replayInitialize, storedInitialize, toInitializeMessage } from '../mcp/handshake-replay.js';
