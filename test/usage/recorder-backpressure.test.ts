import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import type { GenerationRow } from '../../src/db/schema.js';
import { UsageRecorder } from '../../src/usage/recorder.js';

function row(id: string, status: GenerationRow['status']): GenerationRow {
  return {
    id, requestId: null, apiKeyId: null, requestedModel: 'local/echo', modelId: 'local/echo', providerId: 'local', providerModelId: 'echo', status,
    finishReason: status === 'SUCCEEDED' ? 'stop' : null, rawFinishReason: null, promptTokens: 5, completionTokens: 3, totalTokens: 8, cachedPromptTokens: 0,
    reasoningTokens: 0, usageEstimated: false, costPicos: 0, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, latencyMs: 1,
    timeToFirstTokenMs: null, streamed: false, errorCode: null, errorMessage: null, warnings: [], attempts: [], requestSummary: null, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null,
    createdAt: 0, finishedAt: 0,
  };
}

const count = (database: ReturnType<typeof openDatabase>, where = '1'): number =>
  (database.sqlite.prepare(`select count(*) as n from generations where ${where}`).get() as { n: number }).n;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('UsageRecorder back-pressure', () => {
  it('holds finish() callers back while the queue is full, then commits every row in order', async () => {
    const database = openDatabase(':memory:');
    const finished: string[] = [];
    const recorder = new UsageRecorder(database.db, { maxQueuedRows: 3, retryDelayMs: 5, onFinished: (rows) => finished.push(...rows.map((item) => item.id)) });
    // A failing disk: nothing can be written until the trigger goes.
    database.sqlite.exec(`create trigger block before insert on generations begin select raise(abort, 'disk trouble'); end;`);
    const settled: string[] = [];
    const waits = Array.from({ length: 10 }, (_, index) => recorder.finish(row(`gen_${index}`, 'SUCCEEDED')).then(() => settled.push(`gen_${index}`)));
    await turn();
    await turn();
    expect(recorder.queueDepth).toBe(10);
    expect(recorder.waitingFinishes).toBe(7);
    expect(settled).toEqual([]);

    database.sqlite.exec('drop trigger block');
    await Promise.all(waits);
    expect(count(database, `status = 'SUCCEEDED'`)).toBe(10);
    expect(finished).toEqual(Array.from({ length: 10 }, (_, index) => `gen_${index}`));
    expect(recorder.queueDepth).toBe(0);
    await recorder.close();
    database.close();
  });

  it('never drops start() rows, even with the queue full', async () => {
    const database = openDatabase(':memory:');
    const recorder = new UsageRecorder(database.db, { maxQueuedRows: 2 });
    for (let index = 0; index < 5; index++) recorder.start(row(`gen_${index}`, 'IN_PROGRESS'));
    expect(recorder.queueDepth).toBe(5);
    await recorder.flush();
    expect(count(database, `status = 'IN_PROGRESS'`)).toBe(5);
    await recorder.close();
    database.close();
  });

  it('writes queued and waiting rows on close', async () => {
    const database = openDatabase(':memory:');
    const recorder = new UsageRecorder(database.db, { maxQueuedRows: 2 });
    const waits = Array.from({ length: 7 }, (_, index) => recorder.finish(row(`gen_${index}`, 'SUCCEEDED')));
    expect(recorder.waitingFinishes).toBe(5);
    await recorder.close();
    await Promise.all(waits);
    expect(count(database)).toBe(7);
    await expect(recorder.finish(row('gen_late', 'SUCCEEDED'))).rejects.toThrow(/closed/);
    database.close();
  });

  it('publishes finished rows to its subscribers in commit order', async () => {
    const database = openDatabase(':memory:');
    const recorder = new UsageRecorder(database.db);
    const subscription = recorder.finished.subscribe();
    recorder.start(row('gen_a', 'IN_PROGRESS'));
    await recorder.flush();
    await recorder.finish(row('gen_b', 'SUCCEEDED'));
    await recorder.finish(row('gen_a', 'FAILED'));
    const first = await subscription.next();
    const second = await subscription.next();
    // The start row is not a finished generation: only final rows are published.
    expect([first.value?.id, second.value?.id]).toEqual(['gen_b', 'gen_a']);
    expect(second.value?.status).toBe('FAILED');
    await recorder.close();
    expect((await subscription.next()).done).toBe(true);
    database.close();
  });
});
