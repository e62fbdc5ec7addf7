import { InMemoryRateLimitStore, type RateLimitStore, type TakeResult } from '../auth/rate-limiter.js';
import { SharedStateUnavailableError } from '../errors.js';
import { TOKEN_BUCKET } from './scripts.js';
import type { SharedState } from './shared-state.js';

/**
 * Token buckets in Redis, one script call per check or charge, so N requests per window hold across every
 * instance. With Redis unreachable: per-instance buckets (SWITCHBOARD_REDIS_FAILURE=open, each instance then
 * admits up to the limit on its own) or a refusal (closed).
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly fallback: RateLimitStore;

  constructor(
    private readonly state: SharedState,
    /** Only for tests of the script's window: milliseconds passed to the script instead of Redis TIME. */
    private readonly now?: () => number,
  ) {
    this.fallback = new InMemoryRateLimitStore(now);
  }

  async take(name: string, amount: number, perMinute: number, required = amount): Promise<TakeResult> {
    try {
      const reply = await this.state.eval(TOKEN_BUCKET, [this.state.key('rate', name)], ['take', amount, perMinute, required, this.clock()]);
      if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`unexpected Redis reply: ${String(reply)}`);
      return { waitMs: toNumber(reply[0]), remaining: toNumber(reply[1]) };
    } catch (error) {
      return this.without(error, () => this.fallback.take(name, amount, perMinute, required));
    }
  }

  async adjust(name: string, amount: number, perMinute: number): Promise<void> {
    try {
      await this.state.eval(TOKEN_BUCKET, [this.state.key('rate', name)], ['adjust', amount, perMinute, 0, this.clock()]);
    } catch (error) {
      await this.without(error, () => this.fallback.adjust(name, amount, perMinute));
    }
  }

  private clock(): number | string {
    return this.now ? Math.floor(this.now()) : '';
  }

  private without<T>(error: unknown, local: () => Promise<T>): Promise<T> {
    if (this.state.failureMode === 'closed') {
      this.state.refused('rate_limits');
      throw new SharedStateUnavailableError('limits', { cause: error });
    }
    this.state.fellBack('rate_limits');
    return local();
  }
}

export function toNumber(value: unknown): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) throw new Error(`unexpected Redis reply: ${String(value)}`);
  return number;
}
