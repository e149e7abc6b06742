/**
 * Child process of the cluster benchmark (`bench/cluster.bench.ts` forks it): one supervisor node
 * on 127.0.0.1, ephemeral port, serving the benchmark's MCP server. `MODE` picks the registry:
 * `local` (no cluster option: today's default), `memory` (a MemoryClusterRegistry of its own:
 * the cluster wiring without a network) or `redis` (REDIS_URL, KEY_PREFIX, NODE_ID). Answers CPU
 * readings over IPC; exits on `stop` or when the parent goes away.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ClusterOptions,
  joinCluster,
  MemoryClusterRegistry,
  RedisClusterRegistry,
} from '../src/cluster/index.js';
import { createSessionSupervisor } from '../src/index.js';
import { createBenchMcpServer } from './http-tools.js';

export type ClusterMode = 'local' | 'memory' | 'redis';

/** Parent → child. */
export type ClusterParentMessage = { type: 'cpu' } | { type: 'stop' };
/** Child → parent. */
export type ClusterChildMessage = { type: 'ready'; port: number } | { type: 'cpu'; micros: number };

async function clusterOption(
  mode: ClusterMode,
): Promise<{ cluster?: ClusterOptions; close(): Promise<void> }> {
  const nodeId = process.env.NODE_ID ?? 'bench-node';
  if (mode === 'local') return { close: async () => {} };
  if (mode === 'memory') {
    return { cluster: { registry: new MemoryClusterRegistry(), nodeId }, close: async () => {} };
  }
  const registry = new RedisClusterRegistry({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: process.env.KEY_PREFIX ?? 'bench:',
  });
  await registry.ready();
  return { cluster: { registry, nodeId }, close: () => registry.close() };
}

async function main(): Promise<void> {
  const mode = (process.env.MODE ?? 'local') as ClusterMode;
  if (!process.send) throw new Error('run by bench/cluster.bench.ts (needs an IPC channel)');
  const { cluster, close } = await clusterOption(mode);
  const supervisor = createSessionSupervisor({
    createServer: createBenchMcpServer,
    maxSessions: 1_000_000,
    idleTimeout: '1h',
    ...(cluster ? { cluster: joinCluster(cluster) } : {}),
  });
  await supervisor.cluster?.ready();
  const server = http.createServer((req, res) => {
    void supervisor.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    void close().finally(() => process.exit(0));
  };
  process.on('message', (message: ClusterParentMessage) => {
    if (message.type === 'stop') stop();
    if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ type: 'cpu', micros: user + system } satisfies ClusterChildMessage);
    }
  });
  process.on('disconnect', stop);
  process.send({ type: 'ready', port: (server.address() as AddressInfo).port } satisfies ClusterChildMessage);
}

await main();
