/**
 * The live view end to end: a supervisor behind node:http on 127.0.0.1 serving `/mcp` and
 * `/live/`, the page opened in headless Chromium (driven by playwright-core), and a scripted set of
 * sessions — real MCP SDK clients and sessions opened through the supervisor's API — taken through
 * every state and ended by every reason while the page watches. The supervisor runs on a simulated
 * clock, so every timeout fires exactly when the script says; the page follows the server's clock.
 *
 * Chromium is found through CHROMIUM_PATH, else on PATH (chromium, chromium-browser, google-chrome).
 * Under CI=true a missing Chromium fails these tests; elsewhere they are skipped with a message.
 *
 * Set LIVE_VIEW_SCREENSHOTS=<directory> to write live-view-desktop.png (1 280 px wide) and
 * live-view-narrow.png (420 px) there, taken mid-script (they are the ones in docs/).
 */
import http from 'node:http';
import path from 'node:path';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { ModernHandler } from '../src/http/era-router.js';
import { createSessionSupervisor, type McpSessionSupervisor } from '../src/index.js';
import { isLoopbackAddress } from '../src/live-view/access.js';
import { liveCharts } from '../src/live-view/charts.js';
import { createLiveView, type LiveSnapshot, type LiveViewHandler } from '../src/live-view/index.js';
import { connectClient as connectEraClient, createV2Server } from './fixtures/eras.js';
import {
  closeServer,
  connectClient,
  listenOnLoopback,
  stopSupervisor,
  toolServerFactory,
} from './support/http-harness.js';
import { CHROMIUM as CHROMIUM_PROGRAM, findProgram } from './support/programs.js';
import { rawRequest } from './support/raw-http.js';

const INIT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 20_000;
const MAX_LIFETIME_MS = 60_000;
const DISPOSE_TIMEOUT_MS = 5_000;
const MAX_SESSIONS = 4;
/** Generous: the page, the browser and the server share two cores with other test files. */
const POLL = { timeout: 8_000 };

const cleanups: Array<() => Promise<void>> = [];

/** Runs every cleanup, even after one fails (a browser or a server must never outlive the test). */
afterEach(async () => {
  let failure: unknown;
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
});

interface LiveDemo {
  readonly supervisor: McpSessionSupervisor;
  readonly clock: SimulatedClock;
  readonly liveView: LiveViewHandler;
  readonly mcpUrl: URL;
  readonly liveUrl: URL;
}

/** A server whose release never finishes: its session stays `expired` until `disposeTimeout`. */
const hangingServer = { close: () => new Promise<void>(() => {}) };

async function startLiveDemo(
  options: { maxClients?: number; maxSessions?: number; modern?: ModernHandler } = {},
): Promise<LiveDemo> {
  const clock = new SimulatedClock();
  const tools = toolServerFactory();
  const supervisor = createSessionSupervisor({
    clock,
    maxSessions: options.maxSessions ?? MAX_SESSIONS,
    initTimeout: INIT_TIMEOUT_MS,
    idleTimeout: IDLE_TIMEOUT_MS,
    maxLifetime: MAX_LIFETIME_MS,
    disposeTimeout: DISPOSE_TIMEOUT_MS,
    ...(options.modern === undefined ? {} : { modern: options.modern }),
    createServer: (context) => {
      if (context.metadata?.fail) throw new Error('this server cannot be built');
      if (context.metadata?.hangOnRelease) return hangingServer as unknown as ReturnType<typeof tools>;
      return tools();
    },
  });
  const liveView = createLiveView(
    supervisor,
    options.maxClients === undefined ? {} : { maxClients: options.maxClients },
  );
  const server = http.createServer((req, res) => {
    if (liveView(req, res)) return;
    void supervisor.handleRequest(req, res);
  });
  const mcpUrl = await listenOnLoopback(server);
  cleanups.push(async () => {
    liveView.close();
    await stopSupervisor(supervisor, clock);
    await closeServer(server);
  });
  return { supervisor, clock, liveView, mcpUrl, liveUrl: new URL('/live/', mcpUrl) };
}

async function connect(url: URL) {
  const connected = await connectClient(url);
  cleanups.push(() => connected.client.close());
  return connected;
}

// CHROMIUM_PATH, else the first Chromium-like program on PATH; under CI=true a missing one fails.
const chromiumProgram = findProgram(CHROMIUM_PROGRAM);
const skipBrowser = chromiumProgram.skipReason !== undefined;
if (skipBrowser) console.warn(`live-view e2e: ${chromiumProgram.skipReason}`);

/** Transition ids by their label (and guard when labels repeat), read from the definition. */
const charts = liveCharts();
/** The arrow labelled `label`, guarded by `guard` (`null`: the unguarded one; omitted: any). */
function arrow(label: string, guard?: string | null): string {
  const found = charts.session.transitions.find(
    (transition) =>
      transition.label === label &&
      (guard === undefined || transition.guard === (guard === null ? undefined : guard)),
  );
  if (!found) throw new Error(`the session machine has no arrow "${label}" [${guard}]`);
  return found.id;
}

/** The arrow a session takes when its server cannot be built: created → expired, not a timeout. */
function buildFailure(): string {
  const found = charts.session.transitions.filter(
    (t) => t.source.endsWith('.created') && t.target.endsWith('.expired') && t.kind !== 'after',
  );
  if (found.length !== 1) throw new Error(`expected one build-failure arrow, found ${found.length}`);
  return found[0]?.id ?? '';
}

describe.skipIf(skipBrowser)('the live view in headless Chromium', () => {
  let browser: Browser | undefined;

  // Launching takes seconds on a loaded 2-core machine: done once, outside the test's own budget.
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumProgram.require(),
      headless: true,
      // Offline machine: no background traffic to Google's hosts, no QUIC, nothing to sync.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function openPage(url: URL, width = 1280): Promise<{ page: Page; errors: string[] }> {
    if (!browser) throw new Error('the browser did not start');
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(url.href);
    await page.locator('#status[data-status="live"]').waitFor({ timeout: 8_000 });
    await page.locator('svg.chart[data-machine="session"]').waitFor({ timeout: 8_000 });
    return { page, errors };
  }

  const stateCount = (page: Page, machine: string, key: string) => () =>
    page
      .locator(`svg.chart[data-machine="${machine}"] g.state[data-key="${key}"]`)
      .getAttribute('data-count');
  const taken = (page: Page, id: string) => async () =>
    (await page.locator(`svg.chart g.transition[data-transition-id="${id}"]`).getAttribute('data-taken')) ??
    '0';
  const visibleLanes = (page: Page) => async () =>
    page
      .locator('#lanes .lane')
      .evaluateAll((lanes) => lanes.map((lane) => lane.getAttribute('data-session-id')));
  const segments = (page: Page, sessionId: string) => async () =>
    page
      .locator(`#lanes .lane[data-session-id="${sessionId}"] .segment[data-known="true"]`)
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-state')));
  const endReason = (page: Page, sessionId: string) => () =>
    page.locator(`#lanes .lane[data-session-id="${sessionId}"] .end`).getAttribute('data-reason');

  async function expectSessionCounts(page: Page, expected: Record<string, number>): Promise<void> {
    for (const [key, count] of Object.entries(expected)) {
      await expect.poll(stateCount(page, 'session', key), { ...POLL, message: key }).toBe(String(count));
    }
  }

  async function filterLanes(page: Page, filter: 'state' | 'client' | 'principal', value: string) {
    await page.locator(`#filter-${filter}`).selectOption(value);
  }

  it('draws both machines and follows sessions through every state and every end reason', async () => {
    const demo = await startLiveDemo();
    const { supervisor, clock } = demo;
    const { page, errors } = await openPage(demo.liveUrl);
    const open = (name: string, extra: { principal?: string; metadata?: Record<string, unknown> } = {}) =>
      supervisor.open({
        metadata: { clientInfo: { name }, ...extra.metadata },
        ...(extra.principal === undefined ? {} : { principal: extra.principal }),
      });
    const openIdle = async (name: string, extra: Parameters<typeof open>[1] = {}) => {
      const session = open(name, extra);
      await session.ready();
      session.markInitialized();
      return session;
    };

    // Every state of both machines is drawn, before any session exists: the spec's names, and every
    // state node of the definitions.
    const drawn = (machine: string) =>
      page
        .locator(`svg.chart[data-machine="${machine}"] g.state`)
        .evaluateAll((nodes) =>
          nodes.map((node) => [node.getAttribute('data-state-id'), node.getAttribute('data-key')]),
        );
    const sessionStates = await drawn('session');
    expect(sessionStates.map(([, key]) => key)).toEqual(
      expect.arrayContaining(['created', 'active', 'idle', 'expired', 'disposed']),
    );
    expect(sessionStates.map(([id]) => id)).toEqual(charts.session.states.map((state) => state.id));
    expect((await drawn('supervisor')).map(([, key]) => key)).toEqual([
      'running',
      'draining',
      'retiring',
      'releasing',
      'stopped',
    ]);
    await expect.poll(stateCount(page, 'supervisor', 'running'), POLL).toBe('1');
    expect(await page.locator('#lanes-empty').isVisible()).toBe(true);
    expect(await page.locator('#timeline-empty').isVisible()).toBe(true);

    // t = 0: one session in each live state (created, active ×2, idle); the house is full.
    const sdkDeleted = await connect(demo.mcpUrl); // a real SDK client: its GET stream keeps it active
    const alpha = await openIdle('alpha', { principal: 'alice', metadata: { hangOnRelease: true } });
    alpha.beginRequest(); // never ended: alpha stays active until its lifetime runs out
    const beta = await openIdle('beta', { principal: 'bob' });
    const gamma = open('gamma'); // never initialized

    await expectSessionCounts(page, { live: 4, created: 1, active: 2, idle: 1, expired: 0, disposed: 0 });
    await expect.poll(taken(page, 'session:initial'), POLL).toBe('4');
    // The SDK's handshake completes while its initialize is still in flight, the others' while idle.
    const initialized = async () =>
      Number(await taken(page, arrow('INITIALIZED', null))()) +
      Number(await taken(page, arrow('INITIALIZED', 'busyAtHandshake'))());
    await expect.poll(initialized, POLL).toBe(3);
    expect(await page.locator('#capacity').textContent()).toBe('4 / 4');
    expect(await linesOf(page, 'capacity'), 'the capacity card wraps').toBe(1);
    await expect.poll(visibleLanes(page), POLL).toEqual([gamma.id, beta.id, alpha.id, sdkDeleted.sessionId]);

    // Filters: by client, by principal, by the state a session is in now.
    await filterLanes(page, 'client', 'beta');
    await expect.poll(visibleLanes(page), POLL).toEqual([beta.id]);
    await filterLanes(page, 'client', '');
    await filterLanes(page, 'principal', 'alice');
    await expect.poll(visibleLanes(page), POLL).toEqual([alpha.id]);
    await filterLanes(page, 'principal', '');
    await filterLanes(page, 'state', 'active');
    await expect.poll(visibleLanes(page), POLL).toEqual([alpha.id, sdkDeleted.sessionId]);
    await filterLanes(page, 'state', '');

    // evicted: full, so a new session evicts the least recently active idle one (beta), via CLOSE.
    const close = arrow('CLOSE');
    expect(await taken(page, close)()).toBe('0');
    const epsilon = await openIdle('epsilon');
    await expect.poll(taken(page, close), POLL).toBe('1');
    await expect.poll(endReason(page, beta.id), POLL).toBe('evicted');
    await expect.poll(segments(page, beta.id), POLL).toEqual(['created', 'idle', 'expired']);
    const ticks = await page.locator('#lanes .axis .tick').allTextContents();
    expect(ticks.at(-1)).toBe('now');
    expect(ticks.length).toBeGreaterThan(1);

    // deleted: the SDK client ends its own session with DELETE.
    await sdkDeleted.transport.terminateSession();
    // failed: its server cannot be built.
    const broken = open('broken', { metadata: { fail: true } });
    await broken.whenDisposed();
    // moved: taken over by another node of a cluster.
    const mu = await openIdle('mu');
    supervisor.close(mu.id, 'moved');
    await expect.poll(taken(page, buildFailure()), POLL).toBe('1');
    await expect.poll(taken(page, close), POLL).toBe('3');

    // init-timeout at t = 10 s, idle-timeout at t = 20 s (epsilon went idle at t = 0).
    clock.increment(INIT_TIMEOUT_MS);
    await expect.poll(endReason(page, gamma.id), POLL).toBe('init-timeout');
    const idleTimeout = arrow('after idleTimeout');
    expect(await taken(page, idleTimeout)()).toBe('0');
    clock.increment(IDLE_TIMEOUT_MS - INIT_TIMEOUT_MS);
    await expect.poll(taken(page, idleTimeout), POLL).toBe('1');
    await expect.poll(segments(page, epsilon.id), POLL).toEqual(['created', 'idle', 'expired']);

    // A second real client arrives at t = 20 s; it will still be live at shutdown.
    const sdkLast = await connect(demo.mcpUrl);
    await expectSessionCounts(page, { live: 2, created: 0, active: 2, idle: 0, disposed: 6 });

    // lifetime at t = 60 s for alpha, whose release hangs: it sits in `expired` until disposeTimeout.
    clock.increment(MAX_LIFETIME_MS - IDLE_TIMEOUT_MS);
    await expectSessionCounts(page, { live: 1, active: 1, expired: 1, disposed: 6 });
    await expect.poll(segments(page, alpha.id), POLL).toEqual(['created', 'idle', 'active', 'expired']);
    await expect.poll(endReason(page, alpha.id), POLL).toBe('lifetime');
    if (process.env.LIVE_VIEW_SCREENSHOTS) await takeScreenshots(page, process.env.LIVE_VIEW_SCREENSHOTS);

    const disposeTimeout = arrow('after disposeTimeout');
    clock.increment(DISPOSE_TIMEOUT_MS);
    await expect.poll(taken(page, disposeTimeout), POLL).toBe('1');
    await expectSessionCounts(page, { expired: 0, disposed: 7 });

    // shutdown: the last session is retired; the supervisor drains and stops.
    await supervisor.shutdown({ grace: 0 });
    await expectSessionCounts(page, { live: 0, created: 0, active: 0, idle: 0, expired: 0, disposed: 8 });
    await expect.poll(stateCount(page, 'supervisor', 'stopped'), POLL).toBe('1');
    await expect.poll(stateCount(page, 'supervisor', 'running'), POLL).toBe('0');
    const supervisorArrows = charts.supervisor.transitions.filter(
      (transition) => transition.kind !== 'initial',
    );
    for (const transition of supervisorArrows) {
      await expect.poll(taken(page, transition.id), { ...POLL, message: transition.label }).toBe('1');
    }

    // Every end reason once, on the swimlanes and in the ended card.
    const reasons = {
      [beta.id]: 'evicted',
      [sdkDeleted.sessionId]: 'deleted',
      [broken.id]: 'failed',
      [mu.id]: 'moved',
      [gamma.id]: 'init-timeout',
      [epsilon.id]: 'idle-timeout',
      [alpha.id]: 'lifetime',
      [sdkLast.sessionId]: 'shutdown',
    };
    for (const [sessionId, reason] of Object.entries(reasons)) {
      await expect.poll(endReason(page, sessionId), { ...POLL, message: reason }).toBe(reason);
    }
    await expect.poll(() => page.locator('#ended span').textContent(), POLL).toBe('8');
    await filterLanes(page, 'state', 'disposed');
    await expect.poll(async () => (await visibleLanes(page)()).length, POLL).toBe(8);
    // A disposed row tells how long the session lived, not "0 s".
    expect(
      await page.locator(`#sessions tr[data-session-id="${alpha.id}"] [data-field="age"]`).textContent(),
    ).toBe('1m 00s');
    expect(errors, 'errors in the page').toEqual([]);
  });

  it('keeps the capacity card on one line at 1 280 px and fits a 420 px screen without overflowing', async () => {
    const demo = await startLiveDemo({ maxSessions: 100 });
    const { page, errors } = await openPage(demo.liveUrl, 1280);
    await connect(demo.mcpUrl);
    for (let opened = 1; opened < 14; opened += 1)
      demo.supervisor.open({ metadata: { clientInfo: { name: `c${opened}` } } });
    await expect.poll(() => page.locator('#capacity').textContent(), POLL).toBe('14 / 100');
    expect(await linesOf(page, 'capacity'), 'the capacity card wraps at 1 280 px').toBe(1);

    await page.setViewportSize({ width: 420, height: 900 });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow, 'the page scrolls sideways at 420 px').toBeLessThanOrEqual(0);
    expect(await linesOf(page, 'capacity'), 'the capacity card wraps at 420 px').toBe(1);
    expect(errors, 'errors in the page').toEqual([]);
  });

  it('counts the sessionless 2026-07-28 requests in their own panel, apart from the sessions', async () => {
    const demo = await startLiveDemo({ modern: createMcpHandler(createV2Server, { legacy: 'reject' }) });
    const { page, errors } = await openPage(demo.liveUrl);
    const modernCount = (list: string, attribute: string, name: string) => () =>
      page.locator(`#${list} li[${attribute}="${name}"] .count`).textContent();

    await expect.poll(() => page.locator('#modern').getAttribute('data-served'), POLL).toBe('true');
    expect(await page.locator('#modern-empty').textContent()).toMatch(/^No sessionless requests yet/);
    expect(await page.locator('#modern-figures').isVisible()).toBe(false);

    // A real SDK v2 client pinned to 2026-07-28: its discovery probe, then two tool calls.
    const pinned = await connectEraClient('v2 pinned', demo.mcpUrl);
    cleanups.push(() => pinned.close());
    expect(await pinned.callText('echo', { text: 'one' })).toBe('one');
    expect(await pinned.callText('echo', { text: 'two' })).toBe('two');
    // A request the modern handler refuses: a method it does not know, without the revision's envelope.
    const refused = await fetch(demo.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'bogus/method', params: {} }),
    });
    await refused.text();
    expect(refused.status).toBe(400);

    await expect.poll(() => page.locator('#modern-total').textContent(), POLL).toBe('4');
    expect(await page.locator('#modern-empty').isVisible()).toBe(false);
    await expect.poll(modernCount('modern-methods', 'data-method', 'tools/call'), POLL).toBe('2');
    expect(await modernCount('modern-methods', 'data-method', 'server/discover')()).toBe('1');
    expect(await modernCount('modern-methods', 'data-method', 'other')()).toBe('1');
    expect(await modernCount('modern-status', 'data-status-class', '2xx')()).toBe('3');
    expect(await modernCount('modern-status', 'data-status-class', '4xx')()).toBe('1');
    expect(Number(await page.locator('#modern-rate').textContent())).toBeGreaterThan(0);
    // None of it took a session or a slot.
    expect(await page.locator('#capacity').textContent()).toBe(`0 / ${MAX_SESSIONS}`);
    expect(await page.locator('#admitted').textContent()).toBe('0');

    // A 2025 client on the same endpoint holds a session, shown as one; the modern counts stay.
    await connect(demo.mcpUrl);
    await expect.poll(() => page.locator('#capacity').textContent(), POLL).toBe(`1 / ${MAX_SESSIONS}`);
    expect(await page.locator('#modern-total').textContent()).toBe('4');

    // The figures fit a 420 px screen too.
    await page.setViewportSize({ width: 420, height: 900 });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow, 'the page scrolls sideways at 420 px').toBeLessThanOrEqual(0);
    expect(errors, 'errors in the page').toEqual([]);
  });

  it('says the sessionless leg is not served when the supervisor has no modern handler', async () => {
    const demo = await startLiveDemo();
    const { page, errors } = await openPage(demo.liveUrl);

    await expect.poll(() => page.locator('#modern-empty').textContent(), POLL).toMatch(/^Not served/);
    expect(await page.locator('#modern').getAttribute('data-served')).toBe('false');
    expect(await page.locator('#modern-figures').isVisible()).toBe(false);
    expect(errors, 'errors in the page').toEqual([]);
  });
});

/** How many lines the element's text takes. */
function linesOf(page: Page, id: string): Promise<number> {
  return page.evaluate<number>(
    `(() => { const node = document.getElementById(${JSON.stringify(id)});
      return Math.round(node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight)); })()`,
  );
}

async function takeScreenshots(page: Page, directory: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(directory, 'live-view-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 420, height: 900 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(directory, 'live-view-narrow.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe('the live view endpoints', () => {
  it('answers a snapshot of the live sessions, the statistics and the counts per drawn state', async () => {
    const demo = await startLiveDemo();
    const { sessionId } = await connect(demo.mcpUrl);

    const response = await fetch(new URL('snapshot.json', demo.liveUrl));
    const snapshot = (await response.json()) as LiveSnapshot;

    expect(response.status).toBe(200);
    expect(snapshot.total).toBe(1);
    expect(snapshot.sessions.map((session) => session.id)).toEqual([sessionId]);
    expect(snapshot.sessions[0]?.client).toBe('e2e-client');
    expect(snapshot.stats.totals.admitted).toBe(1);
    expect(snapshot.counts.session['session.live']).toBe(1);
    expect(snapshot.counts.supervisor['supervisor.running']).toBe(1);
  });

  it('answers the laid-out statecharts of both machines', async () => {
    const demo = await startLiveDemo();

    const response = await fetch(new URL('charts.json', demo.liveUrl));
    const body = (await response.json()) as { session: { states: { key: string }[] }; supervisor: unknown };

    expect(response.status).toBe(200);
    expect(body.session.states.map((state) => state.key)).toEqual(
      expect.arrayContaining(['created', 'active', 'idle', 'expired', 'disposed']),
    );
  });

  it('redirects the base path to the page, which runs only its own script', async () => {
    const demo = await startLiveDemo();

    const redirect = await fetch(new URL('/live', demo.mcpUrl), { redirect: 'manual' });
    const page = await fetch(demo.liveUrl);

    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/live/');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'sha256-/);
    expect(await page.text()).toContain('id="timeline"');
  });

  it('refuses a Host name that is not loopback (DNS rebinding) and methods other than GET', async () => {
    const demo = await startLiveDemo();

    const rebound = await rawRequest(new URL('snapshot.json', demo.liveUrl), {
      headers: { host: 'attacker.example' },
    });
    const posted = await fetch(new URL('snapshot.json', demo.liveUrl), { method: 'POST' });
    await posted.text();

    expect(rebound.status).toBe(403);
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET');
  });

  it('tells loopback peers from others', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
    for (const address of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', '::', undefined]) {
      expect(isLoopbackAddress(address), String(address)).toBe(false);
    }
  });

  it('caps the open event streams and forgets a stream when its page goes away', async () => {
    const demo = await startLiveDemo({ maxClients: 1 });
    const events = new URL('events', demo.liveUrl);
    const first = new AbortController();

    const open = await fetch(events, { signal: first.signal });
    const reader = open.body?.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = (await reader?.read()) ?? {};
    const refused = await fetch(events);
    await refused.text();

    expect(open.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(value).toContain('retry: 2000');
    expect(refused.status).toBe(503);
    expect(demo.liveView.clients).toBe(1);

    first.abort();
    await expect.poll(() => demo.liveView.clients, POLL).toBe(0);
    const again = await fetch(events);
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });
});
