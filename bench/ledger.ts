/**
 * The ledger under load: how many generations a second the write-behind recorder sustains into a real SQLite file
 * (WAL, synchronous=NORMAL, as the gateway runs it), and how long the `usage` query takes over 100,000 generations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, type DatabaseHandle } from '../src/db/client.js';
import type { GenerationRow } from '../src/db/schema.js';
import { queryUsage, usageStatement, type UsageDimension, type UsageFilter } from '../src/db/usage.js';
import { UsageRecorder } from '../src/usage/recorder.js';

export const name = 'ledger';

const DAY = 86_400_000;

function generation(id: string, index: number, status: GenerationRow['status'], createdAt: number): GenerationRow {
  const promptTokens = 200 + (index % 1800);
  const completionTokens = 20 + (index % 400);
  return {
    id, requestId: `req_${index}`, apiKeyId: `key_${index % 50}`, requestedModel: `vendor/model-${index % 20}`, modelId: `vendor/model-${index % 20}`,
    providerId: `provider-${index % 5}`, providerModelId: `model-${index % 20}`, status, finishReason: status === 'SUCCEEDED' ? 'stop' : status === 'IN_PROGRESS' ? null : 'error',
    rawFinishReason: status === 'SUCCEEDED' ? 'stop' : null, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens,
    cachedPromptTokens: index % 3 === 0 ? Math.floor(promptTokens / 2) : 0, reasoningTokens: index % 7 === 0 ? Math.floor(completionTokens / 3) : 0,
    usageEstimated: false, costPicos: index % 97 === 0 ? null : promptTokens * 150_000 + completionTokens * 600_000, promptPriceMicros: 150_000,
    completionPriceMicros: 600_000, cachedPromptPriceMicros: 75_000, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, latencyMs: status === 'IN_PROGRESS' ? null : 100 + ((index * 7919) % 5000),
    timeToFirstTokenMs: index % 2 === 0 ? 50 + (index % 400) : null, streamed: index % 2 === 0, errorCode: null, errorMessage: null, warnings: [],
    attempts: [{ providerId: `provider-${index % 5}`, providerModelId: `model-${index % 20}`, status: 'SUCCEEDED', latencyMs: 90 + (index % 4000) }],
    requestSummary: { messages: 3, images: 0, maxTokens: 512 }, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt, finishedAt: status === 'IN_PROGRESS' ? null : createdAt + 500,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function temporaryDatabase(): { database: DatabaseHandle; dispose(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const database = openDatabase(join(directory, 'bench.db'));
  return {
    database,
    dispose: () => {
      database.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Waves of `concurrency` requests: each starts (one write), then finishes in a later turn (an upsert), as real requests do. */
async function recorderThroughput(total: number, concurrency: number, extraIndex?: string): Promise<number> {
  const { database, dispose } = temporaryDatabase();
  if (extraIndex) database.sqlite.exec(extraIndex);
  // startDelayMs 0: every start row is written, the worst case (the gateway skips those of requests under 50 ms).
  const recorder = new UsageRecorder(database.db, { startDelayMs: 0 });
  let finished = 0;
  recorder.finished.listen((rows) => {
    finished += rows.length;
  });
  const started = performance.now();
  const now = Date.now();
  for (let offset = 0; offset < total; offset += concurrency) {
    const wave = Array.from({ length: Math.min(concurrency, total - offset) }, (_, index) => offset + index);
    for (const index of wave) recorder.start(generation(`gen_${String(index).padStart(8, '0')}`, index, 'IN_PROGRESS', now));
    await turn();
    await Promise.all(wave.map((index) => recorder.finish(generation(`gen_${String(index).padStart(8, '0')}`, index, 'SUCCEEDED', now))));
  }
  await recorder.close();
  const seconds = (performance.now() - started) / 1000;
  const stored = (database.sqlite.prepare(`select count(*) as n from generations where status = 'SUCCEEDED'`).get() as { n: number }).n;
  dispose();
  if (stored !== total || finished !== total) throw new Error(`expected ${total} rows, stored ${stored}, published ${finished}`);
  const perSecond = total / seconds;
  console.log(
    `recorder${extraIndex ? ' + candidate index' : ''}, ${concurrency} ${concurrency === 1 ? 'request' : 'requests'} in flight: ${Math.round(perSecond).toLocaleString('en-US')} generations/s ` +
      `(${Math.round(2 * perSecond).toLocaleString('en-US')} row writes/s: a start insert and a finish upsert each), ${total.toLocaleString('en-US')} in ${seconds.toFixed(2)} s`,
  );
  return perSecond;
}

/** One multi-row INSERT per 500 rows inside one transaction: the fastest way to lay down a large ledger. */
function seed(database: DatabaseHandle, count: number, now: number): number {
  const started = performance.now();
  const columns = ['id', 'request_id', 'api_key_id', 'requested_model', 'model_id', 'provider_id', 'provider_model_id', 'status', 'finish_reason', 'raw_finish_reason',
    'prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_prompt_tokens', 'reasoning_tokens', 'usage_estimated', 'cost_picos', 'prompt_price_micros',
    'completion_price_micros', 'cached_prompt_price_micros', 'latency_ms', 'time_to_first_token_ms', 'streamed', 'error_code', 'error_message', 'warnings',
    'attempts', 'request_summary', 'metadata', 'created_at', 'finished_at'];
  const perStatement = 500;
  const placeholders = `(${columns.map(() => '?').join(',')})`;
  const insert = database.sqlite.prepare(`insert into generations (${columns.join(',')}) values ${Array.from({ length: perStatement }, () => placeholders).join(',')}`);
  const statuses: GenerationRow['status'][] = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];
  const values = (row: GenerationRow): unknown[] => [
    row.id, row.requestId, row.apiKeyId, row.requestedModel, row.modelId, row.providerId, row.providerModelId, row.status, row.finishReason, row.rawFinishReason,
    row.promptTokens, row.completionTokens, row.totalTokens, row.cachedPromptTokens, row.reasoningTokens, row.usageEstimated ? 1 : 0, row.costPicos,
    row.promptPriceMicros, row.completionPriceMicros, row.cachedPromptPriceMicros, row.latencyMs, row.timeToFirstTokenMs, row.streamed ? 1 : 0, row.errorCode,
    row.errorMessage, JSON.stringify(row.warnings), JSON.stringify(row.attempts), JSON.stringify(row.requestSummary), null, row.createdAt, row.finishedAt,
  ];
  database.sqlite.transaction(() => {
    for (let offset = 0; offset < count; offset += perStatement) {
      const parameters: unknown[] = [];
      for (let index = offset; index < offset + perStatement; index++) {
        // Thirty days of traffic, oldest first, so ids sort by time as the gateway's do.
        const createdAt = now - 30 * DAY + Math.floor((index / count) * 30 * DAY);
        parameters.push(...values(generation(`gen_${String(index).padStart(8, '0')}`, index, statuses[index % statuses.length]!, createdAt)));
      }
      insert.run(...parameters);
    }
  })();
  return (performance.now() - started) / 1000;
}

/**
 * The one covering index that could serve the headline query: led by model_id, so GROUP BY model reads it in order
 * with no table lookups. Measured both ways: what it saves the query, what it costs every ledger write.
 */
const CANDIDATE_INDEX =
  'create index bench_usage_cover_idx on generations (model_id, status, prompt_tokens, completion_tokens, cached_prompt_tokens, reasoning_tokens, cost_picos, latency_ms)';

function medianMs(runs: number, work: () => unknown): number {
  work();
  const timings: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    work();
    timings.push(performance.now() - started);
  }
  timings.sort((a, b) => a - b);
  return timings[Math.floor(runs / 2)]!;
}

async function usageQueryTimes(seededRows: number): Promise<Record<string, number>> {
  const { database, dispose } = temporaryDatabase();
  const now = Date.now();
  const seconds = seed(database, seededRows, now);
  console.log(`seeded ${seededRows.toLocaleString('en-US')} generations in ${seconds.toFixed(2)} s (${Math.round(seededRows / seconds).toLocaleString('en-US')} rows/s, multi-row insert)`);

  const all = seededRows.toLocaleString('en-US');
  const cases: Array<{ label: string; filter: UsageFilter; groupBy: UsageDimension[] }> = [
    { label: `usage(groupBy: [MODEL]), all ${all}`, filter: {}, groupBy: ['MODEL'] },
    { label: `usage, no grouping, all ${all}`, filter: {}, groupBy: [] },
    { label: `usage(groupBy: [DAY]), all ${all}`, filter: {}, groupBy: ['DAY'] },
    { label: `usage(groupBy: [MODEL, PROVIDER, DAY]), all ${all}`, filter: {}, groupBy: ['MODEL', 'PROVIDER', 'DAY'] },
    { label: `usage(groupBy: [KEY, HOUR]), all ${all}`, filter: {}, groupBy: ['KEY', 'HOUR'] },
    { label: `usage(groupBy: [MODEL]), last 24 h`, filter: { from: now - DAY }, groupBy: ['MODEL'] },
    { label: `usage(filter: {model}, groupBy: [HOUR]), 1 model`, filter: { modelId: 'vendor/model-3' }, groupBy: ['HOUR'] },
    { label: `usage(filter: {apiKeyId}, groupBy: [DAY]), 1 key`, filter: { apiKeyId: 'key_7' }, groupBy: ['DAY'] },
  ];
  const medians: Record<string, number> = {};
  for (const { label, filter, groupBy } of cases) {
    let buckets = 0;
    const ms = medianMs(9, () => {
      buckets = queryUsage(database.db, filter, groupBy).length;
    });
    medians[label] = Number(ms.toFixed(1));
    console.log(`${label}: ${ms.toFixed(1)} ms median of 9 (${buckets} buckets)`);
  }

  // What the planner does unaided (with ANALYZE statistics) versus the forced table scan queryUsage uses.
  database.sqlite.exec('analyze');
  const planner = medianMs(9, () => database.db.all(usageStatement({}, ['MODEL'], 'generations')));
  console.log(`usage(groupBy: [MODEL]), all ${all}, planner's own plan (group through generations_model_created_idx): ${planner.toFixed(1)} ms`);

  database.sqlite.exec(CANDIDATE_INDEX);
  const covered = medianMs(9, () => database.db.all(usageStatement({}, ['MODEL'], 'generations indexed by bench_usage_cover_idx')));
  console.log(`usage(groupBy: [MODEL]), all ${all}, through the candidate covering index: ${covered.toFixed(1)} ms`);
  dispose();
  return medians;
}

export async function run(options: { quick?: boolean } = {}): Promise<Record<string, unknown>> {
  // --quick only checks that the scenario runs: its figures are not the ones to quote.
  const scale = options.quick ? 0.1 : 1;
  const serial = await recorderThroughput(20_000 * scale, 1);
  const hundred = await recorderThroughput(100_000 * scale, 100);
  const plain = await recorderThroughput(200_000 * scale, 1_000);
  const queries = await usageQueryTimes(100_000 * scale);
  const indexed = await recorderThroughput(200_000 * scale, 1_000, CANDIDATE_INDEX.replace('bench_usage_cover_idx', 'bench_usage_cover_idx_writes'));
  console.log(`candidate covering index: recorder throughput ${((1 - indexed / plain) * 100).toFixed(0)}% lower`);
  return {
    quick: options.quick === true,
    generationsPerSecond: { inFlight1: Math.round(serial), inFlight100: Math.round(hundred), inFlight1000: Math.round(plain) },
    usageQueryMs: queries,
  };
}
