/** What the end-to-end benchmark's parent and its server child processes say to each other. */
import type { GcReading } from './http-gc-meter.js';

/** Servers forked from bench/http-server.ts (the demo runs as `npm start` runs it, without IPC). */
export const CHILD_KINDS = [
  'bare',
  'bare-twin',
  'supervisor',
  'supervisor-fetch',
  'bare-demo',
  'supervisor-demo',
  'http-layer',
  'supervisor-baseline',
  'supervisor-pretenuring-keep',
  'bare-pretenuring-off',
] as const;
export type ChildKind = (typeof CHILD_KINDS)[number];

/**
 * The demo as `npm start` runs it, and the same with features left out through its environment
 * (examples/demo/app.ts), so each feature's cost is a ratio to the whole demo measured beside it.
 */
export const DEMO_VARIANTS = {
  demo: {},
  'demo-silent': { LOG_LEVEL: 'silent' },
  'demo-no-modern': { MODERN: 'off' },
  'demo-no-metrics': { METRICS: 'off' },
  'demo-no-live-view': { LIVE_VIEW: 'off' },
  'demo-no-hibernation': { HIBERNATE_AFTER: 'off' },
  'demo-minimal': {
    LOG_LEVEL: 'silent',
    MODERN: 'off',
    METRICS: 'off',
    LIVE_VIEW: 'off',
    HIBERNATE_AFTER: 'off',
  },
} as const satisfies Record<string, Readonly<Record<string, string>>>;
export type DemoKind = keyof typeof DEMO_VARIANTS;
export const DEMO_KINDS = Object.keys(DEMO_VARIANTS) as DemoKind[];

/** Every server the benchmark knows: the forked ones, and the demo variants. */
export const SERVER_KINDS = [...CHILD_KINDS, ...DEMO_KINDS] as const;
export type ServerKind = ChildKind | DemoKind;

export const SERVER_LABELS: Readonly<Record<ServerKind, string>> = {
  bare: 'bare SDK (Map of transports)',
  'bare-twin': 'a second bare SDK server, same code (A/A: the noise floor)',
  supervisor: 'supervisor handleRequest (node:http)',
  'supervisor-fetch': 'supervisor fetch (@hono/node-server)',
  'http-layer': "the supervisor's HTTP layer alone (no actors)",
  'supervisor-baseline': 'supervisor of another build (BENCH_HTTP_BASELINE), for A/B',
  'supervisor-pretenuring-keep':
    "supervisor with v8Pretenuring: 'keep' (V8's allocation-site pretenuring left on, as node has it)",
  'bare-pretenuring-off': "bare SDK in a process with V8's allocation-site pretenuring off",
  'bare-demo': "bare SDK serving the demo's tools",
  'supervisor-demo': "supervisor handleRequest with the demo-minimal's tools and settings",
  demo: 'demo as `npm start` runs it (LOG_LEVEL default)',
  'demo-silent': 'demo, LOG_LEVEL=silent',
  'demo-no-modern': 'demo, MODERN=off (no era routing)',
  'demo-no-metrics': 'demo, METRICS=off',
  'demo-no-live-view': 'demo, LIVE_VIEW=off',
  'demo-no-hibernation': 'demo, HIBERNATE_AFTER=off',
  'demo-minimal': 'demo, every feature off and LOG_LEVEL=silent',
};

/** Parent → child. */
export type ParentMessage = { type: 'heap' } | { type: 'cpu' } | { type: 'stop' };

/** Child → parent. */
export type ChildMessage =
  | { type: 'ready'; port: number }
  /** Heap in use after a full collection, and live sessions as the server counts them. */
  | { type: 'heap'; heapUsed: number; sessions: number }
  /**
   * `process.cpuUsage()` of the server process, µs, with what its heap allocated and its collector
   * did so far (bench/http-gc-meter.ts; absent from a build that predates it).
   */
  | ({ type: 'cpu'; user: number; system: number } & Partial<GcReading>);

export const isServerKind = (value: unknown): value is ServerKind =>
  (SERVER_KINDS as readonly unknown[]).includes(value);

export const isDemoKind = (value: unknown): value is DemoKind =>
  (DEMO_KINDS as readonly unknown[]).includes(value);

export const isChildKind = (value: unknown): value is ChildKind =>
  (CHILD_KINDS as readonly unknown[]).includes(value);
