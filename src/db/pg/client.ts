import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { z } from 'zod';
import * as schema from './schema.js';

export type PgDb = PostgresJsDatabase<typeof schema>;
export type PgClient = postgres.Sql;

export interface PostgresHandle {
  db: PgDb;
  client: PgClient;
  /** Applies pending migrations from migrations/pg (drizzle's migrator takes an advisory lock, so instances may race). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

export const PG_MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../../migrations/pg');

/**
 * Connects to PostgreSQL through postgres.js. Connections open lazily; `max` bounds what one instance holds (the
 * recorder's commits, admin writes and GraphQL reads share it). Notices (e.g. "relation already exists, skipping"
 * from the migrator) are not news.
 */
export function openPostgres(url: string, options: { max?: number; onStatement?: (sql: string) => void } = {}): PostgresHandle {
  const client = postgres(url, { max: options.max ?? 10, onnotice: () => undefined, connect_timeout: 10 });
  const onStatement = options.onStatement;
  const db = drizzle(client, { schema, ...(onStatement ? { logger: { logQuery: (query: string) => onStatement(query) } } : {}) });
  return {
    db,
    client,
    migrate: () => migrate(db, { migrationsFolder: PG_MIGRATIONS_FOLDER }),
    ping: async () => {
      await client`select 1`;
    },
    pendingMigrations: () => pendingMigrations(client),
    close: () => client.end({ timeout: 5 }),
  };
}

const journalSchema = z.object({ entries: z.array(z.object({ tag: z.string(), when: z.number() })) });

/** As for SQLite (src/db/client.ts): a journal entry whose `when` the migrations table lacks is not applied yet. */
async function pendingMigrations(client: PgClient): Promise<string[]> {
  const journal = journalSchema.parse(JSON.parse(readFileSync(resolve(PG_MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')));
  const [present] = await client<Array<{ table: string | null }>>`select to_regclass('drizzle.__drizzle_migrations')::text as table`;
  if (!present?.table) return journal.entries.map((entry) => entry.tag);
  const rows = await client<Array<{ created_at: string }>>`select created_at::text from drizzle.__drizzle_migrations`;
  const applied = new Set(rows.map((row) => Number(row.created_at)));
  return journal.entries.filter((entry) => !applied.has(entry.when)).map((entry) => entry.tag);
}
