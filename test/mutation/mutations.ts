/**
 * Deliberate machine bugs for the mutation check (`npm run mutation`, see ./run.ts). Each is one
 * textual change to a file of machines/, applied in memory by ./vitest.config.ts while the
 * model-based suites run; the tree is never modified. A mutation whose `find` text is not in its
 * file exactly once is an error of the check (the machine changed: update the mutation), never a
 * pass. Every one must make at least one model-based test fail.
 */
export interface Mutation {
  readonly id: string;
  /** What kind of bug, in the words of the issue: a timer delay, a guard, a count, an `endedAt` stamp. */
  readonly kind: 'timer delay' | 'guard' | 'count' | 'endedAt stamp' | 'transition';
  readonly file: 'machines/session.machine.ts' | 'machines/supervisor.machine.ts';
  readonly description: string;
  readonly find: string;
  readonly replace: string;
}

export const MUTATIONS: readonly Mutation[] = [
  {
    id: 'idle-delay+1',
    kind: 'timer delay',
    file: 'machines/session.machine.ts',
    description: 'idle timeout fires 1 ms late',
    find: '        : context.timeouts.idleTimeout,',
    replace: '        : context.timeouts.idleTimeout + 1,',
  },
  {
    id: 'init-delay-1',
    kind: 'timer delay',
    file: 'machines/session.machine.ts',
    description: 'init timeout fires 1 ms early',
    find: 'initTimeout: ({ context }) => context.timeouts.initTimeout,',
    replace: 'initTimeout: ({ context }) => context.timeouts.initTimeout - 1,',
  },
  {
    id: 'dispose-delay*2',
    kind: 'timer delay',
    file: 'machines/session.machine.ts',
    description: 'release deadline twice as long',
    find: 'disposeTimeout: ({ context }) => context.timeouts.disposeTimeout,',
    replace: 'disposeTimeout: ({ context }) => context.timeouts.disposeTimeout * 2,',
  },
  {
    id: 'lifetime-delay+50',
    kind: 'timer delay',
    file: 'machines/session.machine.ts',
    description: 'maxLifetime reached 50 ms late',
    find: '        : (context.timeouts.maxLifetime ?? MAX_TIMER_DELAY),',
    replace: '        : (context.timeouts.maxLifetime ?? MAX_TIMER_DELAY) + 50,',
  },
  {
    id: 'last-request-ignores-streams',
    kind: 'guard',
    file: 'machines/session.machine.ts',
    description: 'the last request ending makes the session idle although a counted stream is open',
    find: '(senderCount(event) ?? context.requestsInFlight - 1) === 0 &&\n      !(context.streamsCountAsActivity && context.openStreams > 0),',
    replace: '(senderCount(event) ?? context.requestsInFlight - 1) === 0,',
  },
  {
    id: 'last-request-ignores-sender-count',
    kind: 'guard',
    file: 'machines/session.machine.ts',
    description: "the end of a busy spell the runtime counted is judged by the machine's own count (0)",
    find: '(senderCount(event) ?? context.requestsInFlight - 1) === 0 &&',
    replace: 'context.requestsInFlight - 1 === 0 &&',
  },
  {
    id: 'streams-always-count',
    kind: 'guard',
    file: 'machines/session.machine.ts',
    description: 'an uncounted stream opened in idle makes the session active',
    find: 'streamsCountAsActivity: ({ context }) => context.streamsCountAsActivity,',
    replace: 'streamsCountAsActivity: () => true,',
  },
  {
    id: 'busy-handshake-goes-idle',
    kind: 'transition',
    file: 'machines/session.machine.ts',
    description: 'a session busy at its handshake goes idle (and starts its idle timer)',
    find: "{ guard: 'busyAtHandshake', target: 'active', actions: 'completeHandshake' },",
    replace: "{ guard: 'busyAtHandshake', target: 'idle', actions: 'completeHandshake' },",
  },
  {
    id: 'request-counted-twice',
    kind: 'count',
    file: 'machines/session.machine.ts',
    description: 'a request starting counts two in flight',
    find: 'requestsInFlight: keptCount(event, context.requestsInFlight + 1),',
    replace: 'requestsInFlight: keptCount(event, context.requestsInFlight + 2),',
  },
  {
    id: 'stream-counted-twice',
    kind: 'count',
    file: 'machines/session.machine.ts',
    description: 'opening a stream counts two',
    find: 'openStreams: context.openStreams + 1,',
    replace: 'openStreams: context.openStreams + 2,',
  },
  {
    id: 'idle-ended-from-admission',
    kind: 'endedAt stamp',
    file: 'machines/session.machine.ts',
    description: 'an idle timeout is stamped from admission instead of the last activity',
    find: 'endedAt: context.lastActivityAt + context.timeouts.idleTimeout,',
    replace: 'endedAt: context.createdAt + context.timeouts.idleTimeout,',
  },
  {
    id: 'close-ended-at-last-activity',
    kind: 'endedAt stamp',
    file: 'machines/session.machine.ts',
    description: 'a close is stamped with the last activity instead of its own time',
    find: '? { reason: event.reason, endedAt: event.at, requests: requestsReported(context, event) }',
    replace:
      '? { reason: event.reason, endedAt: context.lastActivityAt, requests: requestsReported(context, event) }',
  },
  {
    id: 'lifetime-ended-from-last-activity',
    kind: 'endedAt stamp',
    file: 'machines/session.machine.ts',
    description: 'a lifetime end is stamped from the last activity instead of admission',
    find: 'endedAt: context.createdAt + (context.timeouts.maxLifetime ?? 0),',
    replace: 'endedAt: context.lastActivityAt + (context.timeouts.maxLifetime ?? 0),',
  },
  {
    id: 'failed-ended-at-last-activity',
    kind: 'endedAt stamp',
    file: 'machines/session.machine.ts',
    description: 'a failed build is stamped with the last activity instead of the moment it failed',
    find: "endedAt: event.type === 'PREPARE.FAILED' && event.at !== undefined ? event.at : context.lastActivityAt,",
    replace: 'endedAt: context.lastActivityAt,',
  },
  {
    id: 'uncounted-stream-no-restart',
    kind: 'transition',
    file: 'machines/session.machine.ts',
    description: 'an uncounted stream opened in idle does not restart the idle timer',
    find: "{ target: 'idle', reenter: true, actions: 'openStream' },",
    replace: "{ actions: 'openStream' },",
  },
  {
    id: 'notification-no-restart',
    kind: 'transition',
    file: 'machines/session.machine.ts',
    description: 'a notification in idle records the activity but does not restart the idle timer',
    find: "ACTIVITY: { target: 'idle', reenter: true, actions: 'recordActivity' },",
    replace: "ACTIVITY: { actions: 'recordActivity' },",
  },
  {
    id: 'notification-as-request',
    kind: 'transition',
    file: 'machines/session.machine.ts',
    description: 'a notification in idle makes the session active, as a request would',
    find: "ACTIVITY: { target: 'idle', reenter: true, actions: 'recordActivity' },",
    replace: "ACTIVITY: { target: 'active', actions: 'recordActivity' },",
  },
  {
    id: 'capacity-off-by-one',
    kind: 'guard',
    file: 'machines/supervisor.machine.ts',
    description: 'admits one session over maxSessions',
    find: 'hasFreeSlot: ({ context }) => context.live < context.maxSessions,',
    replace: 'hasFreeSlot: ({ context }) => context.live <= context.maxSessions,',
  },
  {
    id: 'never-evicts',
    kind: 'guard',
    file: 'machines/supervisor.machine.ts',
    description: 'a full supervisor with one idle session refuses instead of evicting it',
    find: "context.whenFull === 'evict-idle-lru' && event.type === 'ADMIT' && (event.idleSessions ?? 0) > 0,",
    replace:
      "context.whenFull === 'evict-idle-lru' && event.type === 'ADMIT' && (event.idleSessions ?? 0) > 1,",
  },
  {
    id: 'ends-not-counted',
    kind: 'count',
    file: 'machines/supervisor.machine.ts',
    description: 'sessions ended are not counted by reason',
    find: 'ended: countEnd(context.ended, event.reason),',
    replace: 'ended: context.ended,',
  },
  {
    id: 'deleted-ends-not-counted',
    kind: 'count',
    file: 'machines/supervisor.machine.ts',
    description: 'one reason of the written-out end count is dropped: deleted sessions are not counted',
    find: "deleted: ended.deleted + (reason === 'deleted' ? 1 : 0),",
    replace: 'deleted: ended.deleted,',
  },
  {
    id: 'drain-stops-early',
    kind: 'transition',
    file: 'machines/supervisor.machine.ts',
    description: 'the drain stops while sessions are still releasing',
    find: "on: { 'SESSIONS.RELEASED': { target: '#supervisor.stopped' } },",
    replace: "always: { target: '#supervisor.stopped' },",
  },
  {
    id: 'never-evicts-streams-only',
    kind: 'guard',
    file: 'machines/supervisor.machine.ts',
    description: 'a full supervisor never evicts a session kept only by GET streams',
    find: "context.whenFull === 'evict-idle-lru' && event.type === 'ADMIT' && (event.streamsOnlySessions ?? 0) > 0,",
    replace:
      "context.whenFull === 'evict-idle-lru' && event.type === 'ADMIT' && (event.streamsOnlySessions ?? 0) > 1,",
  },
  {
    id: 'evicts-streams-only-first',
    kind: 'transition',
    file: 'machines/supervisor.machine.ts',
    description: 'when full with an idle session, evicts one kept by GET streams instead',
    find: "{ type: 'evictLeastRecentlyActiveIdle', params",
    replace: "{ type: 'evictLeastRecentlyActiveStreamsOnly', params",
  },
  {
    id: 'hibernates-with-stream-open',
    kind: 'guard',
    file: 'machines/session.machine.ts',
    description: 'an idle session hibernates although an uncounted GET stream is open',
    find: 'nothingOpen: ({ context }) => context.openStreams === 0 && context.requestsInFlight === 0,',
    replace: 'nothingOpen: ({ context }) => context.requestsInFlight === 0,',
  },
  {
    id: 'hibernate-delay*2',
    kind: 'timer delay',
    file: 'machines/session.machine.ts',
    description: 'hibernation comes twice as late',
    find: 'hibernateAfter: ({ context }) => context.timeouts.hibernateAfter ?? MAX_TIMER_DELAY,',
    replace: 'hibernateAfter: ({ context }) => (context.timeouts.hibernateAfter ?? MAX_TIMER_DELAY) * 2,',
  },
];
