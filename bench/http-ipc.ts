/** What the end-to-end benchmark's parent and its server child processes say to each other. */

/** Servers forked from bench/http-server.ts (the demo runs as `npm start` runs it, without IPC). */
export const CHILD_KINDS = ['bare', 'supervisor', 'supervisor-fetch', 'bare-demo'] as const;
export type ChildKind = (typeof CHILD_KINDS)[number];

/** Every server the benchmark knows: the forked ones, and the demo at info and at silent. */
export const SERVER_KINDS = [...CHILD_KINDS, 'demo', 'demo-silent'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const SERVER_LABELS: Readonly<Record<ServerKind, string>> = {
  bare: 'bare SDK (Map of transports)',
  supervisor: 'supervisor handleRequest (node:http)',
  'supervisor-fetch': 'supervisor fetch (@hono/node-server)',
  'bare-demo': "bare SDK serving the demo's tools",
  demo: 'demo as `npm start` runs it (LOG_LEVEL default)',
  'demo-silent': 'demo, LOG_LEVEL=silent',
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

export const isChildKind = (value: unknown): value is ChildKind =>
  (CHILD_KINDS as readonly unknown[]).includes(value);
