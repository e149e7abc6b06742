/**
 * JSON-RPC error codes as the specifications define them (JSON-RPC 2.0; MCP for -32001 and -32022).
 * Written out here rather than imported from src/http/error-response.ts: a test's oracle is not the
 * code under test, so a changed mapping there fails the tests that use these.
 */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  internalError: -32603,
  /** Implementation-defined server error: what the refusals without a code of their own carry. */
  serverError: -32000,
  /** MCP: the session id is unknown, expired or deleted. */
  sessionNotFound: -32001,
  /** MCP 2026-07-28: the requested protocol revision is not served. */
  unsupportedProtocolVersion: -32022,
} as const;

/** The JSON-RPC error code of a JSON body, `undefined` when it is not JSON or has no error. */
export function rpcCodeOf(body: string): number | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: number } }).error?.code;
  } catch {
    return undefined;
  }
}
