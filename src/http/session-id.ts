import { SupervisorError } from '../errors.js';

/** Longer ids than this are refused before any lookup (ours are 36-character uuids). */
export const MAX_SESSION_ID_LENGTH = 256;

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Reads `Mcp-Session-Id`. The MCP spec allows only visible ASCII (0x21–0x7E); anything else, or
 * an absurd length, is a malformed request (400), not an unknown session (404).
 */
export function readSessionId(headers: Headers): string | undefined {
  const value = headers.get('mcp-session-id');
  if (value === null) return undefined;
  if (value.length === 0 || value.length > MAX_SESSION_ID_LENGTH || !VISIBLE_ASCII.test(value)) {
    throw new SupervisorError(
      'invalid-session-id',
      { length: value.length },
      'Bad Request: Mcp-Session-Id must be 1–256 visible ASCII characters',
    );
  }
  return value;
}
