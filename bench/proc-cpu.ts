/**
 * CPU time of another process, and of its main thread alone, from Linux's /proc (10 ms ticks).
 * The rest of a node process's CPU is its other threads: V8's helpers (parallel scavenging,
 * concurrent marking and sweeping, background compilation) and libuv's pool. A server that makes
 * the collector work harder pays partly there, where a `--cpu-prof` profile of the main thread
 * does not look.
 *
 * @example
 * ```ts
 * const all = processCpu(child.pid);      // { user, system } µs, every thread
 * const main = mainThreadCpu(child.pid);  // µs, or undefined off Linux
 * ```
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** utime and stime of a /proc `stat` line, µs. */
function parseStat(stat: string): { user: number; system: number } {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const micros = (ticks: number) => (ticks / TICKS_PER_SECOND) * 1e6;
  return { user: micros(Number(fields[11])), system: micros(Number(fields[12])) };
}

/** CPU of the whole process so far (every thread), µs. Throws where there is no /proc. */
export function processCpu(pid: number): { user: number; system: number } {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** CPU of the process's main thread so far (user + system), µs; `undefined` where /proc has no tasks. */
export function mainThreadCpu(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const { user, system } = parseStat(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
    return user + system;
  } catch {
    return undefined;
  }
}
