import { desc, eq } from 'drizzle-orm';
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

export function listApiKeys(db: Db): ApiKeyRow[] {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt)).all();
}

export function revokeApiKey(db: Db, id: string, now: number): ApiKeyRow | undefined {
  db.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, id)).run();
  return findApiKey(db, id);
}

export function touchApiKey(db: Db, id: string, now: number): void {
  db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id)).run();
}

