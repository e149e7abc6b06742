import type { Redis, RedisOptions } from 'ioredis';
import type { SessionEndReason } from '../../machines/session.machine.js';
import type { Logger } from '../logging.js';
import { requirePeer } from '../peer.js';
import {
  ADMIT_SCRIPT,
  CLAIM_SCRIPT,
  COUNT_SCRIPT,
  REASSERT_SCRIPT,
  RELEASE_SCRIPT,
  TOUCH_SCRIPT,
} from './lua.js';
import type {
  AdmitRequest,
  AdmitResult,
  ClaimRequest,
  ClaimResult,
  ClusterListener,
  ClusterMessage,
  ClusterRegistry,
  ClusterSessionRecord,
  ClusterSessionState,
  ReassertEntry,
  StoredInitialize,
  TouchEntry,
  TouchOutcome,
} from './registry.js';

/** Options of {@link RedisClusterRegistry}. */
export interface RedisClusterRegistryOptions {
  /** `redis://[:password@]host:port[/db]`. Default `redis://127.0.0.1:6379`. */
  url?: string | undefined;
  /** ioredis options, applied over the defaults below (fail fast rather than queue while offline). */
  redis?: RedisOptions;
  /** Prefix of every key and channel; clusters sharing one Redis need distinct ones. Default `mcp-sessions:`. */
  keyPrefix?: string | undefined;
  /** Deadline of one registry command, ms: past it the request gets a 503, not a hang. Default 2000. */
  commandTimeout?: number;
  /** Connection losses and recoveries are logged here. */
  logger?: Logger;
}

type Script = 'mcpAdmit' | 'mcpClaim' | 'mcpTouch' | 'mcpReassert' | 'mcpRelease' | 'mcpCount';
type ScriptArg = string | number;

const SCRIPTS: Record<Script, string> = {
  mcpAdmit: ADMIT_SCRIPT,
  mcpClaim: CLAIM_SCRIPT,
  mcpTouch: TOUCH_SCRIPT,
  mcpReassert: REASSERT_SCRIPT,
  mcpRelease: RELEASE_SCRIPT,
  mcpCount: COUNT_SCRIPT,
};

/** Sessions per script call when touching or reasserting many at once: bounds one script's run time. */
const BATCH = 200;

const isState = (value: unknown): value is ClusterSessionState =>
  value === 'created' || value === 'active' || value === 'idle';

function parseOutcome(raw: unknown): TouchOutcome {
  const text = String(raw);
  if (text.startsWith('ended:')) return { status: 'ended', reason: text.slice(6) as SessionEndReason };
  if (text === 'ok' || text === 'moved' || text === 'missing' || text === 'recreated')
    return { status: text };
  throw new Error(`unexpected registry answer: ${text}`);
}

function parseMessage(text: string): ClusterMessage | undefined {
  try {
    const message = JSON.parse(text) as Partial<Record<string, unknown>>;
    if (typeof message.sessionId !== 'string') return undefined;
    if (message.type === 'moved' && typeof message.to === 'string') {
      return { type: 'moved', sessionId: message.sessionId, to: message.to };
    }
    if (message.type === 'ended' && typeof message.reason === 'string') {
      return { type: 'ended', sessionId: message.sessionId, reason: message.reason as SessionEndReason };
    }
  } catch {
    // Not ours: ignored below.
  }
  return undefined;
}

/**
 * A {@link ClusterRegistry} on Redis (standalone or Sentinel; not Redis Cluster: the scripts derive
 * keys). Each decision is one Lua script; messages to nodes go over pub/sub on a second
 * connection. While Redis is unreachable, every call fails within `commandTimeout` instead of
 * queueing, so requests that need the registry get a quick 503 and the node keeps serving the
 * sessions it holds.
 *
 * @example
 * ```ts
 * const registry = new RedisClusterRegistry({ url: process.env.REDIS_URL, keyPrefix: 'mcp:prod:' });
 * await registry.ready();
 * const supervisor = createSessionSupervisor({ createServer, cluster: { registry } });
 * // on exit, after supervisor.shutdown():
 * await registry.close();
 * ```
 */
export class RedisClusterRegistry implements ClusterRegistry {
  /** The command connection. */
  readonly client: Redis;
  private subscriber: Redis | undefined;
  private readonly prefix: string;
  private readonly listeners = new Map<string, ClusterListener>();
  private readonly logger: Logger | undefined;
  private closed = false;

  constructor(options: RedisClusterRegistryOptions = {}) {
    this.prefix = options.keyPrefix ?? 'mcp-sessions:';
    this.logger = options.logger;
    const redisOptions: RedisOptions = {
      // Fail fast while disconnected: a request waiting for Redis would only time out at the client.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeout ?? 2_000,
      connectTimeout: 2_000,
      // Keep trying forever, but never more than twice a second.
      retryStrategy: (attempt) => Math.min(50 * attempt, 500),
      ...options.redis,
    };
    // ioredis is an optional peer dependency: loaded here, by the only class that needs it.
    const ioredis = requirePeer<typeof import('ioredis')>(
      'ioredis',
      'RedisClusterRegistry (mcp-session-supervisor/cluster)',
    );
    this.client = new ioredis.Redis(options.url ?? 'redis://127.0.0.1:6379', redisOptions);
    for (const [name, lua] of Object.entries(SCRIPTS))
      this.client.defineCommand(name, { numberOfKeys: 0, lua });
    this.watch(this.client, 'commands');
  }

  /** Resolves once connected (rejects after `timeoutMs`). Calls made before fail with a 503. */
  ready(timeoutMs = 10_000): Promise<void> {
    return waitReady(this.client, timeoutMs);
  }

  async admit({ sessionId, nodeId, principal, initialize, limits }: AdmitRequest): Promise<AdmitResult> {
    const reply = (await this.run('mcpAdmit', [
      sessionId,
      nodeId,
      limits.ttlMs,
      limits.maxSessions,
      limits.whenFull === 'evict-idle-lru' ? '1' : '0',
      principal ?? '',
      limits.maxSessionsPerPrincipal ?? 0,
      JSON.stringify(initialize),
    ])) as string[];
    const [status, evicted, owner] = reply;
    if (status === 'capacity' || status === 'principal-capacity') return { admitted: false, code: status };
    return {
      admitted: true,
      evicted: evicted ? { sessionId: evicted, owner: owner ?? '' } : undefined,
    };
  }

  async claim({ sessionId, nodeId, principal, ttlMs }: ClaimRequest): Promise<ClaimResult | undefined> {
    const reply = (await this.run('mcpClaim', [sessionId, nodeId, ttlMs, principal ?? ''])) as
      | string[]
      | null;
    if (!reply) return undefined;
    const [previousOwner = '', state, createdAt, lastActivityAt, init = ''] = reply;
    if (init === '') return undefined;
    return {
      previousOwner,
      record: {
        sessionId,
        owner: nodeId,
        state: isState(state) ? state : 'created',
        createdAt: Number(createdAt),
        lastActivityAt: Number(lastActivityAt),
        principal,
        initialize: JSON.parse(init) as StoredInitialize,
      },
    };
  }

  async touch(nodeId: string, entries: readonly TouchEntry[], ttlMs: number): Promise<TouchOutcome[]> {
    return this.batched('mcpTouch', nodeId, ttlMs, entries, (entry) => [
      entry.sessionId,
      entry.state,
      Math.max(0, Math.round(entry.idleForMs)),
    ]);
  }

  async reassert(nodeId: string, entries: readonly ReassertEntry[], ttlMs: number): Promise<TouchOutcome[]> {
    return this.batched('mcpReassert', nodeId, ttlMs, entries, (entry) => [
      entry.sessionId,
      entry.state,
      Math.max(0, Math.round(entry.idleForMs)),
      Math.max(0, Math.round(entry.ageMs)),
      entry.principal ?? '',
      JSON.stringify(entry.initialize),
    ]);
  }

  async release(
    sessionId: string,
    nodeId: string,
    reason: SessionEndReason,
    ttlMs: number,
  ): Promise<boolean> {
    return (await this.run('mcpRelease', [sessionId, nodeId, reason, ttlMs])) === 1;
  }

  async lookup(sessionId: string): Promise<ClusterSessionRecord | undefined> {
    const fields = await this.client.hgetall(`${this.prefix}s:${sessionId}`);
    if (fields.owner === undefined || fields.init === undefined) return undefined;
    return {
      sessionId,
      owner: fields.owner,
      state: isState(fields.state) ? fields.state : 'created',
      createdAt: Number(fields.createdAt),
      lastActivityAt: Number(fields.lastActivityAt),
      principal: fields.principal ? fields.principal : undefined,
      initialize: JSON.parse(fields.init) as StoredInitialize,
    };
  }

  async count(): Promise<number> {
    return Number(await this.run('mcpCount', []));
  }

  async listen(nodeId: string, listener: ClusterListener): Promise<() => Promise<void>> {
    const channel = `${this.prefix}node:${nodeId}`;
    if (this.listeners.has(channel)) throw new Error(`node ${nodeId} is already listening`);
    const subscriber = this.subscriberConnection();
    this.listeners.set(channel, listener);
    try {
      await waitReady(subscriber, 10_000);
      await subscriber.subscribe(channel);
    } catch (error) {
      this.listeners.delete(channel);
      throw error;
    }
    return async () => {
      if (this.listeners.delete(channel) && subscriber.status === 'ready') {
        await subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** Closes both connections. Call after the supervisors using it have shut down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await Promise.all(
      [this.client, this.subscriber].map(async (connection) => {
        if (!connection) return;
        await connection.quit().catch(() => connection.disconnect());
      }),
    );
  }

  private subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber;
    // Pub/sub needs a connection of its own; ioredis resubscribes it after every reconnection.
    const subscriber = this.client.duplicate();
    subscriber.on('message', (channel: string, text: string) => {
      const listener = this.listeners.get(channel);
      const message = listener ? parseMessage(text) : undefined;
      if (listener && message) listener.message(message);
    });
    this.watch(subscriber, 'messages');
    this.subscriber = subscriber;
    return subscriber;
  }

  /** Logs a connection's losses once each (ioredis reports every failed retry) and its recoveries. */
  private watch(connection: Redis, role: 'commands' | 'messages'): void {
    let lost = false;
    let everReady = false;
    connection.on('error', (error: Error) => {
      if (lost || this.closed) return;
      lost = true;
      this.logger?.warn({ err: error, role }, 'cluster registry connection lost; retrying');
    });
    connection.on('close', () => {
      if (!this.closed && everReady) lost = true;
    });
    connection.on('ready', () => {
      const recovered = everReady;
      everReady = true;
      lost = false;
      if (!recovered || this.closed) return;
      this.logger?.info({ role }, 'cluster registry connection back');
      // Messages sent while away are gone, and Redis may have restarted empty: nodes re-check.
      for (const listener of this.listeners.values()) listener.reconnected?.();
    });
  }

  private async batched<T>(
    script: 'mcpTouch' | 'mcpReassert',
    nodeId: string,
    ttlMs: number,
    entries: readonly T[],
    toArgs: (entry: T) => ScriptArg[],
  ): Promise<TouchOutcome[]> {
    const outcomes: TouchOutcome[] = [];
    for (let start = 0; start < entries.length; start += BATCH) {
      const args = entries.slice(start, start + BATCH).flatMap(toArgs);
      const reply = (await this.run(script, [nodeId, ttlMs, ...args])) as unknown[];
      outcomes.push(...reply.map(parseOutcome));
    }
    return outcomes;
  }

  private run(script: Script, args: readonly ScriptArg[]): Promise<unknown> {
    const command = (this.client as unknown as Record<Script, (...a: ScriptArg[]) => Promise<unknown>>)[
      script
    ];
    return command.call(this.client, this.prefix, ...args);
  }
}

function waitReady(connection: Redis, timeoutMs: number): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => done();
    const onEnd = (): void => done(new Error('the Redis connection was closed'));
    const timer = setTimeout(() => done(new Error(`Redis not ready after ${timeoutMs} ms`)), timeoutMs);
    connection.once('ready', onReady);
    connection.once('end', onEnd);
  });
}
