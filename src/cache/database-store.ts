import type { Clock } from '../clock.js';
import type { ResponseCacheRows } from '../db/storage.js';
import type { CacheSizeBound, ResponseCacheStore } from './store.js';

/** The response cache in the gateway's own database (the `response_cache` table); one instance's, or a shared database's. */
export class DatabaseCacheStore implements ResponseCacheStore {
  constructor(
    private readonly rows: ResponseCacheRows,
    private readonly bound: CacheSizeBound,
    private readonly clock: Clock,
  ) {}

  get(key: string): Promise<string | undefined> {
    return this.rows.find(key, this.clock.now());
  }

  async set(key: string, value: string, ttlMs: number): Promise<{ evicted: number }> {
    const now = this.clock.now();
    const evicted = await this.rows.put({ key, answer: value, createdAt: now, expiresAt: now + ttlMs }, this.bound, now);
    return { evicted };
  }

  evict(key: string): Promise<boolean> {
    return this.rows.delete(key);
  }

  stats(): Promise<{ entries: number; bytes: number }> {
    return this.rows.totals(this.clock.now());
  }
}
