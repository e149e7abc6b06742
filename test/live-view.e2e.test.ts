/**
 * The live view end to end: a supervisor behind node:http on 127.0.0.1 serving `/mcp` and
 * `/live/`, the page opened in headless Chromium (Debian's, driven by playwright-core), and a
 * session opened, used, abandoned and expired by the MCP SDK's own client while the page watches.
 * A browser runs on real time, so so does the supervisor here, with a short idle timeout.
 *
 * Set LIVE_VIEW_SCREENSHOT=/tmp/live-view.png to keep a screenshot of the page at the end.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSessionSupervisor, type McpSessionSupervisor } from '../src/index.js';
import { isLoopbackAddress } from '../src/live-view/access.js';
import { createLiveView, type LiveSnapshot, type LiveViewHandler } from '../src/live-view/index.js';
import { closeServer, connectClient, listenOnLoopback, toolServerFactory } from './support/http-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const IDLE_TIMEOUT_MS = 1_500;
/** Generous: the page, the browser and the server share two cores with other test files. */
const POLL = { timeout: 5_000 };

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
  readonly liveView: LiveViewHandler;
  readonly mcpUrl: URL;
  readonly liveUrl: URL;
}

async function startLiveDemo(options: { maxClients?: number } = {}): Promise<LiveDemo> {
  const supervisor = createSessionSupervisor({
    createServer: toolServerFactory(),
    idleTimeout: IDLE_TIMEOUT_MS,
    disposeTimeout: 1_000,
  });
  const liveView = createLiveView(supervisor, options);
  const server = http.createServer((req, res) => {
    if (liveView(req, res)) return;
    void supervisor.handleRequest(req, res);
  });
  const mcpUrl = await listenOnLoopback(server);
  cleanups.push(async () => {
    liveView.close();
    await supervisor.shutdown({ grace: 1 });
    await closeServer(server);
  });
  return { supervisor, liveView, mcpUrl, liveUrl: new URL('/live/', mcpUrl) };
}

async function connect(url: URL) {
  const connected = await connectClient(url);
  cleanups.push(() => connected.client.close());
  return connected;
}

/** A raw GET with headers fetch would not let us set (`Host`); resolves with status and body. */
function rawGet(url: URL, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

// In CI the browser test must run: a missing Chromium there is a failure, not a skip.
const skipBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (skipBrowser) {
  console.warn(`live-view e2e: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

describe.skipIf(skipBrowser)('the live view in headless Chromium', () => {
  let browser: Browser | undefined;

  // Launching takes seconds on a loaded 2-core machine: done once, outside the test's own budget.
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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

  async function openPage(url: URL): Promise<Page> {
    if (!browser) throw new Error('the browser did not start');
    const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    cleanups.push(async () => {
      expect(errors, 'errors in the page').toEqual([]);
    });
    await page.goto(url.href);
    await page.locator('#status[data-status="live"]').waitFor({ timeout: 5_000 });
    return page;
  }

  it('shows a session appear, go idle, expire and be disposed', async () => {
    const demo = await startLiveDemo();
    const page = await openPage(demo.liveUrl);
    await expect.poll(() => page.locator('#count-idle').textContent(), POLL).toBe('0');

    const { client, sessionId } = await connect(demo.mcpUrl);
    const row = page.locator(`#sessions tr[data-session-id="${sessionId}"]`);
    await row.waitFor({ timeout: 5_000 });
    expect(['created', 'active', 'idle']).toContain(await row.getAttribute('data-state'));

    await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    // Closing the client closes its GET stream: nothing in flight, the session goes idle.
    await client.close();
    await expect.poll(() => row.getAttribute('data-state'), POLL).toBe('idle');
    await expect.poll(() => page.locator('#count-idle').textContent(), POLL).toBe('1');
    expect(await row.locator('[data-field="state"]').textContent()).toBe('idle');
    expect(await row.locator('[data-field="client"]').textContent()).toBe('e2e-client');

    // No activity for IDLE_TIMEOUT_MS: expired with reason idle-timeout, then disposed.
    await expect
      .poll(() => row.getAttribute('data-state'), { timeout: IDLE_TIMEOUT_MS + 5_000 })
      .toBe('disposed');
    const timeline = page.locator(`#timeline li[data-session-id="${sessionId}"]`);
    // Newest first on the page; oldest first here.
    const transitions = async () =>
      (await Promise.all((await timeline.all()).map((item) => item.getAttribute('data-to')))).reverse();
    await expect.poll(transitions, POLL).toContain('disposed');
    const seen = await transitions();
    expect(seen[0]).toBe('created');
    expect(seen.slice(-3)).toEqual(['idle', 'expired', 'disposed']);
    expect(await timeline.and(page.locator('[data-to="expired"]')).textContent()).toContain('idle-timeout');
    await expect.poll(() => page.locator('#count-idle').textContent(), POLL).toBe('0');
    await expect.poll(() => page.locator('#count-disposed').textContent(), POLL).toBe('1');
    // Age stops at the end: admitted → expired took at least the idle timeout.
    expect(await row.locator('[data-field="age"]').textContent()).toMatch(/^[1-9]\d*s$/);

    if (process.env.LIVE_VIEW_SCREENSHOT) {
      await page.screenshot({ path: process.env.LIVE_VIEW_SCREENSHOT, fullPage: true });
    }
  });
});

describe('the live view endpoints', () => {
  it('answers a snapshot of the live sessions and the statistics', async () => {
    const demo = await startLiveDemo();
    const { sessionId } = await connect(demo.mcpUrl);

    const response = await fetch(new URL('snapshot.json', demo.liveUrl));
    const snapshot = (await response.json()) as LiveSnapshot;

    expect(response.status).toBe(200);
    expect(snapshot.total).toBe(1);
    expect(snapshot.sessions.map((session) => session.id)).toEqual([sessionId]);
    expect(snapshot.sessions[0]?.client).toBe('e2e-client');
    expect(snapshot.stats.totals.admitted).toBe(1);
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

    const rebound = await rawGet(new URL('snapshot.json', demo.liveUrl), { host: 'attacker.example' });
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
