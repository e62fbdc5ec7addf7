import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface DatabaseHandle {
  db: Db;
  sqlite: Database.Database;
  close(): void;
  /** Runs a trivial query; throws when the database cannot answer (closed, file gone, locked past the timeout). */
  ping(): void;
  /** Tags of migrations in the folder's journal that the database has not applied; empty when it is current. */
  pendingMigrations(): string[];
}

const MIGRATIONS_FOLDER = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * Opens the SQLite file and applies pending migrations. WAL lets readers run beside the single writer;
 * synchronous=NORMAL in WAL mode survives a process crash (kill -9) without an fsync per commit — only an OS
 * crash or power loss can drop the last commits.
 */
export function openDatabase(path: string, options: { onStatement?: (sql: string) => void } = {}): DatabaseHandle {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const onStatement = options.onStatement;
  const db = drizzle(sqlite, {
    schema,
    ...(onStatement ? { logger: { logQuery: (query: string) => onStatement(query) } } : {}),
  });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db,
    sqlite,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
    ping: () => {
      sqlite.prepare('select 1').get();
    },
    pendingMigrations: () => pendingMigrations(sqlite),
  };
}

const journalSchema = z.object({ entries: z.array(z.object({ tag: z.string(), when: z.number() })) });

/**
 * Drizzle's migrator records each applied migration with the journal's `when` as `created_at`; a journal entry
 * without its row is a migration this database has not run (a newer build against an older file).
 */
function pendingMigrations(sqlite: Database.Database): string[] {
  const journal = journalSchema.parse(JSON.parse(readFileSync(resolve(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')));
  const applied = new Set(
    sqlite
      .prepare('select created_at from __drizzle_migrations')
      .pluck()
      .all()
      .map((createdAt) => Number(createdAt)),
  );
  return journal.entries.filter((entry) => !applied.has(entry.when)).map((entry) => entry.tag);
}
