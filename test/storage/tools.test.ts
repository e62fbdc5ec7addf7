import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/pg/client.js';
import type { GenerationRow } from '../../src/db/schema.js';
import { readCatalogSeed } from '../../src/db/seed.js';
import { copySqliteToPostgres } from '../../src/db/tools/copy.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './stores.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const database of databases.splice(0)) await database.drop();
});

async function fresh(dialect: (typeof DIALECTS)[number]): Promise<TestDatabase> {
  const database = await createTestDatabase(dialect);
  databases.push(database);
  return database;
}

function npm(script: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string }> {
  return run('npm', ['run', '-s', script, '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
}

function ledgerRow(index: number, costPicos: number | null): GenerationRow {
  return {
    id: `gen_${String(index).padStart(5, '0')}`, requestId: null, apiKeyId: index % 2 ? 'key_a' : null, requestedModel: 'local/echo', modelId: null, providerId: 'local',
    providerModelId: 'echo', status: index % 7 === 0 ? 'FAILED' : 'SUCCEEDED', finishReason: 'stop', rawFinishReason: null, promptTokens: index, completionTokens: 1, totalTokens: index + 1,
    cachedPromptTokens: 0, reasoningTokens: 0, usageEstimated: index % 3 === 0, costPicos, promptPriceMicros: null, completionPriceMicros: null, cachedPromptPriceMicros: null,
    latencyMs: index, timeToFirstTokenMs: null, streamed: index % 2 === 0, errorCode: null, errorMessage: null, warnings: null, attempts: [], requestSummary: { messages: 1 },
    metadata: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheWritePriceMicros: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: 1_790_000_000_000 + index, finishedAt: 1_790_000_000_100 + index,
  };
}

describe.each(DIALECTS)('npm run db:migrate on %s', (dialect) => {
  it('applies every migration to an empty database, and finds nothing to do the second time', async () => {
    const database = await fresh(dialect);
    const first = await npm('db:migrate', [], { DATABASE_URL: database.url });
    expect(first.stdout).toMatch(/pending: 0/);
    const storage = await database.open();
    expect(await storage.pendingMigrations()).toEqual([]);
    expect((await storage.catalog.load()).models).toEqual([]);
    const second = await npm('db:migrate', ['--url', database.url]);
    expect(second.stdout).toMatch(/pending: 0/);
    if (dialect === 'postgres') expect(second.stdout).toMatch(/applied 0 migration/);
  }, 90_000);
});

describe('db:copy from SQLite to PostgreSQL', () => {
  it('moves the ledger, contents, keys, catalog, providers and audit trail; twice gives the same rows and the same total', async () => {
    const from = await fresh('sqlite');
    const to = await fresh('postgres');
    const source = await from.open();
    await source.catalog.syncProviders([{ id: 'local', name: 'Local', kind: 'local', baseUrl: null, enabled: true }, { id: 'openai', name: 'OpenAI', kind: 'openai', baseUrl: null, enabled: false }]);
    await source.catalog.seed(readCatalogSeed());
    await source.catalog.writeProvider({ id: 'house', name: 'House', baseUrl: 'http://127.0.0.1:1/v1', apiKeyCiphertext: 'sealed' });
    await source.keys.insert({ id: 'key_a', name: 'a', prefix: 'sb-aaaa', secretHash: 'hash_a', scopes: ['READ'], allowedModels: ['local/*'], requestsPerMinute: 5, tokensPerMinute: null, concurrentStreams: null, budgetLimitPicos: 9_007_199_254_740_991, budgetPeriod: 'MONTHLY', metadata: { team: 'x' }, cacheTtlSeconds: null, expiresAt: null, revokedAt: null, createdAt: 1, lastUsedAt: null });
    const rows = Array.from({ length: 2500 }, (_, index) => ledgerRow(index, index === 0 ? null : index === 1 ? Number.MAX_SAFE_INTEGER : index * 1_000_003));
    await source.ledger.writeGenerations(rows);
    await source.ledger.saveContent('gen_00001', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], answer: { content: 'hello', toolCalls: [] } }, 5);
    await source.audit.record({ actorKeyId: null, action: 'api_key.create', targetType: 'api_key', targetId: 'key_a', before: null, after: { name: 'a' } }, 7);
    const expectedCost = rows.reduce((sum, row) => sum + BigInt(row.costPicos ?? 0), 0n);

    const sqlite = source.sqlite;
    if (!sqlite) throw new Error('expected SQLite');
    const target = openPostgres(to.url, { max: 2 });
    try {
      await target.migrate();
      const once = await copySqliteToPostgres(sqlite, target.db, target.client);
      const twice = await copySqliteToPostgres(sqlite, target.db, target.client);
      expect(twice).toEqual(once);
      for (const table of once.tables) expect(table.target, table.table).toBe(table.source);
      expect(once.tables.find((table) => table.table === 'generations')?.source).toBe(2500);
      expect(once.sourceCostPicos).toBe(expectedCost);
      expect(once.targetCostPicos).toBe(expectedCost);
    } finally {
      await target.close();
    }
    const copied = await to.open();
    // Copied as written, the source instance's id included.
    expect(await copied.ledger.findGeneration('gen_00001')).toEqual({ ...rows[1], instanceId: source.ledger.instanceId });
    expect(await copied.ledger.findGeneration('gen_00000')).toEqual({ ...rows[0], instanceId: source.ledger.instanceId });
    expect(await copied.ledger.findContent('gen_00001')).toEqual({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], answer: { content: 'hello', toolCalls: [] } });
    expect(await copied.keys.find('key_a')).toEqual(await source.keys.find('key_a'));
    expect((await copied.catalog.load()).providers).toEqual((await source.catalog.load()).providers);
    expect(await copied.audit.list({}, { limit: 5 })).toEqual(await source.audit.list({}, { limit: 5 }));

    // The command itself, as the README gives it: verified, and still idempotent.
    const { stdout } = await npm('db:copy', ['--from', from.url, '--to', to.url]);
    expect(stdout).toContain('copy verified');
    expect(stdout).toContain(`total cost (picos)   sqlite ${expectedCost}  postgres ${expectedCost}`);
    expect(stdout).toMatch(/generations\s+2500\s+2500/);
  }, 120_000);
});
