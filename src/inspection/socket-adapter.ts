/**
 * The WebSocket client that streams serialized inspection events to the relay.
 *
 * @module
 */
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import type { WebSocket as WebSocketType } from 'ws';
import { WebSocket } from './peers.js';

/** Where inspection events go: the shape `createInspector` of `@statelyai/inspect` drives. */
export interface InspectionAdapter {
  start?: () => void;
  stop?: () => void;
  /** Receives each event in the inspector's wire format, after sanitizing; must not throw. */
  send(event: StatelyInspectionEvent): void;
}

/** Serializes for the socket; a value JSON cannot hold (a cycle, a BigInt) drops the event. */
function serialize(event: StatelyInspectionEvent): string | undefined {
  try {
    return JSON.stringify(event);
  } catch {
    return undefined;
  }
}

/** Bytes queued on the socket beyond which events are dropped rather than queued. */
const MAX_SOCKET_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * A WebSocket client to the relay: buffers while disconnected (bounded, oldest dropped, sent once),
 * reconnects after a close on an unref'd timer, and after `stop()` neither reconnects nor sends.
 */
export class RelaySocketAdapter implements InspectionAdapter {
  private socket: WebSocketType | undefined;
  private readonly backlog: string[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly maxBuffered: number,
    private readonly reconnectDelay: number,
  ) {}

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.backlog.length = 0;
    const socket = this.socket;
    this.socket = undefined;
    if (socket?.readyState === WebSocket.OPEN) socket.close(1000);
    else socket?.terminate();
  }

  send(event: StatelyInspectionEvent): void {
    if (this.stopped) return;
    const text = serialize(event);
    if (text === undefined) return;
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) {
      // A relay that stops reading must not make this process buffer without bound.
      if (socket.bufferedAmount < MAX_SOCKET_BACKLOG_BYTES) socket.send(text);
      return;
    }
    this.backlog.push(text);
    if (this.backlog.length > this.maxBuffered) this.backlog.shift();
  }

  private connect(): void {
    const socket = new WebSocket(this.url, { perMessageDeflate: false });
    this.socket = socket;
    socket.on('open', () => {
      // Sent once: the buffer is emptied, so a later reconnect does not replay it again.
      for (const text of this.backlog.splice(0)) socket.send(text);
    });
    // Connection failures are routine (relay not started yet); 'close' follows and retries.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.stopped || this.socket !== socket) return;
      this.socket = undefined;
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
      // Inspection alone must never keep a process alive.
      this.reconnectTimer.unref();
    });
  }
}
