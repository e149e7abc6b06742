/**
 * The 2025-era protocol revisions, the ones that hold sessions. Both SDKs (v1 1.x and v2 2.x) list the
 * same revisions for Streamable HTTP sessions; they live here so that the supervisor needs no SDK
 * loaded to answer a request (cluster replay, the discovery probe).
 */
export const LEGACY_PROTOCOL_VERSIONS: readonly string[] = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];

/** What a session server answers a client asking for a revision it does not know (the SDKs' rule). */
export const LATEST_LEGACY_PROTOCOL_VERSION = '2025-11-25';

/** The `_meta` key by which a 2026-07-28 (modern) request claims its revision. */
export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';

/** JSON-RPC error code of an unsupported protocol revision (2026-07-28 revision, both SDKs). */
export const UNSUPPORTED_PROTOCOL_VERSION_CODE = -32022;

/** The first sessionless revision; later ones sort after it (revisions are dates). */
export const FIRST_MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * Whether an `MCP-Protocol-Version` header names a sessionless (2026-07-28 or later) revision, read as
 * SDK v2's classifier reads it (surrounding whitespace ignored). Every modern request sends it, so a
 * request refused before its body is read can still be told apart by era.
 */
export function namesModernRevision(header: string | null): boolean {
  return header !== null && header.trim() >= FIRST_MODERN_PROTOCOL_VERSION;
}

/**
 * The revision a message claims in its per-request `_meta` envelope, if any. Only modern
 * (2026-07-28 and later) requests carry it; a 2025-era client never does.
 */
export function claimedModernRevision(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const claim = (meta as Record<string, unknown>)[PROTOCOL_VERSION_META_KEY];
  return typeof claim === 'string' ? claim : undefined;
}
