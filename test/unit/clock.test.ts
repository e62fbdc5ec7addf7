import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/clock.js';

describe('the manual clock', () => {
  it('runs a callback exactly at its due time, not a millisecond before', async () => {
    const clock = new ManualClock(1_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 100);
    await clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.now()).toBe(1_099);
    await clock.advance(1);
    expect(fired).toEqual([1_100]);
    await clock.advance(1_000);
    expect(fired).toEqual([1_100]);
  });

  it('runs callbacks in due order, ties in the order they were scheduled, each at its own time', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`first@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`second@${clock.now()}`), 10);
    await clock.advance(50);
    expect(fired).toEqual(['first@10', 'second@10', 'late@30']);
    expect(clock.now()).toBe(50);
  });

  it('lets woken code schedule more within the same advance', async () => {
    const clock = new ManualClock(0);
    const at: number[] = [];
    void (async () => {
      await clock.sleep(10);
      at.push(clock.now());
      await clock.sleep(10);
      at.push(clock.now());
    })();
    await clock.advance(19);
    expect(at).toEqual([10]);
    await clock.advance(1);
    expect(at).toEqual([10, 20]);
  });

  it('clears a timer, and rejects a sleep with its signal’s reason at once when aborted', async () => {
    const clock = new ManualClock(0);
    let fired = false;
    const timer = clock.setTimeout(() => (fired = true), 5);
    timer.clear();
    timer.clear();
    await clock.advance(10);
    expect(fired).toBe(false);

    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    expect(clock.pending).toEqual([]);
    await expect(clock.sleep(1, controller.signal)).rejects.toThrow('stop');
  });

  it('moves from timer to timer until a promise settles, and says when it waits on something else', async () => {
    const clock = new ManualClock(0);
    const slept = (async () => {
      await clock.sleep(250);
      await clock.sleep(750);
      return clock.now();
    })();
    expect(await clock.runUntilSettled(slept)).toBe(1_000);
    await expect(clock.runUntilSettled(new Promise(() => undefined))).rejects.toThrow(/something other than this clock/);
    clock.setTimeout(() => undefined, 10_000);
    await expect(clock.runUntilSettled(new Promise(() => undefined), 5_000)).rejects.toThrow(/within 5000 ms/);
  });

  it('never goes backwards', async () => {
    const clock = new ManualClock(0);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('the system clock', () => {
  it('reads Date.now and sleeps on real timers, abortably', async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    await systemClock.sleep(0);
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    controller.abort(new Error('no more waiting'));
    await expect(sleeping).rejects.toThrow('no more waiting');
    let fired = false;
    systemClock.setTimeout(() => (fired = true), 0).clear();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(fired).toBe(false);
  });
});
