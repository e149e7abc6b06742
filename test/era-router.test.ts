/**
 * The era router asks SDK v2's classifier only about POSTs: every other method goes to the
 * supervised (2025) leg without it. That shortcut is only right while the SDK's own
 * `isLegacyRequest` answers `true` for every non-POST whatever its headers, so the SDK is asked
 * here, as the oracle, about the same requests the router routes without it.
 */
import { isLegacyRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import type { RequestExtras } from '../src/http/dispatch.js';
import { createEraRouter, type LegacyClassifier } from '../src/http/era-router.js';

const URL_ = 'http://127.0.0.1/mcp';

const NON_POSTS: readonly { name: string; init: RequestInit }[] = [
  { name: 'a GET opening a session stream', init: { method: 'GET', headers: { 'mcp-session-id': 'abc' } } },
  { name: 'a DELETE ending a session', init: { method: 'DELETE', headers: { 'mcp-session-id': 'abc' } } },
  {
    name: 'a GET naming the modern revision in its headers',
    init: { method: 'GET', headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' } },
  },
  {
    name: 'a DELETE naming the modern revision in its headers',
    init: { method: 'DELETE', headers: { 'mcp-protocol-version': '2026-07-28' } },
  },
];

function router(classifier: LegacyClassifier) {
  const served: string[] = [];
  let loads = 0;
  let asked = 0;
  const route = createEraRouter({
    gate: { maxBodyBytes: 4096, bodyTimeoutMs: 1000, authenticate: undefined },
    modern: {
      fetch: async () => {
        served.push('modern');
        return new Response(null, { status: 202 });
      },
    },
    legacy: async (_request: Request, _extras: RequestExtras) => {
      served.push('legacy');
      return new Response(null, { status: 200 });
    },
    classify: async () => {
      loads += 1;
      return async (request, parsedBody) => {
        asked += 1;
        return classifier(request, parsedBody);
      };
    },
    logger: undefined,
    onTraffic: () => {},
  });
  return { route, served, counts: () => ({ loads, asked }) };
}

describe('the era router', () => {
  it.each(NON_POSTS)('sends $name to the sessions, as SDK v2 classifies it', async ({ init }) => {
    expect(await isLegacyRequest(new Request(URL_, init))).toBe(true);
    const { route, served, counts } = router(async () => false);
    await route(new Request(URL_, init));
    expect(served).toEqual(['legacy']);
    expect(counts().asked).toBe(0);
  });

  it('asks the classifier about each POST, loading it once', async () => {
    const { route, served, counts } = router(async (_request, body) => (body as { id: number }).id === 1);
    const post = (id: number) =>
      new Request(URL_, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }),
      });
    await route(post(1));
    await route(post(2));
    expect(served).toEqual(['legacy', 'modern']);
    expect(counts()).toEqual({ loads: 1, asked: 2 });
  });
});
