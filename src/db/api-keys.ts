import { and, asc, count, desc, eq, gt, lt, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { apiKeys, type ApiKeyRow } from './schema.js';

export function insertApiKey(db: Db, row: ApiKeyRow): void {
  db.insert(apiKeys).values(row).run();
}

export function findApiKeyByHash(db: Db, secretHash: string): ApiKeyRow | undefined {
  return db.select().from(apiKeys).where(eq(apiKeys.secretHash, secretHash)).get();
}

export function findApiKey(db: Db, id: string): ApiKeyRow | undefined {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
}

export interface ApiKeyPage {
  limit: number;
  /** Keys created before this id (the next page, newest first); ids sort by creation time. */
  olderThan?: string;
  /** Keys created after this id (the previous page). */
  newerThan?: string;
  /** Oldest first, for `last`: the connection helper reverses them back. */
  oldestFirst?: boolean;
}

/** Newest first, one page; the id is the cursor. */
export function listApiKeys(db: Db, page: ApiKeyPage): ApiKeyRow[] {
  const conditions: SQL[] = [];
  if (page.olderThan !== undefined) conditions.push(lt(apiKeys.id, page.olderThan));
  if (page.newerThan !== undefined) conditions.push(gt(apiKeys.id, page.newerThan));
  return db
    .select()
    .from(apiKeys)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(page.oldestFirst ? asc(apiKeys.id) : desc(apiKeys.id))
    .limit(page.limit)
    .all();
}

export function countApiKeys(db: Db): number {
  return db.select({ count: count() }).from(apiKeys).get()?.count ?? 0;
}

export function revokeApiKey(db: Db, id: string, now: number): ApiKeyRow | undefined {
  db.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, id)).run();
  return findApiKey(db, id);
}

export function touchApiKey(db: Db, id: string, now: number): void {
  db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id)).run();
}

