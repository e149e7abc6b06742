/**
 * The XState floor, measured in the same process and at the same heap size as the supervisor: what
 * a bare actor costs with nothing of this library around it. The targets (SPEC.md "Performance
 * targets") are ratios to these figures:
 *
 * - floor cycle: `createActor` + `start` + `stop` of a minimal 5-state machine whose initial state
 *   has one `after` (so a timer is armed and cancelled, as for every session);
 * - floor event: one START/END pair on a started actor, END re-entering the state whose `after`
 *   is then re-armed (the cheapest honest model of "a request began, a request ended");
 * - floor rotation event: the same pair round-robin over as many floor actors as there are live
 *   sessions ({@link FloorPool}). Not a target of its own: it shows what any actor pays when each
 *   event finds a cold actor whose last snapshot has aged into the old generation, so a rotation
 *   ratio can be read against both.
 */
import { type Actor, createActor, setup } from 'xstate';

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

type FloorActor = Actor<typeof floorMachine>;

/** `ops` create + start + stop cycles. */
export function floorCycles(ops: number): void {
  for (let i = 0; i < ops; i++) createActor(floorMachine).start().stop();
}

/** `pairs` START/END pairs on one actor (the floor event). */
export function floorHotPairs(actor: FloorActor, pairs: number): void {
  for (let i = 0; i < pairs; i++) {
    actor.send({ type: 'START' });
    actor.send({ type: 'END' });
  }
}

/**
 * Started floor actors, one per live session, each idle with its `after` armed: the floor of the
 * rotation pattern, in the same heap as the sessions it is compared with.
 */
export class FloorPool {
  readonly hot: FloorActor = createActor(floorMachine).start();
  private readonly actors: FloorActor[] = [];
  private offset = 0;

  get size(): number {
    return this.actors.length;
  }

  grow(size: number): void {
    while (this.actors.length < size) this.actors.push(createActor(floorMachine).start());
  }

  /** `pairs` START/END pairs, round-robin over the pool, continuing where the last call stopped. */
  rotate(pairs: number): void {
    const { actors } = this;
    for (let i = 0; i < pairs; i++) {
      const actor = actors[(this.offset + i) % actors.length] as FloorActor;
      actor.send({ type: 'START' });
      actor.send({ type: 'END' });
    }
    this.offset += pairs;
  }

  /** Stops every actor (so the next size's heap reading holds sessions only). */
  stop(): void {
    this.hot.stop();
    for (const actor of this.actors) actor.stop();
    this.actors.length = 0;
  }
}
