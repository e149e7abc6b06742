import type { SessionEndReason } from '../../machines/session.machine.js';
import { requestIdsInFlight } from '../http/request-ids.js';
import type { SupervisedSession } from '../session.js';

/** MCP's "connection closed" code (the SDKs' `ErrorCode.ConnectionClosed`). */
export const CUT_OFF_CODE = -32000;

interface SendsMessages {
  send(message: unknown): Promise<void>;
}

const canSend = (transport: unknown): transport is SendsMessages =>
  typeof (transport as Partial<SendsMessages> | undefined)?.send === 'function';

function cutOffMessage(reason: SessionEndReason | undefined): string {
  return reason === 'shutdown'
    ? 'Request cut off: the server is shutting down and the request was still running at its deadline'
    : `Request cut off: the session ended (${reason ?? 'failed'}) while the request was running`;
}

/**
 * Answers every request still in flight in an ending session with a JSON-RPC error, through its own
 * transport, before the transport closes their streams: otherwise a call still running at the
 * shutdown deadline gets a stream that just ends, and the client cannot tell a shutdown from a
 * crash. Registered as the session's first release step; never throws (a stream already gone is
 * nothing to answer).
 *
 * @example
 * ```ts
 * session.cleanups?.push(() => answerRequestsCutOff(session, transport)); // runs before transport.close()
 * ```
 */
export async function answerRequestsCutOff(
  session: SupervisedSession<unknown>,
  transport: unknown,
): Promise<void> {
  const ids = requestIdsInFlight(session);
  if (ids.length === 0 || !canSend(transport)) return;
  const message = cutOffMessage(session.endReason ?? session.actor.getSnapshot().context.reason);
  for (const id of ids) {
    try {
      await transport.send({ jsonrpc: '2.0', id, error: { code: CUT_OFF_CODE, message } });
    } catch (error) {
      session.logger?.debug({ err: error, requestId: id }, 'could not answer a request cut off');
    }
  }
}
