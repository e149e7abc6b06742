import type { IncomingMessage } from 'node:http';
import { tooLarge } from './request-body.js';

/**
 * Reads a node request body up to `limitBytes` (the node twin of `readBodyText`): refuses a declared
 * `Content-Length` over the limit before reading, stops at the limit, and leaves what is left of an
 * oversized body to the HTTP server to drain.
 */
export function readIncomingBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.reject(tooLarge(limitBytes));
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > limitBytes) {
        cleanup();
        req.resume();
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      // A JSON-RPC message usually arrives as one chunk: decoded where it lies, not copied first.
      const only = chunks.length === 1 ? chunks[0] : undefined;
      resolve((only ?? Buffer.concat(chunks, total)).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}
