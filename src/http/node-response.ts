import type { ServerResponse } from 'node:http';
import { setImmediate } from 'node:timers';

function plainHeaders(headers: Headers): Record<string, string | string[]> {
  const plain: Record<string, string | string[]> = {};
  for (const [name, value] of headers) plain[name] = value;
  if (plain['set-cookie'] !== undefined) plain['set-cookie'] = headers.getSetCookie();
  return plain;
}

/** Statuses that carry no body, so no `Content-Length` either. */
const BODILESS = (status: number) => status < 200 || status === 204 || status === 304;

/**
 * Writes a web `Response` to a node response, in as few socket writes as the body allows: an
 * answer complete within the turn (the usual JSON-RPC result: one SSE event, then the end of the
 * stream) goes out as one write with its `Content-Length`; a body still coming after the turn gets
 * its headers at once (so an SSE client sees its stream open) and each chunk as it comes, with
 * backpressure. A client that goes away cancels the body, which is how the MCP transport and the
 * session learn that the request is over. `beforeHead` runs right before the head is written, told
 * whether the whole answer is in hand (the dispatcher reports an `initialize` handshake there).
 */
export async function writeWebResponse(
  response: Response,
  res: ServerResponse,
  beforeHead?: (complete: boolean) => void,
): Promise<void> {
  const { status } = response;
  const head = plainHeaders(response.headers);
  const body = response.body;
  if (body === null) {
    if (!BODILESS(status) && head['content-length'] === undefined) head['content-length'] = '0';
    beforeHead?.(true);
    res.writeHead(status, head).end();
    return;
  }
  const reader = body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  if (res.destroyed) {
    cancel();
    return;
  }
  res.once('close', cancel);
  // Within the turn (its microtasks drained, no I/O yet): gather, so a complete answer is written
  // once. An MCP server answers most requests within microtasks of receiving them, so one turn tells
  // "the answer is ready" from "the answer will take a while" (a long tool call, an SSE stream): one
  // `setImmediate` per response marks the turn's end and writes the head, so a client sees its
  // stream open, with what was gathered.
  const gathered: Uint8Array[] = [];
  let streaming = false;
  const turnOver = setImmediate(() => {
    streaming = true;
    try {
      beforeHead?.(false);
      res.writeHead(status, head);
      if (gathered.length === 0) res.flushHeaders();
      for (const value of gathered) res.write(value);
    } catch (error) {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  });
  try {
    for (;;) {
      const chunk = await reader.read();
      if (streaming) {
        await stream(reader, res, chunk);
        return;
      }
      if (chunk.done) {
        clearImmediate(turnOver);
        let length = 0;
        for (const value of gathered) length += value.byteLength;
        if (head['content-length'] === undefined && !BODILESS(status))
          head['content-length'] = String(length);
        beforeHead?.(true);
        res.writeHead(status, head);
        if (res.destroyed) return;
        res.end(gathered.length === 1 ? gathered[0] : Buffer.concat(gathered, length));
        return;
      }
      gathered.push(chunk.value);
    }
  } catch (error) {
    clearImmediate(turnOver);
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    res.off('close', cancel);
  }
}

/** After the turn: each chunk as it comes, waiting for `drain` when the socket is full. */
async function stream(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  res: ServerResponse,
  first: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>,
): Promise<void> {
  for (let chunk = first; ; chunk = await reader.read()) {
    if (res.destroyed) return;
    if (chunk.done) {
      res.end();
      return;
    }
    if (!res.write(chunk.value)) await drained(res);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
