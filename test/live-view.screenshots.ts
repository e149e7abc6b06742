/**
 * Takes the live view screenshots in docs/: a supervisor on the real clock serving both eras, real
 * MCP SDK clients (and a few sessions opened through the API) coming, working, going quiet and
 * ending for ten seconds or so, and an SDK v2 client pinned to 2026-07-28 calling tools without a
 * session, the page in headless Chromium at 1 280 px and at 420 px.
 *
 *   npx tsx test/live-view.screenshots.ts docs      # writes docs/live-view-desktop.png, -narrow.png
 *
 * Chromium: CHROMIUM_PATH, else on PATH (test/support/programs.ts). Not a test: the browser test is
 * live-view.e2e.test.ts; this only makes pictures.
 */
import http from 'node:http';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { chromium } from 'playwright-core';
import { createSessionSupervisor } from '../src/index.js';
import { createLiveView } from '../src/live-view/index.js';
import { connectClient as connectEraClient, createV2Server } from './fixtures/eras.js';
import { closeServer, listenOnLoopback, toolServerFactory } from './support/http-harness.js';
import { CHROMIUM, findProgram } from './support/programs.js';

const directory = process.argv[2] ?? 'docs';
const executablePath = findProgram(CHROMIUM).require();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tools = toolServerFactory();
const supervisor = createSessionSupervisor({
  maxSessions: 9,
  idleTimeout: '6s',
  initTimeout: '4s',
  disposeTimeout: '1s',
  modern: createMcpHandler(createV2Server, { legacy: 'reject' }),
  createServer: (context) => {
    if (context.metadata?.fail) throw new Error('this server cannot be built');
    return tools();
  },
});
const live = createLiveView(supervisor);
const server = http.createServer((req, res) => {
  if (live(req, res)) return;
  void supervisor.handleRequest(req, res);
});
const mcpUrl = await listenOnLoopback(server);

async function client(name: string) {
  const transport = new StreamableHTTPClientTransport(mcpUrl, {
    reconnectionOptions: {
      maxRetries: 0,
      initialReconnectionDelay: 1,
      maxReconnectionDelay: 1,
      reconnectionDelayGrowFactor: 1,
    },
  });
  const sdk = new Client({ name, version: '1.0.0' });
  await sdk.connect(transport);
  return { sdk, transport };
}
const echo = (c: { sdk: Client }, text: string) => c.sdk.callTool({ name: 'echo', arguments: { text } });

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(new URL('/live/', mcpUrl).href);
  await page.locator('#status[data-status="live"]').waitFor();

  const desktop = await client('claude-desktop');
  await echo(desktop, 'hello');
  const cursor = await client('cursor');
  const inspector = await client('mcp-inspector');
  await sleep(700);
  const quiet = await client('vscode');
  await quiet.sdk.close(); // its GET stream closes: idle, until its idle timeout
  supervisor.open({ metadata: { clientInfo: { name: 'half-open' } } }); // never initializes
  const api = supervisor.open({ metadata: { clientInfo: { name: 'batch-job' } }, principal: 'ci-bot' });
  await api.ready();
  api.markInitialized();
  await sleep(900);
  await inspector.transport.terminateSession(); // DELETE
  await inspector.sdk.close();
  supervisor.open({ metadata: { clientInfo: { name: 'broken-build' }, fail: true } });
  await echo(cursor, 'working');
  const pinned = await connectEraClient('v2 pinned', mcpUrl); // 2026-07-28: no session
  for (let call = 0; call < 7; call += 1) await pinned.callText('echo', { text: String(call) });
  // Refused by the modern handler (400): a method it does not know, without the revision's envelope.
  await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'bogus/method', params: {} }),
  }).then((response) => response.text());
  await sleep(1_500);
  const later = await client('zed');
  await echo(later, 'hi');
  await sleep(3_500); // half-open: init-timeout; then vscode and batch-job: idle-timeout
  await echo(desktop, 'still here');
  await sleep(2_600);
  await echo(cursor, 'again');
  for (let call = 0; call < 4; call += 1) await pinned.callText('echo', { text: String(call) });
  await pinned.close();
  await sleep(1_100);

  await page.screenshot({ path: path.join(directory, 'live-view-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 420, height: 900 });
  await sleep(1_100);
  await page.screenshot({ path: path.join(directory, 'live-view-narrow.png'), fullPage: true });
  for (const c of [desktop, cursor, later]) await c.sdk.close();
} finally {
  await browser.close();
  live.close();
  await supervisor.shutdown({ grace: 0 });
  await closeServer(server);
}
