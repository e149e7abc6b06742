/**
 * The MCP SDK is a peer dependency: an application on SDK v2 installs no SDK v1, and the other way
 * round. Checked on the real package: built into a scratch directory, packed (`npm pack`), installed
 * from the tarball into consumer projects beside one SDK each (their dependencies from the npm
 * registry, offline from npm's cache when it has them), listed with `npm ls`, and run.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const STEP_TIMEOUT_MS = 120_000;
const exec = promisify(execFile);

const SDK_V1 = '@modelcontextprotocol/sdk';
const SDK_V2 = '@modelcontextprotocol/server';

const run = (command: string, args: readonly string[], cwd: string) =>
  exec(command, args, { cwd, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });

const devVersion = async (pkg: string): Promise<string> => {
  const manifest = JSON.parse(await readFile(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'));
  return (manifest as { version: string }).version;
};

/** Builds the library into `dir/package` and packs it; returns the tarball's path. */
async function packLibrary(dir: string): Promise<string> {
  const staging = join(dir, 'package');
  await mkdir(staging, { recursive: true });
  await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(staging, 'dist')], ROOT);
  await cp(join(ROOT, 'package.json'), join(staging, 'package.json'));
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    staging,
  );
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  return join(dir, packed?.filename ?? '');
}

async function consumer(dir: string, name: string, dependencies: Record<string, string>): Promise<string> {
  const project = join(dir, name);
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module', dependencies }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], project);
  return project;
}

interface LsNode {
  readonly version?: string;
  readonly missing?: boolean;
  readonly dependencies?: Record<string, LsNode>;
}

/**
 * Every package installed in the consumer's tree (`npm ls --all`); an optional peer that is not
 * installed is listed too, without a version (`missing`), and does not count.
 */
async function installedPackages(project: string): Promise<Set<string>> {
  const { stdout } = await run('npm', ['ls', '--all', '--json'], project);
  const names = new Set<string>();
  const walk = (node: LsNode) => {
    for (const [name, child] of Object.entries(node.dependencies ?? {})) {
      if (child.version === undefined || child.missing) continue;
      names.add(name);
      walk(child);
    }
  };
  walk(JSON.parse(stdout));
  return names;
}

/** Runs an ES module script in the consumer and returns its last line of output. */
async function runScript(project: string, source: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], project);
  return stdout.trim().split('\n').at(-1) ?? '';
}

/** Serves one initialize + tools/call through the supervisor's fetch entry point, in process. */
const serveOnce = (serverModule: string, serverClass: string) => `
import { createSessionSupervisor } from 'mcp-session-supervisor';
import { ${serverClass} } from '${serverModule}';
const supervisor = createSessionSupervisor({ createServer: () => new ${serverClass}({ name: 's', version: '1' }) });
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
const answer = await supervisor.fetch(new Request('http://127.0.0.1/mcp', { method: 'POST', headers, body: JSON.stringify(init) }));
const text = await answer.text();
await supervisor.shutdown({ grace: 0 });
console.log(answer.status, answer.headers.get('mcp-session-id') ? 'session' : 'no-session', text.includes('"serverInfo"'));
`;

describe('the SDK as a peer dependency, on the packed package', () => {
  let dir: string;
  let v2Only: string;
  let v1Only: string;
  let noSdk: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-peers-'));
    const tarball = await packLibrary(dir);
    [v2Only, v1Only, noSdk] = await Promise.all([
      consumer(dir, 'v2-only', {
        'mcp-session-supervisor': `file:${tarball}`,
        [SDK_V2]: await devVersion(SDK_V2),
      }),
      consumer(dir, 'v1-only', {
        'mcp-session-supervisor': `file:${tarball}`,
        [SDK_V1]: await devVersion(SDK_V1),
      }),
      consumer(dir, 'no-sdk', { 'mcp-session-supervisor': `file:${tarball}` }),
    ]);
  }, 3 * STEP_TIMEOUT_MS);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('beside SDK v2 only, installs no SDK v1', async () => {
    const names = await installedPackages(v2Only);
    expect(names.has(SDK_V2)).toBe(true);
    expect(names.has(SDK_V1)).toBe(false);
    expect(existsSync(join(v2Only, 'node_modules', SDK_V1))).toBe(false);
  });

  it('beside SDK v1 only, installs no SDK v2', async () => {
    const names = await installedPackages(v1Only);
    expect(names.has(SDK_V1)).toBe(true);
    expect(names.has(SDK_V2)).toBe(false);
    expect(existsSync(join(v1Only, 'node_modules', SDK_V2))).toBe(false);
  });

  it('serves a v2 server in a session without SDK v1', async () => {
    expect(await runScript(v2Only, serveOnce(SDK_V2, 'McpServer'))).toBe('200 session true');
  });

  it('serves a v1 server in a session without SDK v2', async () => {
    expect(await runScript(v1Only, serveOnce(`${SDK_V1}/server/mcp.js`, 'McpServer'))).toBe(
      '200 session true',
    );
  });

  it('without SDK v2, option `modern` fails with a typed error naming the package', async () => {
    const script = `
import { createSessionSupervisor } from 'mcp-session-supervisor';
const errors = [];
const logger = { error: (o) => errors.push(o.err), warn() {}, info() {}, debug() {}, isLevelEnabled: () => true, child() { return logger; } };
const supervisor = createSessionSupervisor({ logger, modern: { fetch: async () => new Response(null, { status: 204 }) } });
const answer = await supervisor.fetch(new Request('http://127.0.0.1/mcp', { method: 'GET' }));
await supervisor.shutdown({ grace: 0 });
console.log(answer.status, errors.map((e) => e.code + ' ' + e.data?.package).join(','));
`;
    expect(await runScript(v1Only, script)).toBe(`500 missing-peer-dependency ${SDK_V2}`);
  });

  it('with no SDK at all, a session fails with a typed error naming both packages', async () => {
    const script = `
import { createSessionSupervisor } from 'mcp-session-supervisor';
const errors = [];
const logger = { error: (o) => o?.err && errors.push(o.err), warn: (o) => o?.err && errors.push(o.err), info() {}, debug() {}, isLevelEnabled: () => true, child() { return logger; } };
const server = { connect: async () => {}, close: async () => {} };
const supervisor = createSessionSupervisor({ logger, createServer: () => server });
const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const answer = await supervisor.fetch(new Request('http://127.0.0.1/mcp', { method: 'POST', headers, body: JSON.stringify(init) }));
await supervisor.shutdown({ grace: 0 });
console.log(answer.status, errors.map((e) => e.code + ' ' + e.data?.packages?.join('+')).join(','));
`;
    expect(await runScript(noSdk, script)).toBe(`500 sdk-not-installed ${SDK_V1}+${SDK_V2}`);
  });
});
