/**
 * `npm run bench:hibernation`: the hibernation figures alone (also section 3 of `npm run bench`).
 * HIBERNATION_SESSIONS sets how many hibernated sessions the storm uses (default 100 000). The
 * storm runs in processes of its own, each started as node starts by default: with the supervisor's
 * defaults (the verdict; a supervisor turns V8's allocation-site pretenuring off by default), then
 * with `v8Pretenuring: 'keep'` beside it.
 */

import { runHibernationCase } from './hibernation-case.js';
import { printHibernation } from './hibernation-report.js';
import { print, verdictTable } from './report.js';

const results = await runHibernationCase({
  heapSessions: 2_000,
  wakeSamples: 300,
  manySessions: Number(process.env.HIBERNATION_SESSIONS ?? 100_000),
  stormProcesses: true,
});
const verdicts = printHibernation(results);
print(verdictTable('Targets (issue 10, hibernation)', verdicts));
