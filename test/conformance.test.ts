/**
 * The official MCP conformance suites, every server scenario (`--suite all`: the active ones and the
 * pending `json-schema-2020-12` and `server-sse-polling`), run against the supervisor serving the
 * conformance fixture server over loopback: 0.1.13 (the last that starts on Node 20) and the latest,
 * 0.1.16, on a Node 22 installed from the npm registry by `test/support/conformance-suites.ts`.
 *
 * The suite runs as a child process (asynchronously: the server under test lives in this process)
 * and writes every check to `checks.json` files, which are read back to explain a failure and to
 * make sure a pass is not a false positive (an unknown tool answers `isError` with some text, which
 * satisfies several checks on its own).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  LATEST_PROTOCOL_VERSION,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupervisorStatistics } from '../src/index.js';
import { createConformanceServer, FIXTURE_TEXT } from './fixtures/conformance-server.js';
import { type ServedSupervisor, serveConformance } from './fixtures/serve.js';
import {
  type ConformanceSuite,
  INSTALL_TIMEOUT_MS,
  latestSuite,
  pinnedSuite,
} from './support/conformance-suites.js';
import { RPC } from './support/json-rpc.js';
import { rawRequest } from './support/raw-http.js';

/** A whole run takes about 2 s on loopback; the margin covers a loaded CI machine. */
const SUITE_TIMEOUT_MS = 90_000;

/** `conformance list --server`, the same in 0.1.13 and 0.1.16: the active suite and the pending one. */
const ALL_SCENARIOS: readonly string[] = [
  'json-schema-2020-12',
  'server-sse-polling',
  'server-initialize',
  'logging-set-level',
  'ping',
  'completion-complete',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-with-logging',
  'tools-call-error',
  'tools-call-with-progress',
  'tools-call-sampling',
  'tools-call-elicitation',
  'elicitation-sep1034-defaults',
  'server-sse-multiple-streams',
  'elicitation-sep1330-enums',
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
  'resources-subscribe',
  'resources-unsubscribe',
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
  'dns-rebinding-protection',
];

// ---------------------------------------------------------------------------------------------
// Running the suite and reading its results
// ---------------------------------------------------------------------------------------------

interface SuiteRun {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function runSuite(suite: ConformanceSuite, url: string, outputDir: string): Promise<SuiteRun> {
  return new Promise((resolve, reject) => {
    const args = [suite.cli, 'server', '--url', url, '--suite', 'all', '-o', outputDir];
    const child = spawn(suite.node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, SUITE_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, stdout, stderr });
    });
  });
}

interface ScenarioSummary {
  readonly scenario: string;
  readonly passed: number;
  readonly failed: number;
}

interface Summary {
  readonly scenarios: readonly ScenarioSummary[];
  readonly total: { readonly passed: number; readonly failed: number } | undefined;
}

/** Reads the `=== SUMMARY ===` block: `✓ name: N passed, M failed` lines and the `Total:` line. */
function parseSummary(stdout: string): Summary {
  const block = stdout.slice(stdout.lastIndexOf('=== SUMMARY ==='));
  const scenarios = [...block.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gmu)].map((match) => ({
    scenario: match[1] ?? '',
    passed: Number(match[2]),
    failed: Number(match[3]),
  }));
  const total = /^Total: (\d+) passed, (\d+) failed$/m.exec(block);
  return {
    scenarios,
    total: total ? { passed: Number(total[1]), failed: Number(total[2]) } : undefined,
  };
}

interface Check {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  readonly errorMessage?: string;
  readonly details?: unknown;
}

interface ScenarioChecks {
  readonly scenario: string;
  readonly checks: readonly Check[];
}

/** `-o <dir>` writes `server-<scenario>-<timestamp>/checks.json` per scenario. */
async function readChecks(outputDir: string): Promise<ScenarioChecks[]> {
  const entries = await readdir(outputDir, { withFileTypes: true });
  const runs = entries.filter((entry) => entry.isDirectory() && entry.name.startsWith('server-'));
  return Promise.all(
    runs.map(async (entry) => ({
      scenario: entry.name.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, ''),
      checks: JSON.parse(await readFile(join(outputDir, entry.name, 'checks.json'), 'utf8')) as Check[],
    })),
  );
}

/** Everything needed to diagnose a failed run without rerunning it. */
function failureReport(run: SuiteRun, summary: Summary, results: readonly ScenarioChecks[]): string {
  const failedScenarios = summary.scenarios.filter((s) => s.failed > 0).map((s) => `  ✗ ${s.scenario}`);
  const failedChecks = results.flatMap(({ scenario, checks }) =>
    checks
      .filter((check) => check.status === 'FAILURE')
      .map((check) => `  ${scenario} / ${check.id}: ${check.errorMessage ?? '(no message)'}`),
  );
  return [
    `conformance exit code ${run.exitCode}${run.signal ? ` (signal ${run.signal})` : ''}${run.timedOut ? ', timed out' : ''}`,
    `total: ${summary.total ? `${summary.total.passed} passed, ${summary.total.failed} failed` : 'no Total line'}`,
    'failing scenarios:',
    ...(failedScenarios.length > 0 ? failedScenarios : ['  (none in the summary)']),
    'failing checks:',
    ...(failedChecks.length > 0 ? failedChecks : ['  (none in checks.json)']),
    ...(run.stderr.trim() ? ['stderr:', run.stderr.trim().slice(-4_000)] : []),
    ...(summary.total ? [] : ['stdout (tail):', run.stdout.slice(-4_000)]),
    '', // vitest appends its own "expected … " text: keep it off the last line
  ].join('\n');
}

function findCheck(results: readonly ScenarioChecks[], scenario: string, id: string): Check | undefined {
  return results.find((result) => result.scenario === scenario)?.checks.find((check) => check.id === id);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP, for requests whose Host header the test chooses
// ---------------------------------------------------------------------------------------------

const INITIALIZE_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'conformance-test-dns', version: '1.0.0' },
  },
});

/** POSTs an `initialize` with the given `Host` (and `Origin`), which `fetch` would not let us set. */
async function postInitialize(url: string, host: string, origin?: string) {
  const headers: Record<string, string> = {
    host,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (origin) headers.origin = origin;
  const answer = await rawRequest(url, { method: 'POST', headers }, INITIALIZE_BODY);
  const sessionId = answer.headers['mcp-session-id'];
  return { ...answer, sessionId: typeof sessionId === 'string' ? sessionId : undefined };
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

const SUITES: ReadonlyArray<readonly [string, () => Promise<ConformanceSuite>]> = [
  ['0.1.13', pinnedSuite],
  ['0.1.16', latestSuite],
];

describe.each(SUITES)('MCP conformance suite %s (--suite all) through the supervisor', (version, load) => {
  let served: ServedSupervisor | undefined;
  let outputDir: string | undefined;
  let run: SuiteRun;
  let summary: Summary;
  let results: ScenarioChecks[];
  let report: string;
  let afterRun: SupervisorStatistics;
  let afterClose: SupervisorStatistics;

  beforeAll(
    async () => {
      const suite = await load();
      expect(suite.version).toBe(version);
      outputDir = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
      served = await serveConformance();
      run = await runSuite(suite, served.url, outputDir);
      afterRun = served.supervisor.getStatistics();
      await served.close();
      afterClose = served.supervisor.getStatistics();
      summary = parseSummary(run.stdout);
      results = await readChecks(outputDir);
      report = failureReport(run, summary, results);
    },
    INSTALL_TIMEOUT_MS + SUITE_TIMEOUT_MS + 20_000,
  );

  afterAll(async () => {
    await served?.close();
    if (outputDir) await rm(outputDir, { recursive: true, force: true });
  });

  it('passes with 0 failures and exit code 0', () => {
    expect(run.timedOut, report).toBe(false);
    expect(summary.total, report).toBeDefined();
    expect(summary.total?.failed, report).toBe(0);
    expect(summary.total?.passed, report).toBeGreaterThan(0);
    expect(run.exitCode, report).toBe(0);
  });

  it('ran every scenario, the pending ones too, each with at least one passing check', () => {
    expect(summary.scenarios.map((s) => s.scenario).sort(), report).toEqual([...ALL_SCENARIOS].sort());
    for (const { scenario, passed, failed } of summary.scenarios) {
      expect({ scenario, passed: passed > 0, failed }, report).toEqual({ scenario, passed: true, failed: 0 });
    }
    expect(results.map((r) => r.scenario).sort()).toEqual([...ALL_SCENARIOS].sort());
  });

  it('passes because the fixtures exist, not because an error happened to satisfy a check', () => {
    // McpServer answers an unknown tool with `isError` and "Tool … not found", which some checks accept.
    for (const { scenario, checks } of results) {
      for (const check of checks) {
        expect(JSON.stringify(check.details ?? {}), `${scenario} / ${check.id}`).not.toMatch(/not found/i);
      }
    }
    const simpleText = findCheck(results, 'tools-call-simple-text', 'tools-call-simple-text');
    expect(simpleText?.details).toEqual({
      result: { content: [{ type: 'text', text: FIXTURE_TEXT.simpleTool }] },
    });
    const toolError = findCheck(results, 'tools-call-error', 'tools-call-error');
    expect(toolError?.details).toEqual({
      result: { isError: true, content: [{ type: 'text', text: FIXTURE_TEXT.errorTool }] },
    });
  });

  it('json-schema-2020-12: the tool keeps $schema, $defs and additionalProperties', () => {
    for (const id of ['$schema', '$defs', 'additionalProperties']) {
      expect(findCheck(results, 'json-schema-2020-12', `json-schema-2020-12-${id}`)?.status, report).toBe(
        'SUCCESS',
      );
    }
  });

  it('server-sse-polling: a stream closed mid-call resumes with Last-Event-ID and delivers the result', () => {
    const resumed = findCheck(results, 'server-sse-polling', 'server-sse-disconnect-resume');
    expect(resumed?.status, report).toBe('SUCCESS');
    expect(resumed?.details).toMatchObject({ receivedToolResponse: true });
  });

  it('dns-rebinding-protection: 4xx for a foreign Host/Origin, 2xx for the loopback one', () => {
    const rejected = findCheck(results, 'dns-rebinding-protection', 'localhost-host-rebinding-rejected');
    const accepted = findCheck(results, 'dns-rebinding-protection', 'localhost-host-valid-accepted');
    expect(rejected?.status, report).toBe('SUCCESS');
    expect(rejected?.details).toMatchObject({ hostHeader: 'evil.example.com', statusCode: 403 });
    expect(accepted?.status, report).toBe('SUCCESS');
    expect(accepted?.details).toMatchObject({ statusCode: 200 });
  });

  it('admitted one session per scenario, never hit the cap, and leaked none after shutdown', () => {
    // Each scenario opens exactly one session and DELETEs none; the rebinding attempt takes no slot.
    expect(afterRun.totals.admitted).toBe(ALL_SCENARIOS.length);
    expect(afterRun.activeSessions).toBe(ALL_SCENARIOS.length);
    expect(afterRun.totals.rejected).toBe(0);
    expect(afterRun.totals.failed).toBe(0);

    expect(afterClose.phase).toBe('stopped');
    expect(afterClose.activeSessions).toBe(0);
    expect(afterClose.requestsInFlight).toBe(0);
    expect(afterClose.totals.disposed).toBe(afterClose.totals.admitted);
    expect(afterClose.endedByReason.shutdown).toBe(afterClose.totals.admitted);
  });
});

describe('DNS-rebinding protection of the served supervisor (what the scenario checks, by hand)', () => {
  let served: ServedSupervisor;

  beforeAll(async () => {
    served = await serveConformance();
  });

  afterAll(async () => {
    await served.close();
  });

  it('refuses a foreign Host, with or without Origin, before admitting anything', async () => {
    const withOrigin = await postInitialize(served.url, 'evil.example.com', 'http://evil.example.com');
    const hostOnly = await postInitialize(served.url, 'evil.example.com:80');
    for (const response of [withOrigin, hostOnly]) {
      expect(response.status).toBe(403);
      expect(response.sessionId).toBeUndefined();
      expect(JSON.parse(response.body)).toMatchObject({ jsonrpc: '2.0', error: { code: RPC.serverError } });
    }
    expect(served.supervisor.getStatistics().totals.admitted).toBe(0);
  });

  it('admits an initialize whose Host and Origin are the loopback address it listens on', async () => {
    const { host } = new URL(served.url);
    const response = await postInitialize(served.url, host, `http://${host}`);
    expect(response.status).toBe(200);
    expect(response.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.body).toContain('"protocolVersion"');
    expect(served.supervisor.getStatistics().totals.admitted).toBe(1);
  });
});

describe('conformance fixture server, beyond what the suite checks', () => {
  it('filters tool log lines below the level set with logging/setLevel', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createConformanceServer();
    const client = new Client({ name: 'fixture-check', version: '1.0.0' });
    const levels: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      levels.push(notification.params.level);
    });
    await server.connect(serverSide);
    await client.connect(clientSide);
    try {
      await client.setLoggingLevel('warning');
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      expect(levels).toEqual([]);
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
      expect(levels).toEqual(['info', 'info', 'info']);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
