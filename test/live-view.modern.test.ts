/**
 * The sessionless (2026-07-28) leg in the live view's snapshot: counted per request by method and
 * status class with a recent rate, in constant memory, and apart from the sessions (it takes no
 * slot). Requests go through the supervisor's real era router and SDK v2's classifier to a stub
 * modern handler, whose answers the test chooses.
 */
import { describe, expect, it } from 'vitest';
import type { TrafficEvent } from '../src/http/era-router.js';
import { createSessionSupervisor, type McpSessionSupervisor } from '../src/index.js';
import { liveCharts, machinesOf } from '../src/live-view/charts.js';
import { countModernTraffic, ModernTrafficTally, RATE_WINDOW_S } from '../src/live-view/modern-traffic.js';
import { takeSnapshot } from '../src/live-view/snapshot.js';

const request = (method: string, status: number, at: number): TrafficEvent => ({
  type: 'request',
  era: 'modern',
  method,
  status,
  at,
});

/** A 2026-07-28 request as a pinned client sends it: the revision named in its header. */
function modernRequest(method: string): Request {
  return new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: {
      host: '127.0.0.1',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: {} }),
  });
}

function servingBothEras(statusOf: (method: string) => number): McpSessionSupervisor {
  return createSessionSupervisor({
    maxSessions: 2,
    modern: {
      fetch: async (_request, options) => {
        const method = (options?.parsedBody as { method?: string } | undefined)?.method ?? '';
        return new Response('{}', {
          status: statusOf(method),
          headers: { 'content-type': 'application/json' },
        });
      },
    },
  });
}

describe('the tally of sessionless requests', () => {
  it('counts every request by method and by status class', () => {
    const tally = new ModernTrafficTally(true);
    tally.record(request('server/discover', 200, 1_000));
    tally.record(request('tools/call', 200, 1_100));
    tally.record(request('tools/call', 202, 1_200));
    tally.record(request('other', 400, 1_300));
    tally.record(request('tools/call', 503, 1_400));

    const summary = tally.summary(1_500);

    expect(summary).toMatchObject({
      served: true,
      total: 5,
      byMethod: { 'server/discover': 1, 'tools/call': 3, other: 1 },
      byStatus: { '2xx': 3, '4xx': 1, '5xx': 1 },
      lastAt: 1_400,
    });
  });

  it('gives the rate over the last seconds and forgets older requests', () => {
    const tally = new ModernTrafficTally(true);
    const start = 1_000_000;
    for (let i = 0; i < 20; i += 1) tally.record(request('ping', 200, start + i * 100)); // 2 s, 10/s
    expect(tally.summary(start + 2_000).perSecond).toBe(20 / RATE_WINDOW_S);
    // The first second's ten leave the window, the second's ten are still in it.
    expect(tally.summary(start + RATE_WINDOW_S * 1_000).perSecond).toBe(10 / RATE_WINDOW_S);
    expect(tally.summary(start + (RATE_WINDOW_S + 2) * 1_000).perSecond).toBe(0);
    // A later second that reuses a bucket of the ring starts it from zero.
    tally.record(request('ping', 200, start + RATE_WINDOW_S * 1_000));
    expect(tally.summary(start + RATE_WINDOW_S * 1_000).perSecond).toBe(11 / RATE_WINDOW_S);
    expect(tally.summary(start + RATE_WINDOW_S * 1_000).total).toBe(21);
  });

  it('keeps a bounded number of method labels, whatever it is sent', () => {
    const tally = new ModernTrafficTally(true);
    for (let i = 0; i < 1_000; i += 1) tally.record(request(`made/up-${i}`, 200, i));

    const { byMethod, total } = tally.summary(1_000);

    expect(Object.keys(byMethod).length).toBeLessThanOrEqual(33);
    expect(Object.values(byMethod).reduce((sum, count) => sum + count, 0)).toBe(total);
    expect(byMethod.other).toBeGreaterThan(900);
  });
});

describe('the snapshot of a supervisor serving both eras', () => {
  it('carries the modern requests it served, which opened no session', async () => {
    const supervisor = servingBothEras((method) => (method === 'tools/call' ? 200 : 400));
    const traffic = countModernTraffic(supervisor);
    try {
      for (const method of ['server/discover', 'tools/call', 'tools/call', 'bogus/method']) {
        await supervisor.fetch(modernRequest(method));
      }
      const charts = liveCharts(machinesOf(supervisor));

      const snapshot = takeSnapshot(supervisor, charts, new Map(), 0, 10, traffic.tally.summary(Date.now()));

      expect(snapshot.modern).toMatchObject({
        served: true,
        total: 4,
        byMethod: { 'server/discover': 1, 'tools/call': 2, other: 1 },
        byStatus: { '2xx': 2, '4xx': 2 },
      });
      expect(snapshot.modern.perSecond).toBe(4 / RATE_WINDOW_S);
      expect(snapshot.total).toBe(0);
      expect(snapshot.stats.totals.admitted).toBe(0);
    } finally {
      traffic.stop();
      await supervisor.shutdown({ grace: 0 });
    }
  });

  it('stops counting once stopped', async () => {
    const supervisor = servingBothEras(() => 200);
    const traffic = countModernTraffic(supervisor);
    try {
      await supervisor.fetch(modernRequest('ping'));
      traffic.stop();
      await supervisor.fetch(modernRequest('ping'));

      expect(traffic.tally.summary(Date.now()).total).toBe(1);
    } finally {
      await supervisor.shutdown({ grace: 0 });
    }
  });

  it('says the leg is not served when the supervisor has no modern handler', async () => {
    const supervisor = createSessionSupervisor({ maxSessions: 2 });
    const traffic = countModernTraffic(supervisor);
    try {
      const response = await supervisor.fetch(modernRequest('server/discover'));
      await response.text();

      expect(response.status).toBe(400);
      expect(traffic.tally.summary(Date.now())).toMatchObject({ served: false, total: 0, byMethod: {} });
    } finally {
      traffic.stop();
      await supervisor.shutdown({ grace: 0 });
    }
  });
});
