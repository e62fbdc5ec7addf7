import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/client.js';
import { createSqliteLedger } from '../../src/db/sqlite-ledger.js';
import type { GenerationRow } from '../../src/db/schema.js';
import { UsageRecorder } from '../../src/usage/recorder.js';
import { waitFor } from '../helpers/subscriptions.js';

function row(id: string, status: GenerationRow['status']): GenerationRow {
  return {
    id, requestId: null, apiKeyId: null, requestedModel: 'local/echo', modelId: 'local/echo', providerId: 'local', providerModelId: 'echo', status,
    finishReason: status === 'SUCCEEDED' ? 'stop' : null, rawFinishReason: null, promptTokens: 5, completionTokens: 3, totalTokens: 8, cachedPromptTokens: 0,
    reasoningTokens: 0, usageEstimated: false, costPicos: 0, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, latencyMs: 1,
    timeToFirstTokenMs: null, streamed: false, errorCode: null, errorMessage: null, warnings: [], attempts: [], requestSummary: { messages: 1 }, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: Date.now(), finishedAt: Date.now(),
  };
}

describe('UsageRecorder', () => {
  it('commits the rows of one event-loop turn in a single transaction, before resolving', async () => {
    const database = openDatabase(':memory:');
    const ledger = createSqliteLedger(database.db);
    // The recorder binds rows positionally, past Drizzle's logger: count what reaches the store instead.
    const batches: number[] = [];
    const writer = { writeGenerations: (rows: readonly GenerationRow[]) => (batches.push(rows.length), ledger.writeGenerations(rows)) };
    const finished: string[] = [];
    const recorder = new UsageRecorder(writer, { onFinished: (rows) => finished.push(...rows.map((r) => r.id)) });
    for (let index = 0; index < 200; index++) recorder.start(row(`gen_${index}`, 'IN_PROGRESS'));
    const done = Array.from({ length: 200 }, (_, index) => recorder.finish(row(`gen_${index}`, 'SUCCEEDED')));
    expect(database.sqlite.prepare('select count(*) as n from generations').get()).toEqual({ n: 0 });
    await Promise.all(done);
    // A start row and its final row in the same turn collapse into one upsert: 200 rows, not 400, in one transaction.
    expect(batches).toEqual([200]);
    expect(database.sqlite.prepare(`select count(*) as n from generations where status = 'SUCCEEDED'`).get()).toEqual({ n: 200 });
    expect(finished).toHaveLength(200);
    await recorder.close();
    database.close();
  });

  it('writes a turn all or nothing: one failing row keeps the whole batch back, then it commits whole', async () => {
    const database = openDatabase(':memory:');
    let failures = 0;
    const recorder = new UsageRecorder(database.db, { retryDelayMs: 10, onWriteError: () => failures++ });
    database.sqlite.exec(`create trigger block before insert on generations when new.id = 'gen_150' begin select raise(abort, 'one bad row'); end;`);
    const done = Array.from({ length: 200 }, (_, index) => recorder.finish(row(`gen_${index}`, 'SUCCEEDED')));
    await waitFor(() => failures > 0 || undefined);
    // The 150 rows before the bad one were rolled back with it: they were in the same transaction.
    expect(database.sqlite.prepare('select count(*) as n from generations').get()).toEqual({ n: 0 });
    database.sqlite.exec('drop trigger block');
    await Promise.all(done);
    expect(database.sqlite.prepare('select count(*) as n from generations').get()).toEqual({ n: 200 });
    await recorder.close();
    database.close();
  });

  it('writes no start row for a request that finishes within the start delay, and one for a request still running', async () => {
    const database = openDatabase(':memory:');
    const statuses = (): unknown[] => database.sqlite.prepare('select id, status from generations order by id').all();
    const clock = new ManualClock();
    const recorder = new UsageRecorder(database.db, { startDelayMs: 30, clock });
    recorder.start(row('gen_fast', 'IN_PROGRESS'));
    recorder.start(row('gen_slow', 'IN_PROGRESS'));
    await clock.advance(5);
    // Nothing is written during the delay...
    expect(statuses()).toEqual([]);
    await recorder.finish(row('gen_fast', 'SUCCEEDED'));
    expect(statuses()).toEqual([{ id: 'gen_fast', status: 'SUCCEEDED' }]);
    await clock.advance(24);
    expect(statuses()).toEqual([{ id: 'gen_fast', status: 'SUCCEEDED' }]);
    // advance() lets the batch queued by the start timer commit before it returns.
    await clock.advance(1);
    // ...from its end, the request still in flight is on record, the finished one was never written as started.
    expect(statuses()).toEqual([
      { id: 'gen_fast', status: 'SUCCEEDED' },
      { id: 'gen_slow', status: 'IN_PROGRESS' },
    ]);
    await recorder.close();
    database.close();
  });

  it('writes start rows on the default 50 ms delay: none at 49 ms, all of them at 50', async () => {
    const database = openDatabase(':memory:');
    const count = (): unknown => database.sqlite.prepare('select count(*) as n from generations').get();
    const clock = new ManualClock();
    const recorder = new UsageRecorder(database.db, { clock });
    recorder.start(row('gen_a', 'IN_PROGRESS'));
    await clock.advance(20);
    // A later start joins the pending batch rather than getting a timer of its own.
    recorder.start(row('gen_b', 'IN_PROGRESS'));
    expect(clock.pending).toHaveLength(1);
    await clock.advance(29);
    expect(count()).toEqual({ n: 0 });
    await clock.advance(1);
    expect(count()).toEqual({ n: 2 });
    await recorder.close();
    database.close();
  });

  it('updates a start row written in an earlier turn with the final row', async () => {
    const database = openDatabase(':memory:');
    const recorder = new UsageRecorder(database.db);
    recorder.start(row('gen_a', 'IN_PROGRESS'));
    await recorder.flush();
    expect(database.sqlite.prepare('select status from generations').get()).toEqual({ status: 'IN_PROGRESS' });
    await recorder.finish({ ...row('gen_a', 'FAILED'), errorCode: 'PROVIDER_ERROR' });
    expect(database.sqlite.prepare('select status, error_code from generations').get()).toEqual({ status: 'FAILED', error_code: 'PROVIDER_ERROR' });
    await recorder.close();
    database.close();
  });

  it('keeps rows and retries when a write fails, resolving once they are committed', async () => {
    const database = openDatabase(':memory:');
    const errors: unknown[] = [];
    const recorder = new UsageRecorder(database.db, { retryDelayMs: 20, onWriteError: (error) => errors.push(error) });
    // Another connection's write lock stands in for a busy or failing disk.
    database.sqlite.pragma('busy_timeout = 0');
    database.sqlite.exec('create trigger block before insert on generations begin select raise(abort, \'disk trouble\'); end;');
    const pending = recorder.finish(row('gen_retry', 'SUCCEEDED'));
    // The retry timer is the recorder's own (not the start delay): wait for the first failure, bounded, not a fixed sleep.
    await waitFor(() => errors.length > 0 || undefined);
    expect(errors.length).toBeGreaterThan(0);
    expect(recorder.queueDepth).toBe(1);
    database.sqlite.exec('drop trigger block');
    await pending;
    expect(database.sqlite.prepare('select status from generations where id = ?').get('gen_retry')).toEqual({ status: 'SUCCEEDED' });
    await recorder.close();
    database.close();
  });
});
