/**
 * The demo: an MCP server on 127.0.0.1 whose sessions are supervised, with every lifecycle
 * transition logged. Short default timeouts so you can watch sessions go idle and expire.
 *
 *   npm start                      # http://127.0.0.1:3000/mcp
 *   PORT=4000 IDLE_TIMEOUT=5m MAX_SESSIONS=500 npm start
 *
 *   http://127.0.0.1:3000/live/    live view of the sessions (loopback clients only)
 *   http://127.0.0.1:3000/metrics  Prometheus metrics
 *   http://127.0.0.1:3000/stats    getStatistics() as JSON
 */
import { startDemo } from './app.js';

await startDemo();
