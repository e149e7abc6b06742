/**
 * A throwaway redis-server for tests: started on a free 127.0.0.1 port with no persistence
 * (`--save '' --appendonly no`), stopped (SIGTERM, then SIGKILL) by the test — and killed on
 * process exit as a last resort, so a failing test never leaves one behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { findProgram, REDIS_SERVER } from './programs.js';

/** redis-server: REDIS_SERVER_PATH, else on PATH. */
const redisServer = findProgram(REDIS_SERVER);

/**
 * Redis tests run where redis-server exists, and always in CI (where a missing one fails them, not
 * skips them). Elsewhere they are skipped with this reason printed, naming the package.
 */
export function redisTestsSkipReason(): string | undefined {
  return redisServer.skipReason;
}

import { freePort } from './ports.js';

export { freePort };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends PING over a raw socket; true on `+PONG`. */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts one on a free port (or `port`) and waits until it answers PING (10 s at most). redis-server
   * cannot be told to pick a port itself (`--port 0` turns TCP off), so a port found free and taken
   * before it binds is retried on another one.
   */
  static async start(port?: number): Promise<RedisServer> {
    for (let attempt = 1; ; attempt += 1) {
      const server = new RedisServer(port ?? (await freePort()));
      try {
        await server.launch();
        return server;
      } catch (error) {
        const taken = /Address already in use/i.test(String(error));
        if (port !== undefined || !taken || attempt >= 5) throw error;
      }
    }
  }

  /** Stops it (SIGTERM, SIGKILL after 5 s). Its data is gone: nothing is persisted. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    running.delete(child);
  }

  /** Stopped and started again on the same port: an empty Redis, as after a crash without persistence. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  private async launch(): Promise<void> {
    const child = spawn(
      redisServer.require(),
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    this.child = child;
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 10_000;
    while (!(await pingOnce(this.port))) {
      if (spawnError !== undefined) {
        running.delete(child);
        this.child = undefined;
        throw new Error(`redis-server could not be started (${spawnError.message}); .ci/run installs it`);
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`redis-server did not start on port ${this.port}:\n${this.output}`);
      }
      await sleep(50);
    }
  }
}
