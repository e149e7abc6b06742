/**
 * The two MCP conformance suites the tests run: 0.1.13, a devDependency that starts on the Node
 * running the tests (20), and the latest, 0.1.16, which needs Node ≥ 22. The latest is installed on
 * first use with `npm ci` from the pinned manifest in `test/conformance-latest/` (the suite and the
 * `node` package, a Node binary from the npm registry) into `node_modules/.cache/`, so a fresh clone
 * needs nothing beyond `npm ci && npm test`, and the project's own scripts keep the Node they have.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const MANIFEST_DIR = join(ROOT, 'test/conformance-latest');
const INSTALL_DIR = join(ROOT, 'node_modules/.cache/conformance-latest');

/** First install downloads ~60 MB (mostly the Node binary); later runs reuse it. */
export const INSTALL_TIMEOUT_MS = 240_000;

export interface ConformanceSuite {
  readonly version: string;
  /** The Node binary to run it with. */
  readonly node: string;
  /** Its CLI entry (`dist/index.js`). */
  readonly cli: string;
}

const cliIn = (dir: string) => join(dir, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

async function versionIn(dir: string): Promise<string> {
  const manifest = join(dir, 'node_modules/@modelcontextprotocol/conformance/package.json');
  return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
}

/** 0.1.13, from the project's devDependencies, on the current Node. */
export async function pinnedSuite(): Promise<ConformanceSuite> {
  return { version: await versionIn(ROOT), node: process.execPath, cli: cliIn(ROOT) };
}

const sameFile = async (a: string, b: string) =>
  (await readFile(a, 'utf8').catch(() => '')) === (await readFile(b, 'utf8').catch(() => undefined));

/** The latest suite on its own Node, installed (or brought up to the manifest) if needed. */
export async function latestSuite(): Promise<ConformanceSuite> {
  const lock = join(MANIFEST_DIR, 'package-lock.json');
  const installedLock = join(INSTALL_DIR, 'installed-lock.json');
  if (!(await sameFile(lock, installedLock))) {
    await mkdir(INSTALL_DIR, { recursive: true });
    await copyFile(join(MANIFEST_DIR, 'package.json'), join(INSTALL_DIR, 'package.json'));
    await copyFile(lock, join(INSTALL_DIR, 'package-lock.json'));
    await promisify(execFile)('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: INSTALL_DIR,
      timeout: INSTALL_TIMEOUT_MS,
    });
    await copyFile(lock, installedLock);
  }
  return {
    version: await versionIn(INSTALL_DIR),
    node: join(INSTALL_DIR, 'node_modules/node/bin/node'),
    cli: cliIn(INSTALL_DIR),
  };
}
