/**
 * The interval `npm run bench:http:churn` prints beside each median (bench/timing.ts). The expected
 * ranks are those of the published tables of distribution-free confidence intervals for a median
 * (binomial, p = ½, ≥ 95 % coverage), not computed by the function under test.
 */
import { describe, expect, it } from 'vitest';
import { medianInterval } from '../bench/timing.js';

/** 1, 2, …, n in shuffled order: the interval's ends are then the ranks themselves. */
const ranks = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);

describe('medianInterval: a 95 % interval for the median from order statistics', () => {
  it.each([
    [6, 1, 6],
    [8, 1, 8],
    [10, 2, 9],
    [16, 4, 13],
    [24, 7, 18],
    [30, 10, 21],
  ])('of %i values is the %i-th to the %i-th smallest', (n, low, high) => {
    expect(medianInterval(ranks(n))).toEqual([low, high]);
  });

  it('is the whole range under 6 values, where no 95 % interval exists', () => {
    expect(medianInterval([3, 1, 2, 5, 4])).toEqual([1, 5]);
  });

  it('is NaN for no values', () => {
    expect(medianInterval([])).toEqual([Number.NaN, Number.NaN]);
  });
});
