/**
 * The gate is the same for both eras: Host/Origin (403), body size (413), Content-Type (415) and
 * `authenticate` (401) refuse a 2026-07-28 request with exactly the answer a 2025-era one gets, on
 * every entry point; a well-formed request of either era is served (the modern one without a session).
 */
import { createMcpHandler } from '@modelcontextprotocol/server';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficEvent } from '../src/http/era-router.js';
import { SupervisorError } from '../src/index.js';
import { countModernTraffic } from '../src/live-view/modern-traffic.js';
import { createSupervisorMetrics } from '../src/metrics.js';
import { createV2Server, ENTRY_POINTS, type Served, serveEras } from './fixtures/eras.js';
import { RPC } from './support/json-rpc.js';
import { type RawAnswer, rawRequest } from './support/raw-http.js';

const MAX_BODY_BYTES = 2_048;
const TOKEN = 'Bearer let-me-in';
const MODERN = '2026-07-28';

const legacyBody = (padding = '') => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'gate-test', version: '1.0.0', padding },
  },
});

const modernBody = (padding = '') => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/list',
  params: {
    _meta: {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientInfo': { name: 'gate-test', version: '1.0.0', padding },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});

const LEGS = {
  legacy: { body: legacyBody, headers: {} },
  modern: { body: modernBody, headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' } },
} as const;

interface Case {
  readonly name: string;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly omit?: string;
  readonly padding?: string;
}

const BAD_INPUT: readonly Case[] = [
  { name: 'a foreign Host', status: 403, headers: { host: 'evil.example' } },
  { name: 'a foreign Origin', status: 403, headers: { origin: 'http://evil.example' } },
  { name: 'a body over maxBodyBytes', status: 413, padding: 'x'.repeat(MAX_BODY_BYTES) },
  { name: 'Content-Type text/plain', status: 415, headers: { 'content-type': 'text/plain' } },
  { name: 'no credentials', status: 401, omit: 'authorization' },
];

function send(served: Served, leg: keyof typeof LEGS, testCase: Partial<Case> = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = {
    host: served.url.host,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    authorization: TOKEN,
    ...LEGS[leg].headers,
    ...testCase.headers,
  };
  if (testCase.omit !== undefined) delete headers[testCase.omit];
  return rawRequest(
    served.url,
    { method: 'POST', headers },
    JSON.stringify(LEGS[leg].body(testCase.padding)),
  );
}

describe.each(ENTRY_POINTS)('the gate in front of both eras, on %s', (entry) => {
  let served: Served;
  const traffic: TrafficEvent[] = [];
  let liveView: ReturnType<typeof countModernTraffic>;
  let requestsTotal: Counter;
  /** `requests_total{era="modern",method="tools/list",status}` as the metrics count it now. */
  const modernRequests = async (status: number): Promise<number> =>
    (await requestsTotal.get()).values.find(
      ({ labels }) =>
        labels.era === 'modern' && labels.method === 'tools/list' && labels.status === String(status),
    )?.value ?? 0;
  beforeAll(async () => {
    served = await serveEras(entry, 'v2', {
      modern: createMcpHandler(createV2Server, { legacy: 'reject' }),
      maxBodyBytes: MAX_BODY_BYTES,
      allowedOrigins: ['http://127.0.0.1'],
      authenticate: (request) => {
        if (request.headers.get('authorization') === TOKEN) return { id: 'alice' };
        throw new SupervisorError(
          'unauthorized',
          { reason: 'no token', wwwAuthenticate: 'Bearer' },
          'Unauthorized',
        );
      },
    });
    served.supervisor.subscribeTraffic((event) => traffic.push(event));
    liveView = countModernTraffic(served.supervisor);
    const { registry } = createSupervisorMetrics(served.supervisor);
    requestsTotal = registry.getSingleMetric('mcp_session_requests_total') as Counter;
  });
  afterAll(async () => {
    liveView.stop();
    await served.close();
  });

  it('serves a well-formed 2025 initialize with a session', async () => {
    const answer = await send(served, 'legacy');
    expect(answer.status).toBe(200);
    expect(answer.headers['mcp-session-id']).toBeDefined();
  });

  it('serves a well-formed 2026-07-28 request without a session', async () => {
    const before = served.supervisor.getStatistics().activeSessions;
    const answer = await send(served, 'modern');
    expect(answer.status).toBe(200);
    expect(answer.headers['mcp-session-id']).toBeUndefined();
    expect(answer.body).toContain('"tools"');
    expect(served.supervisor.getStatistics().activeSessions).toBe(before);
  });

  it.each(BAD_INPUT)('refuses $name with $status, the same answer for both eras', async (testCase) => {
    const before = served.supervisor.getStatistics().activeSessions;
    const legacy = await send(served, 'legacy', testCase);
    const modern = await send(served, 'modern', testCase);
    expect(legacy.status).toBe(testCase.status);
    expect(modern.status).toBe(testCase.status);
    expect(modern.body).toBe(legacy.body);
    expect(JSON.parse(modern.body)).toMatchObject({ jsonrpc: '2.0', error: { code: RPC.serverError } });
    expect(modern.headers['www-authenticate']).toBe(legacy.headers['www-authenticate']);
    expect(served.supervisor.getStatistics().activeSessions).toBe(before);
  });

  it.each(BAD_INPUT)(
    'counts a 2026-07-28 request refused for $name ($status) in the modern traffic, metrics and live view; not the 2025 one',
    async (testCase) => {
      traffic.length = 0;
      const counted = await modernRequests(testCase.status);
      const shown = liveView.tally.summary(Date.now()).byStatus['4xx'] ?? 0;

      await send(served, 'legacy', testCase);
      await send(served, 'modern', testCase);

      expect({
        traffic: traffic.map(({ era, method, status }) => ({ era, method, status })),
        metrics: (await modernRequests(testCase.status)) - counted,
        liveView: (liveView.tally.summary(Date.now()).byStatus['4xx'] ?? 0) - shown,
      }).toEqual({
        traffic: [{ era: 'modern', method: 'tools/list', status: testCase.status }],
        metrics: 1,
        liveView: 1,
      });
    },
  );
});

describe('a 2026-07-28 request at an endpoint that serves only sessions', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveEras('node:http', 'v1', {});
  });
  afterAll(() => served.close());

  it('is told the revisions served (-32022), not that a session id is missing', async () => {
    const answer = await send(served, 'modern');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: {
        code: RPC.unsupportedProtocolVersion,
        data: { requested: MODERN, supported: expect.arrayContaining(['2025-11-25']) },
      },
    });
    expect(served.supervisor.getStatistics().activeSessions).toBe(0);
  });
});
