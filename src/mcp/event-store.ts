import type { EventId, EventStore, JsonRpcMessage as JSONRPCMessage, StreamId } from './sdk-types.js';

interface StoredEvent {
  readonly id: EventId;
  readonly streamId: StreamId;
  readonly message: JSONRPCMessage;
}

/** Default number of events one session keeps for replay. */
export const DEFAULT_MAX_EVENTS_PER_SESSION = 100;

const SEPARATOR = '#';

/**
 * The event store of ONE session, for resumable SSE streams (`Last-Event-ID`). It keeps at most
 * `maxEvents` events, dropping the oldest, so a chatty session cannot grow without bound; the
 * supervisor creates it with the session and {@link purge}s it on disposal, so an abandoned
 * session's events go with it.
 *
 * A client that resumes from an event already dropped gets what is left of that stream.
 */
export class BoundedEventStore implements EventStore {
  private events: StoredEvent[] = [];
  private sequence = 0;

  constructor(readonly maxEvents: number = DEFAULT_MAX_EVENTS_PER_SESSION) {}

  get size(): number {
    return this.events.length;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    this.sequence += 1;
    const id = `${streamId}${SEPARATOR}${this.sequence}`;
    this.events.push({ id, streamId, message });
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const at = eventId.lastIndexOf(SEPARATOR);
    if (at <= 0 || !/^\d+$/.test(eventId.slice(at + 1))) return undefined;
    return eventId.slice(0, at);
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const streamId = await this.getStreamIdForEventId(lastEventId);
    if (streamId === undefined) throw new Error('Unknown event id');
    const after = Number(lastEventId.slice(lastEventId.lastIndexOf(SEPARATOR) + 1));
    for (const event of this.events) {
      if (event.streamId !== streamId) continue;
      const sequence = Number(event.id.slice(event.id.lastIndexOf(SEPARATOR) + 1));
      // The priming event carries an empty object: nothing to replay.
      if (sequence > after && Object.keys(event.message).length > 0) await send(event.id, event.message);
    }
    return streamId;
  }

  /** Forgets every event (the session is being disposed). */
  purge(): void {
    this.events = [];
  }
}
