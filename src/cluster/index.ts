export { MemoryClusterRegistry } from './memory-registry.js';
export type { ClusterNode, ClusterOptions } from './node.js';
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
