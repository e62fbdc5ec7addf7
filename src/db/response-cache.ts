import { and, asc, count, eq, gt, inArray, lte, sum } from 'drizzle-orm';
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

/** How many of the oldest rows are read at a time while choosing which to evict. */
const EVICTION_BATCH = 256;

/**
 * Stores (or replaces) an entry, then deletes expired rows and, oldest first, as many rows as it takes to be within
 * both bounds again; all in one transaction. Returns how many rows went because of the bound (expired ones are not
 * evictions). The totals and the oldest rows are read from the covering age index, never from the answers' pages.
 */
export async function putCacheEntry(db: Db, entry: StoredCacheEntry, bounds: CacheBounds, now: number): Promise<number> {
  const sizeBytes = Buffer.byteLength(entry.answer);
  return db.transaction((tx) => {
    tx.insert(responseCache)
      .values({ ...entry, sizeBytes })
      .onConflictDoUpdate({ target: responseCache.key, set: { answer: entry.answer, sizeBytes, createdAt: entry.createdAt, expiresAt: entry.expiresAt } })
      .run();
    tx.delete(responseCache).where(lte(responseCache.expiresAt, now)).run();
    const totals = tx.select({ entries: count(), bytes: sum(responseCache.sizeBytes) }).from(responseCache).get();
    let excessEntries = (totals?.entries ?? 0) - bounds.maxEntries;
    let excessBytes = Number(totals?.bytes ?? 0) - bounds.maxBytes;
    const doomed: string[] = [];
    for (let offset = 0; excessEntries > 0 || excessBytes > 0; offset += EVICTION_BATCH) {
      const oldest = tx
        .select({ key: responseCache.key, sizeBytes: responseCache.sizeBytes })
        .from(responseCache)
        .orderBy(asc(responseCache.createdAt), asc(responseCache.key))
        .limit(EVICTION_BATCH)
        .offset(offset)
        .all();
      if (oldest.length === 0) break;
      for (const row of oldest) {
        if (excessEntries <= 0 && excessBytes <= 0) break;
        doomed.push(row.key);
        excessEntries--;
        excessBytes -= row.sizeBytes;
      }
    }
    for (let start = 0; start < doomed.length; start += EVICTION_BATCH) {
      tx.delete(responseCache).where(inArray(responseCache.key, doomed.slice(start, start + EVICTION_BATCH))).run();
    }
    return doomed.length;
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
