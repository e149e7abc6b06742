import type { HibernationResults } from './hibernation-case.js';
import { int, kib, num, print, ratio, table, type Verdict } from './report.js';

const TARGET_BYTES = 1.5 * 1024;

/** The storm again with V8's pretenuring kept on, when measured: rows beside, no verdict. */
function pretenuringRows(r: HibernationResults): string[][] {
  const n = r.stormWithPretenuring;
  if (n === undefined) return [];
  return [
    [
      "the same storm with v8Pretenuring: 'keep' (node's default): longest stall (GC pauses inside it)",
      `${num(n.stall)} ms (${num(n.stallGcMs)} ms)`,
    ],
    [
      '  its longest GC pause: scavenge / mark-compact; mark-compacts (total ms)',
      `${num(n.gc.longestScavengeMs)} ms / ${num(n.gc.longestMarkCompactMs)} ms; ${int(n.gc.markCompacts)} (${int(n.gc.markCompactTotalMs)} ms)`,
    ],
    [
      '  its expiry took; GC pauses (total ms); load when it began',
      `${num(n.stormSeconds)} s; ${int(n.gc.count)} (${int(n.gc.totalMs)} ms); ${n.load}`,
    ],
    ['  expired with no actor restored / disposed', `${int(n.endedAsleep)} / ${int(n.disposed)}`],
  ];
}
const STALL_MS = 50;

/** Prints the hibernation section; returns its verdicts. */
export function printHibernation(r: HibernationResults): Verdict[] {
  const m = r.storm;
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
        [`heap per hibernated session, actor layer, ${int(m.sessions)} sessions`, kib(m.bytes)],
        ['extrapolated to 1 000 000 hibernated sessions', `${int((m.bytes * 1_000_000) / 1024 / 1024)} MB`],
        [
          `built and hibernated in / their expiry took`,
          `${num(m.buildSeconds)} s / ${num(m.stormSeconds)} s`,
        ],
        [
          'ended after their idle deadline: first / half of them / last (expiry lag)',
          `${num(m.lag.first)} s / ${num(m.lag.half)} s / ${num(m.lag.last)} s`,
        ],
        [
          `longest loop stall while ${int(m.sessions)} hibernated sessions expire at once`,
          `${num(m.stall)} ms`,
        ],
        ['floor: longest stall of a quiet second before it (machine load alone)', `${num(m.floorStall)} ms`],
        ["GC pauses inside the 1 ms probe's longest gap", `${num(m.stallGcMs)} ms`],
        [
          'longest GC pause in that window: scavenge / mark-compact',
          `${num(m.gc.longestScavengeMs)} ms / ${num(m.gc.longestMarkCompactMs)} ms`,
        ],
        [
          'GC in that window: pauses (total ms) / of them mark-compacts (total ms)',
          `${int(m.gc.count)} (${int(m.gc.totalMs)} ms) / ${int(m.gc.markCompacts)} (${int(m.gc.markCompactTotalMs)} ms)`,
        ],
        ['load averages when the storm began (1 / 5 / 15 min)', m.load],
        [
          'expired with no actor restored / disposed / expected',
          `${int(m.endedAsleep)} / ${int(m.disposed)} / ${int(m.sessions)}`,
        ],
        ...pretenuringRows(r),
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
      target: `expiry of ${int(m.sessions)} hibernated sessions stalls the loop ≤ ${STALL_MS} ms`,
      measured: `${num(m.stall)} ms (floor ${num(m.floorStall)} ms)`,
      pass: m.stall <= STALL_MS && m.disposed === m.sessions,
    },
  ];
}
