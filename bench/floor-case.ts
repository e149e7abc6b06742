/**
 * The XState floor, measured in the same process and at the same heap size as the supervisor: what
 * a bare actor costs with nothing of this library around it. The targets (SPEC.md "Performance
 * targets") are ratios to these two figures:
 *
 * - floor cycle: `createActor` + `start` + `stop` of a minimal 5-state machine whose initial state
 *   has one `after` (so a timer is armed and cancelled, as for every session);
 * - floor event: one START/END pair on a started actor, END re-entering the state whose `after`
 *   is then re-armed (the cheapest honest model of "a request began, a request ended").
 */
import { createActor, setup } from 'xstate';
import { type Sample, sample } from './timing.js';

const HOUR = 3_600_000;

/** Five states, one `after`, nothing else: the least a session actor could be. */
export const floorMachine = setup({
  types: { events: {} as { type: 'START' } | { type: 'END' } | { type: 'CLOSE' } | { type: 'GONE' } },
}).createMachine({
  id: 'floor',
  initial: 'idle',
  states: {
    created: { on: { START: 'active' } },
    active: { on: { END: 'idle', CLOSE: 'expired' } },
    idle: { after: { [HOUR]: 'expired' }, on: { START: 'active', CLOSE: 'expired' } },
    expired: { on: { GONE: 'disposed' } },
    disposed: { type: 'final' },
  },
});

/** `ops` create + start + stop cycles. */
export function floorCycles(ops: number): void {
  for (let i = 0; i < ops; i++) createActor(floorMachine).start().stop();
}

/** Measures both floor figures; `pairs` START/END pairs on one actor per batch. */
export async function measureFloor(
  cycles: number,
  pairs: number,
  batches: number,
): Promise<{ cycle: Sample; pair: Sample }> {
  const cycle = await sample(floorCycles, { opsPerBatch: cycles, batches, warmupOps: cycles / 2 });
  const actor = createActor(floorMachine).start();
  const pair = await sample(
    (ops) => {
      for (let i = 0; i < ops; i++) {
        actor.send({ type: 'START' });
        actor.send({ type: 'END' });
      }
    },
    { opsPerBatch: pairs, batches, warmupOps: pairs / 2 },
  );
  actor.stop();
  return { cycle, pair };
}
