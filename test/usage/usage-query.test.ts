import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { generations, type GenerationRow, type GenerationStatus } from '../../src/db/schema.js';
import { queryUsage, type UsageBucket, type UsageDimension, type UsageFilter } from '../../src/db/usage.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 10, 22, 0, 0);

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function seedRows(count: number): GenerationRow[] {
  const next = random(7);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const statuses: GenerationStatus[] = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];
  const rows: GenerationRow[] = [];
  for (let index = 0; index < count; index++) {
    const [modelId, providerId] = pick([
      ['openai/gpt-4o-mini', 'openai'],
      ['openai/gpt-4o-mini', 'openrouter'],
      ['anthropic/claude-haiku', 'anthropic'],
      [null, 'openai'],
    ] as const);
    const status = pick(statuses);
    const promptTokens = Math.floor(next() * 5000);
    const completionTokens = Math.floor(next() * 800);
    const priced = modelId !== null;
    rows.push({
      id: `gen_${String(index).padStart(5, '0')}`,
      requestId: null,
      apiKeyId: pick([null, 'key_a', 'key_b']),
      endUser: pick([null, 'user-ann', 'user-bob', 'user-cem']),
      requestedModel: modelId ?? 'openai/unlisted',
      modelId,
      providerId,
      providerModelId: 'x',
      status,
      finishReason: status === 'SUCCEEDED' ? 'stop' : 'error',
      rawFinishReason: null,
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      cachedPromptTokens: Math.floor(promptTokens / 3),
      reasoningTokens: Math.floor(completionTokens / 4),
      usageEstimated: false,
      // Prices near real ones, so sums pass 2^53 pico-dollars only in the dedicated test below.
      costPicos: priced ? promptTokens * 150_000 + completionTokens * 600_000 : null,
      // A priced row's own prices drive its cache saving; some with no cached or write price (the prompt price then).
      promptPriceMicros: priced ? 150_000 : null,
      completionPriceMicros: priced ? 600_000 : null,
      cachedPromptPriceMicros: priced && index % 2 === 0 ? 15_000 : null,
      cacheWritePriceMicros: priced && index % 3 === 0 ? 187_500 : null,
      cacheWrite5mTokens: Math.floor(promptTokens / 5),
      cacheWrite1hTokens: Math.floor(promptTokens / 7),
      // Some rows without a latency (cancelled before any answer): they count, but not in the percentiles.
      latencyMs: next() < 0.1 ? null : Math.floor(next() * 3000),
      timeToFirstTokenMs: null,
      streamed: false,
      errorCode: null,
      errorMessage: null,
      warnings: [],
      attempts: [],
      requestSummary: { messages: 1 },
      metadata: null, cacheHit: false, savedPicos: null, instanceId: null,
      createdAt: T0 + Math.floor(next() * 3 * DAY),
      finishedAt: null,
    });
  }
  return rows;
}

/** Linear interpolation between the closest ranks (numpy's default), rounded to the millisecond. */
function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return Math.round(sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower));
}

function keyOf(row: GenerationRow, groupBy: readonly UsageDimension[]): Pick<UsageBucket, 'modelId' | 'providerId' | 'apiKeyId' | 'user' | 'day' | 'hour' | 'minute'> {
  return {
    modelId: groupBy.includes('MODEL') ? row.modelId : null,
    providerId: groupBy.includes('PROVIDER') ? row.providerId : null,
    apiKeyId: groupBy.includes('KEY') ? row.apiKeyId : null,
    user: groupBy.includes('USER') ? row.endUser : null,
    day: groupBy.includes('DAY') ? Math.floor(row.createdAt / DAY) * DAY : null,
    hour: groupBy.includes('HOUR') ? Math.floor(row.createdAt / HOUR) * HOUR : null,
    minute: groupBy.includes('MINUTE') ? Math.floor(row.createdAt / 60_000) * 60_000 : null,
  };
}

/** The buckets computed the slow way, in JavaScript, from the rows themselves. */
function expectedBuckets(rows: GenerationRow[], groupBy: readonly UsageDimension[], filter: UsageFilter = {}): UsageBucket[] {
  const groups = new Map<string, GenerationRow[]>();
  for (const row of rows) {
    if (row.status === 'IN_PROGRESS') continue;
    if (filter.modelId !== undefined && row.modelId !== filter.modelId) continue;
    if (filter.providerId !== undefined && row.providerId !== filter.providerId) continue;
    if (filter.apiKeyId !== undefined && row.apiKeyId !== filter.apiKeyId) continue;
    if (filter.user !== undefined && row.endUser !== filter.user) continue;
    if (filter.from !== undefined && row.createdAt < filter.from) continue;
    if (filter.to !== undefined && row.createdAt >= filter.to) continue;
    const key = JSON.stringify(keyOf(row, groupBy));
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((group) => {
    const latencies = group.map((row) => row.latencyMs).filter((value): value is number => value !== null);
    const sum = (pick: (row: GenerationRow) => number): number => group.reduce((total, row) => total + pick(row), 0);
    return {
      ...keyOf(group[0]!, groupBy),
      requests: group.length,
      errors: group.filter((row) => row.status === 'FAILED' || row.status === 'INTERRUPTED').length,
      cancellations: group.filter((row) => row.status === 'CANCELLED').length,
      promptTokens: sum((row) => row.promptTokens),
      completionTokens: sum((row) => row.completionTokens),
      cachedPromptTokens: sum((row) => row.cachedPromptTokens),
      cacheWrite5mTokens: sum((row) => row.cacheWrite5mTokens),
      cacheWrite1hTokens: sum((row) => row.cacheWrite1hTokens),
      cacheSavingPicos: group.reduce((total, row) => total + cacheSaving(row), 0n),
      reasoningTokens: sum((row) => row.reasoningTokens),
      costPicos: group.reduce((total, row) => total + BigInt(row.costPicos ?? 0), 0n),
      unpricedRequests: group.filter((row) => row.costPicos === null).length,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
    };
  });
}

/** The saving against plain prompt prices, worked out per row from its own prices, independently of the SQL. */
function cacheSaving(row: GenerationRow): bigint {
  if (row.costPicos === null || row.promptPriceMicros === null) return 0n;
  const prompt = row.promptPriceMicros;
  const readDiscount = row.cachedPromptTokens * (prompt - (row.cachedPromptPriceMicros ?? prompt));
  const writeSurcharge = row.cacheWrite5mTokens * ((row.cacheWritePriceMicros ?? prompt) - prompt) + row.cacheWrite1hTokens * (2 * prompt - prompt);
  return BigInt(readDiscount - writeSurcharge);
}

const byKey = (buckets: UsageBucket[]): UsageBucket[] =>
  [...buckets].sort((a, b) => JSON.stringify([a.day, a.hour, a.minute, a.modelId, a.providerId, a.apiKeyId, a.user]).localeCompare(JSON.stringify([b.day, b.hour, b.minute, b.modelId, b.providerId, b.apiKeyId, b.user])));

describe('queryUsage', () => {
  let database: DatabaseHandle;
  let statements: string[];
  const rows = seedRows(2000);

  beforeAll(() => {
    statements = [];
    database = openDatabase(':memory:', { onStatement: (sql) => statements.push(sql) });
    for (let offset = 0; offset < rows.length; offset += 200) database.db.insert(generations).values(rows.slice(offset, offset + 200)).run();
    // An in-flight request has no final usage: it must not be counted.
    database.db.insert(generations).values({ ...rows[0]!, id: 'gen_in_flight', status: 'IN_PROGRESS', promptTokens: 1_000_000 }).run();
  });
  afterAll(() => database.close());

  const groupings: UsageDimension[][] = [[], ['MODEL'], ['PROVIDER'], ['KEY'], ['DAY'], ['HOUR'], ['MODEL', 'PROVIDER'], ['MODEL', 'DAY'], ['PROVIDER', 'KEY', 'HOUR'], ['MINUTE'], ['MODEL', 'MINUTE'], ['MODEL', 'PROVIDER', 'KEY', 'DAY', 'HOUR'], ['USER'], ['KEY', 'USER', 'DAY']];

  it.each(groupings.map((groupBy) => [groupBy.join('+') || 'nothing', groupBy] as const))('buckets by %s equal the sums of their generations, in one statement', (_name, groupBy) => {
    statements.length = 0;
    const actual = queryUsage(database.db, {}, groupBy);
    expect(statements).toHaveLength(1);
    expect(byKey(actual)).toEqual(byKey(expectedBuckets(rows, groupBy)));
    expect(actual.reduce((total, bucket) => total + bucket.requests, 0)).toBe(rows.length);
  });

  it('orders time buckets ascending', () => {
    const days = queryUsage(database.db, {}, ['DAY', 'MODEL']).map((bucket) => bucket.day!);
    expect(days).toEqual([...days].sort((a, b) => a - b));
    expect(new Set(days).size).toBeGreaterThanOrEqual(3);
  });

  it('applies model, provider, key and time filters', () => {
    const filters: UsageFilter[] = [
      { modelId: 'openai/gpt-4o-mini' },
      { providerId: 'openrouter', apiKeyId: 'key_a' },
      { from: T0 + DAY, to: T0 + 2 * DAY },
      { modelId: 'openai/gpt-4o-mini', from: T0 + 12 * HOUR },
      { user: 'user-bob' },
      { user: 'user-ann', apiKeyId: 'key_b' },
    ];
    for (const filter of filters) {
      expect(byKey(queryUsage(database.db, filter, ['MODEL', 'HOUR']))).toEqual(byKey(expectedBuckets(rows, ['MODEL', 'HOUR'], filter)));
    }
  });

  it('counts failed and interrupted generations as errors, cancelled ones not', () => {
    const [bucket] = queryUsage(database.db, {}, []);
    const failedOrInterrupted = rows.filter((row) => row.status === 'FAILED' || row.status === 'INTERRUPTED').length;
    expect(bucket!.errors).toBe(failedOrInterrupted);
    expect(bucket!.cancellations).toBe(rows.filter((row) => row.status === 'CANCELLED').length);
    expect(bucket!.errors).toBeGreaterThan(0);
    expect(bucket!.cancellations).toBeGreaterThan(0);
  });

  it('returns no buckets when nothing matches', () => {
    expect(queryUsage(database.db, { modelId: 'nobody/nothing' }, [])).toEqual([]);
    expect(queryUsage(database.db, { modelId: 'nobody/nothing' }, ['MODEL'])).toEqual([]);
  });

  it('interpolates latency percentiles between the closest ranks', () => {
    const small = openDatabase(':memory:');
    const latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000];
    small.db
      .insert(generations)
      .values(latencies.map((latencyMs, index) => ({ ...rows[0]!, id: `gen_p${index}`, modelId: 'm', status: 'SUCCEEDED' as const, latencyMs })))
      .run();
    const [bucket] = queryUsage(small.db, {}, ['MODEL']);
    // n = 10: p50 sits halfway between the 5th and 6th (55), p95 55% of the way from the 9th to the 10th (590.5).
    expect(bucket).toMatchObject({ modelId: 'm', latencyP50Ms: 55, latencyP95Ms: 590 });
    small.close();
  });

  it('sums costs beyond 2^53 pico-dollars exactly', () => {
    const large = openDatabase(':memory:');
    // Three requests of 2^52 + 1 picos (about $4,500 each): the exact sum is odd and above 2^53.
    const each = 2 ** 52 + 1;
    large.db
      .insert(generations)
      .values([0, 1, 2].map((index) => ({ ...rows[0]!, id: `gen_big${index}`, status: 'SUCCEEDED' as const, costPicos: each })))
      .run();
    const [bucket] = queryUsage(large.db, {}, []);
    expect(bucket!.costPicos).toBe(3n * BigInt(each));
    large.close();
  });
});
