/**
 * Inspection for the Stately inspector, offline: the observer of `createStatelyInspection` with a
 * recording adapter (no socket), then the loopback relay with a real WebSocket client and the
 * receiver of `@statelyai/inspect`. Session timers run on a `SimulatedClock`; the inspector itself
 * defers every event with a real `setTimeout(0)`, so delivery is awaited with `whenIdle()`.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { SimulatedClock } from 'xstate';
import {
  createStatelyInspection,
  INSPECTED_CONTEXT_KEYS,
  INSPECTED_EVENT_KEYS,
  type InspectionAdapter,
  type InspectorRelay,
  type StatelyInspection,
  sanitizeInspectedContext,
  sanitizeInspectedEvent,
  startInspectorRelay,
} from '../src/inspection.js';
import { SessionSupervisor } from '../src/supervisor.js';

const IDLE_TIMEOUT_MS = 60_000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

class RecordingAdapter implements InspectionAdapter {
  readonly events: StatelyInspectionEvent[] = [];
  send(event: StatelyInspectionEvent): void {
    // Through JSON, as on the wire: what the inspector would really receive.
    this.events.push(JSON.parse(JSON.stringify(event)) as StatelyInspectionEvent);
  }
}

/** A core supervisor on a simulated clock whose sessions build a stand-in server. */
function supervisorWith(inspection: StatelyInspection) {
  const clock = new SimulatedClock();
  const supervisor = new SessionSupervisor<{ close(): void }>({
    clock,
    idleTimeout: IDLE_TIMEOUT_MS,
    createServer: () => ({ close: () => {} }),
    inspect: inspection.inspect,
  });
  cleanups.push(async () => {
    const stopped = supervisor.shutdown({ grace: 1 });
    clock.increment(1);
    await stopped;
  });
  return { supervisor, clock };
}

/** The snapshot of a snapshot or actor event, as the inspector receives it (JSON). */
function snapshotOf(event: StatelyInspectionEvent | undefined): {
  status?: string;
  value?: unknown;
  context?: Record<string, unknown>;
} {
  return event?.type === '@xstate.snapshot' || event?.type === '@xstate.actor'
    ? (event.snapshot as { status?: string; value?: unknown; context?: Record<string, unknown> })
    : {};
}

/** The lifecycle state a session snapshot shows (`{ live: 'idle' }` → `idle`). */
function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'live' in value) return String(value.live);
  return JSON.stringify(value);
}

/** Consecutive duplicates removed: a snapshot per event, several events per state. */
const distinctRuns = (values: readonly string[]): string[] =>
  values.filter((value, index) => index === 0 || values[index - 1] !== value);

/** Drives one session through its whole life with the core API; returns its XState session id. */
async function liveOneSession(supervisor: SessionSupervisor<{ close(): void }>, clock: SimulatedClock) {
  const session = supervisor.open();
  await session.ready();
  const done = session.beginRequest();
  session.markInitialized(); // prepared and busy → active
  expect(session.state).toBe('active');
  done();
  expect(session.state).toBe('idle');
  clock.increment(IDLE_TIMEOUT_MS);
  expect(session.state).not.toBe('idle');
  const output = await session.whenDisposed();
  expect(output.reason).toBe('idle-timeout');
  return { actorSessionId: session.actor.sessionId, id: session.id };
}

describe('createStatelyInspection with a recording adapter', () => {
  it('delivers one session lifecycle — created, active, idle, expired, disposed — in order', async () => {
    const recorder = new RecordingAdapter();
    const inspection = createStatelyInspection({ adapter: recorder });
    cleanups.push(() => inspection.stop());
    const { supervisor, clock } = supervisorWith(inspection);

    const { actorSessionId, id } = await liveOneSession(supervisor, clock);
    await inspection.whenIdle();

    const ofSession = recorder.events.filter((event) => event.sessionId === actorSessionId);
    const registration = ofSession[0];
    expect(registration?.type).toBe('@xstate.actor');
    expect(registration?.type === '@xstate.actor' && registration.name).toBe(`session:${id}`);
    expect(registration?.type === '@xstate.actor' && typeof registration.definition).toBe('string');

    const states = ofSession.flatMap((event) =>
      event.type === '@xstate.snapshot' ? [stateName(snapshotOf(event).value)] : [],
    );
    expect(distinctRuns(states)).toEqual(['created', 'active', 'idle', 'expired', 'disposed']);

    const last = ofSession.findLast((event) => event.type === '@xstate.snapshot');
    expect(snapshotOf(last).status).toBe('done');
    expect(snapshotOf(last).context).toMatchObject({
      sessionId: id,
      reason: 'idle-timeout',
      requests: 1,
      requestsInFlight: 0,
    });
  });

  it('forwards only actor, event and snapshot events, each sanitized, and counts what it left out', async () => {
    const recorder = new RecordingAdapter();
    const inspection = createStatelyInspection({ adapter: recorder });
    cleanups.push(() => inspection.stop());
    const { supervisor, clock } = supervisorWith(inspection);
    await liveOneSession(supervisor, clock);
    await inspection.whenIdle();

    const stats = inspection.stats();
    expect(stats.pending).toBe(0);
    expect(stats.delivered).toBe(stats.forwarded);
    expect(stats.delivered).toBe(recorder.events.length);
    // Microsteps and actions are dropped before any deferred work is scheduled for them.
    expect(stats.skipped).toBeGreaterThan(0);
    expect(new Set(recorder.events.map((event) => event.type))).toEqual(
      new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']),
    );

    // The supervisor is inspected too, with its counters.
    const supervisorSnapshot = recorder.events.findLast(
      (event) => event.type === '@xstate.snapshot' && snapshotOf(event).context?.admitted !== undefined,
    );
    expect(snapshotOf(supervisorSnapshot).context).toMatchObject({ admitted: 1, live: 0 });

    // Nothing but the allow-listed fields leaves: no `input` of xstate.init, no outputs.
    const allowed = new Set(['type', 'error', ...INSPECTED_EVENT_KEYS]);
    for (const event of recorder.events) {
      if (event.type === '@xstate.actor') continue;
      expect(Object.keys(event.event).filter((key) => !allowed.has(key))).toEqual([]);
    }
    const contextKeys = recorder.events.flatMap((event) => Object.keys(snapshotOf(event).context ?? {}));
    expect(contextKeys.filter((key) => !INSPECTED_CONTEXT_KEYS.has(key))).toEqual([]);
  });

  it('forwards nothing the filter refuses, and nothing after stop()', async () => {
    const recorder = new RecordingAdapter();
    const inspection = createStatelyInspection({
      adapter: recorder,
      filter: (_event, actorId) => actorId === 'supervisor',
    });
    const { supervisor, clock } = supervisorWith(inspection);
    await liveOneSession(supervisor, clock);
    await inspection.whenIdle();
    expect(recorder.events.length).toBeGreaterThan(0);
    expect(
      recorder.events.every((event) => event.type !== '@xstate.actor' || event.name === 'supervisor'),
    ).toBe(true);

    inspection.stop();
    const before = recorder.events.length;
    await liveOneSession(supervisor, clock);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(recorder.events.length).toBe(before);
  });

  it('drops events beyond maxPendingEvents instead of piling up deferred work', async () => {
    const recorder = new RecordingAdapter();
    const inspection = createStatelyInspection({ adapter: recorder, maxPendingEvents: 5 });
    cleanups.push(() => inspection.stop());
    const { supervisor } = supervisorWith(inspection);
    // Synchronous admissions: nothing deferred can run in between.
    for (let i = 0; i < 10; i += 1) supervisor.open();
    expect(inspection.stats().pending).toBe(5);
    expect(inspection.stats().dropped).toBeGreaterThan(0);
    await inspection.whenIdle();
    expect(recorder.events).toHaveLength(5);
  });
});

describe('the default sanitizers', () => {
  it('keep only allow-listed context fields, as scalars or flat records', () => {
    const context = {
      sessionId: 'abc',
      requests: 3,
      timeouts: { idleTimeout: 1000, initTimeout: 500, nested: { deep: true } },
      body: '{"jsonrpc":"2.0","method":"tools/call","params":{"secret":"x"}}',
      metadata: { clientInfo: { name: 'c' } },
      principal: 'alice',
      server: { close: () => {} },
      reason: undefined,
    };
    expect(sanitizeInspectedContext(context)).toEqual({
      sessionId: 'abc',
      requests: 3,
      timeouts: { idleTimeout: 1000, initTimeout: 500 },
    });
  });

  it('keep an event’s type and known scalar fields, and reduce errors to name and message', () => {
    expect(
      sanitizeInspectedEvent({ type: 'REQUEST.START', at: 5, body: 'secret', params: { arguments: {} } }),
    ).toEqual({ type: 'REQUEST.START', at: 5 });
    expect(sanitizeInspectedEvent({ type: 'xstate.init', input: { sessionId: 'abc' } })).toEqual({
      type: 'xstate.init',
    });
    expect(
      sanitizeInspectedEvent({
        type: 'xstate.error.actor.prepare',
        actorId: 'prepare',
        error: new TypeError('boom'),
      }),
    ).toEqual({
      type: 'xstate.error.actor.prepare',
      actorId: 'prepare',
      error: { name: 'TypeError', message: 'boom' },
    });
  });
});

describe('startInspectorRelay', () => {
  async function startRelay(
    options: Parameters<typeof startInspectorRelay>[0] = {},
  ): Promise<InspectorRelay> {
    const relay = await startInspectorRelay({ port: 0, ...options });
    cleanups.push(() => relay.close());
    return relay;
  }

  it('listens on 127.0.0.1 only', async () => {
    const relay = await startRelay();
    const address = relay.address();
    expect(address.address).toBe('127.0.0.1');
    expect(address.family).toBe('IPv4');
    expect(address.port).toBeGreaterThan(0);
    expect(relay.url).toBe(`ws://127.0.0.1:${address.port}`);
    expect(relay.pageUrl).toBe(`http://127.0.0.1:${address.port}/`);

    // And it is not reachable through any other address this machine has.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((info) => info !== undefined && !info.internal && info.family === 'IPv4');
    if (external !== undefined) {
      const reached = await new Promise<boolean>((resolve) => {
        const request = http.get(
          { host: external.address, port: address.port, path: '/', timeout: 2_000 },
          (res) => {
            res.resume();
            resolve(true);
          },
        );
        request.on('error', () => resolve(false));
        request.on('timeout', () => {
          request.destroy();
          resolve(false);
        });
      });
      expect(reached).toBe(false);
    }
  });

  it('refuses to listen anywhere but loopback', async () => {
    await expect(startInspectorRelay({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/loopback/);
    await expect(startInspectorRelay({ port: 0, host: '::' })).rejects.toThrow(/loopback/);
    await expect(startInspectorRelay({ port: 0, host: '' })).rejects.toThrow(/loopback/);
  });

  it('serves the bridge page to loopback host names only', async () => {
    const relay = await startRelay();
    const page = await fetch(relay.pageUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain('frame-src https://stately.ai');
    const html = await page.text();
    expect(html).toContain('<iframe id="inspector" src="https://stately.ai/inspect"');

    const rebound = await new Promise<number | undefined>((resolve) => {
      http
        .get(
          { host: '127.0.0.1', port: relay.address().port, path: '/', headers: { host: 'attacker.example' } },
          (res) => {
            res.resume();
            resolve(res.statusCode);
          },
        )
        .on('error', () => resolve(undefined));
    });
    expect(rebound).toBe(403);
  });

  it('refuses WebSocket handshakes from foreign web origins', async () => {
    const relay = await startRelay();
    const status = await new Promise<number | string>((resolve) => {
      const socket = new WebSocket(relay.url, { origin: 'https://attacker.example' });
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 'none'));
      socket.on('open', () => {
        socket.close();
        resolve('open');
      });
      socket.on('error', (error) => resolve(error.message));
    });
    expect(status).toBe(403);

    const own = new WebSocket(relay.url, { origin: new URL(relay.pageUrl).origin });
    await new Promise<void>((resolve, reject) => {
      own.on('open', () => resolve());
      own.on('error', reject);
    });
    own.close();
  });

  it('relays a session lifecycle from the observer to a receiver, offline', async () => {
    const relay = await startRelay();
    const received: StatelyInspectionEvent[] = [];
    const receiver = createWebSocketReceiver({ server: relay.url });
    receiver.subscribe((event) => received.push(event));
    // Connected before anything can fail: the receiver has no error handler of its own, so a
    // relay closed under a connecting receiver would raise an uncaught ECONNREFUSED.
    await vi.waitFor(() => expect(relay.clients()).toBe(1));
    const inspection = createStatelyInspection({ url: relay.url, reconnectDelay: 50 });
    cleanups.push(() => inspection.stop());
    const { supervisor, clock } = supervisorWith(inspection);

    const { actorSessionId } = await liveOneSession(supervisor, clock);
    await inspection.whenIdle();
    await vi.waitFor(
      () => {
        const states = received.flatMap((event) =>
          event.type === '@xstate.snapshot' && event.sessionId === actorSessionId
            ? [stateName(snapshotOf(event).value)]
            : [],
        );
        expect(distinctRuns(states)).toEqual(['created', 'active', 'idle', 'expired', 'disposed']);
      },
      { timeout: 5_000, interval: 20 },
    );
  });

  it('buffers while the relay is down and delivers once it is up', async () => {
    // Find a free port, then start the observer before anything listens on it.
    const probe = await startInspectorRelay({ port: 0 });
    const { port } = probe.address();
    await probe.close();

    const inspection = createStatelyInspection({ url: `ws://127.0.0.1:${port}`, reconnectDelay: 50 });
    cleanups.push(() => inspection.stop());
    const { supervisor, clock } = supervisorWith(inspection);
    const { actorSessionId } = await liveOneSession(supervisor, clock);
    await inspection.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 120)); // at least one failed attempt

    const relay = await startRelay({ port });
    const received: string[] = [];
    const listener = new WebSocket(relay.url);
    listener.on('message', (data) => received.push(String(data)));
    cleanups.push(() => listener.terminate());
    await vi.waitFor(
      () => {
        expect(received.some((text) => text.includes(actorSessionId) && text.includes('"disposed"'))).toBe(
          true,
        );
      },
      { timeout: 5_000, interval: 20 },
    );
  });

  it('never keeps a process alive while it cannot reach the relay', async () => {
    // @statelyai/inspect's own WebSocket client retries every 5 s forever, even after stop().
    const script = [
      "import { createStatelyInspection } from './src/inspection.ts';",
      "createStatelyInspection({ url: 'ws://127.0.0.1:9', reconnectDelay: 10 });",
      'setTimeout(() => {}, 200);',
    ].join('\n');
    const started = Date.now();
    const child = execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      timeout: 15_000,
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
