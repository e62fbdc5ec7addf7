import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** A number in [0, 1). */
  random: () => number;
}

/**
 * The wait before retry number `retry` (1 for the first retry): exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" (between half and all of it) so that requests failing together do not come back together.
 * A Retry-After from the provider is a floor: we never come back sooner than it asked.
 */
export function retryDelayMs(retry: number, options: BackoffOptions, retryAfterMs?: number): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  const jittered = exponential / 2 + (options.random() * exponential) / 2;
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export const abortableSleep: Sleep = async (ms, signal) => {
  if (ms <= 0) {
    signal.throwIfAborted();
    return;
  }
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  }
};
