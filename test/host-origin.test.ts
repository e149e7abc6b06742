import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK_HOSTS, type McpSessionSupervisorOptions } from '../src/index.js';
import {
  closeServer,
  createSupervisorUnderTest,
  initializeBody,
  listenOnLoopback,
  MCP_ACCEPT,
  type SupervisorUnderTest,
  stopSupervisor,
} from './support/http-harness.js';
import { RPC, rpcCodeOf } from './support/json-rpc.js';
import { type ListeningChild, spawnListening } from './support/listening-child.js';
import { rawRequest } from './support/raw-http.js';

interface Answer {
  readonly status: number;
  readonly rpcCode: number | undefined;
}

/** POSTs an initialize to `port` with exactly these Host and Origin headers (node:http sets nothing else). */
async function initializeWith(port: number, host: string, origin: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = { host, accept: MCP_ACCEPT, 'content-type': 'application/json' };
  if (origin !== undefined) headers.origin = origin;
  const answer = await rawRequest(
    `http://127.0.0.1:${port}/mcp`,
    { method: 'POST', headers },
    initializeBody(),
  );
  return { status: answer.status, rpcCode: rpcCodeOf(answer.body) };
}

async function serve(options: McpSessionSupervisorOptions) {
  const underTest = createSupervisorUnderTest(options);
  const server = http.createServer((req, res) => void underTest.supervisor.handleRequest(req, res));
  const url = await listenOnLoopback(server);
  return { underTest, server, port: Number(url.port) };
}

describe('loopback protection (allowedHosts: LOOPBACK_HOSTS)', () => {
  let served: { underTest: SupervisorUnderTest; server: http.Server; port: number };
  beforeAll(async () => {
    served = await serve({ allowedHosts: LOOPBACK_HOSTS });
  });
  afterAll(async () => {
    await closeServer(served.server);
    await stopSupervisor(served.underTest.supervisor, served.underTest.clock);
  });
  const own = () => `127.0.0.1:${served.port}`;
  const forbidden = { status: 403, rpcCode: RPC.serverError };

  it('refuses a foreign Host', async () => {
    expect(await initializeWith(served.port, 'evil.example', undefined)).toEqual(forbidden);
  });

  it('refuses a foreign Origin with a loopback Host', async () => {
    expect(await initializeWith(served.port, own(), 'http://evil.example')).toEqual(forbidden);
  });

  it('refuses Origin: null (sandboxed pages, file: URLs)', async () => {
    expect(await initializeWith(served.port, own(), 'null')).toEqual(forbidden);
  });

  it('refuses a loopback origin on another port (another local web app)', async () => {
    expect(await initializeWith(served.port, own(), `http://127.0.0.1:${served.port + 1}`)).toEqual(
      forbidden,
    );
    expect(await initializeWith(served.port, own(), 'http://localhost')).toEqual(forbidden);
  });

  it('refuses a loopback name used as a prefix of a foreign one', async () => {
    expect(await initializeWith(served.port, own(), `http://127.0.0.1.evil.example:${served.port}`)).toEqual(
      forbidden,
    );
  });

  it('refuses an origin that is not http(s)', async () => {
    expect(await initializeWith(served.port, own(), `ftp://127.0.0.1:${served.port}`)).toEqual(forbidden);
  });

  it('admits its own origin, under any loopback name, and requests without Origin', async () => {
    expect((await initializeWith(served.port, own(), `http://127.0.0.1:${served.port}`)).status).toBe(200);
    expect((await initializeWith(served.port, own(), `http://localhost:${served.port}`)).status).toBe(200);
    expect(
      (await initializeWith(served.port, `[::1]:${served.port}`, `http://[::1]:${served.port}`)).status,
    ).toBe(200);
    expect((await initializeWith(served.port, own(), undefined)).status).toBe(200);
  });
});

describe('an explicit allowedOrigins list', () => {
  let served: { underTest: SupervisorUnderTest; server: http.Server; port: number };
  beforeAll(async () => {
    served = await serve({ allowedHosts: LOOPBACK_HOSTS, allowedOrigins: ['http://localhost:6274'] });
  });
  afterAll(async () => {
    await closeServer(served.server);
    await stopSupervisor(served.underTest.supervisor, served.underTest.clock);
  });

  it('replaces the same-origin rule: listed origins only', async () => {
    const host = `127.0.0.1:${served.port}`;
    expect((await initializeWith(served.port, host, 'http://localhost:6274')).status).toBe(200);
    expect((await initializeWith(served.port, host, `http://127.0.0.1:${served.port}`)).status).toBe(403);
  });
});

describe('the demo server (loopback)', () => {
  let demo: ListeningChild | undefined;
  afterEach(async () => {
    await demo?.kill();
    demo = undefined;
  });

  // Starting the demo through tsx takes seconds on a loaded machine: the bounds only catch a hang.
  it('refuses foreign, null and wrong-port origins and serves its own', { timeout: 60_000 }, async () => {
    demo = await spawnListening('examples/demo/server.ts', { env: { HOST: '127.0.0.1', LOG_LEVEL: 'warn' } });
    const { port } = demo;
    const host = `127.0.0.1:${port}`;
    expect((await initializeWith(port, host, 'http://evil.example')).status).toBe(403);
    expect((await initializeWith(port, host, 'null')).status).toBe(403);
    expect((await initializeWith(port, host, `http://127.0.0.1:${port + 1}`)).status).toBe(403);
    expect((await initializeWith(port, host, `http://127.0.0.1:${port}`)).status).toBe(200);
  });
});
