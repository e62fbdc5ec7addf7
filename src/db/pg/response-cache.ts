import { and, asc, count, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { CacheBounds, StoredCacheEntry } from '../response-cache.js';
import type { ResponseCacheRows } from '../storage.js';
import type { PgDb } from './client.js';
import { responseCache } from './schema.js';

const EVICTION_BATCH = 256;

/**
 * The PostgreSQL twin of ../response-cache.ts. A write takes a transaction-scoped advisory lock first, so that
 * instances sharing the table evict one at a time and two of them never both delete to make the same room.
 */
export function createPgResponseCache(db: PgDb): ResponseCacheRows {
  const totals = async (where: ReturnType<typeof gt> | undefined) => {
    const [row] = await db.select({ entries: count(), bytes: sql<string | null>`sum(${responseCache.sizeBytes})::text` }).from(responseCache).where(where);
    return { entries: row?.entries ?? 0, bytes: Number(row?.bytes ?? 0) };
  };
  return {
    find: async (key, now) =>
      (await db.select({ answer: responseCache.answer }).from(responseCache).where(and(eq(responseCache.key, key), gt(responseCache.expiresAt, now))).limit(1))[0]?.answer,
    put: (entry: StoredCacheEntry, bounds: CacheBounds, now: number) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('switchboard-response-cache', 0))`);
        const sizeBytes = Buffer.byteLength(entry.answer);
        await tx
          .insert(responseCache)
          .values({ ...entry, sizeBytes })
          .onConflictDoUpdate({ target: responseCache.key, set: { answer: entry.answer, sizeBytes, createdAt: entry.createdAt, expiresAt: entry.expiresAt } });
        await tx.delete(responseCache).where(lte(responseCache.expiresAt, now));
        const [sums] = await tx.select({ entries: count(), bytes: sql<string | null>`sum(${responseCache.sizeBytes})::text` }).from(responseCache);
        let excessEntries = (sums?.entries ?? 0) - bounds.maxEntries;
        let excessBytes = Number(sums?.bytes ?? 0) - bounds.maxBytes;
        const doomed: string[] = [];
        for (let offset = 0; excessEntries > 0 || excessBytes > 0; offset += EVICTION_BATCH) {
          const oldest = await tx
            .select({ key: responseCache.key, sizeBytes: responseCache.sizeBytes })
            .from(responseCache)
            .orderBy(asc(responseCache.createdAt), sql`${responseCache.key} collate "C"`)
            .limit(EVICTION_BATCH)
            .offset(offset);
          if (oldest.length === 0) break;
          for (const row of oldest) {
            if (excessEntries <= 0 && excessBytes <= 0) break;
            doomed.push(row.key);
            excessEntries--;
            excessBytes -= row.sizeBytes;
          }
        }
        for (let start = 0; start < doomed.length; start += EVICTION_BATCH) {
          await tx.delete(responseCache).where(inArray(responseCache.key, doomed.slice(start, start + EVICTION_BATCH)));
        }
        return doomed.length;
      }),
    delete: async (key) => (await db.delete(responseCache).where(eq(responseCache.key, key)).returning({ key: responseCache.key })).length > 0,
    totals: (now) => totals(gt(responseCache.expiresAt, now)),
  };
}
