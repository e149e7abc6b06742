import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { AuthInfo } from '../mcp/sdk-types.js';
import type { RequestExtras } from './dispatch.js';
import { readIncomingBody } from './node-body.js';

/** A node:http request, possibly decorated by auth middleware the way the MCP SDK expects. */
export type NodeRequest = IncomingMessage & { auth?: AuthInfo };

export type NodeHandler = (req: NodeRequest, res: ServerResponse, parsedBody?: unknown) => Promise<void>;

/**
 * Serves node:http (and Express) through the web-standard handler, with the same conversion the
 * MCP SDK's own Node transport uses (`@hono/node-server`): a client that disconnects cancels the
 * response body, which is how the session learns the request is over.
 */
export function createNodeHandler(
  fetchHandler: (request: Request, extras: RequestExtras) => Promise<Response>,
): NodeHandler {
  const extrasByRequest = new WeakMap<object, RequestExtras>();
  const listener = getRequestListener(
    (request, env) => fetchHandler(request, extrasByRequest.get(env.incoming) ?? {}),
    { overrideGlobalObjects: false },
  );
  return async (req, res, parsedBody) => {
    const extras: RequestExtras = {
      // node's own end of response: cheaper than re-wrapping every SSE body to watch it end.
      onDelivered: (settle) => {
        if (res.writableFinished || res.destroyed) settle();
        else res.once('close', settle);
      },
    };
    if (parsedBody !== undefined) extras.parsedBody = parsedBody;
    else if (!req.readableEnded) extras.readBody = (limitBytes) => readIncomingBody(req, limitBytes);
    if (req.auth !== undefined) extras.authInfo = req.auth;
    extrasByRequest.set(req, extras);
    await listener(req, res);
  };
}
