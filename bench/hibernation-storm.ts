/**
 * One expiry storm of HIBERNATION_SESSIONS hibernated sessions in a process of its own (see
 * `hibernatedStormInChild`), with HIBERNATION_V8_PRETENURING as the supervisor's `v8Pretenuring`
 * when set: its results as one JSON line on stdout, progress on stderr.
 */
import { hibernatedStorm } from './hibernation-case.js';

const mode = process.env.HIBERNATION_V8_PRETENURING;
const results = await hibernatedStorm(
  Number(process.env.HIBERNATION_SESSIONS ?? 100_000),
  mode === 'off' || mode === 'keep' ? mode : undefined,
);
process.stdout.write(`${JSON.stringify(results)}\n`);
