import { SupervisorError } from '../errors.js';

/** Default body limit, the same as the MCP SDK's transport. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** `application/json`, with or without parameters, compared as a media type (not a substring). */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  // What every MCP client sends: answered without splitting, trimming and lower-casing a copy.
  if (value === 'application/json') return true;
  const mediaType = value.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

/** `payload-too-large` (413), for both body readers. */
export const tooLarge = (limitBytes: number): SupervisorError<'payload-too-large'> =>
  new SupervisorError(
    'payload-too-large',
    { limitBytes },
    `Payload too large: the limit is ${limitBytes} bytes`,
  );

/** Default time limit for receiving a whole request body (408 after it). */
export const DEFAULT_BODY_TIMEOUT = '30s';

const timedOut = (timeoutMs: number) =>
  new SupervisorError(
    'request-timeout',
    { timeoutMs },
    `Request Timeout: the body did not arrive within ${timeoutMs} ms`,
  );

/**
 * Settles as `reading` does unless `timeoutMs` pass first; then calls `abandon` (stop reading) and
 * rejects with `request-timeout`. The limit covers the whole body, not the gaps between chunks, so
 * a client that trickles a byte at a time is cut off as surely as one that stalls. Wall-clock time:
 * this is I/O, not session lifecycle, so it does not follow the supervisor's `clock`.
 */
export function withinBodyTimeout<T>(
  reading: Promise<T>,
  timeoutMs: number,
  abandon: () => void = () => {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      abandon();
      reject(timedOut(timeoutMs));
    }, timeoutMs);
    reading.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Reads a request body up to `limitBytes` within `timeoutMs`, refusing early on a declared
 * `Content-Length` over the limit and cancelling the stream as soon as the limit is crossed or the
 * time is up, so an oversized or endless body is never buffered whole.
 */
export async function readBodyText(request: Request, limitBytes: number, timeoutMs: number): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  if (request.body === null) return '';
  const reader = request.body.getReader();
  const read = async (): Promise<string> => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limitBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limitBytes);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  };
  return withinBodyTimeout(read(), timeoutMs, () => {
    reader.cancel().catch(() => {});
  });
}

/** Parses JSON or throws `parse-error` (JSON-RPC -32700). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SupervisorError('parse-error', { reason: 'invalid JSON' }, 'Parse error: Invalid JSON');
  }
}
