import type { HibernationResults } from './hibernation-case.js';
import { int, kib, num, print, ratio, table, type Verdict } from './report.js';

const TARGET_BYTES = 1.5 * 1024;
const STALL_MS = 50;

/** Prints the hibernation section; returns its verdicts. */
export function printHibernation(r: HibernationResults): Verdict[] {
  print(
    table(
      `3. Hibernation — ${int(r.sessions)} sessions with McpServer + transport, then hibernated; wake-ups over HTTP`,
      ['measure', 'value'],
      [
        ['heap per live idle session, MCP server + transport included', kib(r.liveIdleBytes)],
        ['heap per hibernated session, everything included', kib(r.hibernatedBytes)],
        ['hibernated / live idle', ratio(r.hibernatedBytes / r.liveIdleBytes)],
        [
          `tools/call waking a hibernated session, p50 / p99 (${int(r.wakeSamples)} calls)`,
          `${num(r.wakeP50Ms)} / ${num(r.wakeP99Ms)} ms`,
        ],
        ['tools/call to the same session awake, p50 / p99', `${num(r.awakeP50Ms)} / ${num(r.awakeP99Ms)} ms`],
        [`heap per hibernated session, actor layer, ${int(r.manySessions)} sessions`, kib(r.manyBytes)],
        [
          'extrapolated to 1 000 000 hibernated sessions',
          `${int((r.manyBytes * 1_000_000) / 1024 / 1024)} MB`,
        ],
        [
          `longest loop stall while ${int(r.manySessions)} hibernated sessions expire`,
          `${num(r.stormLongestStallMs)} ms`,
        ],
        [
          'longest GC pause in that window: scavenge / mark-compact',
          `${num(r.stormGc.longestScavengeMs)} ms / ${num(r.stormGc.longestMarkCompactMs)} ms`,
        ],
        ['disposed / expected', `${int(r.stormDisposed)} / ${int(r.manySessions)}`],
      ],
    ),
  );
  return [
    {
      target: `heap per hibernated session ≤ ${kib(TARGET_BYTES)} all in`,
      measured: kib(r.hibernatedBytes),
      pass: r.hibernatedBytes <= TARGET_BYTES,
    },
    {
      target: `expiry of ${int(r.manySessions)} hibernated sessions stalls the loop ≤ ${STALL_MS} ms`,
      measured: `${num(r.stormLongestStallMs)} ms`,
      pass: r.stormLongestStallMs <= STALL_MS && r.stormDisposed === r.manySessions,
    },
  ];
}
