/**
 * The demo with the Stately inspector: an inspector relay on 127.0.0.1, then the demo MCP server
 * (same tools, same defaults as `npm start`) streaming every supervisor and session event to it.
 *
 *   npm run demo:inspect           # MCP on http://127.0.0.1:3000/mcp, inspector page on http://127.0.0.1:8080/
 *   PORT=4000 INSPECT_PORT=9000 IDLE_TIMEOUT=20s npm run demo:inspect
 *
 * Open the printed page in a browser: it embeds the hosted inspector (https://stately.ai/inspect),
 * so that browser needs internet access; the relay and the MCP server themselves stay on loopback.
 * Connect any MCP client to the MCP URL and watch sessions go created → active → idle → expired.
 */
import { createStatelyInspection, startInspectorRelay } from '../../src/inspection.js';
import { startDemo } from './app.js';

const relay = await startInspectorRelay({
  host: '127.0.0.1',
  port: Number(process.env.INSPECT_PORT ?? '8080'),
});
const inspection = createStatelyInspection({ url: relay.url });

const { origin } = await startDemo({
  inspect: inspection.inspect,
  afterStop: async () => {
    // Let the last transitions (every session `disposed`) reach the inspector before the socket closes.
    await Promise.race([inspection.whenIdle(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    inspection.stop();
    await relay.close();
  },
});

process.stdout.write(
  [
    '',
    `  MCP endpoint:      ${origin}/mcp`,
    `  live view:         ${origin}/live/`,
    `  Stately inspector: ${relay.pageUrl}   <- open in a browser (needs internet: it embeds https://stately.ai/inspect)`,
    '',
    '',
  ].join('\n'),
);
