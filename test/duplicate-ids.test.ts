/**
 * Duplicate JSON-RPC ids in flight in one session (SPEC "HTTP behaviour"): the SDK transport keeps
 * one response stream per id, so a second request with an id already in flight would never be
 * answered. It is refused before it reaches the transport, with a JSON-RPC error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSupervisorUnderTest,
  openRawSession,
  post,
  readAllMessages,
  rpcRequest,
  type SupervisorUnderTest,
  sendToFetchEntry,
  stopSupervisor,
} from './support/http-harness.js';

let underTest: SupervisorUnderTest | undefined;
afterEach(async () => {
  if (underTest) await stopSupervisor(underTest.supervisor, underTest.clock);
  underTest = undefined;
});

const callSlow = (id: number | string) => rpcRequest('tools/call', { name: 'slow', arguments: {} }, id);

async function sessionWithSlowCall(id: number | string) {
  underTest = createSupervisorUnderTest();
  const send = sendToFetchEntry(underTest.supervisor);
  const sessionId = await openRawSession(send);
  const first = send(post(callSlow(id), sessionId));
  await underTest.slow.whenStarted(1);
  return { send, sessionId, first, slow: underTest.slow, supervisor: underTest.supervisor };
}

describe('a request whose id is already in flight in its session', () => {
  it('is refused with 400 and a JSON-RPC invalid-request error naming the id', async () => {
    const { send, sessionId, first, slow } = await sessionWithSlowCall(7);
    const duplicate = await send(post(rpcRequest('ping', undefined, 7), sessionId));
    expect(duplicate.status).toBe(400);
    const body = (await duplicate.json()) as { error?: { code: number; message: string } };
    expect(body.error?.code).toBe(-32600);
    expect(body.error?.message).toContain('7');
    slow.releaseAll();
    const [answer] = await readAllMessages(await first);
    expect(answer?.id).toBe(7);
    expect(answer?.result).toBeDefined();
  });

  it('tells a string id from the number of the same digits', async () => {
    const { send, sessionId, first, slow } = await sessionWithSlowCall(7);
    const other = await send(post(rpcRequest('ping', undefined, '7'), sessionId));
    expect(other.status).toBe(200);
    expect((await readAllMessages(other))[0]?.id).toBe('7');
    slow.releaseAll();
    await (await first).text();
  });

  it('is refused when the duplicate comes in a batch, and nothing of the batch runs', async () => {
    const { send, sessionId, first, slow } = await sessionWithSlowCall(3);
    const batch = `[${rpcRequest('ping', undefined, 4)},${callSlow(3)}]`;
    const refused = await send(post(batch, sessionId));
    expect(refused.status).toBe(400);
    expect(slow.started).toBe(1);
    slow.releaseAll();
    await (await first).text();
  });

  it('does not leave the session counting a request in flight', async () => {
    const { send, sessionId, first, slow, supervisor } = await sessionWithSlowCall(9);
    await (await send(post(rpcRequest('ping', undefined, 9), sessionId))).text();
    expect(supervisor.getStatistics().requestsInFlight).toBe(1);
    slow.releaseAll();
    await (await first).text();
    expect(supervisor.getStatistics().requestsInFlight).toBe(0);
  });

  it('may be reused once the first request has been answered', async () => {
    const { send, sessionId, first, slow } = await sessionWithSlowCall(5);
    slow.releaseAll();
    await (await first).text();
    const again = await send(post(rpcRequest('ping', undefined, 5), sessionId));
    expect(again.status).toBe(200);
    expect((await readAllMessages(again))[0]?.id).toBe(5);
  });
});

describe('a batch repeating an id', () => {
  it('is refused with 400 before it reaches the transport', async () => {
    underTest = createSupervisorUnderTest();
    const send = sendToFetchEntry(underTest.supervisor);
    const sessionId = await openRawSession(send);
    const refused = await send(
      post(`[${rpcRequest('ping', undefined, 1)},${rpcRequest('ping', undefined, 1)}]`, sessionId),
    );
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error?: { code: number } }).error?.code).toBe(-32600);
  });
});

describe('the same id in two sessions', () => {
  it('is served in both: ids are per session', async () => {
    const { send, first, slow } = await sessionWithSlowCall(11);
    const otherSession = await openRawSession(send);
    const other = await send(post(rpcRequest('ping', undefined, 11), otherSession));
    expect(other.status).toBe(200);
    await other.text();
    slow.releaseAll();
    await (await first).text();
  });
});
