/**
 * A reference server for the end-to-end benchmark: the supervisor's own HTTP layer (node adapter,
 * dispatcher, session transport) over a `Map` of sessions WITHOUT the actor layer — no session
 * actor, no supervisor actor, no registry, no timers. It serves exactly what the supervisor serves
 * (same answers, same SDK transport per session), so in the same run:
 * - supervisor / http-layer is what the actor layer costs end to end per churned session;
 * - http-layer / bare is what the library's HTTP path saves or costs against the SDK's own
 *   (`@hono/node-server`, undici's `Request`, web streams).
 * Not a product: a session here never expires, is never counted, and a client that never DELETEs
 * it leaks it, which is what the supervisor exists to prevent.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { type DispatchHost, dispatchRequest } from '../src/http/dispatch.js';
import { createNodeHandler } from '../src/http/node-adapter.js';
import { DEFAULT_MAX_BODY_BYTES } from '../src/http/request-body.js';
import type { SessionHttpTransport } from '../src/mcp/sdk-types.js';
import { connectSessionTransport } from '../src/mcp/session-transport.js';
import type { SupervisedSession } from '../src/session.js';

export interface HttpLayerServer {
  readonly sessions: ReadonlyMap<string, unknown>;
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** What the dispatcher and the session transport read of a session, and nothing else. */
class PlainSession {
  readonly principal = undefined;
  readonly logger = undefined;
  readonly hibernation = undefined;
  isLive = true;
  cleanups: Array<() => unknown> | undefined = undefined;
  server: McpServer | undefined = undefined;
  transport: SessionHttpTransport | undefined = undefined;
  private readonly built: Promise<McpServer>;

  constructor(
    readonly id: string,
    createServer: () => McpServer,
    onEnd: (session: PlainSession) => void,
  ) {
    this.built = this.build(createServer, onEnd);
  }

  private async build(createServer: () => McpServer, onEnd: (session: PlainSession) => void) {
    const server = createServer();
    this.server = server;
    this.transport = await connectSessionTransport(this as unknown as SupervisedSession<McpServer>, server, {
      maxEventsPerSession: undefined,
      retryInterval: undefined,
      onDeleted: () => onEnd(this),
      onClosedByServer: () => onEnd(this),
    });
    return server;
  }

  ready(): Promise<McpServer> {
    return this.built;
  }

  /** Not counted: this server has no lifecycle. */
  beginRequest(): () => void {
    return () => {};
  }

  openStream(): () => void {
    return () => {};
  }

  recordActivity(): void {}

  markInitialized(): void {}
}

export function createHttpLayerServer(createServer: () => McpServer): HttpLayerServer {
  const sessions = new Map<string, PlainSession>();
  const end = (session: PlainSession): boolean => {
    if (!session.isLive) return false;
    session.isLive = false;
    sessions.delete(session.id);
    // The supervisor's release order: the session's cleanups last registered first, then the server.
    const steps = [...(session.cleanups ?? [])].reverse();
    void (async () => {
      for (const step of steps) await step();
      await session.server?.close();
    })().catch(() => {});
    return true;
  };
  const host: DispatchHost<SupervisedSession<unknown>> = {
    dispatch: {
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      bodyTimeoutMs: 30_000,
      allowedHosts: undefined,
      allowedOrigins: undefined,
      authenticate: undefined,
    },
    logger: undefined,
    get: (sessionId) => sessions.get(sessionId) as unknown as SupervisedSession<unknown> | undefined,
    admit: () => {
      const session = new PlainSession(randomUUID(), createServer, end);
      sessions.set(session.id, session);
      return session as unknown as SupervisedSession<unknown>;
    },
    close: (sessionId) => {
      const session = sessions.get(sessionId);
      return session ? end(session) : false;
    },
    transportOf: (session) => (session as unknown as PlainSession).transport,
  };
  const handleRequest = createNodeHandler((request, extras) => dispatchRequest(host, request, extras));
  return { sessions, handleRequest };
}
