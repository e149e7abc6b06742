import { describe, expect, it } from 'vitest';
import { type Clock, systemClock } from '../src/clock.js';
import { isSupervisorError } from '../src/errors.js';
import {
  type Duration,
  resolveCoreOptions,
  type SupervisorCoreOptions,
  toMilliseconds,
} from '../src/options.js';

const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.unreachable('expected an error to be thrown');
}

/** Asserts `fn` throws a SupervisorError 'invalid-option' naming `option`. */
function expectInvalidOption(fn: () => unknown, option: string): void {
  const error = thrownBy(fn);
  expect(
    isSupervisorError(error, 'invalid-option') ? { code: error.code, option: error.data.option } : error,
  ).toEqual({ code: 'invalid-option', option });
}

describe('resolveCoreOptions: defaults', () => {
  const defaults = resolveCoreOptions({});

  it.each([
    { option: 'maxSessions', expected: 100 },
    { option: 'idleTimeout', expected: 30 * 60_000 },
    { option: 'initTimeout', expected: 30_000 },
    { option: 'disposeTimeout', expected: 5_000 },
    { option: 'maxLifetime', expected: undefined },
    { option: 'whenFull', expected: 'evict-idle-lru' },
    { option: 'streamsCountAsActivity', expected: true },
    { option: 'retryAfter', expected: 5_000 },
  ] as const)('$option defaults to $expected', ({ option, expected }) => {
    expect(defaults[option]).toBe(expected);
  });

  it('clock defaults to the system clock', () => {
    expect(defaults.clock).toBe(systemClock);
  });
});

describe('resolveCoreOptions: values given', () => {
  it('keeps numbers of milliseconds as they are', () => {
    const resolved = resolveCoreOptions({ idleTimeout: 1_234, initTimeout: 50, maxLifetime: 86_400_000 });

    expect([resolved.idleTimeout, resolved.initTimeout, resolved.maxLifetime]).toEqual([
      1_234, 50, 86_400_000,
    ]);
  });

  it('turns duration strings into milliseconds for every duration option', () => {
    const resolved = resolveCoreOptions({
      idleTimeout: '30m',
      initTimeout: '30s',
      maxLifetime: '2h',
      disposeTimeout: '500ms',
      retryAfter: '1s',
    });

    expect({
      idleTimeout: resolved.idleTimeout,
      initTimeout: resolved.initTimeout,
      maxLifetime: resolved.maxLifetime,
      disposeTimeout: resolved.disposeTimeout,
      retryAfter: resolved.retryAfter,
    }).toEqual({
      idleTimeout: 1_800_000,
      initTimeout: 30_000,
      maxLifetime: 7_200_000,
      disposeTimeout: 500,
      retryAfter: 1_000,
    });
  });

  it.each(['reject', 'evict-idle-lru'] as const)('accepts whenFull %s', (whenFull) => {
    expect(resolveCoreOptions({ whenFull }).whenFull).toBe(whenFull);
  });

  it('accepts maxSessions 1', () => {
    expect(resolveCoreOptions({ maxSessions: 1 }).maxSessions).toBe(1);
  });

  it('keeps the clock it is given', () => {
    const clock: Clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };

    expect(resolveCoreOptions({ clock }).clock).toBe(clock);
  });
});

describe('toMilliseconds', () => {
  it.each([
    { value: '500ms', expected: 500 },
    { value: '30s', expected: 30_000 },
    { value: '30m', expected: 1_800_000 },
    { value: '2h', expected: 7_200_000 },
    { value: '1d', expected: 86_400_000 },
    { value: ' 30s ', expected: 30_000 },
    { value: 1, expected: 1 },
    { value: 2_500, expected: 2_500 },
    { value: MAX_TIMER_DELAY, expected: MAX_TIMER_DELAY },
  ])('reads $value as $expected ms', ({ value, expected }) => {
    expect(toMilliseconds('idleTimeout', value)).toBe(expected);
  });

  it.each([
    { label: '0', value: 0 },
    { label: 'a negative number', value: -1 },
    { label: 'a negative string', value: '-5s' },
    { label: 'NaN', value: Number.NaN },
    { label: 'Infinity', value: Number.POSITIVE_INFINITY },
    { label: 'the empty string', value: '' },
    { label: 'a blank string', value: '   ' },
    { label: 'the word soon', value: 'soon' },
    { label: '2^31 ms', value: MAX_TIMER_DELAY + 1 },
    { label: '25d (over 2^31-1 ms)', value: '25d' },
  ])('rejects $label with invalid-option naming the option', ({ value }) => {
    expectInvalidOption(() => toMilliseconds('initTimeout', value), 'initTimeout');
  });

  it('never turns a positive fraction of a millisecond into a 0 ms timeout', () => {
    let outcome: unknown;
    try {
      outcome = toMilliseconds('idleTimeout', 0.4);
    } catch (error) {
      outcome = error;
    }

    expect(outcome).not.toBe(0);
  });
});

describe('resolveCoreOptions: invalid values', () => {
  const durationOptions = [
    'idleTimeout',
    'initTimeout',
    'maxLifetime',
    'disposeTimeout',
    'retryAfter',
  ] as const;
  const invalidDurations: Array<{ label: string; value: Duration }> = [
    { label: '0', value: 0 },
    { label: '-1', value: -1 },
    { label: 'NaN', value: Number.NaN },
    { label: 'Infinity', value: Number.POSITIVE_INFINITY },
    { label: 'the empty string', value: '' },
    { label: 'the word soon', value: 'soon' },
    { label: '2^31 ms', value: MAX_TIMER_DELAY + 1 },
  ];

  it.each(
    durationOptions.flatMap((option) =>
      invalidDurations.map(({ label, value }) => ({ option, label, value })),
    ),
  )('$option = $label is an invalid-option error naming $option', ({ option, value }) => {
    expectInvalidOption(() => resolveCoreOptions({ [option]: value }), option);
  });

  it.each([
    { option: 'maxSessions', label: '0', value: 0 },
    { option: 'maxSessions', label: '-5', value: -5 },
    { option: 'maxSessions', label: '1.5', value: 1.5 },
    { option: 'maxSessions', label: 'the string 10', value: '10' },
    { option: 'maxSessions', label: 'NaN', value: Number.NaN },
    { option: 'maxSessions', label: 'Infinity', value: Number.POSITIVE_INFINITY },
    { option: 'whenFull', label: 'lru', value: 'lru' },
    { option: 'whenFull', label: 'the empty string', value: '' },
    { option: 'streamsCountAsActivity', label: 'the string yes', value: 'yes' },
    {
      option: 'clock',
      label: 'a clock without now',
      value: { setTimeout: () => 0, clearTimeout: () => {} },
    },
    { option: 'clock', label: 'a clock without setTimeout', value: { now: () => 0, clearTimeout: () => {} } },
  ])('$option = $label is an invalid-option error naming $option', ({ option, value }) => {
    // Deliberately wrong types, as plain JavaScript callers could pass them.
    const options = { [option]: value } as unknown as SupervisorCoreOptions;

    expectInvalidOption(() => resolveCoreOptions(options), option);
  });

  it('carries the rejected value and what was expected', () => {
    const error = thrownBy(() => resolveCoreOptions({ idleTimeout: 'soon' }));

    expect(isSupervisorError(error, 'invalid-option') && error.data).toMatchObject({
      option: 'idleTimeout',
      value: 'soon',
      expected: expect.any(String),
    });
  });
});
