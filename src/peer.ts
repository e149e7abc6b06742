import { createRequire } from 'node:module';
import { SupervisorError } from './errors.js';

/**
 * Optional features load their third-party library (an optional peer dependency) only when they
 * are used, so an application that never uses them never installs or loads it. A missing library
 * becomes a typed error that says what to install, instead of `ERR_MODULE_NOT_FOUND` from deep
 * inside the package.
 */
const requireFromHere = createRequire(import.meta.url);

/** The typed error for a feature whose library is not installed. */
export function missingPeer(
  pkg: string,
  feature: string,
  cause?: unknown,
): SupervisorError<'missing-peer-dependency'> {
  const error = new SupervisorError(
    'missing-peer-dependency',
    { package: pkg, feature },
    `${feature} needs the package "${pkg}", which is not installed: npm install ${pkg}`,
  );
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, enumerable: false });
  return error;
}

/** Whether `error` says that `pkg` itself (not something it imports) could not be found. */
export function isNotFound(error: unknown, pkg: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`));
}

/**
 * Loads a CommonJS peer synchronously, once; throws `missing-peer-dependency` if it is absent.
 *
 * @example
 * ```ts
 * const { Redis } = requirePeer<typeof import('ioredis')>('ioredis', 'mcp-session-supervisor/cluster (RedisClusterRegistry)');
 * ```
 */
export function requirePeer<T>(
  pkg: string,
  feature: string,
  load: (pkg: string) => unknown = requireFromHere,
): T {
  try {
    return load(pkg) as T;
  } catch (error) {
    if (isNotFound(error, pkg)) throw missingPeer(pkg, feature, error);
    throw error;
  }
}

/** Loads an ES module peer; rejects with `missing-peer-dependency` if it is absent. */
export async function importPeer<T>(pkg: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isNotFound(error, pkg)) throw missingPeer(pkg, feature, error);
    throw error;
  }
}
