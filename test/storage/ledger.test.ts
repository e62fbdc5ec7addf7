import { getTableColumns } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { GENERATION_COLUMNS } from '../../src/db/ledger.js';
import * as pg from '../../src/db/pg/schema.js';
import { generations, type GenerationRow } from '../../src/db/schema.js';
import type { Storage } from '../../src/db/storage.js';
import { UsageRecorder } from '../../src/usage/recorder.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './stores.js';

const DAY = 86_400_000;
const BASE = Date.UTC(2026, 10, 1);

function row(id: string, changes: Partial<GenerationRow> = {}): GenerationRow {
  return {
    id, requestId: `req_${id}`, apiKeyId: 'key_a', requestedModel: 'm/one', modelId: 'm/one', providerId: 'p1', providerModelId: 'one', status: 'SUCCEEDED',
    finishReason: 'stop', rawFinishReason: 'stop', promptTokens: 10, completionTokens: 5, totalTokens: 15, cachedPromptTokens: 2, reasoningTokens: 1,
    usageEstimated: false, costPicos: 1000, promptPriceMicros: 50, completionPriceMicros: 100, cachedPromptPriceMicros: null, latencyMs: 100,
    timeToFirstTokenMs: 20, streamed: false, errorCode: null, errorMessage: null, warnings: ['w'], attempts: [{ providerId: 'p1', providerModelId: 'one', status: 'SUCCEEDED', latencyMs: 100 }],
    requestSummary: { messages: 1 }, metadata: { team: 'x' }, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, cacheWritePriceMicros: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: BASE, finishedAt: BASE + 100, ...changes,
  };
}

const databases: TestDatabase[] = [];
afterEach(async () => {
  for (const database of databases.splice(0)) await database.drop();
});

async function fresh(dialect: (typeof DIALECTS)[number]): Promise<{ database: TestDatabase; storage: Storage }> {
  const database = await createTestDatabase(dialect);
  databases.push(database);
  return { database, storage: await database.open() };
}

describe('the positional row binding', () => {
  it('names every column of both dialects, in the tables\u2019 own names', () => {
    const names = GENERATION_COLUMNS.map(([key, column]) => `${key}:${column}`);
    expect(names).toEqual(Object.entries(getTableColumns(generations)).map(([key, column]) => `${key}:${column.name}`));
    expect(names).toEqual(Object.entries(getTableColumns(pg.generations)).map(([key, column]) => `${key}:${column.name}`));
  });
});

describe.each(DIALECTS)('the ledger on %s', (dialect) => {
  it('round-trips a row exactly, cost near 2^53 included, and sums costs past 2^53 exactly', async () => {
    const { storage } = await fresh(dialect);
    const big = Number.MAX_SAFE_INTEGER; // 2^53 - 1 pico-dollars: about $9,007 on one row
    const first = row('gen_a', { costPicos: big });
    await storage.ledger.writeGenerations([first, row('gen_b', { costPicos: big - 1, usageEstimated: true, warnings: null, metadata: null })]);
    // A row that names no instance is stamped with the writing store's.
    expect(await storage.ledger.findGeneration('gen_a')).toEqual({ ...first, instanceId: storage.ledger.instanceId });
    expect((await storage.ledger.findGeneration('gen_b'))?.usageEstimated).toBe(true);
    const [bucket] = await storage.ledger.queryUsage({}, []);
    expect(bucket?.costPicos).toBe(BigInt(big) * 2n - 1n);
    expect(await storage.ledger.spentSince('key_a', BASE)).toBe(2 * big - 1);
  });

  it('answers only after the row commits: a second connection sees it when finish() resolves, one commit for a turn of rows', async () => {
    const { database, storage } = await fresh(dialect);
    const other = await database.open();
    const batches: number[] = [];
    // The commit is held until the test opens the gate, so "not yet" can be observed on any dialect.
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const recorder = new UsageRecorder({
      writeGenerations: async (rows) => {
        batches.push(rows.length);
        await gate;
        await storage.ledger.writeGenerations(rows);
      },
    });
    let resolved = 0;
    const finishes = Array.from({ length: 50 }, (_, index) => recorder.finish(row(`gen_${String(index).padStart(3, '0')}`)).then(() => resolved++));
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(0);
    expect(await other.ledger.findGeneration('gen_000')).toBeUndefined();
    openGate();
    await Promise.all(finishes.map((finish, index) => finish.then(async () => expect(await other.ledger.findGeneration(`gen_${String(index).padStart(3, '0')}`)).toBeDefined())));
    expect(batches).toEqual([50]);
    expect(await other.ledger.countGenerations({})).toBe(50);
    await recorder.close();
  });

  it('keeps rows arriving during an asynchronous commit for the next one, and loses none', async () => {
    const { storage } = await fresh(dialect);
    const recorder = new UsageRecorder(storage.ledger);
    const finishes: Array<Promise<void>> = [];
    for (let turn = 0; turn < 5; turn++) {
      for (let index = 0; index < 20; index++) finishes.push(recorder.finish(row(`gen_${turn}_${String(index).padStart(2, '0')}`, { costPicos: turn * 100 + index })));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(finishes);
    expect(await storage.ledger.countGenerations({})).toBe(100);
    const expected = Array.from({ length: 5 }, (_, turn) => Array.from({ length: 20 }, (_, index) => turn * 100 + index)).flat().reduce((sum, cost) => sum + cost, 0);
    expect((await storage.ledger.queryUsage({}, []))[0]?.costPicos).toBe(BigInt(expected));
    await recorder.close();
  });

  it('writes start rows for long requests and marks them INTERRUPTED when the next instance starts', async () => {
    const { database, storage } = await fresh(dialect);
    const recorder = new UsageRecorder(storage.ledger, { startDelayMs: 0 });
    recorder.start(row('gen_long', { status: 'IN_PROGRESS', finishReason: null, finishedAt: null, costPicos: null }));
    recorder.start(row('gen_short', { status: 'IN_PROGRESS', finishReason: null, finishedAt: null }));
    await recorder.flush();
    await recorder.finish(row('gen_short'));
    expect((await storage.ledger.findGeneration('gen_long'))?.status).toBe('IN_PROGRESS');
    // The process dies here; the next one opens the same database.
    const next = await database.open();
    expect(await next.ledger.markInterrupted(BASE + DAY)).toBe(1);
    expect(await next.ledger.findGeneration('gen_long')).toMatchObject({ status: 'INTERRUPTED', errorCode: 'INTERRUPTED', finishedAt: BASE + DAY });
    expect((await next.ledger.findGeneration('gen_short'))?.status).toBe('SUCCEEDED');
    expect(await next.ledger.markInterrupted()).toBe(0);
  });

  it('groups usage in the database with the time-range and per-key filters', async () => {
    const { storage } = await fresh(dialect);
    await storage.ledger.writeGenerations([
      row('gen_1', { createdAt: BASE, latencyMs: 100, costPicos: 10 }),
      row('gen_2', { createdAt: BASE + 1000, latencyMs: 300, costPicos: 20, status: 'FAILED' }),
      row('gen_3', { createdAt: BASE + DAY, apiKeyId: 'key_b', latencyMs: 200, costPicos: null }),
      row('gen_4', { createdAt: BASE + DAY + 5, modelId: 'm/two', latencyMs: 50, costPicos: 40, status: 'CANCELLED' }),
      row('gen_5', { createdAt: BASE + 2 * DAY, status: 'IN_PROGRESS', costPicos: 1000 }),
    ]);
    const byDayAndKey = await storage.ledger.queryUsage({}, ['DAY', 'KEY']);
    expect(byDayAndKey.map((bucket) => [bucket.day, bucket.apiKeyId, bucket.requests, bucket.errors, bucket.cancellations, bucket.costPicos, bucket.unpricedRequests, bucket.latencyP50Ms])).toEqual([
      [BASE, 'key_a', 2, 1, 0, 30n, 0, 200],
      [BASE + DAY, 'key_a', 1, 0, 1, 40n, 0, 50],
      [BASE + DAY, 'key_b', 1, 0, 0, 0n, 1, 200],
    ]);
    const keyA = await storage.ledger.queryUsage({ apiKeyId: 'key_a', from: BASE + 500, to: BASE + 2 * DAY }, ['MODEL']);
    expect(keyA.map((bucket) => [bucket.modelId, bucket.requests, bucket.promptTokens, bucket.costPicos, bucket.latencyP95Ms])).toEqual([
      ['m/one', 1, 10, 20n, 300],
      ['m/two', 1, 10, 40n, 50],
    ]);
    const [all] = await storage.ledger.queryUsage({}, []);
    expect(all).toMatchObject({ requests: 4, latencyP50Ms: 150, latencyP95Ms: 285 });
    expect(await storage.ledger.listGenerations({ apiKeyId: 'key_a', from: BASE + 500 }, { limit: 10 })).toHaveLength(3);
    expect(await storage.ledger.countGenerations({ status: 'FAILED' })).toBe(1);
    expect(await storage.ledger.spentSince('key_a', BASE + 500)).toBe(20 + 40 + 1000);
  });

  it('commits a row whose text holds a NUL character (PostgreSQL stores U+FFFD instead), rather than retrying forever', async () => {
    const { storage } = await fresh(dialect);
    const recorder = new UsageRecorder(storage.ledger, { retryDelayMs: 10_000 });
    const attempts = [{ providerId: 'p1', providerModelId: 'one', status: 'FAILED' as const, latencyMs: 1, errorMessage: 'x\u0000y \\u0000 kept' }];
    await recorder.finish(row('gen_nul', { status: 'FAILED', errorMessage: 'bad\u0000byte', attempts }));
    const stored = await storage.ledger.findGeneration('gen_nul');
    const replacement = dialect === 'postgres' ? '\uFFFD' : '\u0000';
    expect(stored?.errorMessage).toBe(`bad${replacement}byte`);
    expect(stored?.attempts?.[0]?.errorMessage).toBe(`x${replacement}y \\u0000 kept`);
    await recorder.close();
  });

  it('deletes expired finished rows with their content and keeps in-flight ones', async () => {
    const { storage } = await fresh(dialect);
    await storage.ledger.writeGenerations([row('gen_old'), row('gen_busy', { status: 'IN_PROGRESS' }), row('gen_new', { createdAt: BASE + DAY })]);
    await storage.ledger.saveContent('gen_old', { messages: [], answer: { content: 'x', toolCalls: [] } }, BASE);
    expect(await storage.ledger.findContent('gen_old')).toEqual({ messages: [], answer: { content: 'x', toolCalls: [] } });
    expect(await storage.ledger.deleteExpired(BASE + 1, 10)).toBe(1);
    expect(await storage.ledger.findContent('gen_old')).toBeUndefined();
    expect(await storage.ledger.countGenerations({})).toBe(2);
  });
});
