import { asc, getTableColumns, gt, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../client.js';
import type { PgClient, PgDb } from '../pg/client.js';
import { writeGenerationsPg } from '../pg/ledger.js';
import * as pg from '../pg/schema.js';
import * as lite from '../schema.js';

/** Rows per read and per write: a ledger of millions moves in bounded memory. */
const PAGE = 1000;

/** `col = excluded.col` for every column: a copy run again overwrites a row with the source's values. */
function overwriteAll(table: PgTable): Record<string, SQL> {
  return Object.fromEntries(Object.entries(getTableColumns(table)).map(([key, column]) => [key, sql.raw(`excluded."${column.name}"`)]));
}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export interface CopyReport {
  tables: TableCount[];
  /** The ledger's total recorded cost in pico-dollars, exact, on each side. */
  sourceCostPicos: bigint;
  targetCostPicos: bigint;
}

/**
 * Copies a SQLite database into PostgreSQL: providers, the catalog (models, aliases, endpoints, admin edits
 * included), keys, the ledger, stored contents and the audit trail, in foreign-key order. Each row is upserted by
 * its primary key, so running it again gives the same rows (and picks up rows added since). Pages by primary key.
 */
export async function copySqliteToPostgres(source: Db, target: PgDb, client: PgClient, log: (line: string) => void = () => undefined): Promise<CopyReport> {
  await copyPaged('providers', (after) => source.select().from(lite.providers).where(gt(lite.providers.id, after)).orderBy(asc(lite.providers.id)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.providers).values(rows).onConflictDoUpdate({ target: pg.providers.id, set: overwriteAll(pg.providers) });
  }, (row) => row.id, log);
  await copyPaged('models', (after) => source.select().from(lite.models).where(gt(lite.models.id, after)).orderBy(asc(lite.models.id)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.models).values(rows).onConflictDoUpdate({ target: pg.models.id, set: overwriteAll(pg.models) });
  }, (row) => row.id, log);
  await copyPaged('model_aliases', (after) => source.select().from(lite.modelAliases).where(gt(lite.modelAliases.alias, after)).orderBy(asc(lite.modelAliases.alias)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.modelAliases).values(rows).onConflictDoUpdate({ target: pg.modelAliases.alias, set: overwriteAll(pg.modelAliases) });
  }, (row) => row.alias, log);
  await copyPaged('model_endpoints', (after) => source.select().from(lite.modelEndpoints).where(gt(lite.modelEndpoints.id, after)).orderBy(asc(lite.modelEndpoints.id)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.modelEndpoints).values(rows).onConflictDoUpdate({ target: pg.modelEndpoints.id, set: overwriteAll(pg.modelEndpoints) });
  }, (row) => row.id, log);
  await copyPaged('api_keys', (after) => source.select().from(lite.apiKeys).where(gt(lite.apiKeys.id, after)).orderBy(asc(lite.apiKeys.id)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.apiKeys).values(rows).onConflictDoUpdate({ target: pg.apiKeys.id, set: overwriteAll(pg.apiKeys) });
  }, (row) => row.id, log);
  await copyPaged('generations', (after) => source.select().from(lite.generations).where(gt(lite.generations.id, after)).orderBy(asc(lite.generations.id)).limit(PAGE).all(), (rows) => writeGenerationsPg(client, rows), (row) => row.id, log);
  await copyPaged('generation_contents', (after) => source.select().from(lite.generationContents).where(gt(lite.generationContents.generationId, after)).orderBy(asc(lite.generationContents.generationId)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.generationContents).values(rows).onConflictDoUpdate({ target: pg.generationContents.generationId, set: overwriteAll(pg.generationContents) });
  }, (row) => row.generationId, log);
  await copyPaged('audit_log', (after) => source.select().from(lite.auditLog).where(gt(lite.auditLog.id, after)).orderBy(asc(lite.auditLog.id)).limit(PAGE).all(), async (rows) => {
    await target.insert(pg.auditLog).values(rows).onConflictDoUpdate({ target: pg.auditLog.id, set: overwriteAll(pg.auditLog) });
  }, (row) => row.id, log);

  const tables: TableCount[] = [];
  for (const name of TABLES) {
    const sourceCount = source.get<{ n: number }>(sql`select count(*) as n from ${sql.identifier(name)}`)?.n ?? 0;
    const [targetCount] = await client<Array<{ n: number }>>`select count(*)::int as n from ${client(name)}`;
    tables.push({ table: name, source: sourceCount, target: targetCount?.n ?? 0 });
  }
  const sourceCost = source.get<{ cost: string }>(sql`select cast(coalesce(sum(cost_picos), 0) as text) as cost from generations`)?.cost ?? '0';
  const [targetCost] = await client<Array<{ cost: string }>>`select coalesce(sum(cost_picos), 0)::text as cost from generations`;
  return { tables, sourceCostPicos: BigInt(sourceCost), targetCostPicos: BigInt(targetCost?.cost ?? '0') };
}

export const TABLES = ['providers', 'models', 'model_aliases', 'model_endpoints', 'api_keys', 'generations', 'generation_contents', 'audit_log'] as const;

async function copyPaged<T>(name: string, read: (after: string) => T[], write: (rows: T[]) => Promise<void>, keyOf: (row: T) => string, log: (line: string) => void): Promise<number> {
  let after = '';
  let copied = 0;
  for (;;) {
    const rows = read(after);
    if (rows.length === 0) break;
    await write(rows);
    copied += rows.length;
    after = keyOf(rows[rows.length - 1] as T);
    if (rows.length < PAGE) break;
  }
  log(`${name}: ${copied} rows copied`);
  return copied;
}
