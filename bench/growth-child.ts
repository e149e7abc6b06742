/**
 * One process of the growth reading (see growth-case.ts): `node --expose-gc
 * dist/bench/growth-child.js sessions|floor 1000,100000` prints one JSON line, CPU µs per event
 * at each size.
 */
import { runFloorGrowthChild, runGrowthChild } from './growth-case.js';

const [kind, sizesArg = '1000,100000'] = process.argv.slice(2);
const sizes = sizesArg.split(',').map(Number);
if (sizes.some((size) => !Number.isInteger(size) || size < 1)) {
  throw new Error(`growth-child: sizes like 1000,100000, not ${sizesArg}`);
}
if (kind !== 'sessions' && kind !== 'floor') throw new Error(`growth-child: sessions or floor, not ${kind}`);
const report = kind === 'floor' ? await runFloorGrowthChild(sizes) : await runGrowthChild(sizes);
process.stdout.write(`${JSON.stringify(report)}\n`);
// Hour-long idle sessions and timers: nothing left to measure, so no drain of them.
process.exit(0);
