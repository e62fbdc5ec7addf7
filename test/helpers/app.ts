import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import postgres from 'postgres';
import { buildApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';
import type { Storage } from '../../src/db/storage.js';
import { createTestDatabase } from '../storage/stores.js';

/**
 * SWITCHBOARD_TEST_STORE=postgres runs startTestServer on a PostgreSQL database of its own (created here, dropped
 * at stop()), so an existing suite runs unchanged against the second store (vitest.config.ts's `postgres` project).
 */
export function testStore(): 'postgres' | 'sqlite' {
  return process.env['SWITCHBOARD_TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * Runs one statement on a test server's database behind the gateway's back, on either store: `?` placeholders
 * (numbered for PostgreSQL here). For tests that must put the database in a state no API can (an expiry in the past).
 */
export async function runBehindTheGateway(services: { storage: Storage; config: { databaseUrl?: string | undefined } }, text: string, params: Array<string | number | null>): Promise<void> {
  const db = services.storage.sqlite;
  if (db) {
    db.$client.prepare(text).run(...params);
    return;
  }
  const client = postgres(services.config.databaseUrl ?? '', { max: 1, onnotice: () => undefined });
  try {
    let index = 0;
    await client.unsafe(text.replace(/\?/g, () => `$${++index}`), params);
  } finally {
    await client.end();
  }
}

/** The SQLite handle under a test server, for tests that read or seed the file directly (SQLite runs only). */
export function sqliteOf(services: { storage: Storage }): Db {
  const db = services.storage.sqlite;
  if (!db) throw new Error('this test reads the SQLite file directly; it runs on SQLite only');
  return db;
}

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  databasePath: string;
  /** POSTs a GraphQL operation and returns the parsed body. */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLBody<T>>;
  stop(): Promise<void>;
}

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

/**
 * Starts the real gateway on 127.0.0.1 port 0 with its own SQLite file (or PostgreSQL database, see TEST_STORE),
 * configured from `env` exactly as `npm start` reads the environment.
 */
export async function startTestServer(env: Record<string, string> = {}, options: { onStatement?: (sql: string) => void; clock?: Clock; dashboardDirectory?: string } = {}): Promise<TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const databasePath = join(directory, 'test.db');
  const postgres = testStore() === 'postgres' && env['DATABASE_URL'] === undefined ? await createTestDatabase('postgres') : undefined;
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: postgres?.url ?? `file:${databasePath}`, SWITCHBOARD_LOCAL_DELAY_MS: '0', ...env });
  const app = buildApp(config, { logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }), ...options });
  let url: string;
  try {
    ({ url } = await app.start());
  } catch (error) {
    await app.stop().catch(() => undefined);
    await postgres?.drop();
    throw error;
  }
  let stopped = false;
  return {
    app,
    url,
    wsUrl: url.replace('http://', 'ws://') + '/graphql',
    databasePath,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLBody<T>;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      rmSync(directory, { recursive: true, force: true });
      await postgres?.drop();
    },
  };
}
