import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '../mcp/sdk-types.js';
import type { RequestExtras } from './dispatch.js';
import { internalErrorResponse } from './error-response.js';
import { readIncomingBody } from './node-body.js';
import { nodeRequestView } from './node-request.js';
import { writeWebResponse } from './node-response.js';

/** A node:http request, possibly decorated by auth middleware the way the MCP SDK expects. */
export type NodeRequest = IncomingMessage & { auth?: AuthInfo };

export type NodeHandler = (req: NodeRequest, res: ServerResponse, parsedBody?: unknown) => Promise<void>;

/**
 * Serves node:http (and Express) through the web-standard handler: the request is a light
 * `Request` view of the `IncomingMessage` (node-request.ts), its body is read straight off the
 * `IncomingMessage`, and the web `Response` is written back in as few socket writes as it allows
 * (node-response.ts). A client that disconnects aborts the request's `signal` and cancels the
 * response body, which is how the session learns the request is over.
 */
export function createNodeHandler(
  fetchHandler: (request: Request, extras: RequestExtras) => Promise<Response>,
): NodeHandler {
  return async (req, res, parsedBody) => {
    const request = nodeRequestView(req);
    // One `close` listener per exchange, doing both jobs (a client gone before its answer was over
    // aborts the request's signal; the session's request is settled), rather than two.
    let settleOnClose: (() => void) | undefined;
    let beforeHead: ((complete: boolean) => void) | undefined;
    // Called once at most, before `settle`: by the response writer, or by `close` if it never wrote.
    const head = (complete: boolean): void => {
      const hook = beforeHead;
      beforeHead = undefined;
      hook?.(complete);
    };
    res.once('close', () => {
      if (!res.writableFinished) request.abort('Client connection closed before the response was over.');
      head(false);
      settleOnClose?.();
    });
    const extras: RequestExtras = {
      // node's own end of response: cheaper than re-wrapping every SSE body to watch it end.
      onDelivered: (settle, onHead) => {
        if (res.writableFinished || res.destroyed) {
          onHead?.(false);
          settle();
        } else {
          settleOnClose = settle;
          beforeHead = onHead;
        }
      },
    };
    if (parsedBody !== undefined) extras.parsedBody = parsedBody;
    else if (!req.readableEnded) extras.readBody = (limitBytes) => readIncomingBody(req, limitBytes);
    if (req.auth !== undefined) extras.authInfo = req.auth;
    let response: Response;
    try {
      response = await fetchHandler(request, extras);
    } catch {
      // The dispatcher answers its own failures; this is a last resort that never leaves a socket hanging.
      response = internalErrorResponse();
    }
    try {
      await writeWebResponse(response, res, head);
    } catch {
      // Node refused to write (headers already sent by someone else, an invalid header): never a
      // rejected promise that an `http.createServer` callback would leave unhandled.
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  };
}
