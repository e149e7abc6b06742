/**
 * Reads the `--cpu-prof` profiles `BENCH_HTTP_CPU_PROF=<dir> npm run bench:http` writes (one
 * sub-directory per server) and prints each server's self time by where the code lives: an npm
 * package, a file of dist/, a node: module, or V8's own entries (GC, idle).
 *
 *   node dist/bench/http-profile-groups.js <dir> [server …]   # after `npm run build:apps`
 *
 * Every server builds one McpServer per session, and its Ajv instance costs the same in every one
 * of them, so the figures are in units of that process's ajv self time: a module that costs more
 * per session stands out, while a process that runs everything slower (load, a core shared with
 * the load generator) does not. CPU per session in µs moves with that; the shares do not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const NORMALISER = 'ajv';
const IDLE = '((idle))';

/** Where a frame's code lives: `zod`, `@modelcontextprotocol/sdk`, `dist/src/session.js`, `node:internal/…`. */
export function groupOf({ url, functionName }: CallFrame): string {
  if (url === '') return functionName === '' ? '(native)' : `(${functionName})`;
  const inPackage = url.lastIndexOf('node_modules/');
  if (inPackage !== -1) {
    const [scope = '', name = ''] = url.slice(inPackage + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const inDist = url.lastIndexOf('/dist/');
  return inDist === -1 ? url : url.slice(inDist + 1);
}

/** Self time (µs) per group, over every profile of one server's directory. */
function selfTimes(dir: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, index) => {
      const node = byId.get(id);
      if (node === undefined) return;
      const group = groupOf(node.callFrame);
      groups.set(group, (groups.get(group) ?? 0) + (profile.timeDeltas[index] ?? 0));
    });
  }
  return groups;
}

function main(): void {
  const [dir, ...named] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: node dist/bench/http-profile-groups.js <dir> [server …]');
  const servers = named.length > 0 ? named : readdirSync(dir).filter((name) => !name.endsWith('-heap'));
  const measured = servers.map((server) => {
    const times = selfTimes(join(dir, server));
    const unit = times.get(NORMALISER) ?? Number.NaN;
    let busy = 0;
    for (const [group, us] of times) if (group !== IDLE) busy += us;
    return { server, times, unit, busy };
  });
  const top = [...new Set(measured.flatMap(({ times }) => [...times.keys()]))]
    .filter((group) => group !== IDLE)
    .map((group) => ({ group, most: Math.max(...measured.map((m) => (m.times.get(group) ?? 0) / m.unit)) }))
    .sort((a, b) => b.most - a.most)
    .slice(0, Number(process.env.TOP ?? 30));
  const width = Math.max(...measured.map(({ server }) => server.length), 12) + 1;
  const column = (text: string): string => text.padStart(width);
  console.log(`self time in units of each process's ${NORMALISER} self time (lower is cheaper per session)`);
  console.log(`${'group'.padEnd(44)}${measured.map(({ server }) => column(server)).join('')}`);
  console.log(
    `${`${NORMALISER} self time, ms`.padEnd(44)}${measured.map((m) => column((m.unit / 1000).toFixed(0))).join('')}`,
  );
  console.log(
    `${'busy (all but idle)'.padEnd(44)}${measured.map((m) => column((m.busy / m.unit).toFixed(3))).join('')}`,
  );
  for (const { group } of top) {
    const row = measured.map((m) => column(((m.times.get(group) ?? 0) / m.unit).toFixed(3)));
    console.log(`${group.slice(0, 43).padEnd(44)}${row.join('')}`);
  }
}

main();
