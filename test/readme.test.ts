/**
 * Every TypeScript snippet of the README type-checks as written, against the package's own
 * exports (`mcp-session-supervisor` and its subpaths mapped to `src/`), under the project's strict
 * settings; and the "Use" example exits on SIGTERM (its HTTP server closed after the drain).
 *
 * Snippets are fragments: names they use without defining (`supervisor`, `app`, `createServer`…) are
 * declared once in an ambient file below, each with the type a reader would have.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListeningChild, spawnListening } from './support/listening-child.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// Inside the repository (scratch/ is git-ignored), so the snippets resolve the project's node_modules
// and run as ES modules.
const DIR = path.join(ROOT, 'scratch', `readme-snippets-${process.pid}`);

/** The ```ts blocks of the README (indented ones included), with the line each starts on. */
function readmeSnippets(markdown: string): { line: number; code: string }[] {
  const snippets: { line: number; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^(\s*)```ts\s*$/.exec(lines[index] ?? '');
    if (!open) continue;
    const indent = open[1] ?? '';
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && !/^\s*```\s*$/.test(lines[end] ?? ''); end += 1) {
      body.push(
        (lines[end] ?? '').startsWith(indent) ? (lines[end] ?? '').slice(indent.length) : (lines[end] ?? ''),
      );
    }
    snippets.push({ line: index + 1, code: body.join('\n') });
    index = end;
  }
  return snippets;
}

const AMBIENT = `// Names the README's fragments use without defining them.
declare const supervisor: import('mcp-session-supervisor').McpSessionSupervisor;
declare const createServer: () => import('@modelcontextprotocol/sdk/server/mcp.js').McpServer;
declare const buildServer: () => import('@modelcontextprotocol/sdk/server/mcp.js').McpServer;
declare const app: import('express').Express;
declare const hono: import('hono').Hono;
declare function verify(token: string): Promise<string | undefined>;
`;

/** Imports a fragment may use without writing them (the README shows them once, in "Use"). */
const PRELUDE = `import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createSessionSupervisor } from 'mcp-session-supervisor';
`;

/** Adds the prelude's imports the snippet does not make itself, so nothing is imported twice. */
function withPrelude(code: string): string {
  const wanted = PRELUDE.split('\n').filter((line) => {
    const names = /import (?:\{ )?(\w+)/.exec(line)?.[1];
    return names !== undefined && !new RegExp(`\\b${names}\\b[^\\n]*from`).test(code);
  });
  // Used or not, the prelude must not fail the check: `void` keeps each import referenced.
  const referenced = wanted.map((line) => `void ${/import (?:\{ )?(\w+)/.exec(line)?.[1]};`);
  return `${wanted.join('\n')}\n${code}\n${referenced.join('\n')}\nexport {};\n`;
}

const SUBPATHS: Record<string, string> = {
  'mcp-session-supervisor': 'src/index.ts',
  'mcp-session-supervisor/cluster': 'src/cluster/index.ts',
  'mcp-session-supervisor/metrics': 'src/metrics.ts',
  'mcp-session-supervisor/live-view': 'src/live-view/index.ts',
  'mcp-session-supervisor/inspection': 'src/inspection.ts',
};

const markdown = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const snippets = readmeSnippets(markdown);

beforeAll(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  writeFileSync(path.join(DIR, 'ambient.d.ts'), AMBIENT);
  for (const [index, snippet] of snippets.entries()) {
    writeFileSync(
      path.join(DIR, `snippet-${String(index + 1).padStart(2, '0')}-line-${snippet.line}.ts`),
      withPrelude(snippet.code),
    );
  }
  writeFileSync(
    path.join(DIR, 'tsconfig.json'),
    JSON.stringify(
      {
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: true,
          rootDir: ROOT,
          paths: Object.fromEntries(
            Object.entries(SUBPATHS).map(([specifier, file]) => [specifier, [path.join(ROOT, file)]]),
          ),
        },
        include: [path.join(DIR, '*.ts')],
      },
      null,
      2,
    ),
  );
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

describe('the README', () => {
  it('has TypeScript snippets to check', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(10);
  });

  it('type-checks every snippet as written', () => {
    let output = '';
    try {
      execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(DIR, 'tsconfig.json')], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    // Errors are reported by file: snippet-NN-line-L.ts names the README line of the snippet.
    expect(output.split('\n').filter((line) => line.includes('error TS'))).toEqual([]);
  }, 150_000);
});

/**
 * Runs the first snippet holding `marker` as a program of its own. It listens on process.env.PORT:
 * 0 lets the OS choose, and the child reports the port it got.
 */
const started: ListeningChild[] = [];
afterAll(async () => {
  // Only those a failed test left running.
  await Promise.all(started.map((child) => child.kill()));
});

async function runSnippet(marker: string, fileName: string): Promise<ListeningChild> {
  const snippet = snippets.find((candidate) => candidate.code.includes(marker));
  if (snippet === undefined) throw new Error(`no snippet with ${marker} in the README`);
  const file = path.join(DIR, fileName);
  writeFileSync(file, withPrelude(snippet.code));
  const child = await spawnListening(file, {
    cwd: ROOT,
    env: { TSX_TSCONFIG_PATH: path.join(DIR, 'tsconfig.json') },
    timeoutMs: 20_000,
  });
  started.push(child);
  return child;
}

describe('the "Use" example', () => {
  it('drains and exits on SIGTERM, a session open', async () => {
    const child = await runSnippet("'SIGTERM'", 'use-example.ts');
    const response = await fetch(`http://127.0.0.1:${child.port}/mcp`, {
      method: 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 't', version: '1' },
        },
      }),
    });
    expect(response.status).toBe(200);
    await response.text();

    child.process.kill('SIGTERM');
    const exit = await Promise.race([
      child.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 10 s')), 10_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
  }, 40_000);
});

describe('the "Both protocol eras" example', () => {
  it('serves a 2025 client in a session and a 2026-07-28 client without one', async () => {
    const child = await runSnippet('createMcpHandler', 'both-eras-example.ts');
    const url = new URL(`http://127.0.0.1:${child.port}/mcp`);
    const served: Record<string, { session: boolean; tools: string[] }> = {};
    for (const mode of ['2025', '2026-07-28'] as const) {
      const client = new Client(
        { name: 'readme', version: '1.0.0' },
        mode === '2025' ? {} : { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      const transport = new StreamableHTTPClientTransport(url);
      await client.connect(transport);
      const { tools } = await client.listTools();
      served[mode] = { session: transport.sessionId !== undefined, tools: tools.map((tool) => tool.name) };
      await client.close();
    }

    expect(served).toEqual({
      '2025': { session: true, tools: ['ping'] },
      '2026-07-28': { session: false, tools: ['ping'] },
    });
  }, 40_000);
});
