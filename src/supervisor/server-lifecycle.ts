import type { AnyActorRef } from 'xstate';
import type { SupervisedSession } from '../session.js';
import type { SessionSupervisorOptions } from './types.js';

const hasClose = (value: unknown): value is { close(): unknown } =>
  typeof value === 'object' && value !== null && typeof (value as { close?: unknown }).close === 'function';

// Method signatures (not function-typed properties) keep `SessionSupervisor<TServer>` assignable
// to `SessionSupervisor<unknown>`, as it was when these were methods of the class.
export interface ServerLifecycleHooks<TServer> {
  readonly createServer: SessionSupervisorOptions<TServer>['createServer'];
  /** Runs after `createServer`, before the session counts as prepared (see `onServerCreated`). */
  serverCreated(session: SupervisedSession<TServer>, server: TServer): Promise<void>;
  /** Servers that belong to something else: never closed by a release. */
  readonly borrowed: WeakSet<object>;
  now(): number;
}

/**
 * Building and releasing each session's server, outside its machine: the machine's entry actions
 * `prepareServer` / `releaseServer` start the work here, and it reports back with `PREPARE.FAILED`
 * and `RELEASED` / `RELEASE.FAILED` (a built server resolves `ready()`). No child actor, no AbortController per
 * session (an invoked promise actor cost ~75 µs per session for the two); the deadlines stay the
 * machine's own `after` timers (`initTimeout`, `disposeTimeout`).
 */
export class ServerLifecycle<TServer> {
  constructor(private readonly hooks: ServerLifecycleHooks<TServer>) {}

  /** A session that ended meanwhile hears nothing; what was built for it is released here. */
  prepare(session: SupervisedSession<TServer>, self: AnyActorRef): void {
    this.build(session).then(
      () => {
        // Not news to the machine: the handshake (`INITIALIZED`) can only run once `ready()` resolved.
        if (session.isLive) session.settlePrepared();
      },
      (error: unknown) => {
        if (session.isLive) self.send({ type: 'PREPARE.FAILED', at: this.hooks.now(), error });
      },
    );
  }

  /**
   * A session that holds nothing is reported released at once (the event is queued behind the
   * current transition, so the machine still passes through `expired`). The steps start inside the
   * `expired` transition, before anything else (a DELETE's own transport close) can run first.
   */
  release(session: SupervisedSession<TServer>, self: AnyActorRef): void {
    if (session.cleanups === undefined && session.server === undefined) {
      self.send({ type: 'RELEASED' });
      return;
    }
    this.releaseResources(session).then(
      () => {
        if (session.state === 'expired') self.send({ type: 'RELEASED' });
      },
      (error: unknown) => {
        if (session.state === 'expired') self.send({ type: 'RELEASE.FAILED', error });
      },
    );
  }

  /** Releases the server and transport of a session that hibernates (the session lives on). */
  releaseServerOnly(session: SupervisedSession<TServer>): Promise<void> {
    return this.releaseResources(session);
  }

  /** Rebuilds the server of a woken session (`ctx.restored`), then lets `ready()` resolve. */
  async rebuild(session: SupervisedSession<TServer>): Promise<void> {
    session.restoring = true;
    try {
      await this.build(session);
    } finally {
      session.restoring = false;
    }
    if (session.isLive) session.settlePrepared();
  }

  private async build(session: SupervisedSession<TServer>): Promise<void> {
    const { createServer, serverCreated } = this.hooks;
    let server: TServer | undefined;
    try {
      server = createServer ? await createServer(session.context) : undefined;
      if (session.isLive && server !== undefined) await serverCreated(session, server);
    } catch (error) {
      session.logger?.error({ err: error }, 'building the session server failed');
      // Left for the session's own release, which runs under `disposeTimeout` once the failure
      // has moved it to `expired`.
      if (session.isLive) session.server = server;
      else this.releaseLate(session, server);
      throw error;
    }
    if (!session.isLive) {
      // The session ended (init timeout, shutdown) while its server was being built: its release
      // has already run, so nothing else will ever close what was built for it.
      this.releaseLate(session, server);
      return;
    }
    // `ready()` resolves in `prepare` (or `rebuild`), once this has returned.
    session.server = server;
  }

  /** Releases what arrived after the session's own release ran; failures are logged there. */
  private releaseLate(session: SupervisedSession<TServer>, server: TServer | undefined): void {
    this.releaseResources(session, server).catch(() => {});
  }

  /**
   * Runs the session's cleanups (last registered first), then closes its server. Every step runs
   * even if an earlier one fails; the first failure is rethrown so the session is marked as not
   * fully released.
   */
  private async releaseResources(session: SupervisedSession<TServer>, server?: TServer): Promise<void> {
    const steps = [...(session.cleanups ?? []).reverse()];
    session.cleanups = undefined;
    const target = server ?? session.server;
    session.server = undefined;
    if (hasClose(target) && !this.hooks.borrowed.has(target)) steps.push(() => target.close());
    let failure: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failure ??= error;
        session.logger?.error({ err: error }, 'releasing a session resource failed');
      }
    }
    if (failure !== undefined) throw failure;
  }
}
