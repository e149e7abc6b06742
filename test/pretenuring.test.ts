import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { isSupervisorError } from '../src/errors.js';
import { resolveCoreOptions, type SupervisorCoreOptions } from '../src/options.js';
import {
  NO_ALLOCATION_SITE_PRETENURING,
  turnOffAllocationSitePretenuring,
  type V8FlagSetter,
} from '../src/pretenuring.js';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('./fixtures/pretenuring-probe.ts', import.meta.url));

/** A `node:v8` stand-in that records the flags it is given. */
function recordingV8(): V8FlagSetter & { readonly flags: string[] } {
  const flags: string[] = [];
  return { flags, setFlagsFromString: (text) => flags.push(text) };
}

describe('v8Pretenuring option', () => {
  it.each([
    { given: {}, expected: 'off' },
    { given: { hibernateAfter: '20s' }, expected: 'off' },
    { given: { v8Pretenuring: 'keep' }, expected: 'keep' },
    { given: { hibernateAfter: '20s', v8Pretenuring: 'keep' }, expected: 'keep' },
    { given: { v8Pretenuring: 'off' }, expected: 'off' },
  ] as const)('resolves $given to $expected', ({ given, expected }) => {
    expect(resolveCoreOptions(given as SupervisorCoreOptions).v8Pretenuring).toBe(expected);
  });

  it('refuses anything but off and keep, naming the option', () => {
    let error: unknown;
    try {
      resolveCoreOptions({ v8Pretenuring: 'false' as never });
    } catch (thrown) {
      error = thrown;
    }
    expect(isSupervisorError(error, 'invalid-option') ? error.data.option : error).toBe('v8Pretenuring');
  });
});

describe('turnOffAllocationSitePretenuring', () => {
  it("sets V8's --no-allocation-site-pretenuring flag", () => {
    const v8 = recordingV8();

    expect(turnOffAllocationSitePretenuring(v8)).toBe('turned-off');
    expect(v8.flags).toEqual([NO_ALLOCATION_SITE_PRETENURING]);
  });

  it('says unavailable where the runtime has no node:v8 to give', () => {
    const lookup = vi.spyOn(process, 'getBuiltinModule').mockReturnValue(undefined as never);
    try {
      expect(turnOffAllocationSitePretenuring()).toBe('unavailable');
      expect(lookup).toHaveBeenCalledWith('node:v8');
    } finally {
      lookup.mockRestore();
    }
  });
});

/**
 * The oracle is V8 itself (`%InYoungGeneration`, in a process of its own): a warm heap, then
 * 200 000 xstate transitions that run an action and keep nothing. V8 tenures the event's allocation
 * site when pretenuring is on, so most events are born old; none when it is off.
 */
describe('a supervisor turns pretenuring off for its process', () => {
  const probe = async (mode: 'default' | 'keep'): Promise<{ steps: number; bornOld: number }> => {
    const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', PROBE], {
      env: { ...process.env, PROBE_V8_PRETENURING: mode === 'keep' ? 'keep' : '' },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  };

  it('no event of the probe is born in the old generation under the default', async () => {
    expect((await probe('default')).bornOld).toBe(0);
  }, 70_000);

  it("with v8Pretenuring: 'keep', V8 tenures most of them (the probe can see it)", async () => {
    const { steps, bornOld } = await probe('keep');
    expect(bornOld).toBeGreaterThan(steps / 2);
  }, 70_000);
});
