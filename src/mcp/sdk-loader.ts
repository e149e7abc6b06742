import { SupervisorError } from '../errors.js';
import { importPeer, isNotFound } from '../peer.js';
import type { EventStore, SessionHttpTransport } from './sdk-types.js';

/**
 * The MCP SDK is a peer dependency: an application installs SDK v1 (`@modelcontextprotocol/sdk`) or
 * SDK v2 (`@modelcontextprotocol/server`), and this library loads, lazily and once, the one that made
 * the server it is given. Nothing here is imported at the package's load, so a v2 application never
 * needs v1 installed, and the other way round.
 */

export const SDK_V1_PACKAGE = '@modelcontextprotocol/sdk';
export const SDK_V2_PACKAGE = '@modelcontextprotocol/server';

/** Options both SDKs' `WebStandardStreamableHTTPServerTransport` take, as used here. */
export interface SessionTransportInit {
  sessionIdGenerator: () => string;
  onsessionclosed?: () => void;
  eventStore?: EventStore;
  retryInterval?: number;
}

export interface LoadedTransport extends SessionHttpTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
}

export type TransportConstructor = new (init: SessionTransportInit) => LoadedTransport;

/** Which SDK made a server, and that SDK's sessionful web-standard transport. */
export interface ServerSdk {
  readonly era: 'v1' | 'v2';
  readonly Transport: TransportConstructor;
}

interface SdkModule {
  readonly era: 'v1' | 'v2';
  readonly Transport: TransportConstructor;
  /** The SDK's server classes (`McpServer`, low-level `Server`), for `instanceof`. */
  readonly serverClasses: readonly (abstract new (
    ...args: never[]
  ) => unknown)[];
}

type Loading = Promise<SdkModule | undefined>;

/** `undefined` when the package is not installed; any other failure (a broken install) is thrown. */
async function optional<T>(pkg: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (isNotFound(error, pkg)) return undefined;
    throw error;
  }
}

let v1: Loading | undefined;
let v2: Loading | undefined;

function loadV1(): Loading {
  v1 ??= optional(SDK_V1_PACKAGE, async () => {
    const [transport, mcp, server] = await Promise.all([
      import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
      import('@modelcontextprotocol/sdk/server/mcp.js'),
      import('@modelcontextprotocol/sdk/server/index.js'),
    ]);
    return {
      era: 'v1' as const,
      Transport: transport.WebStandardStreamableHTTPServerTransport as unknown as TransportConstructor,
      serverClasses: [mcp.McpServer, server.Server],
    };
  });
  return v1;
}

function loadV2(): Loading {
  v2 ??= optional(SDK_V2_PACKAGE, async () => {
    const sdk = await import('@modelcontextprotocol/server');
    return {
      era: 'v2' as const,
      Transport: sdk.WebStandardStreamableHTTPServerTransport as unknown as TransportConstructor,
      serverClasses: [sdk.McpServer, sdk.Server],
    };
  });
  return v2;
}

/** The typed error for an application that has neither SDK installed. */
export const sdkNotInstalled = (): SupervisorError<'sdk-not-installed'> =>
  new SupervisorError(
    'sdk-not-installed',
    { packages: [SDK_V1_PACKAGE, SDK_V2_PACKAGE] },
    `No MCP SDK found: install ${SDK_V1_PACKAGE} (SDK v1) or ${SDK_V2_PACKAGE} (SDK v2), the one your server is built with`,
  );

/**
 * The SDK that made `server`: by `instanceof` against each installed SDK (v2 first, the current
 * one). A server of neither (a duplicate SDK copy, a hand-made `connect`-able object) gets the only
 * installed SDK, or v1 when both are, as before v2 existed. Throws `sdk-not-installed` when none is.
 *
 * @example
 * ```ts
 * const { Transport } = await sdkForServer(server);
 * await server.connect(new Transport({ sessionIdGenerator: () => id }));
 * ```
 */
export async function sdkForServer(server: unknown): Promise<ServerSdk> {
  // Once both loads have settled, each session's server is matched without awaiting them again
  // (a Promise.all and its hops per session, before the session's `initialize` can be served).
  if (loaded === undefined) {
    const [modern, legacy] = await Promise.all([loadV2(), loadV1()]);
    loaded = { modern, legacy };
  }
  return pickSdk(server, loaded.modern, loaded.legacy);
}

/** Both SDKs as loaded (`undefined`: not installed), once both loads have settled. */
let loaded: { readonly modern: SdkModule | undefined; readonly legacy: SdkModule | undefined } | undefined;

function pickSdk(server: unknown, modern: SdkModule | undefined, legacy: SdkModule | undefined): ServerSdk {
  for (const sdk of [modern, legacy]) {
    if (sdk?.serverClasses.some((type) => server instanceof type)) return sdk;
  }
  const fallback = legacy ?? modern;
  if (fallback === undefined) throw sdkNotInstalled();
  return fallback;
}

/**
 * The SDK that made `server`, without a promise when both SDKs' loads have already settled (every
 * session after the first); `undefined` before that, when {@link sdkForServer} must be awaited.
 */
export function loadedSdkForServer(server: unknown): ServerSdk | undefined {
  return loaded === undefined ? undefined : pickSdk(server, loaded.modern, loaded.legacy);
}

/** SDK v2's own era classifier, `isLegacyRequest`; throws `missing-peer-dependency` naming v2 when missing. */
export async function loadLegacyClassifier(): Promise<
  (request: Request, parsedBody?: unknown) => Promise<boolean>
> {
  const sdk = await importPeer(
    SDK_V2_PACKAGE,
    'Serving the 2026-07-28 revision (option `modern`)',
    () => import('@modelcontextprotocol/server'),
  );
  return (request, parsedBody) => sdk.isLegacyRequest(request, parsedBody);
}
