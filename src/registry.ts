/** What the registry needs of an entry: an id, plus the links it threads through entries. */
export interface RegistryEntry {
  readonly id: string;
  /** Creation-order neighbours among live entries (see {@link SessionRegistry.oldest}). */
  olderLive: RegistryEntry | undefined;
  newerLive: RegistryEntry | undefined;
  onLiveList: boolean;
  /**
   * Recency-order neighbours on the one {@link RecencyList} the entry is on, if any. An entry is
   * on at most one recency list at a time (idle, or active through open streams only), so one
   * pair of links serves both.
   */
  lessRecent?: RegistryEntry | undefined;
  moreRecent?: RegistryEntry | undefined;
  recencyList?: RecencyList<RegistryEntry> | undefined;
}

/**
 * Entries in order of last activity, least recent first, as an intrusive doubly linked list: the
 * links live on the entries themselves, so moving an entry to the most recent end, taking it off
 * and reading the least recent one are each O(1) at any size, with no allocation.
 *
 * Why not a `Map` re-inserted on every move (delete + set keeps insertion order): V8 degrades on
 * that pattern for the same keys over and over, from ~1.4 µs per move at 1 000 entries to ~168 µs
 * at 100 000 (the bench's "rotation" activity pattern is the one that shows it).
 */
export class RecencyList<E extends RegistryEntry> {
  private head: E | undefined;
  private tail: E | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Puts `entry` at the most recent end, taking it off whichever recency list it was on. */
  touch(entry: E): void {
    if (entry.recencyList === this && this.tail === entry) return;
    entry.recencyList?.remove(entry);
    entry.recencyList = this as RecencyList<RegistryEntry>;
    entry.lessRecent = this.tail;
    entry.moreRecent = undefined;
    if (this.tail) this.tail.moreRecent = entry;
    else this.head = entry;
    this.tail = entry;
    this.count += 1;
  }

  /** Takes `entry` off this list; a no-op if it is not on it. */
  remove(entry: E): void {
    if (entry.recencyList !== this) return;
    const less = entry.lessRecent as E | undefined;
    const more = entry.moreRecent as E | undefined;
    if (less) less.moreRecent = more;
    else this.head = more;
    if (more) more.lessRecent = less;
    else this.tail = less;
    entry.lessRecent = undefined;
    entry.moreRecent = undefined;
    entry.recencyList = undefined;
    this.count -= 1;
  }

  has(entry: E): boolean {
    return entry.recencyList === this;
  }

  /** The least recently active entry. */
  first(): E | undefined {
    return this.head;
  }

  /** Least recent first. */
  *values(): IterableIterator<E> {
    for (let entry = this.head; entry; entry = entry.moreRecent as E | undefined) yield entry;
  }
}

/**
 * Where the runtime keeps every tracked session, with O(1) for each question the supervisor asks:
 * lookup by id, the least recently active idle session and the least recently active session busy
 * with open streams only (the two eviction candidates, in that order), and the oldest and newest
 * live session (for statistics). No operation scans the whole set.
 *
 * - `byId` holds every session from admission until it is disposed (`Map`s that only ever get
 *   a key added once and deleted once: the pattern V8's `Map` is fast at), in {@link ID_SHARDS}
 *   shards by a hash of the id's last characters. One `Map` rehashed itself whole as deletions
 *   shrank it: with 1 000 000 sessions expiring, single deletes took 17 ms (262 144 left) and
 *   10 ms (131 072 left), inside one timer slice. A shard rehashes 1/64 of that.
 * - `idle` and `streamsOnly` are {@link RecencyList}s; a session is on at most one of them.
 * - live sessions (created, active, idle) are threaded on an intrusive doubly linked list in
 *   creation order, so the oldest and newest stay O(1) to find after removals.
 */
/** Shards of the id index (a power of two); see {@link SessionRegistry}. */
const ID_SHARDS = 64;

/** A shard for `id` from its last four characters (random in a UUID; any string works). */
const shardOf = (id: string): number => {
  let hash = 0;
  for (let i = Math.max(0, id.length - 4); i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return hash & (ID_SHARDS - 1);
};

export class SessionRegistry<E extends RegistryEntry> {
  private readonly byId: Map<string, E>[] = Array.from({ length: ID_SHARDS }, () => new Map<string, E>());
  private tracked = 0;
  /** Idle sessions, least recently active first. */
  readonly idle = new RecencyList<E>();
  /** Active sessions with no request in flight, kept active only by open GET streams. */
  readonly streamsOnly = new RecencyList<E>();
  private oldestLive: E | undefined;
  private newestLive: E | undefined;

  /** Sessions tracked, including expired ones still releasing their resources. */
  get size(): number {
    return this.tracked;
  }

  get(id: string): E | undefined {
    return this.shard(id).get(id);
  }

  add(entry: E): void {
    const shard = this.shard(entry.id);
    if (shard.has(entry.id)) throw new Error(`Session ${entry.id} is already registered`);
    shard.set(entry.id, entry);
    this.tracked += 1;
    entry.onLiveList = true;
    entry.olderLive = this.newestLive;
    entry.newerLive = undefined;
    if (this.newestLive) this.newestLive.newerLive = entry;
    else this.oldestLive = entry;
    this.newestLive = entry;
  }

  /** Moves the entry to the most-recent end of the idle order. */
  markIdle(entry: E): void {
    this.idle.touch(entry);
  }

  /** Moves the entry to the most-recent end of the streams-only order. */
  markStreamsOnly(entry: E): void {
    this.streamsOnly.touch(entry);
  }

  /** Takes the entry off both eviction orders (it has a request in flight, or is not yet ready). */
  markBusy(entry: E): void {
    entry.recencyList?.remove(entry);
  }

  /** Takes the entry off the live list (it has expired) but keeps it until {@link remove}. */
  markEnded(entry: E): void {
    this.markBusy(entry);
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
    if (this.shard(entry.id).delete(entry.id)) this.tracked -= 1;
  }

  leastRecentlyActiveIdle(): E | undefined {
    return this.idle.first();
  }

  /** The least recently active session whose only activity is open GET streams. */
  leastRecentlyActiveStreamsOnly(): E | undefined {
    return this.streamsOnly.first();
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
  *all(): IterableIterator<E> {
    for (const shard of this.byId) yield* shard.values();
  }

  private shard(id: string): Map<string, E> {
    return this.byId[shardOf(id)] as Map<string, E>;
  }
}
