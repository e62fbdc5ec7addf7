import { and, count, eq, gt, lte, sql, sum } from 'drizzle-orm';
import type { Db } from './client.js';
import { responseCache } from './schema.js';

/**
 * The response cache's queries. They return Promises although better-sqlite3 answers at once, so the PostgreSQL
 * twin (and the cache above it) keep one shape.
 */

export interface StoredCacheEntry {
  key: string;
  answer: string;
  createdAt: number;
  expiresAt: number;
}

export interface CacheBounds {
  maxEntries: number;
  maxBytes: number;
}

/** The answer stored under `key` unless it has expired by `now`. */
export async function findCacheEntry(db: Db, key: string, now: number): Promise<string | undefined> {
  return db
    .select({ answer: responseCache.answer })
    .from(responseCache)
    .where(and(eq(responseCache.key, key), gt(responseCache.expiresAt, now)))
    .get()?.answer;
}

/**
 * Stores (or replaces) an entry, then deletes expired rows and, newest kept first, every row past the entry or byte
 * bound; all in one transaction. Returns how many rows went because of the bound (expired ones are not evictions).
 */
export async function putCacheEntry(db: Db, entry: StoredCacheEntry, bounds: CacheBounds, now: number): Promise<number> {
  const sizeBytes = Buffer.byteLength(entry.answer);
  return db.transaction((tx) => {
    tx.insert(responseCache)
      .values({ ...entry, sizeBytes })
      .onConflictDoUpdate({ target: responseCache.key, set: { answer: entry.answer, sizeBytes, createdAt: entry.createdAt, expiresAt: entry.expiresAt } })
      .run();
    tx.delete(responseCache).where(lte(responseCache.expiresAt, now)).run();
    // The window query below sorts the whole table; most writes are within the bound and need only these sums.
    const totals = tx.select({ entries: count(), bytes: sum(responseCache.sizeBytes) }).from(responseCache).get();
    if ((totals?.entries ?? 0) <= bounds.maxEntries && Number(totals?.bytes ?? 0) <= bounds.maxBytes) return 0;
    // A running total over the newest rows first: everything from the row that crosses a bound onwards goes.
    const evicted = tx.run(sql`
      delete from response_cache where key in (
        select key from (
          select key,
                 sum(size_bytes) over (order by created_at desc, key desc) as running_bytes,
                 row_number() over (order by created_at desc, key desc) as position
          from response_cache
        ) where running_bytes > ${bounds.maxBytes} or position > ${bounds.maxEntries}
      )`);
    return evicted.changes;
  });
}

export async function deleteCacheEntry(db: Db, key: string): Promise<boolean> {
  return db.delete(responseCache).where(eq(responseCache.key, key)).run().changes > 0;
}

/** Live entries and their bytes (expired rows waiting for the next write are left out). */
export async function cacheTotals(db: Db, now: number): Promise<{ entries: number; bytes: number }> {
  const row = db
    .select({ entries: count(), bytes: sum(responseCache.sizeBytes) })
    .from(responseCache)
    .where(gt(responseCache.expiresAt, now))
    .get();
  return { entries: row?.entries ?? 0, bytes: Number(row?.bytes ?? 0) };
}
