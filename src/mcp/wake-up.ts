import type { StoredInitialize } from '../cluster/registry.js';
import type { InitializeMessage } from '../http/dispatch.js';
import type { SupervisedSession } from '../session.js';
import { replayInitialize, storedInitialize } from './handshake-replay.js';
import type { SessionHttpTransport } from './sdk-types.js';

/**
 * The MCP side of hibernation: each session's `initialize` is kept (what a cluster keeps for a
 * takeover, ~0.2 KB), so a woken session's new server and transport are brought to the state of
 * its handshake by replaying it (`replayInitialize`, shared with cluster takeover). What a replay
 * cannot restore: server state changed after the handshake (log level, resource subscriptions)
 * and pending server→client requests, exactly as for a cluster move.
 */
export class McpWakeUps {
  private readonly handshakes = new WeakMap<object, StoredInitialize>();

  remember(session: SupervisedSession<unknown>, initialize: InitializeMessage): void {
    this.handshakes.set(session, storedInitialize(initialize));
  }

  /** Replays the handshake into a rebuilt session's transport; a no-op for a first build. */
  async restore(session: SupervisedSession<unknown>, transport: SessionHttpTransport): Promise<void> {
    if (!session.restoring) return;
    const handshake = this.handshakes.get(session);
    if (handshake === undefined) throw new Error('no stored initialize to replay for this session');
    await replayInitialize(transport, session.id, handshake);
  }
}

/** For the dispatcher: a hibernated (or still waking) session is woken through `recover`, not served as is. */
export const servable = <S extends SupervisedSession<unknown>>(session: S | undefined): S | undefined =>
  session && (session.hibernation !== undefined || session.waking !== undefined) ? undefined : session;
