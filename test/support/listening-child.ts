/**
 * A node program under test in its own process, listening on a port the OS chose: started with
 * `PORT=0` and the `report-listening.ts` preload, which tells this side the port once bound. No port
 * is probed beforehand, so none can be taken between the probe and the child's bind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LISTENING_MARKER } from './report-listening.js';

const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'report-listening.ts');

export interface ListeningChild {
  readonly process: ChildProcess;
  readonly port: number;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if it still runs (after a failed test); resolves once it is gone. */
  kill(): Promise<void>;
}

export interface SpawnListeningOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on the start (through tsx on a loaded machine: seconds); catches a hang, measures nothing. */
  readonly timeoutMs?: number;
}

/** Runs `entry` through tsx with `PORT=0`; resolves once its first server listens. */
export function spawnListening(entry: string, options: SpawnListeningOptions = {}): Promise<ListeningChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', PRELOAD, entry], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void kill();
      reject(new Error(`${entry} ${reason}:\n${output}`));
    };
    const timer = setTimeout(
      () => fail(`did not listen within ${options.timeoutMs ?? 45_000} ms`),
      options.timeoutMs ?? 45_000,
    );
    void exited.then(({ code, signal }) => fail(`exited (${code ?? signal}) before listening`));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const marker = output.indexOf(LISTENING_MARKER);
      const end = marker === -1 ? -1 : output.indexOf('\n', marker);
      if (settled || end === -1) return;
      const port = Number(output.slice(marker + LISTENING_MARKER.length, end));
      settled = true;
      clearTimeout(timer);
      resolve({ process: child, port, output: () => output, exited, kill });
    });
  });
}
