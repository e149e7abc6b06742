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
import { type Actor, assign, createActor, setup } from 'xstate';

const HOUR = 3_600_000;
/** The session defaults' init and dispose timeouts (30 s, 5 s), for the lifecycle floor. */
const INIT_TIMEOUT = 30_000;
const DISPOSE_TIMEOUT = 5_000;

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

/**
 * The least XState itself needs for the lifecycle the spec asks of a session, with nothing of this
 * library: the same five states, the same three timers (`initTimeout` in `created`, `idleTimeout`
 * in `idle`, `disposeTimeout` in `expired`), the same three events (the handshake, a close, a
 * release reported at once since nothing is held) and no context, guards or runtime. Beside it, an
 * admission actor that does only what a capacity limit needs: a guarded `ADMIT` that reserves a
 * slot and an `ENDED` that frees it. Not a target: a reading aid that splits the cycle's ratio to
 * the floor into what the lifecycle costs in XState and what this library adds to it.
 */
export const lifecycleFloorMachine = setup({
  types: {
    events: {} as
      | { type: 'INITIALIZED' }
      | { type: 'START' }
      | { type: 'END' }
      | { type: 'CLOSE' }
      | { type: 'RELEASED' },
  },
  actions: { release: ({ self }) => self.send({ type: 'RELEASED' }) },
}).createMachine({
  id: 'lifecycle',
  initial: 'created',
  states: {
    created: { after: { [INIT_TIMEOUT]: 'expired' }, on: { INITIALIZED: 'idle', CLOSE: 'expired' } },
    active: { on: { END: 'idle', CLOSE: 'expired' } },
    idle: { after: { [HOUR]: 'expired' }, on: { START: 'active', CLOSE: 'expired' } },
    expired: { entry: 'release', after: { [DISPOSE_TIMEOUT]: 'disposed' }, on: { RELEASED: 'disposed' } },
    disposed: { type: 'final' },
  },
});

export const admissionFloorMachine = setup({
  types: { context: {} as { live: number }, events: {} as { type: 'ADMIT' } | { type: 'ENDED' } },
}).createMachine({
  id: 'admission',
  context: { live: 0 },
  on: {
    ADMIT: {
      guard: ({ context }) => context.live < 1_000_000_000,
      actions: assign({ live: ({ context }) => context.live + 1 }),
    },
    ENDED: { actions: assign({ live: ({ context }) => context.live - 1 }) },
  },
});

/**
 * `ops` lifecycles on the least XState needs (see {@link lifecycleFloorMachine}): admit, create +
 * start, handshake, close (released at once, so the actor reaches `disposed` and stops), end.
 */
export function lifecycleFloorCycles(ops: number, admission: Actor<typeof admissionFloorMachine>): void {
  for (let i = 0; i < ops; i++) {
    admission.send({ type: 'ADMIT' });
    const session = createActor(lifecycleFloorMachine).start();
    session.send({ type: 'INITIALIZED' });
    session.send({ type: 'CLOSE' });
    admission.send({ type: 'ENDED' });
  }
}
