import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { cacheTotals, deleteCacheEntry, findCacheEntry, putCacheEntry } from '../db/response-cache.js';
import type { CacheSizeBound, ResponseCacheStore } from './store.js';

/** The response cache in the gateway's own database (the `response_cache` table); one instance's, or a shared database's. */
export class DatabaseCacheStore implements ResponseCacheStore {
  constructor(
    private readonly db: Db,
    private readonly bound: CacheSizeBound,
    private readonly clock: Clock,
  ) {}

  get(key: string): Promise<string | undefined> {
    return findCacheEntry(this.db, key, this.clock.now());
  }

  async set(key: string, value: string, ttlMs: number): Promise<{ evicted: number }> {
    const now = this.clock.now();
    const evicted = await putCacheEntry(this.db, { key, answer: value, createdAt: now, expiresAt: now + ttlMs }, this.bound, now);
    return { evicted };
  }

  evict(key: string): Promise<boolean> {
    return deleteCacheEntry(this.db, key);
  }

  stats(): Promise<{ entries: number; bytes: number }> {
    return cacheTotals(this.db, this.clock.now());
  }
}
