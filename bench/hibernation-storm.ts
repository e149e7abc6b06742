/**
 * One expiry storm of HIBERNATION_SESSIONS hibernated sessions in a process of its own (see
 * `hibernatedStormInChild`): its results as one JSON line on stdout, progress on stderr.
 */
import { hibernatedStorm } from './hibernation-case.js';

const results = await hibernatedStorm(Number(process.env.HIBERNATION_SESSIONS ?? 100_000));
process.stdout.write(`${JSON.stringify(results)}\n`);
