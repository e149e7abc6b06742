/** What the registry needs of an entry: an id, plus the links it threads through entries. */
export interface RegistryEntry {
  readonly id: string;
  /** Creation-order neighbours among live entries (see {@link SessionRegistry.oldest}). */
  olderLive: RegistryEntry | undefined;
  newerLive: RegistryEntry | undefined;
  onLiveList: boolean;
}

/**
 * Where the runtime keeps every tracked session, with O(1) for each question the supervisor asks:
 * lookup by id, the least recently active idle session (for eviction), and the oldest and newest
 * live session (for statistics). No operation scans the whole set.
 *
 * - `byId` holds every session from admission until it is disposed.
 * - `idleByRecency` holds idle sessions only; a `Map` iterates in insertion order, so re-inserting
 *   a session when it goes idle keeps the least recently active one first.
 * - live sessions (created, active, idle) are threaded on an intrusive doubly linked list in
 *   creation order, so the oldest and newest stay O(1) to find after removals.
 */
export class SessionRegistry<E extends RegistryEntry> {
  private readonly byId = new Map<string, E>();
  private readonly idleByRecency = new Map<string, E>();
  private oldestLive: E | undefined;
  private newestLive: E | undefined;

  /** Sessions tracked, including expired ones still releasing their resources. */
  get size(): number {
    return this.byId.size;
  }

  get(id: string): E | undefined {
    return this.byId.get(id);
  }

  add(entry: E): void {
    if (this.byId.has(entry.id)) throw new Error(`Session ${entry.id} is already registered`);
    this.byId.set(entry.id, entry);
    entry.onLiveList = true;
    entry.olderLive = this.newestLive;
    entry.newerLive = undefined;
    if (this.newestLive) this.newestLive.newerLive = entry;
    else this.oldestLive = entry;
    this.newestLive = entry;
  }

  /** Moves the entry to the most-recent end of the idle order. */
  markIdle(entry: E): void {
    this.idleByRecency.delete(entry.id);
    this.idleByRecency.set(entry.id, entry);
  }

  markNotIdle(entry: E): void {
    this.idleByRecency.delete(entry.id);
  }

  /** Takes the entry off the live list (it has expired) but keeps it until {@link remove}. */
  markEnded(entry: E): void {
    this.idleByRecency.delete(entry.id);
    if (!entry.onLiveList) return;
    entry.onLiveList = false;
    const older = entry.olderLive as E | undefined;
    const newer = entry.newerLive as E | undefined;
    if (older) older.newerLive = newer;
    else this.oldestLive = newer;
    if (newer) newer.olderLive = older;
    else this.newestLive = older;
    entry.olderLive = undefined;
    entry.newerLive = undefined;
  }

  remove(entry: E): void {
    this.markEnded(entry);
    this.byId.delete(entry.id);
  }

  leastRecentlyActiveIdle(): E | undefined {
    for (const entry of this.idleByRecency.values()) return entry;
    return undefined;
  }

  oldest(): E | undefined {
    return this.oldestLive;
  }

  newest(): E | undefined {
    return this.newestLive;
  }

  /** Live sessions, oldest first. */
  *live(): IterableIterator<E> {
    for (let entry = this.oldestLive; entry; entry = entry.newerLive as E | undefined) yield entry;
  }

  /** Every tracked session, expired ones included. */
  all(): IterableIterator<E> {
    return this.byId.values();
  }
}
