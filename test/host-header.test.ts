/**
 * One reading of the `Host` header: the MCP endpoint's DNS-rebinding check (`validateHostAndOrigin`)
 * and the live view's access check decide the same way for every Host, so a name one of them lets
 * through is never refused by the other, nor the reverse.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { LOOPBACK_HOSTS, validateHostAndOrigin } from '../src/http/host-validation.js';
import { refusal } from '../src/live-view/access.js';

const HOSTS: ReadonlyArray<readonly [string, boolean]> = [
  ['localhost', true],
  ['localhost:3000', true],
  ['LOCALHOST:3000', true],
  ['127.0.0.1:8080', true],
  ['[::1]:3000', true],
  ['[::1]', true],
  ['[::1', false],
  ['::1', false],
  [':3000', false],
  ['localhost.attacker.example', false],
  ['attacker.example:3000', false],
  ['127.0.0.1.nip.io', false],
];

const endpointAllows = (host: string): boolean => {
  try {
    validateHostAndOrigin(new Headers({ host }), { allowedHosts: LOOPBACK_HOSTS });
    return true;
  } catch {
    return false;
  }
};

const liveViewAllows = (host: string): boolean =>
  refusal({ headers: { host }, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage, {
    allowRemote: false,
    allowedHosts: LOOPBACK_HOSTS,
  }) === undefined;

describe('a Host header checked against LOOPBACK_HOSTS', () => {
  it.each(HOSTS)('%s: allowed %s by the MCP endpoint and by the live view alike', (host, allowed) => {
    expect({ endpoint: endpointAllows(host), liveView: liveViewAllows(host) }).toEqual({
      endpoint: allowed,
      liveView: allowed,
    });
  });
});
