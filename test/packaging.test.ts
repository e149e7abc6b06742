/**
 * Packaging: the root export loads the supervisor and its HTTP entry points only; optional features
 * load their libraries (optional peer dependencies) behind subpaths, and a missing one is a typed
 * error naming the package to install. (`npm run size` checks the same on an installed tarball.)
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryClusterRegistry } from '../src/cluster/index.js';
import { isSupervisorError } from '../src/errors.js';
import { type ClusterAttachment, createSessionSupervisor } from '../src/index.js';
import { importPeer, requirePeer } from '../src/peer.js';

const ROOT = resolve(import.meta.dirname, '..');
const OPTIONAL_PEERS = ['ioredis', 'prom-client', '@statelyai/inspect', 'ws', 'superjson'];

/**
 * Every module a file loads at run time, transitively. `import type` is erased; an import whose
 * specifiers are all `type` is kept (verbatimModuleSyntax leaves `import {} from`), so it counts.
 */
function runtimeGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  const statement = /^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(statement)) {
      const [, typeOnly, specifier = ''] = match;
      if (typeOnly) continue;
      if (specifier.startsWith('.')) pending.push(join(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else if (!specifier.startsWith('node:')) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
      }
    }
  }
  return { files, packages };
}

describe('the root export', () => {
  const { files, packages } = runtimeGraph(join(ROOT, 'src/index.ts'));
  const loaded = [...files].map((file) => relative(ROOT, file));

  it('loads no optional feature module', () => {
    const features = loaded.filter((file) =>
      /^src\/(cluster\/|live-view\/|metrics\.ts|inspection\.ts|inspection\/)/.test(file),
    );
    expect(features).toEqual([]);
  });

  it('loads no optional peer dependency', () => {
    expect([...packages].filter((name) => OPTIONAL_PEERS.includes(name))).toEqual([]);
  });

  it('loads only what package.json promises every user (dependencies)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect([...packages].filter((name) => !(name in manifest.dependencies))).toEqual([]);
  });
});

describe('a missing optional peer dependency', () => {
  const notFound = (name: string) =>
    Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });

  it('is a missing-peer-dependency error naming the package and the feature', () => {
    let caught: unknown;
    try {
      requirePeer('ioredis', 'RedisClusterRegistry', (name) => {
        throw notFound(name);
      });
    } catch (error) {
      caught = error;
    }
    expect(isSupervisorError(caught, 'missing-peer-dependency')).toBe(true);
    expect(caught).toMatchObject({
      data: { package: 'ioredis', feature: 'RedisClusterRegistry' },
      message: expect.stringContaining('npm install ioredis'),
    });
  });

  it('is told apart from a missing module inside the package (that error passes through)', () => {
    const inner = notFound('denque');
    expect(() =>
      requirePeer('ioredis', 'RedisClusterRegistry', () => {
        throw inner;
      }),
    ).toThrow(inner);
  });

  it('is reported the same way for an ES module peer', async () => {
    const missing = Object.assign(new Error("Cannot find package '@statelyai/inspect' imported from x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(
      importPeer('@statelyai/inspect', 'inspection', () => Promise.reject(missing)),
    ).rejects.toMatchObject({ code: 'missing-peer-dependency', data: { package: '@statelyai/inspect' } });
  });
});

describe('the cluster option', () => {
  it('takes joinCluster(...) and refuses the bare options object with a pointer to it', () => {
    const bare = {
      registry: new MemoryClusterRegistry(),
    } as unknown as ClusterAttachment;
    let caught: unknown;
    try {
      createSessionSupervisor({ cluster: bare });
    } catch (error) {
      caught = error;
    }
    expect(isSupervisorError(caught, 'invalid-option')).toBe(true);
    expect(caught).toMatchObject({
      data: { option: 'cluster', expected: expect.stringContaining('joinCluster') },
    });
  });
});
