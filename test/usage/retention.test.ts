import { describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { generations, type GenerationRow } from '../../src/db/schema.js';
import { RetentionJob } from '../../src/usage/retention.js';
import { waitFor } from '../helpers/subscriptions.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

function row(id: string, createdAt: number, status: GenerationRow['status'] = 'SUCCEEDED'): GenerationRow {
  return {
    id, requestId: null, apiKeyId: null, requestedModel: 'local/echo', modelId: 'local/echo', providerId: 'local', providerModelId: 'echo', status,
    finishReason: 'stop', rawFinishReason: null, promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedPromptTokens: 0, reasoningTokens: 0,
    usageEstimated: false, costPicos: 0, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, latencyMs: 1, timeToFirstTokenMs: null,
    streamed: false, errorCode: null, errorMessage: null, warnings: [], attempts: [], requestSummary: null, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt, finishedAt: createdAt,
  };
}

function seed(old: number, recent: number): { database: DatabaseHandle; statements: string[] } {
  const statements: string[] = [];
  const database = openDatabase(':memory:', { onStatement: (sql) => statements.push(sql) });
  const rows = [
    ...Array.from({ length: old }, (_, index) => row(`gen_old_${index}`, NOW - 31 * DAY - index)),
    ...Array.from({ length: recent }, (_, index) => row(`gen_new_${index}`, NOW - 29 * DAY + index)),
  ];
  for (let offset = 0; offset < rows.length; offset += 200) database.db.insert(generations).values(rows.slice(offset, offset + 200)).run();
  statements.length = 0;
  return { database, statements };
}

const ids = (database: DatabaseHandle): string[] => database.db.select({ id: generations.id }).from(generations).all().map((item) => item.id);

describe('RetentionJob', () => {
  it('deletes generations older than the retention period in small batches, and keeps the rest', async () => {
    const { database, statements } = seed(23, 4);
    // Exactly at the cutoff is not older than it: kept.
    database.db.insert(generations).values(row('gen_boundary', NOW - 30 * DAY)).run();
    const job = new RetentionJob(database.db, { retentionDays: 30, now: () => NOW, batchSize: 5 });
    expect(job.cutoff()).toBe(NOW - 30 * DAY);
    statements.length = 0;
    expect(await job.sweep()).toBe(23);
    // 23 rows at 5 a batch: four full batches and a last short one.
    expect(statements.filter((sql) => sql.trimStart().startsWith('delete'))).toHaveLength(5);
    expect(ids(database).sort()).toEqual(['gen_boundary', 'gen_new_0', 'gen_new_1', 'gen_new_2', 'gen_new_3']);
    database.close();
  });

  it('follows the injected clock: rows age out as time passes', async () => {
    const { database } = seed(0, 3);
    let now = NOW;
    const job = new RetentionJob(database.db, { retentionDays: 30, now: () => now });
    expect(await job.sweep()).toBe(0);
    now += 2 * DAY;
    expect(await job.sweep()).toBe(3);
    expect(ids(database)).toEqual([]);
    database.close();
  });

  it('leaves in-flight generations alone, however old', async () => {
    const { database } = seed(0, 0);
    database.db.insert(generations).values(row('gen_in_flight', NOW - 90 * DAY, 'IN_PROGRESS')).run();
    const job = new RetentionJob(database.db, { retentionDays: 30, now: () => NOW });
    expect(await job.sweep()).toBe(0);
    expect(ids(database)).toEqual(['gen_in_flight']);
    database.close();
  });

  it('yields between batches, so other work interleaves, and stop() ends a sweep after its current batch', async () => {
    const { database } = seed(50, 0);
    const job = new RetentionJob(database.db, { retentionDays: 30, now: () => NOW, batchSize: 10 });
    const sweep = job.sweep();
    let remainingWhenOtherWorkRan = -1;
    setImmediate(() => {
      remainingWhenOtherWorkRan = ids(database).length;
    });
    await new Promise((resolve) => setImmediate(resolve));
    await job.stop();
    expect(remainingWhenOtherWorkRan).toBeGreaterThan(0);
    expect(remainingWhenOtherWorkRan).toBeLessThan(50);
    const deleted = await sweep;
    expect(deleted).toBeLessThan(50);
    expect(ids(database)).toHaveLength(50 - deleted);
    database.close();
  });

  it('runs a sweep on start() and stops cleanly', async () => {
    const { database } = seed(7, 1);
    const sweeps: number[] = [];
    const job = new RetentionJob(database.db, { retentionDays: 30, now: () => NOW, onSweep: (deleted) => sweeps.push(deleted) });
    job.start();
    await waitFor(() => sweeps.length > 0 || undefined);
    await job.stop();
    expect(sweeps).toEqual([7]);
    expect(ids(database)).toEqual(['gen_new_0']);
    database.close();
  });

  it('rejects a retention period that is not a whole number of days', () => {
    const { database } = seed(0, 0);
    expect(() => new RetentionJob(database.db, { retentionDays: 0 })).toThrow(RangeError);
    expect(() => new RetentionJob(database.db, { retentionDays: 1.5 })).toThrow(RangeError);
    database.close();
  });
});
