/**
 * Watch session lifecycles without any HTTP: a supervisor with two slots and short timeouts,
 * three clients taking turns, every transition printed as it happens.
 *
 *   npx tsx examples/lifecycle.ts
 */
import pino from 'pino';
import { createSessionSupervisor, isSupervisorError } from '../src/index.js';

const logger = pino({
  level: 'debug',
  transport: { target: 'pino-pretty', options: { colorize: true, singleLine: true, ignore: 'pid,hostname' } },
});

const supervisor = createSessionSupervisor({
  maxSessions: 2,
  idleTimeout: '2s',
  initTimeout: '1s',
  whenFull: 'evict-idle-lru',
  logger,
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openAndInitialize(name: string) {
  const session = supervisor.open({ metadata: { client: name } });
  await session.ready();
  session.markInitialized();
  return session;
}

const alice = await openAndInitialize('alice');
const bob = await openAndInitialize('bob');

// Alice works for a while: her session stays active while the request is in flight.
const done = alice.beginRequest();
await pause(500);
done();

// The house is full; Carol's arrival evicts the least recently active idle session (Bob's).
const carol = await openAndInitialize('carol');
logger.info({ bob: bob.state, carol: carol.state }, 'after Carol arrived');

// A supervisor set to reject would answer a typed error instead.
const strict = createSessionSupervisor({ maxSessions: 1, whenFull: 'reject' });
strict.open();
try {
  strict.open();
} catch (error) {
  if (isSupervisorError(error, 'capacity-exceeded'))
    logger.info({ code: error.code, ...error.data }, error.message);
}
await strict.shutdown({ grace: 0.001 });

// Nobody sends anything now: both remaining sessions expire after 2 s of idleness.
await pause(2_500);
logger.info(supervisor.getStatistics(), 'statistics');
await supervisor.shutdown({ grace: '1s' });
logger.info('supervisor stopped');
