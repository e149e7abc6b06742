/**
 * The one log line of each lifecycle transition says what happened: the end of a session names
 * its reason (a DELETE is not an expiry), and its fields carry the reason for machines.
 */
import { describe, expect, it } from 'vitest';
import type { SessionEndReason } from '../machines/session.machine.js';
import type { SessionTransitionEvent } from '../src/events.js';
import { type Logger, logTransition } from '../src/logging.js';
import { SessionSupervisor } from '../src/supervisor.js';
import { type LogLine, recordingLogger as recordInto } from './support/recording-logger.js';

type Line = LogLine;

const recordingLogger = (lines: Line[]): Logger => recordInto((line) => lines.push(line));

const ended = (reason: SessionEndReason): SessionTransitionEvent => ({
  type: 'transition',
  trigger: 'CLOSE',
  sessionId: 's-1',
  from: 'idle',
  to: 'expired',
  reason,
  at: 5_000,
  createdAt: 0,
  lastActivityAt: 1_000,
  requests: 3,
  releaseIncomplete: false,
});

describe('the line of a session ending', () => {
  it('says a DELETE deleted the session, not that it expired', () => {
    const lines: Line[] = [];
    logTransition(recordingLogger(lines), ended('deleted'));
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'session deleted',
        fields: expect.objectContaining({ reason: 'deleted', to: 'expired', ageMs: 5_000, idleMs: 4_000 }),
      },
    ]);
  });

  it.each([
    ['idle-timeout', /^session expired: idle/],
    ['init-timeout', /^session expired: no initialize/],
    ['lifetime', /^session expired: maxLifetime/],
    ['evicted', /^session evicted/],
    ['shutdown', /^session retired by shutdown/],
    ['failed', /^session failed/],
    ['moved', /^session moved/],
  ] as const)('names the reason %s in its message', (reason, expected) => {
    const lines: Line[] = [];
    logTransition(recordingLogger(lines), ended(reason));
    expect(lines[0]?.message).toMatch(expected);
    expect(lines[0]?.fields.reason).toBe(reason);
  });
});

describe('the logger of a session', () => {
  /** A logger that counts the per-session children made of it. */
  function countingLogger(children: Array<Record<string, unknown>>): Logger {
    const logger = recordingLogger([]);
    return {
      ...logger,
      child: (bindings) => {
        children.push(bindings);
        return logger;
      },
    };
  }

  it('is not made for a session whose createServer never asks for it', async () => {
    const children: Array<Record<string, unknown>> = [];
    const supervisor = new SessionSupervisor({ logger: countingLogger(children), createServer: () => ({}) });

    await supervisor.open().ready();

    expect(children).toEqual([]);
  });

  it('is a child bound to the session id once createServer reads it', async () => {
    const children: Array<Record<string, unknown>> = [];
    const supervisor = new SessionSupervisor({
      logger: countingLogger(children),
      createServer: (ctx) => ({ logger: ctx.logger }),
    });

    const session = supervisor.open();
    await session.ready();

    expect(children).toEqual([{ sessionId: session.id }]);
  });
});
