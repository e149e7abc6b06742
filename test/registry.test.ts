import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecencyList, type RegistryEntry, SessionRegistry } from '../src/registry.js';

const entry = (id: string): RegistryEntry => ({
  id,
  olderLive: undefined,
  newerLive: undefined,
  onLiveList: false,
});

/** A registry holding one entry per id, added in the order given. */
function registryWith(...ids: string[]) {
  const registry = new SessionRegistry<RegistryEntry>();
  const entries = new Map<string, RegistryEntry>();
  for (const id of ids) {
    const e = entry(id);
    entries.set(id, e);
    registry.add(e);
  }
  const get = (id: string): RegistryEntry => {
    const e = entries.get(id);
    if (!e) throw new Error(`no entry ${id} in this test`);
    return e;
  };
  const liveIds = (): string[] => Array.from(registry.live(), (e) => e.id);
  const ends = () => ({ oldest: registry.oldest()?.id, newest: registry.newest()?.id });
  return { registry, get, liveIds, ends };
}

describe('SessionRegistry: lookup', () => {
  it('finds an added entry by id', () => {
    const { registry, get } = registryWith('a', 'b');

    expect(registry.get('b')).toBe(get('b'));
  });

  it('finds nothing for an unknown id', () => {
    const { registry } = registryWith('a');

    expect(registry.get('zzz')).toBeUndefined();
  });

  it('finds and counts thousands of entries while they are removed in another order (the id index is sharded)', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) =>
      i % 3 === 0 ? `same-suffix-${i}-xyz` : randomUUID(),
    );
    const { registry } = registryWith(...ids);
    const removed = ids.filter((_, i) => i % 2 === 1);
    for (const id of removed.reverse()) registry.remove(registry.get(id) as RegistryEntry);
    const kept = ids.filter((_, i) => i % 2 === 0);

    expect({
      size: registry.size,
      found: kept.every((id) => registry.get(id)?.id === id),
      gone: removed.every((id) => registry.get(id) === undefined),
      all: Array.from(registry.all(), (e) => e.id).sort(),
    }).toEqual({ size: kept.length, found: true, gone: true, all: [...kept].sort() });
  });

  it('counts every tracked entry in size', () => {
    const { registry } = registryWith('a', 'b', 'c');

    expect(registry.size).toBe(3);
  });

  it('refuses to add the same id twice', () => {
    const { registry } = registryWith('a');

    expect(() => registry.add(entry('a'))).toThrow(/already registered/);
  });
});

describe('SessionRegistry: least recently active idle session', () => {
  it('is undefined when no session is idle', () => {
    const { registry } = registryWith('a', 'b');

    expect(registry.leastRecentlyActiveIdle()).toBeUndefined();
  });

  it('is the one that went idle first', () => {
    const { registry, get } = registryWith('a', 'b', 'c');
    registry.markIdle(get('b'));
    registry.markIdle(get('c'));
    registry.markIdle(get('a'));

    expect(registry.leastRecentlyActiveIdle()?.id).toBe('b');
  });

  it('moves a session that goes idle again to the most recent end', () => {
    const { registry, get } = registryWith('a', 'b');
    registry.markIdle(get('a'));
    registry.markIdle(get('b'));

    registry.markIdle(get('a'));

    expect(registry.leastRecentlyActiveIdle()?.id).toBe('b');
  });

  it('skips a session that became active', () => {
    const { registry, get } = registryWith('a', 'b', 'c');
    registry.markIdle(get('a'));
    registry.markIdle(get('b'));
    registry.markIdle(get('c'));

    registry.markBusy(get('a'));

    expect(registry.leastRecentlyActiveIdle()?.id).toBe('b');
  });

  it('yields the idle sessions in recency order as each is taken', () => {
    const { registry, get } = registryWith('a', 'b', 'c', 'd');
    for (const id of ['c', 'a', 'd', 'b', 'c']) registry.markIdle(get(id));
    const order: string[] = [];

    for (let next = registry.leastRecentlyActiveIdle(); next; next = registry.leastRecentlyActiveIdle()) {
      order.push(next.id);
      registry.markBusy(next);
    }

    expect(order).toEqual(['a', 'd', 'b', 'c']);
  });
});

describe('SessionRegistry: live list (creation order)', () => {
  it('iterates live entries oldest first', () => {
    const { liveIds } = registryWith('a', 'b', 'c');

    expect(liveIds()).toEqual(['a', 'b', 'c']);
  });

  it('has no oldest or newest when empty', () => {
    const { ends, liveIds } = registryWith();

    expect({ ...ends(), live: liveIds() }).toEqual({ oldest: undefined, newest: undefined, live: [] });
  });

  it('has the single entry as both oldest and newest', () => {
    const { ends } = registryWith('a');

    expect(ends()).toEqual({ oldest: 'a', newest: 'a' });
  });

  it.each([
    { removed: 'the head', id: 'a', oldest: 'b', newest: 'd', live: ['b', 'c', 'd'] },
    { removed: 'the tail', id: 'd', oldest: 'a', newest: 'c', live: ['a', 'b', 'c'] },
    { removed: 'one in the middle', id: 'b', oldest: 'a', newest: 'd', live: ['a', 'c', 'd'] },
  ])('after removing $removed, oldest is $oldest and newest is $newest', ({ id, oldest, newest, live }) => {
    const { registry, get, ends, liveIds } = registryWith('a', 'b', 'c', 'd');

    registry.remove(get(id));

    expect({ ...ends(), live: liveIds() }).toEqual({ oldest, newest, live });
  });

  it('keeps oldest and newest right after several removals in the middle', () => {
    const { registry, get, ends, liveIds } = registryWith('a', 'b', 'c', 'd', 'e');

    registry.remove(get('c'));
    registry.markEnded(get('b'));
    registry.remove(get('d'));

    expect({ ...ends(), live: liveIds() }).toEqual({ oldest: 'a', newest: 'e', live: ['a', 'e'] });
  });

  it('is empty again once head and tail are both removed', () => {
    const { registry, get, ends } = registryWith('a', 'b');

    registry.remove(get('a'));
    registry.remove(get('b'));

    expect(ends()).toEqual({ oldest: undefined, newest: undefined });
  });

  it('appends an entry added after removals as the newest', () => {
    const { registry, get, liveIds } = registryWith('a', 'b', 'c');
    registry.remove(get('c'));
    registry.remove(get('a'));

    registry.add(entry('d'));

    expect({ live: liveIds(), newest: registry.newest()?.id, oldest: registry.oldest()?.id }).toEqual({
      live: ['b', 'd'],
      newest: 'd',
      oldest: 'b',
    });
  });

  it('iterates newest to oldest through the olderLive links too', () => {
    const { registry, get } = registryWith('a', 'b', 'c', 'd');
    registry.remove(get('b'));
    const backwards: string[] = [];

    for (let e = registry.newest(); e; e = e.olderLive) backwards.push(e.id);

    expect(backwards).toEqual(['d', 'c', 'a']);
  });
});

describe('SessionRegistry: markEnded', () => {
  it('keeps an ended entry findable by id (it is still releasing its resources)', () => {
    const { registry, get } = registryWith('a', 'b');

    registry.markEnded(get('a'));

    expect({ found: registry.get('a'), size: registry.size }).toEqual({ found: get('a'), size: 2 });
  });

  it('takes an ended entry off the live list', () => {
    const { registry, get, liveIds } = registryWith('a', 'b', 'c');

    registry.markEnded(get('b'));

    expect(liveIds()).toEqual(['a', 'c']);
  });

  it('takes an ended entry out of the idle order', () => {
    const { registry, get } = registryWith('a', 'b');
    registry.markIdle(get('a'));
    registry.markIdle(get('b'));

    registry.markEnded(get('a'));

    expect(registry.leastRecentlyActiveIdle()?.id).toBe('b');
  });

  it('still lists an ended entry among all tracked entries', () => {
    const { registry, get } = registryWith('a', 'b');

    registry.markEnded(get('a'));

    expect(Array.from(registry.all(), (e) => e.id)).toEqual(['a', 'b']);
  });

  it('is harmless when called twice', () => {
    const { registry, get, liveIds, ends } = registryWith('a', 'b', 'c');

    registry.markEnded(get('b'));
    registry.markEnded(get('b'));

    expect({ live: liveIds(), ...ends() }).toEqual({ live: ['a', 'c'], oldest: 'a', newest: 'c' });
  });
});

describe('SessionRegistry: remove', () => {
  it('forgets the entry entirely', () => {
    const { registry, get } = registryWith('a', 'b');
    registry.markIdle(get('a'));

    registry.remove(get('a'));

    expect({
      found: registry.get('a'),
      size: registry.size,
      all: Array.from(registry.all(), (e) => e.id),
      idle: registry.leastRecentlyActiveIdle(),
    }).toEqual({ found: undefined, size: 1, all: ['b'], idle: undefined });
  });

  it('removes an entry that had already ended without disturbing the live list', () => {
    const { registry, get, liveIds, ends } = registryWith('a', 'b', 'c');
    registry.markEnded(get('b'));

    registry.remove(get('b'));

    expect({ size: registry.size, live: liveIds(), ...ends() }).toEqual({
      size: 2,
      live: ['a', 'c'],
      oldest: 'a',
      newest: 'c',
    });
  });
});

describe('SessionRegistry: least recently active streams-only session (second eviction order)', () => {
  it('is the one whose last activity is oldest', () => {
    const { registry, get } = registryWith('a', 'b', 'c');
    registry.markStreamsOnly(get('c'));
    registry.markStreamsOnly(get('a'));
    registry.markStreamsOnly(get('b'));

    expect(registry.leastRecentlyActiveStreamsOnly()?.id).toBe('c');
  });

  it('holds an entry on one order at a time: going idle takes it off the streams-only order', () => {
    const { registry, get } = registryWith('a', 'b');
    registry.markStreamsOnly(get('a'));
    registry.markStreamsOnly(get('b'));

    registry.markIdle(get('a'));

    expect({
      streamsOnly: [...registry.streamsOnly.values()].map((e) => e.id),
      idle: [...registry.idle.values()].map((e) => e.id),
    }).toEqual({ streamsOnly: ['b'], idle: ['a'] });
  });

  it('forgets an entry that takes a request (markBusy)', () => {
    const { registry, get } = registryWith('a');
    registry.markStreamsOnly(get('a'));

    registry.markBusy(get('a'));

    expect({ first: registry.leastRecentlyActiveStreamsOnly(), size: registry.streamsOnly.size }).toEqual({
      first: undefined,
      size: 0,
    });
  });
});

describe('RecencyList: agrees with a plain array model under any sequence of moves', () => {
  it('keeps order, size and first() of the model', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const op = fc.record({
      list: fc.constantFrom(0, 1),
      id: fc.constantFrom(...ids),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const lists = [new RecencyList<RegistryEntry>(), new RecencyList<RegistryEntry>()] as const;
        const model: [string[], string[]] = [[], []];
        const entries = new Map(ids.map((id) => [id, entry(id)]));
        for (const { list, id, remove } of ops) {
          const e = entries.get(id) as RegistryEntry;
          if (remove) {
            // remove() acts only on the list the entry is on.
            lists[list].remove(e);
            model[list] = model[list].filter((x) => x !== id);
          } else {
            lists[list].touch(e);
            model[0] = model[0].filter((x) => x !== id);
            model[1] = model[1].filter((x) => x !== id);
            model[list].push(id);
          }
        }
        for (const index of [0, 1] as const) {
          expect([...lists[index].values()].map((e) => e.id)).toEqual(model[index]);
          expect(lists[index].size).toBe(model[index].length);
          expect(lists[index].first()?.id).toBe(model[index][0]);
        }
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});
