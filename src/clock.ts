/**
 * Time as routing, the completion service, the recorder and key checks see it. Everything that reads the time or
 * waits for it (deadlines, attempt timeouts, hedge delays, retry backoff, breaker cool-downs, the recorder's start
 * delay) takes a Clock, so tests drive it with a ManualClock instead of waiting on the wall clock.
 * A leaf: it imports nothing, so any layer may depend on it.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Calls `callback` once, `ms` from now (at once for 0 or less, on a later turn — never synchronously). */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Resolves after `ms`; rejects with the signal's reason as soon as it aborts (already aborted: at once). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A pending callback of a clock; clearing one that already ran or was cleared does nothing. */
export interface Timer {
  clear(): void;
}

/** Shared by both clocks so an abortable sleep behaves the same on either. */
function sleepOn(clock: Pick<Clock, 'setTimeout'>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.clear();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The process's real clock. `now` reads Date.now at each call, so a test that fakes Date moves it too. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    return { clear: () => clearTimeout(handle) };
  },
  sleep(ms, signal) {
    return sleepOn(systemClock, ms, signal);
  },
};

interface Scheduled {
  at: number;
  /** Orders callbacks due at the same time by when they were scheduled, as real timers are. */
  sequence: number;
  ms: number;
  callback: () => void;
}

/** One macrotask turn: every promise reaction queued so far (and those they queue) has run by then. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock that stands still until a test moves it. `advance(ms)` runs every callback that falls due on the way, in
 * order, each at its own due time, letting the code it wakes react (and schedule more) before the next one runs;
 * so "nothing before the deadline, the timeout exactly at it" is checked to the millisecond, in no wall time.
 */
export class ManualClock implements Clock {
  private current: number;
  private sequence = 0;
  private scheduled: Scheduled[] = [];

  /** Starts at a fixed, realistic instant so absolute times (ISO dates, retryAt) look like real ones. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const entry: Scheduled = { at: this.current + Math.max(0, ms), sequence: this.sequence++, ms, callback };
    this.scheduled.push(entry);
    return { clear: () => this.remove(entry) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Callbacks waiting, soonest first, with the delay each was scheduled with (to find "the backoff sleep"). */
  get pending(): ReadonlyArray<{ at: number; ms: number }> {
    return [...this.scheduled].sort(byDue).map(({ at, ms }) => ({ at, ms }));
  }

  /** Lets the code under test run up to its next wait on this clock, firing what is due now, without moving time. */
  async settle(): Promise<void> {
    await this.advanceTo(this.current);
  }

  /** Moves time forward by `ms`, running each callback that falls due, at its due time. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError('a clock only moves forward');
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await turn();
    for (;;) {
      const next = [...this.scheduled].sort(byDue)[0];
      if (!next || next.at > target) break;
      this.remove(next);
      this.current = Math.max(this.current, next.at);
      next.callback();
      await turn();
    }
    this.current = Math.max(this.current, target);
  }

  /**
   * Moves time from one due callback to the next until `promise` settles, and returns its outcome; throws when it
   * is still pending with nothing left on this clock (it waits on something else, which would otherwise hang the
   * test) or after `limitMs` of clock time.
   */
  async runUntilSettled<T>(promise: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    // A rejection is reported through `watched`; this keeps Node from calling it unhandled meanwhile.
    watched.catch(() => undefined);
    const stopAt = this.current + limitMs;
    await turn();
    while (!settled) {
      const next = [...this.scheduled].sort(byDue)[0];
      if (!next) throw new Error('the promise waits on something other than this clock');
      if (next.at > stopAt) throw new Error(`the promise did not settle within ${limitMs} ms of clock time`);
      await this.advanceTo(next.at);
    }
    return watched;
  }

  private remove(entry: Scheduled): void {
    const index = this.scheduled.indexOf(entry);
    if (index !== -1) this.scheduled.splice(index, 1);
  }
}

function byDue(a: Scheduled, b: Scheduled): number {
  return a.at - b.at || a.sequence - b.sequence;
}
