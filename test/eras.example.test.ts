/**
 * The both-eras example runs as its header documents (`npx tsx examples/both-eras.ts`), serves a
 * session to the 2025 client and none to the 2026-07-28 one, and exits on its own.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = resolve(ROOT, 'node_modules/tsx/dist/cli.mjs');

describe('examples/both-eras.ts', () => {
  it('answers both clients, opens a session for the 2025 one only, and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [TSX, 'examples/both-eras.ts'], {
      cwd: ROOT,
      timeout: 30_000,
    });
    expect(stdout).toMatch(/^2025 client: Hello world \(session: [0-9a-f-]{36}, user-agent: node\)$/m);
    expect(stdout).toMatch(/^2026-07-28 client: Hello world \(session: none, user-agent: node\)$/m);
    expect(stdout.match(/live sessions: \d+/g)).toEqual(['live sessions: 1', 'live sessions: 0']);
  }, 40_000);
});
