/**
 * Section 5: the design this library avoids. ONE parent machine `spawnChild`s every session (the
 * real `sessionMachine`) and `stopChild`s it on close. In xstate 5.33 every spawn and every stop
 * copies the parent's whole `children` record, and every stop scans all pending timers of the one
 * shared actor system (`cancelAll`), so the cost per session grows with the number of live sessions.
 *
 * The comparison is generous to the naive design: close is a bare `stopChild` (no `expired`
 * state, no release step, no accounting), whereas the supervisor's cycle goes through
 * `expired → disposed` and awaits the release.
 */
import { createActor, enqueueActions, setup, stopChild } from 'xstate';
import { sessionMachine } from '../machines/session.machine.js';
import { systemClock } from '../src/index.js';
import { progress } from './report.js';
import { msSince, now, type Sample, sample, yieldToEventLoop } from './timing.js';

type NaiveEvent = { type: 'OPEN'; sessionId: string; at: number } | { type: 'CLOSE'; sessionId: string };

const TIMEOUTS = {
  initTimeout: 30_000,
  idleTimeout: 3_600_000,
  maxLifetime: undefined,
  disposeTimeout: 5_000,
} as const;

export const naiveSupervisorMachine = setup({
  types: { events: {} as NaiveEvent },
  actors: { session: sessionMachine },
}).createMachine({
  id: 'naiveSupervisor',
  on: {
    OPEN: {
      actions: enqueueActions(({ enqueue, event }) => {
        enqueue.spawnChild('session', {
          id: event.sessionId,
          input: {
            sessionId: event.sessionId,
            createdAt: event.at,
            timeouts: TIMEOUTS,
            streamsCountAsActivity: true,
          },
        });
      }),
    },
    CLOSE: { actions: stopChild(({ event }) => event.sessionId) },
  },
});

type NaiveActor = ReturnType<typeof startNaive>;

/** systemClock's timers are unref'd, like the supervisor's, so both run on the same kind of timer. */
const startNaive = () => createActor(naiveSupervisorMachine, { clock: systemClock }).start();

let nextId = 0;
const freshId = (): string => `naive-${++nextId}`;

/** Spawns children until `target` are idle: OPEN, let the prepare promise settle, INITIALIZED. */
async function fillIdle(actor: NaiveActor, ids: string[], target: number): Promise<void> {
  while (ids.length < target) {
    const batch = Array.from({ length: Math.min(500, target - ids.length) }, freshId);
    for (const sessionId of batch) actor.send({ type: 'OPEN', sessionId, at: Date.now() });
    await yieldToEventLoop();
    const children = actor.getSnapshot().children;
    for (const sessionId of batch) {
      children[sessionId]?.send({ type: 'INITIALIZED', at: Date.now() });
      ids.push(sessionId);
    }
  }
  const idle = Object.values(actor.getSnapshot().children).filter((child) =>
    child?.getSnapshot().matches({ live: 'idle' }),
  ).length;
  if (idle !== target) throw new Error(`naive supervisor: ${idle} idle children, expected ${target}`);
}

function admitDispose(actor: NaiveActor, ops: number): void {
  for (let i = 0; i < ops; i++) {
    const sessionId = freshId();
    actor.send({ type: 'OPEN', sessionId, at: Date.now() });
    actor.send({ type: 'CLOSE', sessionId });
  }
}

export interface NaiveResults {
  readonly churn: ReadonlyMap<number, Sample>;
  /** ms to fill from the previous size to this one, and how many spawns that was. */
  readonly fill: ReadonlyMap<number, { readonly ms: number; readonly spawns: number }>;
  readonly stopMs: number;
  readonly stopChildren: number;
}

export interface NaivePlan {
  readonly sizes: readonly number[];
  readonly opsPerBatch: number;
  readonly batches: number;
  /** Time budget for the timed batches at each size (the big sizes are slow). */
  readonly budgetMs: number;
}

export async function runNaiveCase(plan: NaivePlan): Promise<NaiveResults> {
  const actor = startNaive();
  const ids: string[] = [];
  const churn = new Map<number, Sample>();
  const fill = new Map<number, { ms: number; spawns: number }>();
  for (const size of plan.sizes) {
    progress(`naive spawnChild supervisor: filling to ${size} children`);
    const fillStarted = now();
    const spawns = size - ids.length;
    await fillIdle(actor, ids, size);
    fill.set(size, { ms: msSince(fillStarted), spawns });
    progress(`naive spawnChild supervisor: admit+dispose at ${size} children`);
    churn.set(
      size,
      await sample((ops) => admitDispose(actor, ops), {
        opsPerBatch: plan.opsPerBatch,
        batches: plan.batches,
        warmupOps: Math.min(plan.opsPerBatch, 20),
        budgetMs: plan.budgetMs,
      }),
    );
  }
  progress(`naive spawnChild supervisor: stopping with ${ids.length} children`);
  const stopStarted = now();
  actor.stop();
  return { churn, fill, stopMs: msSince(stopStarted), stopChildren: ids.length };
}
