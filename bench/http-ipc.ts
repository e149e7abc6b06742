/** What the end-to-end benchmark's parent and its server child processes say to each other. */

export const SERVER_KINDS = ['bare', 'supervisor', 'supervisor-fetch'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const SERVER_LABELS: Readonly<Record<ServerKind, string>> = {
  bare: 'bare SDK (Map of transports)',
  supervisor: 'supervisor handleRequest (node:http)',
  'supervisor-fetch': 'supervisor fetch (@hono/node-server)',
};

/** Parent → child. */
export type ParentMessage = { type: 'heap' } | { type: 'cpu' } | { type: 'stop' };

/** Child → parent. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  /** Heap in use after a full collection, and live sessions as the server counts them. */
  | { type: 'heap'; heapUsed: number; sessions: number }
  /** `process.cpuUsage()` of the server process, µs. */
  | { type: 'cpu'; user: number; system: number };

export const isServerKind = (value: unknown): value is ServerKind =>
  (SERVER_KINDS as readonly unknown[]).includes(value);
