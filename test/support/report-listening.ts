/**
 * Preloaded (`--import`) into a child process by `spawnListening`: when the first server of the
 * process starts listening, writes its port to stderr on a line of its own, so the parent learns
 * the port the OS chose for `PORT=0` instead of probing for a free one first (a port found free can
 * be taken before the child binds it). Changes nothing else in the program.
 */
import net from 'node:net';

export const LISTENING_MARKER = '[spawn-listening] port=';

const listen = net.Server.prototype.listen;
let reported = false;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  this.once('listening', () => {
    const address = this.address();
    if (reported || address === null || typeof address === 'string') return;
    reported = true;
    process.stderr.write(`${LISTENING_MARKER}${address.port}\n`);
  });
  return (listen as (...rest: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
