import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase } from '../../src/db/client.js';
import { createPgStorage } from '../../src/db/pg/storage.js';
import { createSqliteStorage } from '../../src/db/sqlite-storage.js';
import type { Storage } from '../../src/db/storage.js';

/** The dialects every storage test runs on; PostgreSQL at 127.0.0.1:5432 (trust, user postgres) must be up: no skipping. */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type DialectName = (typeof DIALECTS)[number];

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A place of its own for one test: a SQLite file in a temporary folder, or a fresh PostgreSQL database. */
export interface TestDatabase {
  dialect: DialectName;
  /** DATABASE_URL for it. */
  url: string;
  /** Opens (and migrates) a repository on it; several may be open at once, like several gateway instances. */
  open(): Promise<Storage>;
  /** Closes what open() returned and deletes the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const opened: Storage[] = [];
  const open = async (url: string): Promise<Storage> => {
    const storage = dialect === 'sqlite' ? createSqliteStorage(openDatabase(url.slice('file:'.length))) : createPgStorage(url, { max: 4 });
    await storage.migrate();
    opened.push(storage);
    return storage;
  };
  if (dialect === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), 'switchboard-storage-'));
    const url = `file:${join(directory, 'test.db')}`;
    return {
      dialect,
      url,
      open: () => open(url),
      drop: async () => {
        await Promise.all(opened.map((storage) => storage.close()));
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  const name = `sb_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  return {
    dialect,
    url,
    open: () => open(url),
    drop: async () => {
      await Promise.all(opened.map((storage) => storage.close()));
      const cleanup = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
      try {
        await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
