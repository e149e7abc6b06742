/**
 * Cluster nodes as separate processes (test/fixtures/cluster-node.ts), and a round-robin "load
 * balancer" for clients: a `fetch` that sends each request to the next live node and skips nodes
 * that refuse connections, as a balancer with health checks would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../fixtures/cluster-node.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeEnvironment {
  readonly REDIS_URL: string;
  readonly NODE_ID: string;
  readonly KEY_PREFIX?: string;
  readonly MAX_SESSIONS?: string;
  readonly WHEN_FULL?: 'evict-idle-lru' | 'reject';
  readonly IDLE_TIMEOUT?: string;
  readonly TOUCH_INTERVAL?: string;
}

export interface NodeHealth {
  readonly nodeId: string;
  readonly sessions: number;
  readonly sessionIds: readonly string[];
  readonly phase: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class ClusterNodeProcess {
  /** What the node wrote on stderr (its logs), the last few KB, for failure messages. */
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly nodeId: string,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve({ code: child.exitCode, signal: child.signalCode });
        return;
      }
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolve({ code, signal });
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns a node and waits until it serves (20 s at most). */
  static start(env: NodeEnvironment): Promise<ClusterNodeProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8_000);
    });
    return new Promise((resolve, reject) => {
      let stdout = '';
      const fail = (reason: string) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`cluster node ${env.NODE_ID} ${reason}:\n${stderr}`));
      };
      const timer = setTimeout(() => fail('did not start within 20 s'), 20_000);
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) while starting`));
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split('\n').find((candidate) => candidate.includes('"listening"'));
        if (!line) return;
        clearTimeout(timer);
        child.removeAllListeners('exit');
        const { port } = JSON.parse(line) as { port: number };
        const node = new ClusterNodeProcess(child, env.NODE_ID, port);
        child.stderr?.on('data', (data: Buffer) => {
          node.stderr = (node.stderr + data.toString()).slice(-8_000);
        });
        node.stderr = stderr;
        resolve(node);
      });
    });
  }

  /** Local view of the node: the sessions it holds. */
  async health(): Promise<NodeHealth> {
    const response = await fetch(`http://127.0.0.1:${this.port}/health`);
    return (await response.json()) as NodeHealth;
  }

  /** SIGKILL: the node dies without any cleanup, as on a crash. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful drain), SIGKILL after 10 s; resolves with how it exited. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      const exit = await this.exited;
      clearTimeout(killer);
      return exit;
    }
    return this.exited;
  }
}

const isConnectionRefused = (error: unknown): boolean => {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED' || cause?.code === 'ECONNRESET';
};

/**
 * Round robin over nodes: each request goes to the next node in turn; a node that refuses the
 * connection is taken out of rotation and the request goes to the next one.
 */
export class RoundRobin {
  private next = 0;
  private readonly down = new Set<number>();
  /** The node index each request went to, in order. */
  readonly served: number[] = [];

  constructor(private readonly urls: readonly string[]) {}

  readonly fetch = async (_input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    for (let tried = 0; tried < this.urls.length; tried += 1) {
      const index = this.next % this.urls.length;
      this.next += 1;
      const url = this.urls[index];
      if (url === undefined || this.down.has(index)) continue;
      try {
        const response = await fetch(url, init);
        this.served.push(index);
        return response;
      } catch (error) {
        if (!isConnectionRefused(error)) throw error;
        this.down.add(index);
      }
    }
    throw new Error('no node left to serve the request');
  };
}
