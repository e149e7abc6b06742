import type { SupervisedSession } from '../session.js';
import { forEachInSlices } from '../slices.js';

/**
 * The drain of a shutdown: from its start, a session with no request in flight has nothing left to
 * finish and is retired (reason `shutdown`); at the grace deadline every remaining one is. Both
 * sweeps run in slices measured on the supervisor's clock, so a drain of 100 000 sessions never
 * holds the event loop for long, and on a simulated clock a sweep is never cut by machine load.
 * Every session the grace sweep retires ends when the grace ran out (the sweep's start), however
 * many slices later the sweep reaches it.
 */
export class Drain {
  /** Set by the supervisor's drain entry action, before its snapshot shows `draining`. */
  active = false;

  constructor(private readonly now: () => number) {}

  begin(live: Iterable<SupervisedSession<unknown>>): void {
    this.active = true;
    forEachInSlices([...live], (session) => this.retireIfSettled(session), this.now);
  }

  /** During a drain, a session with no request in flight has nothing left to finish. */
  retireIfSettled(session: SupervisedSession<unknown>): void {
    if (!this.active || !session.isLive || session.requestsInFlight > 0) return;
    session.end('shutdown', this.now());
  }

  retireAll(live: Iterable<SupervisedSession<unknown>>): void {
    const graceRanOutAt = this.now();
    forEachInSlices(
      [...live],
      (session) => {
        if (session.isLive) session.end('shutdown', graceRanOutAt);
      },
      this.now,
    );
  }
}
