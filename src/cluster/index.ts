/**
 * Scale-out: `mcp-session-supervisor/cluster`. Pass `joinCluster({ registry })` as the `cluster`
 * option; `RedisClusterRegistry` needs the optional peer dependency `ioredis`.
 *
 * @module
 */

export type { ClusterAttachment, ClusterMembership } from '../placement.js';
export { MemoryClusterRegistry } from './memory-registry.js';
export { type ClusterNode, type ClusterOptions, joinCluster } from './node.js';
export { RedisClusterRegistry, type RedisClusterRegistryOptions } from './redis-registry.js';
export type {
  AdmitRequest,
  AdmitResult,
  ClaimRequest,
  ClaimResult,
  ClusterLimits,
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
export { replayInitialize } from './replay.js';
