import { SupervisorError } from '../errors.js';

/** Default body limit, the same as the MCP SDK's transport. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** `application/json`, with or without parameters, compared as a media type (not a substring). */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const mediaType = value.split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

const tooLarge = (limitBytes: number) =>
  new SupervisorError(
    'payload-too-large',
    { limitBytes },
    `Payload too large: the limit is ${limitBytes} bytes`,
  );

/**
 * Reads a request body up to `limitBytes`, refusing early on a declared `Content-Length` over the
 * limit and cancelling the stream as soon as the limit is crossed, so an oversized body is never
 * buffered whole.
 */
export async function readBodyText(request: Request, limitBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  if (request.body === null) return '';
  const reader = request.body.getReader();
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
}

/** Parses JSON or throws `parse-error` (JSON-RPC -32700). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SupervisorError('parse-error', { reason: 'invalid JSON' }, 'Parse error: Invalid JSON');
  }
}
