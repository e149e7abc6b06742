/**
 * The demo as `npm start` runs it, for the end-to-end benchmark: the same command line as the
 * `start` script (read from package.json, so the two cannot drift apart), the default log level
 * unless one is given, stdout to a file as a service manager would keep it. No IPC: CPU comes
 * from /proc, live sessions from the demo's own `/stats`, log lines from the file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mainThreadCpu, processCpu } from './proc-cpu.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What the demo reads from its environment besides PORT and HOST (examples/demo/app.ts). */
const DEMO_SETTINGS = [
  'LOG_LEVEL',
  'IDLE_TIMEOUT',
  'MAX_SESSIONS',
  'INIT_TIMEOUT',
  'HIBERNATE_AFTER',
  'SHUTDOWN_GRACE',
  'MODERN',
  'METRICS',
  'LIVE_VIEW',
] as const;

/** `node <args>` of the `start` script; anything else is refused rather than approximated. */
export function startCommand(): readonly string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const words = pkg.scripts?.start?.trim().split(/\s+/) ?? [];
  if (words[0] !== 'node' || words.length < 2) {
    throw new Error(`the start script must be "node <compiled entry>", found: ${pkg.scripts?.start}`);
  }
  return words.slice(1);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export class DemoProcess {
  private readonly exited: Promise<void>;
  private exitedAlready = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly origin: string,
    private readonly logDir: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.exitedAlready = true;
        resolve();
      }),
    );
  }

  /**
   * Starts the demo on a free loopback port with its defaults, but for `overrides` (e.g.
   * `{ LOG_LEVEL: 'silent' }`); the demo's own settings inherited from this process are dropped.
   * `nodeFlags` go before the start script's arguments (the benchmark's `--cpu-prof`).
   */
  static async start(
    overrides: Readonly<Record<string, string>> = {},
    /** Node flags before the entry, e.g. `--cpu-prof` (the start script's own command line is kept). */
    nodeFlags: readonly string[] = [],
  ): Promise<DemoProcess> {
    const port = await freePort();
    const logDir = mkdtempSync(join(tmpdir(), 'bench-demo-'));
    const out = openSync(join(logDir, 'stdout.log'), 'w');
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
    for (const name of DEMO_SETTINGS) delete env[name];
    Object.assign(env, overrides);
    const child = spawn(process.execPath, [...nodeFlags, ...startCommand()], {
      cwd: ROOT,
      env,
      stdio: ['ignore', out, 'inherit'],
    });
    const demo = new DemoProcess(child, `http://127.0.0.1:${port}`, logDir);
    for (let attempt = 0; ; attempt += 1) {
      if (demo.exitedAlready) throw new Error('the demo exited during start-up');
      try {
        await demo.sessions();
        return demo;
      } catch (error) {
        if (attempt > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  get url(): string {
    return `${this.origin}/mcp`;
  }

  /** Server CPU time so far (user and system), µs, at /proc's 10 ms resolution. */
  cpu(): { user: number; system: number; mainThread: number | undefined } {
    return { ...processCpu(this.child.pid as number), mainThread: mainThreadCpu(this.child.pid) };
  }

  /** Lines the demo has logged so far. */
  logLines(): number {
    const text = readFileSync(join(this.logDir, 'stdout.log'), 'utf8');
    let lines = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines += 1;
    return lines;
  }

  /** Live sessions, from the demo's `/stats`. */
  async sessions(): Promise<number> {
    const response = await fetch(`${this.origin}/stats`);
    const stats = (await response.json()) as { liveSessions?: number; activeSessions?: number };
    return stats.liveSessions ?? stats.activeSessions ?? Number.NaN;
  }

  /** SIGTERM, as a service manager stops it (the demo drains, then exits). */
  async stop(): Promise<void> {
    if (!this.exitedAlready) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
    rmSync(this.logDir, { recursive: true, force: true });
  }
}
