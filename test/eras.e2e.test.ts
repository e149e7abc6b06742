/**
 * One endpoint, both protocol eras, end to end over real sockets: the real SDK clients (v1, and v2 in
 * its default, `auto` and pinned `2026-07-28` modes) against each entry point (node:http, Express,
 * fetch), with the supervised sessions' servers built by SDK v1 and by SDK v2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficEvent } from '../src/http/era-router.js';
import { createSupervisorMetrics } from '../src/metrics.js';
import {
  CLIENT_MODES,
  type ClientMode,
  connectClient,
  ENTRY_POINTS,
  PROBE_HEADER,
  type Served,
  type ServerSdk,
  serveEras,
} from './fixtures/eras.js';

const SDKS: readonly ServerSdk[] = ['v1', 'v2'];

/** The era each client mode ends up in, against an endpoint that serves both. */
const EXPECTED_ERA: Record<ClientMode, 'legacy' | 'modern'> = {
  v1: 'legacy',
  'v2 default': 'legacy',
  'v2 auto': 'modern',
  'v2 pinned': 'modern',
};

describe.each(ENTRY_POINTS)('one endpoint for both eras, on %s', (entry) => {
  describe.each(SDKS)('with SDK %s session servers', (sdk) => {
    let served: Served;
    const traffic: TrafficEvent[] = [];
    beforeAll(async () => {
      served = await serveEras(entry, sdk);
      served.supervisor.subscribeTraffic((event) => traffic.push(event));
    });
    afterAll(() => served.close());

    it.each(CLIENT_MODES)(
      'serves the %s client in its era, through a session only for 2025',
      async (mode) => {
        traffic.length = 0;
        const client = await connectClient(mode, served.url);
        try {
          expect(await client.callText('echo', { text: 'hi' })).toBe('hi');
          if (EXPECTED_ERA[mode] === 'legacy') {
            expect(client.sessionId()).toBeDefined();
            expect(served.supervisor.sessions().map((session) => session.id)).toEqual([client.sessionId()]);
            expect(traffic).toEqual([]);
          } else {
            expect(client.sessionId()).toBeUndefined();
            expect(served.supervisor.getStatistics().activeSessions).toBe(0);
            expect(traffic.map((event) => [event.era, event.method, event.status])).toContainEqual([
              'modern',
              'tools/call',
              200,
            ]);
          }
        } finally {
          await client.close();
        }
      },
    );
  });

  describe('a v2 server on the supervised leg', () => {
    let served: Served;
    beforeAll(async () => {
      served = await serveEras(entry, 'v2');
    });
    afterAll(() => served.close());

    it.each(['v1', 'v2 default'] as const)(
      "sees the real HTTP request's headers in its tool (ctx.http.req), for the %s client",
      async (mode) => {
        const client = await connectClient(mode, served.url, { [PROBE_HEADER]: `from ${mode}` });
        try {
          expect(client.sessionId()).toBeDefined();
          expect(await client.callText('probe')).toBe(`from ${mode}`);
        } finally {
          await client.close();
        }
      },
    );
  });

  describe('an endpoint without a modern handler', () => {
    let served: Served;
    beforeAll(async () => {
      served = await serveEras(entry, 'v2', {});
    });
    afterAll(() => served.close());

    it('lets the v2 auto client fall back to a session', async () => {
      const client = await connectClient('v2 auto', served.url);
      try {
        expect(client.sessionId()).toBeDefined();
        expect(await client.callText('echo', { text: 'fallback' })).toBe('fallback');
      } finally {
        await client.close();
      }
    });
  });
});

describe('metrics of an endpoint serving both eras', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveEras('node:http', 'v2');
  });
  afterAll(() => served.close());

  it('counts the modern leg per request by era and method, and the 2025 leg by sessions', async () => {
    const { registry } = createSupervisorMetrics(served.supervisor);
    for (const mode of ['v2 pinned', 'v1'] as const) {
      const client = await connectClient(mode, served.url);
      await client.callText('echo', { text: mode });
      await client.close();
    }
    const exposition = await registry.metrics();
    expect(exposition).toContain(
      'mcp_session_requests_total{era="modern",method="tools/call",status="200"} 1',
    );
    expect(exposition).toMatch(
      /mcp_session_requests_total\{era="modern",method="server\/discover",status="200"\} 1/,
    );
    expect(exposition).toContain('mcp_session_admitted_total 1');
  });
});
