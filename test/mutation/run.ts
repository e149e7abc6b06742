/**
 * The mutation check: runs the model-based suites once as they are (every test must pass), then
 * once per deliberate machine bug of ./mutations.ts, and prints how many tests each bug failed.
 * Exit code 1 if the unmutated run fails or any mutation fails no test.
 *
 *   npm run mutation                 # every mutation
 *   npm run mutation -- idle-delay+1 # only those named
 *
 * Bounded: only the model-based files run (about 10 s each on two cores), each run is killed
 * after {@link RUN_LIMIT_MS}.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATIONS, type Mutation } from './mutations.js';

/** The suites whose oracle is not the machine: they must catch a machine bug. */
export const MODEL_SUITES = [
  'test/session.model.test.ts',
  'test/session.model.http.test.ts',
  'test/session.golden.test.ts',
  'test/supervisor.golden.test.ts',
  'test/supervisor.property.test.ts',
] as const;

const RUN_LIMIT_MS = 180_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface RunResult {
  /** Killed at {@link RUN_LIMIT_MS}: a hang counts as caught, and says so. */
  readonly killed: boolean;
  readonly failed: number;
  readonly total: number;
  /** Failed tests per suite file, plus files that failed to load. */
  readonly byFile: ReadonlyMap<string, number>;
  /** The first lines of each failure, to tell a catch from a flake. */
  readonly failures: readonly string[];
  readonly seconds: number;
}

interface VitestJson {
  numFailedTests: number;
  numTotalTests: number;
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ status: string; fullName?: string; failureMessages?: string[] }>;
  }>;
}

function runSuites(mutation: Mutation | undefined): Promise<RunResult> {
  const outputDir = mkdtempSync(path.join(tmpdir(), 'mutation-'));
  const outputFile = path.join(outputDir, 'result.json');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      'test/mutation/vitest.config.ts',
      '--reporter=json',
      `--outputFile=${outputFile}`,
      ...MODEL_SUITES,
    ],
    {
      cwd: root,
      env: { ...process.env, MACHINE_MUTATION: mutation?.id ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // Interrupting the check stops the run in progress too (it has its own process group).
  const stop = (): void => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let killed = false;
  const limit = setTimeout(() => {
    killed = true;
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, RUN_LIMIT_MS);
  return new Promise((resolve, reject) => {
    child.on('exit', () => {
      clearTimeout(limit);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (killed) {
        rmSync(outputDir, { recursive: true, force: true });
        resolve({
          killed,
          failed: 1,
          total: 0,
          byFile: new Map([['(killed)', 1]]),
          failures: [`killed after ${RUN_LIMIT_MS / 1000} s`],
          seconds: RUN_LIMIT_MS / 1000,
        });
        return;
      }
      try {
        const result = JSON.parse(readFileSync(outputFile, 'utf8')) as VitestJson;
        const byFile = new Map<string, number>();
        const failures: string[] = [];
        for (const file of result.testResults) {
          if (file.status === 'failed' && file.message)
            failures.push(`${file.name}: ${file.message.slice(0, 300)}`);
          for (const test of file.assertionResults) {
            if (test.status !== 'failed') continue;
            failures.push(`${test.fullName ?? '?'}: ${(test.failureMessages ?? []).join(' ').slice(0, 300)}`);
          }
          const failed = file.assertionResults.filter((test) => test.status === 'failed').length;
          // A file that fails to load has no tests to fail: count it as one failure.
          const count = failed > 0 ? failed : file.status === 'failed' ? 1 : 0;
          if (count > 0) byFile.set(path.relative(root, file.name), count);
        }
        const loadFailures =
          [...byFile.values()].reduce((sum, count) => sum + count, 0) - result.numFailedTests;
        resolve({
          killed,
          failed: result.numFailedTests + Math.max(0, loadFailures),
          total: result.numTotalTests,
          byFile,
          failures,
          seconds: (performance.now() - started) / 1000,
        });
      } catch (error) {
        reject(new Error(`vitest left no result (${String(error)}):\n${stderr.slice(-2000)}`));
      } finally {
        rmSync(outputDir, { recursive: true, force: true });
      }
    });
  });
}

/** A mutation must change its file in exactly one place, or the check itself is wrong. */
function assertApplies(mutation: Mutation): void {
  const source = readFileSync(path.join(root, mutation.file), 'utf8');
  const first = source.indexOf(mutation.find);
  if (first < 0 || source.indexOf(mutation.find, first + 1) >= 0) {
    throw new Error(
      `Mutation ${mutation.id} does not apply exactly once to ${mutation.file}: the machine changed, update it`,
    );
  }
}

const short = (file: string): string => path.basename(file).replace(/\.test\.ts$/, '');

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const selected = wanted.length ? MUTATIONS.filter((mutation) => wanted.includes(mutation.id)) : MUTATIONS;
  if (selected.length === 0) throw new Error(`No mutation named ${wanted.join(', ')}`);
  for (const mutation of selected) assertApplies(mutation);

  const baseline = await runSuites(undefined);
  console.log(
    `unmutated: ${baseline.failed} of ${baseline.total} tests failed (${baseline.seconds.toFixed(1)} s) in ${MODEL_SUITES.join(' ')}`,
  );
  if (baseline.failed > 0) {
    console.log(`the model-based suites must pass unmutated:\n${baseline.failures.join('\n')}`);
    process.exitCode = 1;
    return;
  }
  console.log('');
  console.log('| mutation | kind | file | failing tests | by suite | s |');
  console.log('|---|---|---|---|---|---|');
  const missed: string[] = [];
  for (const mutation of selected) {
    const result = await runSuites(mutation);
    if (result.failed === 0) missed.push(mutation.id);
    const bySuite = [...result.byFile].map(([file, count]) => `${short(file)} ${count}`).join(', ') || '—';
    console.log(
      `| ${mutation.id} (${mutation.description}) | ${mutation.kind} | ${path.basename(mutation.file)} | ` +
        `${result.failed} of ${result.total} | ${bySuite} | ${result.seconds.toFixed(1)} |`,
    );
  }
  console.log('');
  if (missed.length) {
    console.log(`NOT CAUGHT: ${missed.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log(`every mutation caught: ${selected.length} of ${selected.length}`);
  }
}

await main();
