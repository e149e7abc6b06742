import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSystemClock, MAX_TIMER_DELAY, TimerWheel } from '../src/clock.js';
import { forEachInSlices } from '../src/slices.js';

/** Keeps the CPU busy, as a heavy timer callback (an expiring session) would. */
const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
};

const nextTurns = async (turns: number): Promise<void> => {
  for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

const waitFor = async (done: () => boolean, limitMs = 2_000): Promise<void> => {
  const until = performance.now() + limitMs;
  while (!done() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('TimerWheel', () => {
  it('lets other work run once callbacks due together have used up the slice budget', async () => {
    const slicer = new TimerWheel(10, 1);
    const order: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      slicer.schedule(() => {
        if (i === 0) setImmediate(() => order.push('other work'));
        busy(4);
        order.push(`timer ${i}`);
      }, 1);
    }
    await waitFor(() => order.length === 9);
    expect(order.indexOf('other work')).toBeGreaterThan(0);
    expect(order.indexOf('other work')).toBeLessThan(8);
  });

  it('runs every due callback, in the order they fell due', async () => {
    const slicer = new TimerWheel(1, 1);
    const ran: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      slicer.schedule(() => {
        busy(1);
        ran.push(i);
      }, 1);
    }
    await waitFor(() => ran.length === 20);
    expect(ran).toEqual([...Array(20).keys()]);
    expect(slicer.backlog).toBe(0);
  });

  it('runs a callback scheduled with no delay by a due callback right after it, before the queued ones', async () => {
    const wheel = new TimerWheel(10, 1);
    const ran: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      wheel.schedule(() => {
        ran.push(name);
        wheel.schedule(() => ran.push(`${name} then`), 0);
      }, 1);
    }
    await waitFor(() => ran.length === 6);
    expect(ran).toEqual(['a', 'a then', 'b', 'b then', 'c', 'c then']);
  });

  it('never runs a no-delay callback cancelled by the callback that scheduled it', async () => {
    const wheel = new TimerWheel(10, 1);
    const ran: string[] = [];
    wheel.schedule(() => {
      wheel.cancel(wheel.schedule(() => ran.push('cancelled'), 0));
      ran.push('first');
    }, 1);
    wheel.schedule(() => ran.push('second'), 1);
    await waitFor(() => ran.length >= 2);
    await nextTurns(3);
    expect(ran).toEqual(['first', 'second']);
  });

  it('never runs a callback cancelled while it waited for its slice', async () => {
    const slicer = new TimerWheel(5, 1);
    const ran: number[] = [];
    const entries = Array.from({ length: 6 }, (_, i) =>
      slicer.schedule(() => {
        if (i === 0) slicer.cancel(entries[5] as ReturnType<TimerWheel['schedule']>);
        busy(3);
        ran.push(i);
      }, 1),
    );
    await waitFor(() => ran.length === 5);
    await nextTurns(3);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
  });

  describe('on an injected clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /**
     * Schedules one callback `delay` ms after `start` on a wheel of 10 ms buckets whose time is
     * `now`, then moves `now` and the (fake) Node timers forward together, 1 ms at a time, and
     * returns the instant the callback ran.
     */
    const firingInstant = (start: number, delay: number): number => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
      let now = start;
      const wheel = new TimerWheel(10, 10, undefined, () => now);
      let firedAt: number | undefined;
      wheel.schedule(() => (firedAt = now), delay);
      for (let step = 0; step < delay + 100 && firedAt === undefined; step += 1) {
        now += 1;
        vi.advanceTimersByTime(1);
      }
      if (firedAt === undefined) throw new Error(`Never fired within ${delay + 100} ms`);
      return firedAt;
    };

    it.each([...Array(10).keys()])(
      'fires no earlier than asked and at most one bucket late, from %i ms past a bucket edge',
      (offset) => {
        const start = 1_000_000 + offset;
        const due = start + 25;
        const firedAt = firingInstant(start, 25);
        expect(firedAt - due).toBeGreaterThanOrEqual(0);
        expect(firedAt - due).toBeLessThan(10);
      },
    );

    it('fires exactly on time when the deadline falls on a bucket edge', () => {
      expect(firingInstant(1_000_000, 30)).toBe(1_000_030);
    });
  });

  describe('buckets, on an injected clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** A wheel of 10 ms buckets whose time is `clock.now`, with Node's timers faked to match it. */
    const wheelOnFakeTime = () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
      const clock = { now: 1_000_000 };
      const wheel = new TimerWheel(10, 10, undefined, () => clock.now);
      const advance = (ms: number): void => {
        for (let step = 0; step < ms; step += 1) {
          clock.now += 1;
          vi.advanceTimersByTime(1);
        }
      };
      return { wheel, clock, advance };
    };

    it.each([
      { cancelled: [], ran: [0, 1, 2, 3, 4] },
      { cancelled: [0], ran: [1, 2, 3, 4] },
      { cancelled: [4], ran: [0, 1, 2, 3] },
      { cancelled: [2], ran: [0, 1, 3, 4] },
      { cancelled: [0, 2, 4], ran: [1, 3] },
      { cancelled: [1, 2, 3, 4], ran: [0] },
      { cancelled: [0, 1, 2, 3, 4], ran: [] },
    ])(
      'runs what is left of a bucket in scheduling order when $cancelled were cancelled',
      ({ cancelled, ran }) => {
        const { wheel, advance } = wheelOnFakeTime();
        const order: number[] = [];
        const timers = [0, 1, 2, 3, 4].map((i) => wheel.schedule(() => order.push(i), 25));
        for (const i of cancelled) wheel.cancel(timers[i] as (typeof timers)[number]);
        advance(40);
        expect(order).toEqual(ran);
      },
    );

    it('re-arms a timer into the same bucket over and over with one Node timer, and still fires it', () => {
      const { wheel, clock, advance } = wheelOnFakeTime();
      let firedAt: number | undefined;
      let timer = wheel.schedule(() => (firedAt = clock.now), 50);
      for (let i = 0; i < 100; i += 1) {
        wheel.cancel(timer);
        timer = wheel.schedule(() => (firedAt = clock.now), 50);
      }
      expect(wheel.bucketCount).toBe(1);
      advance(60);
      expect(firedAt).toBe(1_000_050);
      expect(wheel.bucketCount).toBe(0);
    });

    it('keeps at most one bucket that cancels emptied', () => {
      const { wheel, advance } = wheelOnFakeTime();
      let ran = 0;
      const timers = [15, 25, 35, 45, 55].map((delay) => wheel.schedule(() => (ran += 1), delay));
      expect(wheel.bucketCount).toBe(5);
      for (const timer of timers) wheel.cancel(timer);
      expect(wheel.bucketCount).toBe(1);
      advance(70);
      expect({ ran, buckets: wheel.bucketCount }).toEqual({ ran: 0, buckets: 0 });
    });

    it('never drops the kept empty bucket once a new timer waits in it', () => {
      const { wheel, clock, advance } = wheelOnFakeTime();
      let firedAt: number | undefined;
      wheel.cancel(wheel.schedule(() => {}, 20));
      wheel.schedule(() => (firedAt = clock.now), 20);
      wheel.cancel(wheel.schedule(() => {}, 40));
      advance(30);
      expect(firedAt).toBe(1_000_020);
    });
  });

  it('keeps running later callbacks when one throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const wheel = new TimerWheel(10, 1, (error) => errors.push(error));
    const ran: string[] = [];
    wheel.schedule(() => {
      throw new Error('boom');
    }, 1);
    wheel.schedule(() => ran.push('after'), 1);
    await waitFor(() => ran.length === 1);
    expect({ ran, errors: errors.map((e) => (e as Error).message) }).toEqual({
      ran: ['after'],
      errors: ['boom'],
    });
  });

  it('never runs a callback cancelled before it fell due', async () => {
    const slicer = new TimerWheel();
    let ran = false;
    slicer.cancel(slicer.schedule(() => (ran = true), 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ran).toBe(false);
  });
});

describe('systemClock', () => {
  it('does not keep the process alive for a pending timer', () => {
    const script =
      "import { createSystemClock } from './src/clock.ts'; createSystemClock().setTimeout(() => {}, 60_000);";
    const started = Date.now();
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      timeout: 15_000,
    });
    expect({ status: result.status, quick: Date.now() - started < 15_000 }).toEqual({
      status: 0,
      quick: true,
    });
  });

  it('drains a crowd of due callbacks slice after slice on a quiet server, without waiting for other events', () => {
    // A listening server keeps the loop alive; no other timer or I/O wakes it between slices.
    const script = [
      "import net from 'node:net';",
      "import { createSystemClock } from './src/clock.ts';",
      "const server = net.createServer().listen(0, '127.0.0.1');",
      'const clock = createSystemClock(1, 1);',
      'let ran = 0;',
      'const busy = () => { const until = performance.now() + 1; while (performance.now() < until) {} };',
      'for (let i = 0; i < 200; i++) clock.setTimeout(() => { busy(); if (++ran === 200) { console.log("drained"); server.close(); } }, 5);',
      "setTimeout(() => { console.log('stuck after', ran); process.exit(1); }, 5_000).unref();",
    ].join('\n');
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      timeout: 15_000,
    });
    expect({ status: result.status, out: String(result.stdout).trim() }).toEqual({
      status: 0,
      out: 'drained',
    });
  });

  it('clamps delays longer than a Node timer can wait instead of firing at once', async () => {
    const clock = createSystemClock();
    let ran = false;
    const handle = clock.setTimeout(() => (ran = true), MAX_TIMER_DELAY * 2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(ran).toBe(false);
    clock.clearTimeout(handle);
  });

  it("calls one shared callback with each timer's own argument, and never one that was cleared", async () => {
    const clock = createSystemClock(10, 1);
    const woken: string[] = [];
    const wake = (name: string) => woken.push(name);
    clock.setTimeoutFor?.(wake, 1, 'a');
    clock.clearTimeout(clock.setTimeoutFor?.(wake, 1, 'b'));
    clock.setTimeoutFor?.(wake, 2, 'c');
    await waitFor(() => woken.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(woken).toEqual(['a', 'c']);
  });
});

describe('forEachInSlices', () => {
  /** A stopwatch that moves `step` ms each time it is read, as if each visit took that long. */
  const ticking = (step: number): (() => number) => {
    let now = 0;
    return () => {
      now += step;
      return now;
    };
  };

  it('finishes the whole set synchronously on a clock that does not move while it runs', () => {
    const items = Array.from({ length: 1_000 }, (_, i) => i);
    const seen: number[] = [];
    const stopped = (): number => 0;
    forEachInSlices(items, (n) => seen.push(n), stopped, 0);
    expect(seen).toEqual(items);
  });

  it('yields to the event loop once a slice has used its budget, and still visits every item once, in order', async () => {
    const seen: number[] = [];
    const events: string[] = [];
    // Each read of the clock advances it by 1 ms: a slice of budget 3 ends after its fourth visit.
    forEachInSlices(
      Array.from({ length: 10 }, (_, i) => i),
      (n) => seen.push(n),
      ticking(1),
      3,
    );
    expect(seen).toEqual([0, 1, 2, 3]);
    setImmediate(() => events.push(`other work after ${seen.length}`));
    await nextTurns(3);
    expect(seen).toEqual([...Array(10).keys()]);
    expect(events).toEqual(['other work after 8']);
  });
});
