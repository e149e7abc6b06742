import type { InspectionEvent, Observer } from 'xstate';
import type { Logger } from '../logging.js';
import type { Duration, SupervisorCoreOptions } from '../options.js';
import type { SessionContext } from '../session.js';

export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Options of {@link createSessionSupervisor}. */
export interface SessionSupervisorOptions<TServer = unknown> extends SupervisorCoreOptions {
  /**
   * Builds the server of one session (for MCP, an `McpServer` or `Server`). Called once per
   * admitted session, while it is `created`; a throw or rejection ends the session with reason
   * `failed`. Whatever it returns is closed (`close()`, if it has one) when the session expires.
   */
  createServer?: (context: SessionContext) => TServer | Promise<TServer>;
  /** A pino logger: one line per lifecycle transition, and a child per session bound to its id. */
  logger?: Logger;
  /** XState inspection observer given to the supervisor actor and to every session actor. */
  inspect?: InspectionObserver;
}

export interface OpenSessionOptions {
  metadata?: Record<string, unknown>;
  /**
   * Who opens the session (e.g. the subject of a verified token). The session is bound to it, and
   * `maxSessionsPerPrincipal` counts per principal. Anonymous sessions have none.
   */
  principal?: string;
  /**
   * @internal For cluster admission and takeover only: the id the cluster registry reserved (a
   * uuid v4 generated on admission, never client input). Default: a new uuid v4.
   */
  sessionId?: string;
}

export interface ShutdownOptions {
  /** How long in-flight requests may take before the remaining sessions are retired. Default `'10s'`. */
  grace?: Duration;
}
