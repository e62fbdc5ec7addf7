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
