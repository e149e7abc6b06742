/**
 * `npm run size`: what the library costs a new user, beside the MCP SDK alone, in one run.
 *
 * Packs the built library (`npm pack`), installs it from the tarball (its dependencies from the
 * registry) beside the SDK in one scratch project, and the SDK alone in another, then reports:
 * install size and package count of each, and the root-import time of what each application
 * imports (`McpServer` + the SDK's Streamable HTTP transport, against `McpServer` + this library),
 * as medians of alternating fresh processes. It also checks that every optional feature, its peer
 * not installed, fails with the typed error naming the package. Targets: root import ≤ 1.2× the
 * SDK alone, the core adding at most 5 packages.
 *
 * Bounded: each install has a deadline, the scratch projects are deleted at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { int, num, print, progress, ratio, table, verdictTable } from './report.js';

const ROOT = resolve(import.meta.dirname, '..');
const ROUNDS = Number(process.env.SIZE_ROUNDS ?? 11);
const INSTALL_TIMEOUT_MS = 180_000;
const MAX_IMPORT_RATIO = 1.2;
const MAX_ADDED_PACKAGES = 5;

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const SDK = '@modelcontextprotocol/sdk';
const installedSdk = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules', SDK, 'package.json'), 'utf8')) as { version: string }
).version;

const SDK_IMPORTS = [`${SDK}/server/mcp.js`, `${SDK}/server/streamableHttp.js`];
const LIBRARY_IMPORTS = [`${SDK}/server/mcp.js`, 'mcp-session-supervisor'];

function run(command: string, args: readonly string[], cwd: string, timeout = INSTALL_TIMEOUT_MS): string {
  return execFileSync(command, args, { cwd, timeout, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function scratchProject(name: string, dependencies: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `mcp-size-${name}-`));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `size-${name}`, private: true, type: 'module', dependencies }, null, 2),
  );
  progress(`installing ${name} in ${dir}`);
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], dir);
  return dir;
}

/** Packages installed: every `node_modules/...` entry of the lockfile. */
function packageCount(dir: string): number {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  return Object.keys(lock.packages).filter((key) => key.startsWith('node_modules/')).length;
}

function bytesUnder(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += bytesUnder(join(path, entry));
  return total;
}

interface ImportCost {
  /** Wall-clock milliseconds. */
  readonly wall: number;
  /** CPU milliseconds (user + system) of the process while importing: what load elsewhere disturbs least. */
  readonly cpu: number;
}

/** What one fresh node process spends importing `specifiers`, in order. */
function importTime(dir: string, specifiers: readonly string[]): ImportCost {
  const script = `const t = performance.now(); const c = process.cpuUsage(); ${specifiers
    .map((s) => `await import(${JSON.stringify(s)});`)
    .join(
      ' ',
    )} const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wall: performance.now() - t, cpu: (u.user + u.system) / 1000 }));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`import failed in ${dir}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ImportCost;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** How an optional feature fails without its peer: the error's code and package, or how it succeeded. */
function featureWithoutPeer(dir: string, code: string): string {
  const script = `try { ${code}; console.log('no error') } catch (e) { console.log(e.code + ' ' + (e.data?.package ?? e.message)) }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return `${result.stdout.trim()}${result.stderr.trim() ? ` (stderr: ${result.stderr.trim().slice(0, 120)})` : ''}`;
}

const scratch: string[] = [];
try {
  progress('building and packing');
  run('npm', ['run', 'build'], ROOT);
  const packDir = mkdtempSync(join(tmpdir(), 'mcp-size-pack-'));
  scratch.push(packDir);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packDir], ROOT)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
    files: { path: string }[];
  }[];
  const tarball = packed[0];
  if (!tarball) throw new Error('npm pack produced nothing');
  const mapFiles = tarball.files.filter((file) => file.path.endsWith('.map')).length;

  const sdkOnly = scratchProject('sdk', { [SDK]: installedSdk });
  scratch.push(sdkOnly);
  const withLibrary = scratchProject('library', {
    [SDK]: installedSdk,
    'mcp-session-supervisor': `file:${join(packDir, tarball.filename)}`,
  });
  scratch.push(withLibrary);

  const sizes = [sdkOnly, withLibrary].map((dir) => ({
    packages: packageCount(dir),
    bytes: bytesUnder(join(dir, 'node_modules')),
  }));
  const [sdkSize, librarySize] = sizes as [(typeof sizes)[0], (typeof sizes)[0]];

  progress(`import times, ${ROUNDS} alternating rounds (+1 warm-up)`);
  importTime(sdkOnly, SDK_IMPORTS);
  importTime(withLibrary, LIBRARY_IMPORTS);
  const sdkTimes: ImportCost[] = [];
  const libraryTimes: ImportCost[] = [];
  const rootAloneTimes: ImportCost[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    sdkTimes.push(importTime(sdkOnly, SDK_IMPORTS));
    libraryTimes.push(importTime(withLibrary, LIBRARY_IMPORTS));
    rootAloneTimes.push(importTime(withLibrary, ['mcp-session-supervisor']));
  }
  // Judged on CPU time: on a shared machine wall time mostly measures the neighbours.
  const sdkImport = median(sdkTimes.map((t) => t.cpu));
  const libraryImport = median(libraryTimes.map((t) => t.cpu));
  const importRatio = libraryImport / sdkImport;
  const sdkWall = median(sdkTimes.map((t) => t.wall));
  const libraryWall = median(libraryTimes.map((t) => t.wall));
  const addedPackages = librarySize.packages - sdkSize.packages;

  const peers = Object.keys(manifest.peerDependencies ?? {});
  const features = [
    { feature: '/metrics', peer: 'prom-client', code: "await import('mcp-session-supervisor/metrics')" },
    {
      feature: '/inspection',
      peer: '@statelyai/inspect',
      code: "await import('mcp-session-supervisor/inspection')",
    },
    {
      feature: '/cluster RedisClusterRegistry',
      peer: 'ioredis',
      code: "const { RedisClusterRegistry } = await import('mcp-session-supervisor/cluster'); new RedisClusterRegistry()",
    },
    {
      feature: '/live-view',
      peer: 'elkjs',
      code: "const { createSessionSupervisor } = await import('mcp-session-supervisor'); const { createLiveView } = await import('mcp-session-supervisor/live-view'); createLiveView(createSessionSupervisor())",
    },
  ].map((entry) => ({ ...entry, outcome: featureWithoutPeer(withLibrary, entry.code) }));

  print(`# Install size and import time, beside the MCP SDK ${installedSdk} alone`);
  print(`node ${process.version}, ${ROUNDS} alternating rounds of fresh processes; load: ${loadAverage()}`);
  print(
    table(
      'Install (npm install from the tarball + registry)',
      ['project', 'packages', 'node_modules', 'import CPU (median ms)', 'import wall (median ms)'],
      [
        [
          'SDK alone (mcp.js + streamableHttp.js)',
          int(sdkSize.packages),
          mib(sdkSize.bytes),
          num(sdkImport),
          num(sdkWall),
        ],
        [
          'SDK + library (mcp.js + mcp-session-supervisor)',
          int(librarySize.packages),
          mib(librarySize.bytes),
          num(libraryImport),
          num(libraryWall),
        ],
        [
          'library root import alone',
          '',
          '',
          num(median(rootAloneTimes.map((t) => t.cpu))),
          num(median(rootAloneTimes.map((t) => t.wall))),
        ],
        [
          'added by the library',
          int(addedPackages),
          mib(librarySize.bytes - sdkSize.bytes),
          num(libraryImport - sdkImport),
          num(libraryWall - sdkWall),
        ],
      ],
    ),
  );
  print(
    `\ntarball: ${tarball.filename}, ${kb(tarball.size)} packed, ${kb(tarball.unpackedSize)} unpacked, ${tarball.entryCount} files, ${mapFiles} .map`,
  );
  print(`dependencies: ${Object.keys(manifest.dependencies ?? {}).join(', ')}`);
  print(`optional peers: ${peers.join(', ')} (installed here: ${SDK} only)`);
  print(
    table(
      'Optional features without their peer',
      ['feature', 'expected', 'outcome'],
      features.map((f) => [f.feature, f.peer ? `missing-peer-dependency ${f.peer}` : 'no error', f.outcome]),
    ),
  );
  const featuresPass = features.every((f) =>
    f.peer ? f.outcome === `missing-peer-dependency ${f.peer}` : f.outcome === 'no error',
  );
  const verdicts = [
    {
      target: `root import ≤ ${MAX_IMPORT_RATIO}× the SDK alone (CPU)`,
      measured: `${ratio(importRatio)} (${num(libraryImport)} / ${num(sdkImport)} ms; wall ${ratio(libraryWall / sdkWall)})`,
      pass: importRatio <= MAX_IMPORT_RATIO,
    },
    {
      target: `core adds ≤ ${MAX_ADDED_PACKAGES} packages`,
      measured: `${addedPackages} (${mib(librarySize.bytes - sdkSize.bytes)})`,
      pass: addedPackages <= MAX_ADDED_PACKAGES,
    },
    { target: 'no .map files in the tarball', measured: String(mapFiles), pass: mapFiles === 0 },
    {
      target: 'each optional feature without its peer: typed error naming it',
      measured: featuresPass ? 'all' : 'see table',
      pass: featuresPass,
    },
  ];
  print(verdictTable('Targets', verdicts));
  const pass = verdicts.every((v) => v.pass);
  print(`\n${pass ? 'PASS' : 'FAIL'}`);
  process.exitCode = pass ? 0 : 1;
} finally {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}
