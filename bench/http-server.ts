/**
 * Child process of the end-to-end benchmark (`bench/http.bench.ts` forks it): serves one kind of
 * server on 127.0.0.1 on an ephemeral port, so the load generator has its own process and core.
 * Answers heap and CPU readings over IPC and exits on `stop` (or when the parent goes away).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { demoSessionSettings } from '../examples/demo/app.js';
import { createDemoServer } from '../examples/demo/tools.js';
import { createSessionSupervisor } from '../src/index.js';
import { turnOffAllocationSitePretenuring } from '../src/pretenuring.js';
import { createBareSdkServer } from './bare-sdk-server.js';
import { GcMeter } from './http-gc-meter.js';
import {
  type ChildKind,
  type ChildMessage,
  DEMO_VARIANTS,
  isChildKind,
  type ParentMessage,
} from './http-ipc.js';
import { createHttpLayerServer } from './http-layer-server.js';
import { createBenchMcpServer } from './http-tools.js';
import { collectGarbage } from './timing.js';

const HOST = '127.0.0.1';

interface Started {
  readonly server: http.Server;
  sessions(): number;
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
}

/** The demo's tools for a bare server: a context as the supervisor would give, minus the supervisor. */
const createDemoToolsServer = () =>
  createDemoServer({ sessionId: randomUUID(), metadata: undefined, logger: undefined });

async function start(kind: ChildKind): Promise<Started> {
  if (kind === 'bare-pretenuring-off') {
    // What a supervisor with v8Pretenuring: 'off' does to its process, done to a bare one: how much
    // of that setting's gain any SDK server would get from the flag alone.
    turnOffAllocationSitePretenuring();
  }
  if (kind === 'bare' || kind === 'bare-twin' || kind === 'bare-demo' || kind === 'bare-pretenuring-off') {
    const bare = createBareSdkServer(kind === 'bare-demo' ? createDemoToolsServer : createBenchMcpServer);
    const server = http.createServer((req, res) => {
      void bare.handleRequest(req, res);
    });
    await listen(server);
    return { server, sessions: () => bare.transports.size };
  }
  if (kind === 'http-layer') {
    const layer = createHttpLayerServer(createBenchMcpServer);
    const server = http.createServer((req, res) => {
      void layer.handleRequest(req, res);
    });
    await listen(server);
    return { server, sessions: () => layer.sessions.size };
  }
  if (kind === 'supervisor-demo') {
    // demo-minimal's sessions in this process shape: demo-minimal / supervisor-demo is the price of the
    // demo's process and routes, supervisor-demo / bare-demo the library's with the demo's settings.
    const { LOG_LEVEL, ...settings } = DEMO_VARIANTS['demo-minimal'];
    const supervisor = createSessionSupervisor({
      ...demoSessionSettings({ ...settings, HOST }),
      logger: pino({ level: LOG_LEVEL }),
    });
    const server = http.createServer((req, res) => {
      void supervisor.handleRequest(req, res);
    });
    await listen(server);
    return { server, sessions: () => supervisor.size };
  }
  const supervisor = createSessionSupervisor({
    createServer: createBenchMcpServer,
    maxSessions: 1_000_000,
    idleTimeout: '1h',
    ...(kind === 'supervisor-pretenuring-keep' ? { v8Pretenuring: 'keep' as const } : {}),
  });
  if (kind === 'supervisor' || kind === 'supervisor-baseline' || kind === 'supervisor-pretenuring-keep') {
    const server = http.createServer((req, res) => {
      void supervisor.handleRequest(req, res);
    });
    await listen(server);
    return { server, sessions: () => supervisor.size };
  }
  const server = await new Promise<http.Server>((resolve) => {
    const created = serve({ fetch: (request) => supervisor.fetch(request), hostname: HOST, port: 0 }, () =>
      resolve(created as http.Server),
    );
  });
  return { server, sessions: () => supervisor.size };
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  if (!isChildKind(kind)) throw new Error(`unknown server kind: ${String(kind)}`);
  if (!process.send) throw new Error('run by bench/http.bench.ts (needs an IPC channel)');
  const { server, sessions } = await start(kind);
  const gc = new GcMeter();
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    // process.exit still writes a --cpu-prof profile; open sessions need no orderly release here.
    process.exit(0);
  };
  process.on('message', (message: ParentMessage) => {
    switch (message.type) {
      case 'heap':
        collectGarbage();
        send({ type: 'heap', heapUsed: process.memoryUsage().heapUsed, sessions: sessions() });
        break;
      case 'cpu': {
        const { user, system } = process.cpuUsage();
        send({ type: 'cpu', user, system, ...gc.read() });
        break;
      }
      case 'stop':
        stop();
        break;
    }
  });
  process.on('disconnect', stop);
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

await main();
