import { and, asc, count, desc, eq, gt, gte, isNull, lt, ne, or, type SQL } from 'drizzle-orm';
import type { Usage } from '../providers/types.js';
import type { Db } from './client.js';
import { generations, type GenerationRow, type GenerationStatus } from './schema.js';

export interface GenerationFilter {
  apiKeyId?: string | null;
  modelId?: string;
  providerId?: string;
  status?: GenerationStatus;
  /** The end user the caller named (`user`). */
  user?: string;
  from?: number;
  to?: number;
}

/** A recorded generation's usage and cost, in the shape every reader of the ledger answers with. */
export function generationUsage(row: GenerationRow): Usage & { costPicos: number | null } {
  return {
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    totalTokens: row.totalTokens,
    cachedPromptTokens: row.cachedPromptTokens,
    reasoningTokens: row.reasoningTokens,
    estimated: row.usageEstimated,
    costPicos: row.costPicos,
    ...(row.cacheWrite5mTokens + row.cacheWrite1hTokens > 0 ? { cacheWriteTokens: row.cacheWrite5mTokens + row.cacheWrite1hTokens } : {}),
    ...(row.cacheWrite1hTokens > 0 ? { cacheWrite1hTokens: row.cacheWrite1hTokens } : {}),
  };
}

export function findGeneration(db: Db, id: string): GenerationRow | undefined {
  return db.select().from(generations).where(eq(generations.id, id)).get();
}

export interface GenerationPage {
  limit: number;
  /** Rows older than this id (the next page, newest first). */
  olderThan?: string;
  /** Rows newer than this id (the previous page). */
  newerThan?: string;
  /** Oldest first, for `last`: the connection helper reverses them back. */
  oldestFirst?: boolean;
}

/** Newest first; ids sort by creation time, so the id is the cursor. */
export function listGenerations(db: Db, filter: GenerationFilter, page: GenerationPage): GenerationRow[] {
  const conditions = filterConditions(filter);
  if (page.olderThan) conditions.push(lt(generations.id, page.olderThan));
  if (page.newerThan) conditions.push(gt(generations.id, page.newerThan));
  return db
    .select()
    .from(generations)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(page.oldestFirst ? asc(generations.id) : desc(generations.id))
    .limit(page.limit)
    .all();
}

function filterConditions(filter: GenerationFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.apiKeyId !== undefined) conditions.push(filter.apiKeyId === null ? isNull(generations.apiKeyId) : eq(generations.apiKeyId, filter.apiKeyId));
  if (filter.modelId) conditions.push(eq(generations.modelId, filter.modelId));
  if (filter.providerId) conditions.push(eq(generations.providerId, filter.providerId));
  if (filter.status) conditions.push(eq(generations.status, filter.status));
  if (filter.user !== undefined) conditions.push(eq(generations.endUser, filter.user));
  if (filter.from !== undefined) conditions.push(gte(generations.createdAt, filter.from));
  if (filter.to !== undefined) conditions.push(lt(generations.createdAt, filter.to));
  return conditions;
}

/** The rows listGenerations pages through, all pages together. */
export function countGenerations(db: Db, filter: GenerationFilter): number {
  const conditions = filterConditions(filter);
  return db.select({ count: count() }).from(generations).where(conditions.length ? and(...conditions) : undefined).get()?.count ?? 0;
}

export const INTERRUPTED_COLUMNS = { status: 'INTERRUPTED', finishReason: 'error', errorCode: 'INTERRUPTED', errorMessage: 'the gateway stopped while this request was in flight' } as const;

/**
 * Marks rows left IN_PROGRESS by a crash: those requests were in flight when the process died. A SQLite file has
 * one gateway process, so every in-flight row but `ownInstanceId`'s belongs to a previous run.
 */
export function markInterrupted(db: Db, now = Date.now(), ownInstanceId?: string): number {
  const mine = ownInstanceId === undefined ? undefined : or(isNull(generations.instanceId), ne(generations.instanceId, ownInstanceId));
  return db
    .update(generations)
    .set({ ...INTERRUPTED_COLUMNS, finishedAt: now })
    .where(and(eq(generations.status, 'IN_PROGRESS'), mine))
    .run().changes;
}
