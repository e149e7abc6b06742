/**
 * Durations without the `ms` package: the spellings it accepted still mean the same milliseconds,
 * and anything else is an `invalid-option` error naming the option.
 */
import { describe, expect, it } from 'vitest';
import { isSupervisorError } from '../src/errors.js';
import { toMilliseconds } from '../src/options.js';

describe('a duration string', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['90 sec', 90_000],
    ['2 minutes', 120_000],
    ['1.5h', 5_400_000],
    ['1 hour', 3_600_000],
    ['2 Days', 172_800_000],
    ['1w', 604_800_000],
    ['.5m', 30_000],
    [' 30s ', 30_000],
  ])('%j is %d ms', (text, expected) => {
    expect(toMilliseconds('idleTimeout', text)).toBe(expected);
  });

  it.each(['', 'soon', '30 parsecs', '-5s', '5s5', '1e3', '0s', 's'])(
    '%j is refused, naming the option',
    (text) => {
      let caught: unknown;
      try {
        toMilliseconds('idleTimeout', text);
      } catch (error) {
        caught = error;
      }
      expect(isSupervisorError(caught, 'invalid-option')).toBe(true);
      expect(caught).toMatchObject({ data: { option: 'idleTimeout' } });
    },
  );
});
