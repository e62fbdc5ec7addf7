import { and, asc, eq, gt, inArray, or, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { modelAliases, modelEndpoints, models, providers, type ModelEndpointRow, type ModelRow, type ProviderRow } from './schema.js';

/** Catalog reads. Batch functions return results in the order of the keys they were given, as DataLoader needs. */

export function findModel(db: Db, idOrAlias: string): ModelRow | undefined {
  const byId = db.select().from(models).where(eq(models.id, idOrAlias)).get();
  if (byId) return byId;
  const alias = db.select({ modelId: modelAliases.modelId }).from(modelAliases).where(eq(modelAliases.alias, idOrAlias.toLowerCase())).get();
  return alias ? db.select().from(models).where(eq(models.id, alias.modelId)).get() : undefined;
}

export function findEndpoint(db: Db, providerId: string, providerModelId: string): ModelEndpointRow | undefined {
  return db
    .select()
    .from(modelEndpoints)
    .where(and(eq(modelEndpoints.providerId, providerId), eq(modelEndpoints.providerModelId, providerModelId)))
    .get();
}

export function modelsByIds(db: Db, ids: readonly string[]): Array<ModelRow | undefined> {
  const rows = db.select().from(models).where(inArray(models.id, [...ids])).all();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

export function providersByIds(db: Db, ids: readonly string[]): Array<ProviderRow | undefined> {
  const rows = db.select().from(providers).where(inArray(providers.id, [...ids])).all();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

function groupBy<T>(rows: T[], keys: readonly string[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}

export function endpointsByModelIds(db: Db, modelIds: readonly string[]): ModelEndpointRow[][] {
  const rows = db
    .select()
    .from(modelEndpoints)
    .where(inArray(modelEndpoints.modelId, [...modelIds]))
    .orderBy(asc(modelEndpoints.createdAt), asc(modelEndpoints.id))
    .all();
  return groupBy(rows, modelIds, (row) => row.modelId);
}

export function endpointsByProviderIds(db: Db, providerIds: readonly string[]): ModelEndpointRow[][] {
  const rows = db
    .select()
    .from(modelEndpoints)
    .where(inArray(modelEndpoints.providerId, [...providerIds]))
    .orderBy(asc(modelEndpoints.modelId))
    .all();
  return groupBy(rows, providerIds, (row) => row.providerId);
}

export function aliasesByModelIds(db: Db, modelIds: readonly string[]): string[][] {
  const rows = db.select().from(modelAliases).where(inArray(modelAliases.modelId, [...modelIds])).orderBy(asc(modelAliases.alias)).all();
  return groupBy(rows, modelIds, (row) => row.modelId).map((group) => group.map((row) => row.alias));
}

export function listProviders(db: Db): ProviderRow[] {
  return db.select().from(providers).orderBy(asc(providers.id)).all();
}

export interface ModelPage {
  rows: ModelRow[];
  hasNextPage: boolean;
  totalCount: number;
}

/** Models ordered by id, after a cursor id. */
export function listModels(db: Db, options: { first: number; after?: string; search?: string }): ModelPage {
  const conditions = [];
  if (options.after) conditions.push(gt(models.id, options.after));
  if (options.search) {
    const pattern = `%${options.search.toLowerCase()}%`;
    conditions.push(or(sql`lower(${models.id}) like ${pattern}`, sql`lower(${models.name}) like ${pattern}`));
  }
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const rows = db
    .select()
    .from(models)
    .where(where)
    .orderBy(asc(models.id))
    .limit(options.first + 1)
    .all();
  const totalCount = db.select({ count: sql<number>`count(*)` }).from(models).get()?.count ?? 0;
  return { rows: rows.slice(0, options.first), hasNextPage: rows.length > options.first, totalCount };
}
