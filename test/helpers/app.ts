import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';

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
 * Starts the real gateway on 127.0.0.1 port 0 with its own SQLite file, configured from `env` exactly as
 * `npm start` reads the environment.
 */
export async function startTestServer(env: Record<string, string> = {}, options: { onStatement?: (sql: string) => void; clock?: Clock; dashboardDirectory?: string } = {}): Promise<TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-test-'));
  const databasePath = join(directory, 'test.db');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${databasePath}`, SWITCHBOARD_LOCAL_DELAY_MS: '0', ...env });
  const app = buildApp(config, { logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }), ...options });
  const { url } = await app.start();
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
    },
  };
}
