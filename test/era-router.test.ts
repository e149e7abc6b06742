/**
 * The era router asks SDK v2's classifier only about POSTs that are not plain 2025-era messages:
 * every other method, and every plain message (`isPlainLegacyPost`), goes to the supervised (2025)
 * leg without it. Those shortcuts are only right while the SDK's own `isLegacyRequest` answers
 * `true` for the same requests, so the SDK is asked here, as the oracle, about the requests the
 * router routes without it — named ones, and bodies and headers generated around the edges of the
 * shortcut (responses, batches, `_meta`, odd ids and keys, modern and unusual version headers).
 */
import { isLegacyRequest } from '@modelcontextprotocol/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RequestExtras } from '../src/http/dispatch.js';
import { createEraRouter, type LegacyClassifier } from '../src/http/era-router.js';
import { isPlainLegacyPost } from '../src/http/era-shortcut.js';
import { LEGACY_PROTOCOL_VERSIONS } from '../src/mcp/protocol-versions.js';
import { missingPeer } from '../src/peer.js';

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

  it('asks the classifier about each POST that is not plain, loading it once', async () => {
    const { route, served, counts } = router(async (_request, body) => (body as { id: number }).id === 1);
    const post = (id: number) =>
      new Request(URL_, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', params: { _meta: {} } }),
      });
    await route(post(1));
    await route(post(2));
    expect(served).toEqual(['legacy', 'modern']);
    expect(counts()).toEqual({ loads: 1, asked: 2 });
  });

  it('answers every request 500 while SDK v2 cannot be loaded, those it would not ask about included', async () => {
    const route = createEraRouter({
      gate: { maxBodyBytes: 4096, bodyTimeoutMs: 1000, authenticate: undefined },
      modern: { fetch: async () => new Response(null, { status: 202 }) },
      legacy: async () => new Response(null, { status: 200 }),
      classify: async () => {
        throw missingPeer(
          '@modelcontextprotocol/server',
          'Serving the 2026-07-28 revision (option `modern`)',
        );
      },
      logger: undefined,
      onTraffic: () => {},
    });
    const plain = PLAIN_SESSION_TRAFFIC[0];
    const answers = await Promise.all([
      route(new Request(URL_, { method: 'GET', headers: { 'mcp-session-id': 'abc' } })),
      route(
        new Request(URL_, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(plain?.body),
        }),
      ),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([500, 500]);
  });

  it.each(PLAIN_SESSION_TRAFFIC)(
    'sends $name to the sessions without asking, as SDK v2 classifies it',
    async ({ body, version }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (version !== undefined) headers['mcp-protocol-version'] = version;
      const request = () => new Request(URL_, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(await isLegacyRequest(request())).toBe(true);
      const { route, served, counts } = router(async () => false);
      await route(request());
      expect(served).toEqual(['legacy']);
      expect(counts().asked).toBe(0);
    },
  );
});

const PLAIN_SESSION_TRAFFIC: readonly { name: string; body: unknown; version?: string }[] = [
  {
    name: 'an initialize',
    body: {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
    },
  },
  {
    name: 'notifications/initialized',
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
    version: '2025-11-25',
  },
  {
    name: 'a tools/call',
    body: {
      jsonrpc: '2.0',
      id: 'call-7',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'hi' } },
    },
    version: '2025-06-18',
  },
];

/** Messages near the shortcut's edges: most fields right, some wrong, extra or missing. */
const json = fc.jsonValue({ maxDepth: 2 });
const meta = fc.oneof(
  fc.constant({}),
  fc.record({ progressToken: fc.oneof(fc.string(), fc.integer(), json) }),
  fc.constant({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }),
  fc.constant({ 'io.modelcontextprotocol/protocolVersion': 7 }),
  json,
);
const params = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }) },
  { weight: 2, arbitrary: fc.record({ _meta: meta, name: fc.string() }, { requiredKeys: ['_meta'] }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.array(json, { maxLength: 2 }), json) },
);
const jsonrpc = fc.oneof(
  { weight: 6, arbitrary: fc.constant('2.0') },
  { weight: 1, arbitrary: fc.constantFrom('1.0', 2, '2.0 ') },
);
const id = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, 2 ** 60, Number.MAX_SAFE_INTEGER, -0, null, true) },
);
const method = fc.oneof(
  fc.constantFrom('initialize', 'tools/call', 'notifications/initialized', 'ping', 'server/discover'),
  fc.string({ maxLength: 6 }),
  fc.integer(),
);
/** Shaped like a request or a notification, fields right or wrong. */
const requestLike = fc.record({ jsonrpc, id, method, params }, { requiredKeys: ['jsonrpc', 'method'] });
/** Anything a JSON-RPC message may carry, responses' fields and a stray key included. */
const anyMessage = fc
  .record(
    {
      jsonrpc,
      id,
      method,
      params,
      result: json,
      error: fc.record({ code: fc.integer(), message: fc.string() }),
      extra: json,
    },
    { requiredKeys: [] },
  )
  .filter((candidate) => Object.keys(candidate).length > 0);
const message = fc.oneof({ weight: 3, arbitrary: requestLike }, { weight: 2, arbitrary: anyMessage });
const body = fc.oneof(
  { weight: 6, arbitrary: message },
  { weight: 1, arbitrary: fc.array(message, { maxLength: 2 }) },
  { weight: 1, arbitrary: json },
);
const version = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom(...LEGACY_PROTOCOL_VERSIONS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '2026-07-28',
      '2027-01-01',
      '2025-01-01',
      'garbage',
      '\u00a02025-11-25',
      '2025-11-25\u00a0',
    ),
  },
);

describe('the plain 2025-era POST shortcut', () => {
  it('answers "legacy" only where SDK v2 classifies the request legacy', async () => {
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(body, version, async (generated, header) => {
        // As the router sees it: a body parsed from JSON.
        const parsed: unknown = JSON.parse(JSON.stringify(generated) ?? 'null');
        if (!isPlainLegacyPost(parsed, header ?? null)) return;
        taken += 1;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (header !== undefined) headers['mcp-protocol-version'] = header;
        const request = new Request(URL_, { method: 'POST', headers });
        expect(await isLegacyRequest(request, parsed)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
    // Not vacuous: a good share of the generated messages were plain enough to take it.
    expect(taken).toBeGreaterThan(100);
  });
});
