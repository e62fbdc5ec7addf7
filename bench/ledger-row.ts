/**
 * CPU per ledger row: what writing one generation costs the gateway process, by way of writing.
 *   sqlite-orm        the recorder before: Drizzle's prepared upsert with named placeholders (per-column mapping)
 *   sqlite-positional the recorder now: one positional upsert per row, a transaction per batch
 *   postgres          the recorder on PostgreSQL: one upsert per batch, its rows one JSON parameter (this process's CPU only; the
 *                     server's is on its own process), and the wall time per row
 * Usage: npx tsx bench/ledger-row.ts [rows] — needs PostgreSQL at 127.0.0.1:5432 (creates and drops its database).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { SQLiteInsertValue } from 'drizzle-orm/sqlite-core';
import postgres from 'postgres';
import { openDatabase, type Db } from '../src/db/client.js';
import { createPgStorage } from '../src/db/pg/storage.js';
import { generations, type GenerationRow } from '../src/db/schema.js';
import { prepareGenerationUpsert } from '../src/db/sqlite-ledger.js';

const ROWS = Number(process.argv[2] ?? 20_000);
const BATCH = 100;

function generation(id: string, index: number): GenerationRow {
  return {
    id, requestId: `req_${index}`, apiKeyId: `key_${index % 50}`, requestedModel: `vendor/model-${index % 20}`, modelId: `vendor/model-${index % 20}`,
    providerId: `provider-${index % 5}`, providerModelId: `model-${index % 20}`, status: 'SUCCEEDED', finishReason: 'stop', rawFinishReason: 'stop',
    promptTokens: 200 + index, completionTokens: 20, totalTokens: 220 + index, cachedPromptTokens: 0, reasoningTokens: 0, usageEstimated: false,
    costPicos: 150_000 * (200 + index), promptPriceMicros: 150_000, completionPriceMicros: 600_000, cachedPromptPriceMicros: 75_000, latencyMs: 100 + (index % 500),
    timeToFirstTokenMs: 50, streamed: index % 2 === 0, errorCode: null, errorMessage: null, warnings: [],
    attempts: [{ providerId: `provider-${index % 5}`, providerModelId: `model-${index % 20}`, status: 'SUCCEEDED', latencyMs: 90 }],
    requestSummary: { messages: 3, maxTokens: 512 }, metadata: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheWritePriceMicros: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: 1_790_000_000_000 + index, finishedAt: 1_790_000_000_500 + index,
  };
}

/** The recorder's statement before this change, kept here to measure against. */
function ormUpsert(db: Db): (rows: readonly GenerationRow[]) => void {
  const columns = getTableColumns(generations);
  const set: Record<string, SQL> = Object.fromEntries(Object.entries(columns).filter(([, column]) => column.name !== 'id').map(([key, column]) => [key, sql.raw(`excluded.${column.name}`)]));
  const placeholders = Object.fromEntries(Object.keys(columns).map((key) => [key, sql.placeholder(key)])) as SQLiteInsertValue<typeof generations>;
  const statement = db.insert(generations).values(placeholders).onConflictDoUpdate({ target: generations.id, set }).prepare();
  return (rows) => db.transaction(() => {
    for (const row of rows) statement.run(row);
  });
}

async function measure(name: string, write: (rows: readonly GenerationRow[]) => void | Promise<void>, prefix: string): Promise<void> {
  const rows = Array.from({ length: ROWS }, (_, index) => generation(`gen_${prefix}_${String(index).padStart(7, '0')}`, index));
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let start = 0; start < rows.length; start += BATCH) await write(rows.slice(start, start + BATCH));
  const wallNs = Number(process.hrtime.bigint() - started);
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / ROWS;
  console.log(`${name.padEnd(18)} ${cpuUs.toFixed(2).padStart(7)} µs CPU/row  ${(wallNs / 1000 / ROWS).toFixed(2).padStart(7)} µs wall/row  (${ROWS} rows, ${BATCH} per commit)`);
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-ledger-row-'));
  const name = `sb_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres('postgres://postgres@127.0.0.1:5432/postgres', { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  const storage = createPgStorage(`postgres://postgres@127.0.0.1:5432/${name}`, { max: 2 });
  try {
    await storage.migrate();
    for (let round = 1; round <= 2; round++) {
      console.log(`round ${round}`);
      const before = openDatabase(join(directory, `orm-${round}.db`));
      await measure('sqlite-orm', ormUpsert(before.db), `o${round}`);
      before.close();
      const after = openDatabase(join(directory, `positional-${round}.db`));
      await measure('sqlite-positional', prepareGenerationUpsert(after.db), `p${round}`);
      after.close();
      await measure('postgres', (rows) => storage.ledger.writeGenerations(rows), `g${round}`);
    }
  } finally {
    await storage.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
