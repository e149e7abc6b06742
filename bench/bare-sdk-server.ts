/**
 * The baseline of the end-to-end benchmark: the MCP SDK's own stateful Streamable HTTP pattern
 * on plain node:http, as its examples write it — a `Map` from session id to transport, one MCP
 * server per session, entries added by `onsessioninitialized` and removed when the transport
 * closes (DELETE). No lifecycle: no cap, no expiry, no activity tracking.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

export interface BareSdkServer {
  readonly transports: ReadonlyMap<string, StreamableHTTPServerTransport>;
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export function createBareSdkServer(createServer: () => McpServer): BareSdkServer {
  const transports = new Map<string, StreamableHTTPServerTransport>();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = transports.get(sessionId);
      if (!transport) return sendJsonRpcError(res, 404, -32001, 'Session not found');
      // The transport reads the body itself, as in the SDK examples without a body parser.
      return transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') {
      return sendJsonRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return sendJsonRpcError(res, 400, -32700, 'Parse error: Invalid JSON');
    }
    if (!isInitializeRequest(body)) {
      return sendJsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        transports.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) transports.delete(transport.sessionId);
    };
    await createServer().connect(transport);
    await transport.handleRequest(req, res, body);
  }

  return {
    transports,
    async handleRequest(req, res) {
      try {
        await route(req, res);
      } catch {
        sendJsonRpcError(res, 500, -32603, 'Internal server error');
      }
    },
  };
}
