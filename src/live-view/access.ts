import type { IncomingMessage } from 'node:http';
import { splitHost } from '../http/host-validation.js';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`) on dual-stack sockets. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

export interface AccessRules {
  readonly allowRemote: boolean;
  readonly allowedHosts: readonly string[] | undefined;
}

/**
 * Why a request may not see the live view, or `undefined` when it may. The page lists session
 * ids, which address sessions, so by default only this machine may read it: the peer must be on
 * loopback, and the `Host` must be a loopback name, which a DNS-rebinding page cannot forge.
 */
export function refusal(req: IncomingMessage, rules: AccessRules): string | undefined {
  if (!rules.allowRemote && !isLoopbackAddress(req.socket.remoteAddress)) {
    return 'the live view answers loopback clients only';
  }
  if (rules.allowedHosts !== undefined) {
    const host = req.headers.host;
    if (host === undefined || !rules.allowedHosts.includes(splitHost(host).name)) return 'Host not allowed';
  }
  return undefined;
}
