import { and, eq, gte, lt, sql } from 'drizzle-orm';
import { newId } from '../ids.js';
import type { Db } from './client.js';
import { findContent, saveContent } from './contents.js';
import { countGenerations, findGeneration, listGenerations, markInterrupted } from './generations.js';
import { GENERATION_COLUMNS, GENERATION_UPSERT_SET, generationValues, type LedgerStore } from './ledger.js';
import { generations, type GenerationRow } from './schema.js';
import { queryUsage } from './usage.js';

const toInteger = (value: boolean): number => (value ? 1 : 0);

/**
 * One upsert statement with positional parameters, prepared once per database, and one transaction per batch:
 * a row binds as an array in column order, with no per-column mapping through the ORM (bench/ledger-row.ts).
 */
export function prepareGenerationUpsert(db: Db, instanceId: string | null = null): (rows: readonly GenerationRow[]) => void {
  const client = db.$client;
  const columns = GENERATION_COLUMNS.map(([, column]) => column).join(', ');
  const marks = GENERATION_COLUMNS.map(() => '?').join(', ');
  const statement = client.prepare(`insert into generations (${columns}) values (${marks}) on conflict (id) do update set ${GENERATION_UPSERT_SET}`);
  const write = client.transaction((rows: readonly GenerationRow[]) => {
    for (const row of rows) statement.run(generationValues(row, toInteger, instanceId));
  });
  return (rows) => {
    write(rows);
  };
}

/** The ledger on SQLite: every call is synchronous underneath; the promises only match the PostgreSQL store. */
export function createSqliteLedger(db: Db, instanceId = newId('inst')): LedgerStore {
  const upsert = prepareGenerationUpsert(db, instanceId);
  return {
    dialect: 'sqlite',
    instanceId,
    writeGenerations: (rows) => upsert(rows),
    markInterrupted: async (now) => markInterrupted(db, now, instanceId),
    findGeneration: async (id) => findGeneration(db, id),
    listGenerations: async (filter, page) => listGenerations(db, filter, page),
    countGenerations: async (filter) => countGenerations(db, filter),
    queryUsage: async (filter, groupBy) => queryUsage(db, filter, groupBy),
    spentSince: async (keyId, startMs) => spentSince(db, keyId, startMs),
    saveContent: async (generationId, content, now) => saveContent(db, generationId, content, now),
    findContent: async (generationId) => findContent(db, generationId),
    deleteExpired: async (cutoff, limit) => deleteExpired(db, cutoff, limit),
  };
}

export function spentSince(db: Db, keyId: string, startMs: number): number {
  const row = db
    .select({ spent: sql<number | null>`sum(${generations.costPicos})` })
    .from(generations)
    .where(and(eq(generations.apiKeyId, keyId), gte(generations.createdAt, startMs)))
    .get();
  return row?.spent ?? 0;
}

/**
 * In-flight rows are left alone: a request older than the retention period is still being answered. Stored
 * content goes with its row through the foreign key's cascade (openDatabase turns foreign_keys on).
 */
export function deleteExpired(db: Db, cutoff: number, limit: number): number {
  return db.run(sql`
    delete from generations where id in (
      select id from generations where ${lt(generations.createdAt, cutoff)} and status <> 'IN_PROGRESS' limit ${limit}
    )`).changes;
}
