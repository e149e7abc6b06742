/** Express 5: the supervisor behind one route. `npx tsx examples/express.ts` */
import express from 'express';
import { createSessionSupervisor, LOOPBACK_HOSTS } from '../src/index.js';
import { createDemoServer } from './demo/tools.js';

const supervisor = createSessionSupervisor({ createServer: createDemoServer, allowedHosts: LOOPBACK_HOSTS });

const app = express();
app.use(express.json({ limit: '4mb' }));
app.all('/mcp', (req, res) => supervisor.handleRequest(req, res, req.body));

const server = app.listen(3001, '127.0.0.1', () => console.log('Express: http://127.0.0.1:3001/mcp'));
process.on('SIGTERM', async () => {
  await supervisor.shutdown({ grace: '10s' });
  server.close();
});
