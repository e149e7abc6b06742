/**
 * The statecharts of the live view, drawn from the machine definitions: what they contain, how a
 * reported move lands on an arrow, the counts on each state, and that a changed machine changes
 * the drawing with no other edit. Layout runs through the real elkjs.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine, fromPromise, not, setup } from 'xstate';
import { sessionMachine } from '../machines/session.machine.js';
import { supervisorMachine } from '../machines/supervisor.machine.js';
import { isSupervisorError } from '../src/errors.js';
import type { SessionTransitionEvent } from '../src/events.js';
import { layoutStatechart, loadLayoutEngine } from '../src/live-view/chart-layout.js';
import { liveCharts, machinesOf } from '../src/live-view/charts.js';
import { describeMachine, resolveTransition } from '../src/live-view/statechart.js';
import { SessionSupervisor, type SupervisorStatistics } from '../src/supervisor.js';

// The oracle is the spec's lifecycle table (SPEC.md), not the machine under test.
const SPEC_SESSION_STATES = ['created', 'active', 'idle', 'expired', 'disposed'];
/** The phases, and the two steps of a drain: retiring the live sessions, then awaiting their releases. */
const SPEC_SUPERVISOR_STATES = ['running', 'draining', 'retiring', 'releasing', 'stopped'];

const keys = (chart: { states: readonly { key: string }[] }) => chart.states.map((state) => state.key);
const labels = (chart: { transitions: readonly { label: string }[] }) =>
  chart.transitions.map((t) => t.label);

describe('a machine read from its definition', () => {
  it('has every state of the session lifecycle, nested under the parent that owns the lifetime timer', () => {
    const chart = describeMachine(sessionMachine);
    expect(keys(chart)).toEqual(expect.arrayContaining(SPEC_SESSION_STATES));
    for (const key of ['created', 'active', 'idle']) {
      expect(chart.states.find((state) => state.key === key)?.parent).toBe('session.live');
    }
    expect(chart.states.find((state) => state.key === 'disposed')?.type).toBe('final');
  });

  it('has every state of the supervisor, `stopped` final', () => {
    const chart = describeMachine(supervisorMachine);
    expect(keys(chart)).toEqual(SPEC_SUPERVISOR_STATES);
    expect(chart.states.find((state) => state.key === 'stopped')?.type).toBe('final');
  });

  it("names the session machine's arrows by event and delay, with their guards", () => {
    const chart = describeMachine(sessionMachine);
    expect(labels(chart)).toEqual(
      expect.arrayContaining([
        'CLOSE',
        'after initTimeout',
        'after idleTimeout',
        'after disposeTimeout',
        'after maxLifetime',
        'INITIALIZED',
      ]),
    );
    expect(labels(describeMachine(supervisorMachine))).toEqual(
      expect.arrayContaining(['SHUTDOWN', 'always']),
    );
    const guarded = chart.transitions.map((t) => `${t.label} [${t.guard}]`);
    expect(guarded).toEqual(
      expect.arrayContaining(['INITIALIZED [undefined]', 'INITIALIZED [busyAtHandshake]']),
    );
  });

  it('reads delays, invoked actors, guards, eventless and targetless transitions, final states', () => {
    const machine = setup({
      actors: { work: fromPromise(async () => {}) },
      guards: { ready: () => true },
      delays: { patience: 1_000 },
    }).createMachine({
      id: 'job',
      initial: 'waiting',
      states: {
        waiting: {
          on: { POKE: {}, GO: { target: 'working', guard: not('ready') } },
          after: { patience: 'failed', 250: 'waiting' },
        },
        working: {
          invoke: { id: 'run', src: 'work', onDone: 'checking', onError: 'failed' },
        },
        checking: { always: [{ guard: 'ready', target: 'done' }, { target: 'failed' }] },
        done: { type: 'final' },
        failed: { type: 'final' },
      },
    });
    const chart = describeMachine(machine);
    const arrows = chart.transitions.map((t) => [t.source, t.label, t.guard, t.target, t.kind]);
    expect(arrows).toEqual(
      expect.arrayContaining([
        ['job.waiting', 'GO', 'not(ready)', 'job.working', 'event'],
        ['job.waiting', 'after patience', undefined, 'job.failed', 'after'],
        ['job.waiting', 'after 250 ms', undefined, 'job.waiting', 'after'],
        ['job.working', 'done: run', undefined, 'job.checking', 'done'],
        ['job.working', 'error: run', undefined, 'job.failed', 'error'],
        ['job.checking', 'always', 'ready', 'job.done', 'always'],
        ['job.checking', 'always', undefined, 'job.failed', 'always'],
        ['job:initial', '', undefined, 'job.waiting', 'initial'],
      ]),
    );
    const byKey = (key: string) => chart.states.find((state) => state.key === key);
    expect(byKey('waiting')?.internal).toEqual(['POKE']);
    expect(byKey('working')?.invokes).toEqual(['invoke work']);
    expect([byKey('done')?.type, byKey('failed')?.type]).toEqual(['final', 'final']);
  });
});

describe('a reported move lands on the arrow it took', () => {
  const chart = describeMachine(sessionMachine);
  /** The arrow labelled `label`, guarded by `guard` (`null`: the unguarded one; omitted: any). */
  const byLabel = (label: string, guard?: string | null) =>
    chart.transitions.find(
      (t) => t.label === label && (guard === undefined || t.guard === (guard === null ? undefined : guard)),
    )?.id;

  it('tells an idle timeout from a DELETE between the same two states', () => {
    expect(resolveTransition(chart, 'idle', 'xstate.after.idleTimeout.session.live.idle', 'expired')).toEqual(
      [byLabel('after idleTimeout')],
    );
    expect(resolveTransition(chart, 'idle', 'CLOSE', 'expired')).toEqual([byLabel('CLOSE')]);
  });

  it('takes a guarded choice by its target', () => {
    expect(resolveTransition(chart, 'created', 'INITIALIZED', 'idle')).toEqual([
      byLabel('INITIALIZED', null),
    ]);
    expect(resolveTransition(chart, 'created', 'INITIALIZED', 'active')).toEqual([
      byLabel('INITIALIZED', 'busyAtHandshake'),
    ]);
  });

  it('enters a new session through every initial arrow on its way in', () => {
    expect(resolveTransition(chart, undefined, 'xstate.init', 'created')).toEqual([
      'session:initial',
      'session.live:initial',
    ]);
  });

  it('takes nothing for a move it cannot tell apart or does not know', () => {
    expect(resolveTransition(chart, 'created', undefined, 'expired')).toEqual([]);
    expect(resolveTransition(chart, 'idle', 'NO.SUCH.EVENT', 'expired')).toEqual([]);
    expect(resolveTransition(chart, 'nowhere', 'CLOSE', 'expired')).toEqual([]);
  });

  it('finds the supervisor route through draining when only the phases before and after are seen', () => {
    const charts = liveCharts();
    expect(charts.supervisorTransitions('running', 'draining')).toEqual(['supervisor.running:SHUTDOWN:0']);
    expect(charts.supervisorTransitions('running', 'stopped')).toEqual([
      'supervisor.running:SHUTDOWN:0',
      'supervisor.draining:initial',
      'supervisor.draining.retiring::0',
      'supervisor.draining.releasing:SESSIONS.RELEASED:0',
    ]);
  });

  it('resolves a supervisor event by its trigger', () => {
    const event = {
      type: 'transition',
      sessionId: 's',
      from: 'idle',
      to: 'expired',
      reason: 'deleted',
      trigger: 'CLOSE',
    } as unknown as SessionTransitionEvent;
    expect(liveCharts().sessionTransitions(event)).toEqual(['session.live:CLOSE:0']);
  });
});

describe('the machines a supervisor runs', () => {
  const chartOf = (options: ConstructorParameters<typeof SessionSupervisor>[0]) =>
    liveCharts(machinesOf(new SessionSupervisor(options))).session;

  it('have a lifetime arrow only when a lifetime is configured', () => {
    const withLifetime = chartOf({ maxLifetime: 60_000 });
    const without = chartOf({});
    expect(labels(withLifetime)).toContain('after maxLifetime');
    expect(labels(without)).not.toContain('after maxLifetime');
    // Without a lifetime to scope, the chart has no `live` parent: the same states, one level up.
    expect(keys(without)).toEqual(keys(withLifetime).filter((key) => key !== 'live'));
  });

  it('have a hibernated sub-state of idle only when sessions hibernate', () => {
    const hibernating = chartOf({ hibernateAfter: 1_000 });
    expect(hibernating.states.find((state) => state.key === 'hibernated')?.parent).toBe('session.idle');
    expect(keys(chartOf({}))).not.toContain('hibernated');
  });
});

/** Statistics as the live view reads them; only the fields it uses. */
function statistics(fields: {
  phase?: string;
  byState: Record<string, number>;
  disposed: number;
  hibernated?: number;
  hibernations?: number;
  wakeUps?: number;
}): SupervisorStatistics {
  return {
    phase: fields.phase ?? 'running',
    byState: fields.byState,
    totals: { disposed: fields.disposed },
    hibernation: {
      hibernated: fields.hibernated ?? 0,
      hibernations: fields.hibernations ?? 0,
      wakeUps: fields.wakeUps ?? 0,
    },
  } as unknown as SupervisorStatistics;
}

describe('counts on the states', () => {
  const stats = statistics({
    phase: 'draining',
    byState: { created: 1, active: 2, idle: 3, expired: 4 },
    disposed: 9,
  });

  it('puts each counted state on its node, sums a parent, and counts every disposal on the final state', () => {
    const counts = liveCharts().sessionCounts(stats);
    expect(counts).toEqual({
      'session.live': 6,
      'session.live.created': 1,
      'session.live.active': 2,
      'session.live.idle': 3,
      'session.expired': 4,
      'session.disposed': 9,
    });
  });

  it('splits idle into hibernated sessions and the rest, awake', () => {
    const charts = liveCharts(machinesOf(new SessionSupervisor({ hibernateAfter: 1_000 })));
    const counts = charts.sessionCounts(
      statistics({ byState: { created: 0, active: 1, idle: 5, expired: 0 }, disposed: 0, hibernated: 2 }),
    );
    expect(counts['session.idle']).toBe(5);
    expect(counts['session.idle.hibernated']).toBe(2);
    expect(counts['session.idle.awake']).toBe(3);
  });

  it('counts hibernations and wake-ups, which the runtime does not announce, on their arrows', () => {
    const charts = liveCharts(machinesOf(new SessionSupervisor({ hibernateAfter: 1_000 })));
    const before = statistics({ byState: {}, disposed: 0, hibernations: 4, wakeUps: 1 });
    const after = statistics({ byState: {}, disposed: 0, hibernations: 7, wakeUps: 2 });
    const arrow = (label: string, target?: string) =>
      charts.session.transitions.find(
        (t) => t.label === label && (target === undefined || t.target === target),
      )?.id ?? '';
    // A wake-up goes back into idle; the WAKEs past a deadline end the session and are announced.
    expect(Object.fromEntries(charts.countedMoves(before, after))).toEqual({
      [arrow('after hibernateAfter')]: 3,
      [arrow('WAKE', 'session.idle')]: 1,
    });
    expect(charts.countedMoves(after, after).size).toBe(0);
  });

  it('marks the supervisor phase it is in', () => {
    expect(liveCharts().supervisorCounts(stats)).toEqual({
      'supervisor.running': 0,
      'supervisor.draining': 1,
      'supervisor.draining.retiring': 0,
      'supervisor.draining.releasing': 0,
      'supervisor.stopped': 0,
    });
  });
});

/** The session machine with a `hibernated` sub-state of `idle`: a change only to the definition. */
function withHibernation() {
  const config = sessionMachine.config;
  const live = config.states?.live;
  const idle = live?.states?.idle;
  if (!live || !idle) throw new Error('the session machine has no live.idle');
  return createMachine({
    ...config,
    states: {
      ...config.states,
      live: {
        ...live,
        states: {
          ...live.states,
          idle: {
            ...idle,
            initial: 'awake',
            states: {
              awake: { after: { hibernateAfter: 'hibernated' } },
              hibernated: { on: { WAKE: 'awake' } },
            },
          },
        },
      },
    },
  } as unknown as Parameters<typeof createMachine>[0]);
}

describe('the drawing, laid out by elkjs', () => {
  it('places every state of both machines inside its parent, and routes every arrow', async () => {
    const { session, supervisor } = await liveCharts().drawings();
    expect(keys(session)).toEqual(expect.arrayContaining(SPEC_SESSION_STATES));
    expect(keys(supervisor)).toEqual(SPEC_SUPERVISOR_STATES);
    const live = session.states.find((state) => state.key === 'live');
    for (const drawing of [session, supervisor]) {
      for (const transition of drawing.transitions)
        expect(transition.points.length, transition.id).toBeGreaterThan(1);
      for (const state of drawing.states) {
        expect(state.width, state.id).toBeGreaterThan(0);
        expect(state.x + state.width, state.id).toBeLessThanOrEqual(drawing.width);
        expect(state.y + state.height, state.id).toBeLessThanOrEqual(drawing.height);
      }
    }
    const idle = session.states.find((state) => state.key === 'idle');
    if (!live || !idle) throw new Error('missing states');
    expect(idle.x).toBeGreaterThan(live.x);
    expect(idle.y).toBeGreaterThan(live.y);
    expect(idle.x + idle.width).toBeLessThan(live.x + live.width);
    expect(idle.y + idle.height).toBeLessThan(live.y + live.height);
  });

  it('resolves moves within a state the runtime reports by its parent name', () => {
    const chart = describeMachine(withHibernation());
    const hibernate = chart.transitions.find((t) => t.label === 'after hibernateAfter');
    expect(
      resolveTransition(chart, 'idle', 'xstate.after.hibernateAfter.session.live.idle.awake', 'hibernated'),
    ).toEqual([hibernate?.id]);
    expect(resolveTransition(chart, 'hibernated', 'WAKE', 'awake')).toEqual([
      'session.live.idle.hibernated:WAKE:0',
    ]);
  });

  it('draws a state added to the machine, with its arrows, and no other edit', async () => {
    const drawing = await layoutStatechart(describeMachine(withHibernation()));
    const idle = drawing.states.find((state) => state.key === 'idle');
    const hibernated = drawing.states.find((state) => state.key === 'hibernated');
    expect(idle?.type).toBe('compound');
    expect(hibernated?.id).toBe('session.live.idle.hibernated');
    if (!idle || !hibernated) throw new Error('missing states');
    expect(hibernated.x).toBeGreaterThan(idle.x);
    expect(hibernated.y + hibernated.height).toBeLessThan(idle.y + idle.height);
    expect(drawing.transitions.map((t) => t.label)).toEqual(
      expect.arrayContaining(['after hibernateAfter', 'WAKE']),
    );
    expect(drawing.dots.map((dot) => dot.id)).toContain('session.live.idle:initial');
  });
});

describe('a missing layout library', () => {
  it('is a clear error naming the package to install', () => {
    // Resolved from a directory with no node_modules: elkjs is really not found there.
    const nowhere = mkdtempSync(path.join(os.tmpdir(), 'no-elkjs-'));
    let caught: unknown;
    try {
      loadLayoutEngine(createRequire(path.join(nowhere, 'index.js')));
    } catch (error) {
      caught = error;
    } finally {
      rmSync(nowhere, { recursive: true, force: true });
    }
    expect(isSupervisorError(caught, 'missing-peer-dependency')).toBe(true);
    expect((caught as Error).message).toMatch(/npm install elkjs/);
  });
});
