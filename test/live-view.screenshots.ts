/**
 * Takes the live view screenshots in docs/: a supervisor on the real clock, real MCP SDK clients
 * (and a few sessions opened through the API) coming, working, going quiet and ending for ten
 * seconds or so, the page in headless Chromium at 1 280 px and at 420 px.
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
import { chromium } from 'playwright-core';
import { createSessionSupervisor } from '../src/index.js';
import { createLiveView } from '../src/live-view/index.js';
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
  await sleep(1_500);
  const later = await client('zed');
  await echo(later, 'hi');
  await sleep(3_500); // half-open: init-timeout; then vscode and batch-job: idle-timeout
  await echo(desktop, 'still here');
  await sleep(2_600);
  await echo(cursor, 'again');
  await sleep(600);

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
