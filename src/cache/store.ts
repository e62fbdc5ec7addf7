/**
 * Where cached answers live: the database by default (src/cache/database-store.ts), Redis when REDIS_URL is set
 * (src/cache/redis-store.ts), chosen once in buildApp. Entries are opaque text to a store; each expires after its
 * own TTL and the store keeps itself under a size bound by evicting its oldest entries.
 */
export interface ResponseCacheStore {
  /** The entry under `key`, unless it is missing or has expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores or replaces the entry; resolves with how many older entries the size bound evicted to make room. */
  set(key: string, value: string, ttlMs: number): Promise<{ evicted: number }>;
  /** Removes an entry (one that could not be read back); says whether there was one. */
  evict(key: string): Promise<boolean>;
  /** Live entries and their bytes. */
  stats(): Promise<{ entries: number; bytes: number }>;
}

export interface CacheSizeBound {
  maxEntries: number;
  maxBytes: number;
}
