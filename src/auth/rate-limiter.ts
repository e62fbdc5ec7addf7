/**
 * Token buckets per key and limit. The interface is asynchronous so that a shared store (Redis, with the same
 * arithmetic in a Lua script) can implement it for several gateway processes; the in-memory store does each
 * check-and-take synchronously, so it is exact under any number of concurrent requests in one process.
 */
export interface RateLimitStore {
  /**
   * Takes `amount` from the bucket `name` (capacity `perMinute`, refilled continuously) when at least
   * `required` is available. `waitMs` is 0 when taken, else how many milliseconds until it would be; `remaining` is
   * what the bucket holds after the answer (whole units, never below 0), so callers can tell the client without a
   * second read.
   */
  take(name: string, amount: number, perMinute: number, required?: number): Promise<TakeResult>;
  /** Adds (or, negative, takes) without checking: charging actual usage after the estimate. */
  adjust(name: string, amount: number, perMinute: number): Promise<void>;
}

export interface TakeResult {
  waitMs: number;
  remaining: number;
}

/** Milliseconds until a bucket holding `remaining` of `perMinute` is full again (OpenAI's reset: back to its initial state). */
export function resetMs(remaining: number, perMinute: number): number {
  return Math.max(0, Math.ceil(((perMinute - remaining) * 60_000) / perMinute));
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class InMemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private refill(name: string, perMinute: number): Bucket {
    const at = this.now();
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = { tokens: perMinute, updatedAt: at };
      this.buckets.set(name, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((at - bucket.updatedAt) * perMinute) / 60_000);
    bucket.updatedAt = at;
    return bucket;
  }

  async take(name: string, amount: number, perMinute: number, required = amount): Promise<TakeResult> {
    const bucket = this.refill(name, perMinute);
    const needed = Math.min(required, perMinute);
    if (bucket.tokens >= needed) {
      bucket.tokens -= amount;
      return { waitMs: 0, remaining: Math.max(0, Math.floor(bucket.tokens)) };
    }
    return { waitMs: Math.max(1, Math.ceil(((needed - bucket.tokens) * 60_000) / perMinute)), remaining: Math.max(0, Math.floor(bucket.tokens)) };
  }

  async adjust(name: string, amount: number, perMinute: number): Promise<void> {
    const bucket = this.refill(name, perMinute);
    bucket.tokens = Math.min(perMinute, bucket.tokens + amount);
  }
}
