/** Hono (any fetch-style runtime): the supervisor's `fetch` behind one route. `npx tsx examples/hono.ts` */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createSessionSupervisor, LOOPBACK_HOSTS } from '../src/index.js';
import { createDemoServer } from './demo/tools.js';

const supervisor = createSessionSupervisor({ createServer: createDemoServer, allowedHosts: LOOPBACK_HOSTS });

const app = new Hono();
app.all('/mcp', (c) => supervisor.fetch(c.req.raw));

// On Bun or Deno: `export default app` (or `Deno.serve(app.fetch)`) instead of `serve`.
const server = serve({ fetch: app.fetch, port: 3002, hostname: '127.0.0.1' }, () =>
  console.log('Hono: http://127.0.0.1:3002/mcp'),
);
process.on('SIGTERM', async () => {
  await supervisor.shutdown({ grace: '10s' });
  server.close();
});
