import { SupervisorError } from '../errors.js';

/** Host names a server bound to loopback answers to. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export interface HostValidationOptions {
  /**
   * Host names (any port) accepted in the `Host` header; unset means no check. Unless
   * `allowedOrigins` is given, it also decides `Origin`: a request that has one must come from
   * this server's own origin under an allowed name (same port), so `null`, foreign sites and other
   * local apps are refused.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Exact origins (`scheme://host[:port]`) accepted in an `Origin` header, instead of that rule. */
  allowedOrigins?: readonly string[] | undefined;
}

/**
 * A `Host` header as name (lower-cased; `[::1]` keeps its brackets) and port: `[::1]:3000` →
 * `{ name: '[::1]', port: '3000' }`; `localhost` → `{ name: 'localhost', port: '' }`. The one reading
 * of `Host` for every check that compares it with `allowedHosts` (this module, the live view).
 */
export function splitHost(hostHeader: string): { name: string; port: string } {
  const lower = hostHeader.toLowerCase();
  const end = lower.startsWith('[') ? lower.indexOf(']') + 1 : lower.indexOf(':');
  if (end <= 0) return { name: lower, port: '' };
  const rest = lower.slice(end);
  return { name: lower.slice(0, end), port: rest.startsWith(':') ? rest.slice(1) : '' };
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * Whether `origin` is this server's own: http(s), an allowed host name, and the port the request
 * was sent to (read from `Host`, already validated). A page of another local app (another port), a
 * sandboxed or `file:` page (`null`) or a foreign site is not.
 */
function isOwnOrigin(
  origin: string,
  host: { name: string; port: string },
  allowedHosts: readonly string[],
): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined || url.origin !== origin.toLowerCase()) return false;
  if (!allowedHosts.includes(url.hostname)) return false;
  return (url.port || defaultPort) === (host.port || defaultPort);
}

function forbidden(header: 'host' | 'origin', value: string | null): SupervisorError<'forbidden'> {
  return new SupervisorError(
    'forbidden',
    { header, value },
    `Invalid ${header === 'host' ? 'Host' : 'Origin'} header: ${value}`,
  );
}

/**
 * DNS-rebinding and cross-site protection, as one decision: a browser page on another site can reach
 * a server on loopback by pointing its own host name at 127.0.0.1, or by sending a request from the
 * user's browser, but it cannot forge the `Host` it sends, nor its `Origin`. Throws `forbidden` (403)
 * for a Host not allowed, and for an Origin that is neither listed in `allowedOrigins` nor, without
 * such a list, this server's own origin under an allowed host name.
 */
export function validateHostAndOrigin(headers: Headers, options: HostValidationOptions): void {
  const { allowedHosts, allowedOrigins } = options;
  const hostHeader = headers.get('host');
  const host = hostHeader === null ? undefined : splitHost(hostHeader);
  if (allowedHosts !== undefined && (host === undefined || !allowedHosts.includes(host.name))) {
    throw forbidden('host', hostHeader);
  }
  const origin = headers.get('origin');
  if (origin === null) return;
  if (allowedOrigins !== undefined) {
    if (!allowedOrigins.includes(origin.toLowerCase())) throw forbidden('origin', origin);
    return;
  }
  if (allowedHosts !== undefined && (host === undefined || !isOwnOrigin(origin, host, allowedHosts))) {
    throw forbidden('origin', origin);
  }
}
