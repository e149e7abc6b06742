import net from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1, for a child that cannot bind port 0 itself and report
 * it (redis-server): someone may take it before the child binds, so the caller retries on a taken port.
 * Programs of ours run with PORT=0 instead (see listening-child.ts).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
