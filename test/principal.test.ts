import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionSupervisor, type McpSessionSupervisor, SupervisorError } from '../src/index.js';

const URL_ = 'http://127.0.0.1/mcp';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

const initializeBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
});

/** Bearer tokens name their principal directly: enough to test binding, not a real verifier. */
function principalOf(request: Request) {
  const token = request.headers.get('authorization')?.replace(/^Bearer /, '');
  if (token === 'bad')
    throw new SupervisorError(
      'unauthorized',
      { reason: 'bad token', wwwAuthenticate: 'Bearer' },
      'Unauthorized',
    );
  return token ? { id: token } : undefined;
}

let supervisor: McpSessionSupervisor;

function start(maxSessionsPerPrincipal?: number) {
  supervisor = createSessionSupervisor({
    createServer: () => new McpServer({ name: 'principal-test', version: '1' }),
    authenticate: principalOf,
    maxSessions: 10,
    ...(maxSessionsPerPrincipal === undefined ? {} : { maxSessionsPerPrincipal }),
  });
}

const as = (token: string | undefined): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` };

async function initialize(token: string | undefined): Promise<Response> {
  const response = await supervisor.fetch(
    new Request(URL_, { method: 'POST', headers: { ...HEADERS, ...as(token) }, body: initializeBody }),
  );
  await response.body?.cancel();
  return response;
}

async function ping(
  sessionId: string,
  token: string | undefined,
): Promise<{ status: number; body: unknown }> {
  const response = await supervisor.fetch(
    new Request(URL_, {
      method: 'POST',
      headers: {
        ...HEADERS,
        ...as(token),
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    }),
  );
  const text = await response.text();
  return { status: response.status, body: response.status === 200 ? text : JSON.parse(text) };
}

afterEach(async () => {
  await supervisor.shutdown({ grace: 1 });
});

describe('principal binding', () => {
  it('serves a session to the principal that created it', async () => {
    start();
    const sessionId = (await initialize('alice')).headers.get('mcp-session-id') as string;

    expect((await ping(sessionId, 'alice')).status).toBe(200);
  });

  it.each([
    ['another principal', 'mallory'],
    ['an anonymous caller', undefined],
  ])('answers %s 404, as for an unknown session', async (_who, token) => {
    start();
    const sessionId = (await initialize('alice')).headers.get('mcp-session-id') as string;

    expect(await ping(sessionId, token)).toEqual({
      status: 404,
      body: { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
    });
  });

  it('keeps an anonymous session out of reach of authenticated callers', async () => {
    start();
    const sessionId = (await initialize(undefined)).headers.get('mcp-session-id') as string;

    expect((await ping(sessionId, 'alice')).status).toBe(404);
  });

  it('answers 401 with WWW-Authenticate when authenticate refuses the credentials', async () => {
    start();

    const response = await initialize('bad');

    expect({ status: response.status, challenge: response.headers.get('www-authenticate') }).toEqual({
      status: 401,
      challenge: 'Bearer',
    });
    expect(supervisor.size).toBe(0);
  });
});

describe('maxSessionsPerPrincipal', () => {
  it('refuses the principal over its limit with 503 and Retry-After', async () => {
    start(2);
    await initialize('alice');
    await initialize('alice');

    const refused = await initialize('alice');

    expect({ status: refused.status, retryAfter: refused.headers.get('retry-after') }).toEqual({
      status: 503,
      retryAfter: '5',
    });
  });

  it('still admits other principals while one is at its limit', async () => {
    start(1);
    await initialize('alice');

    expect((await initialize('bob')).status).toBe(200);
  });

  it('gives the principal its slot back once one of its sessions ends', async () => {
    start(1);
    const sessionId = (await initialize('alice')).headers.get('mcp-session-id') as string;
    supervisor.close(sessionId);

    expect((await initialize('alice')).status).toBe(200);
  });
});
