import { SupervisorError } from '../errors.js';

/** Host names a server bound to loopback answers to. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export interface HostValidationOptions {
  /** Host names (any port) accepted in the `Host` header; unset means no check. */
  allowedHosts?: readonly string[] | undefined;
  /** Exact origins (`scheme://host[:port]`) accepted in an `Origin` header; unset means no check. */
  allowedOrigins?: readonly string[] | undefined;
}

function hostName(hostHeader: string): string {
  // `[::1]:3000` keeps its brackets; `localhost:3000` loses its port.
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  return (hostHeader.split(':', 1)[0] ?? '').toLowerCase();
}

/**
 * DNS-rebinding protection: a browser page on another site can reach a server on loopback by
 * pointing its own host name at 127.0.0.1, but it cannot forge the `Host` it sends, nor its `Origin`.
 * Throws `forbidden` (403) when either header is present and not allowed.
 */
export function validateHostAndOrigin(headers: Headers, options: HostValidationOptions): void {
  const { allowedHosts, allowedOrigins } = options;
  if (allowedHosts !== undefined) {
    const host = headers.get('host');
    if (host === null || !allowedHosts.includes(hostName(host))) {
      throw new SupervisorError('forbidden', { header: 'host', value: host }, `Invalid Host header: ${host}`);
    }
  }
  if (allowedOrigins !== undefined) {
    const origin = headers.get('origin');
    if (origin !== null && !allowedOrigins.includes(origin)) {
      throw new SupervisorError(
        'forbidden',
        { header: 'origin', value: origin },
        `Invalid Origin header: ${origin}`,
      );
    }
  }
}
