import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';

export const usageDimensions = ['MODEL', 'PROVIDER', 'KEY', 'USER', 'DAY', 'HOUR', 'MINUTE'] as const;
export type UsageDimension = (typeof usageDimensions)[number];

export interface UsageFilter {
  modelId?: string;
  providerId?: string;
  apiKeyId?: string;
  /** The end user the caller named (`user`). */
  user?: string;
  /** Unix milliseconds, inclusive. */
  from?: number;
  /** Unix milliseconds, exclusive. */
  to?: number;
}

/** One group of finished generations. A dimension not grouped by is null in every bucket. */
export interface UsageBucket {
  modelId: string | null;
  providerId: string | null;
  apiKeyId: string | null;
  /** The end user (`user`); null also for the requests that named none. */
  user: string | null;
  /** Start of the UTC day, unix milliseconds. */
  day: number | null;
  /** Start of the UTC hour, unix milliseconds. */
  hour: number | null;
  /** Start of the minute, unix milliseconds. */
  minute: number | null;
  requests: number;
  /** FAILED and INTERRUPTED; a caller's cancellation is not an error. */
  errors: number;
  cancellations: number;
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  /** Prompt tokens written to a provider's cache for five minutes and for one hour. */
  cacheWrite5mTokens: number;
  cacheWrite1hTokens: number;
  /**
   * What caching saved against the same prompts at the plain prompt price, at each generation's own prices: reads'
   * discount less writes' surcharge (negative when writes were never read back). Priced generations only.
   */
  cacheSavingPicos: bigint;
  reasoningTokens: number;
  /** Exact, as a bigint: a month of a busy gateway passes 2^53 pico-dollars ($9,007). */
  costPicos: bigint;
  /** Generations whose price was unknown; their cost is not in costPicos. */
  unpricedRequests: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * The bucket key columns of both stores' usage statements; fixed expressions, never caller text. Integer division
 * floors the instant to its UTC day, hour or minute; `time` wraps those expressions where a dialect needs a cast
 * (PostgreSQL hands bigint back as text without one).
 */
export function usageDimensionColumns(time: (expression: string) => string = (expression) => expression): Record<UsageDimension, { alias: string; expression: string }> {
  return {
    MODEL: { alias: 'k_model', expression: 'model_id' },
    PROVIDER: { alias: 'k_provider', expression: 'provider_id' },
    KEY: { alias: 'k_key', expression: 'api_key_id' },
    USER: { alias: 'k_user', expression: 'end_user' },
    DAY: { alias: 'k_day', expression: time(`(created_at / ${DAY_MS}) * ${DAY_MS}`) },
    HOUR: { alias: 'k_hour', expression: time(`(created_at / ${HOUR_MS}) * ${HOUR_MS}`) },
    MINUTE: { alias: 'k_minute', expression: time(`(created_at / ${MINUTE_MS}) * ${MINUTE_MS}`) },
  };
}

const DIMENSION_COLUMNS = usageDimensionColumns();

/** Time first, so a chart's buckets come out in order. */
export const USAGE_DIMENSION_ORDER: readonly UsageDimension[] = ['DAY', 'HOUR', 'MINUTE', 'MODEL', 'PROVIDER', 'KEY', 'USER'];

/** A usage row as both dialects' statements return it (src/db/pg/ledger.ts reads the same aliases). */
export interface UsageBucketRecord {
  k_model?: string | null;
  k_provider?: string | null;
  k_key?: string | null;
  k_user?: string | null;
  k_day?: number | null;
  k_hour?: number | null;
  k_minute?: number | null;
  requests: number;
  errors: number;
  cancellations: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_prompt_tokens: number;
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  cache_saving_picos: string;
  reasoning_tokens: number;
  cost_picos: string;
  unpriced: number;
  p50: number | null;
  p95: number | null;
}

function conditions(filter: UsageFilter): SQL[] {
  // In-flight rows have no final usage yet; they count once they finish.
  const list: SQL[] = [sql`status <> 'IN_PROGRESS'`];
  if (filter.modelId !== undefined) list.push(sql`model_id = ${filter.modelId}`);
  if (filter.providerId !== undefined) list.push(sql`provider_id = ${filter.providerId}`);
  if (filter.apiKeyId !== undefined) list.push(sql`api_key_id = ${filter.apiKeyId}`);
  if (filter.user !== undefined) list.push(sql`end_user = ${filter.user}`);
  if (filter.from !== undefined) list.push(sql`created_at >= ${filter.from}`);
  if (filter.to !== undefined) list.push(sql`created_at < ${filter.to}`);
  return list;
}

/**
 * Usage grouped by the given dimensions, in one statement. Latency p50/p95 come from SQLite's percentile_cont
 * (linear interpolation between the two closest ranks, numpy's default), rounded to the millisecond; generations
 * without a latency count everywhere else but not there. percentile_cont needs SQLITE_ENABLE_PERCENTILE, which
 * better-sqlite3's bundled SQLite has; it sorts each bucket's latencies once, far cheaper than window functions.
 */
export function queryUsage(db: Db, filter: UsageFilter, groupBy: readonly UsageDimension[]): UsageBucket[] {
  return db.all<UsageBucketRecord>(usageStatement(filter, groupBy)).map(toUsageBucket);
}

/**
 * The statement behind queryUsage. `source` replaces the table expression; bench/ledger.ts uses it to measure a
 * candidate index (`generations indexed by …`).
 */
export function usageStatement(filter: UsageFilter, groupBy: readonly UsageDimension[], source?: string): SQL {
  const dimensions = USAGE_DIMENSION_ORDER.filter((dimension) => groupBy.includes(dimension)).map((dimension) => DIMENSION_COLUMNS[dimension]);
  const keys = dimensions.map((dimension) => dimension.alias).join(', ');
  const keySelect = dimensions.map((dimension) => `${dimension.expression} as ${dimension.alias}, `).join('');
  const where = conditions(filter);
  // Reading everything, a plain scan beats the planner's pick (an index that hands rows over already grouped, at the
  // price of one random lookup per row): measured 2–3× faster over 100,000 rows (bench/ledger.ts).
  const table = source ?? (where.length === 1 ? 'generations not indexed' : 'generations');
  return sql`
    select ${sql.raw(keySelect)}count(*) as requests,
      sum(status in ('FAILED', 'INTERRUPTED')) as errors,
      sum(status = 'CANCELLED') as cancellations,
      sum(prompt_tokens) as prompt_tokens,
      sum(completion_tokens) as completion_tokens,
      sum(cached_prompt_tokens) as cached_prompt_tokens,
      sum(cache_write_5m_tokens) as cache_write_5m_tokens,
      sum(cache_write_1h_tokens) as cache_write_1h_tokens,
      cast(coalesce(sum(case when cost_picos is null then 0 else
        cached_prompt_tokens * (prompt_price_micros - coalesce(cached_prompt_price_micros, prompt_price_micros))
        - cache_write_5m_tokens * (coalesce(cache_write_price_micros, prompt_price_micros) - prompt_price_micros)
        - cache_write_1h_tokens * prompt_price_micros end), 0) as text) as cache_saving_picos,
      sum(reasoning_tokens) as reasoning_tokens,
      cast(coalesce(sum(cost_picos), 0) as text) as cost_picos,
      sum(cost_picos is null) as unpriced,
      percentile_cont(latency_ms, 0.5) as p50,
      percentile_cont(latency_ms, 0.95) as p95
    from ${sql.raw(table)}
    where ${sql.join(where, sql` and `)}
    ${sql.raw(keys === '' ? '' : `group by ${keys}`)}
    having count(*) > 0
    ${sql.raw(keys === '' ? '' : `order by ${keys}`)}
  `;
}

export function toUsageBucket(record: UsageBucketRecord): UsageBucket {
  return {
    modelId: record.k_model ?? null,
    providerId: record.k_provider ?? null,
    apiKeyId: record.k_key ?? null,
    user: record.k_user ?? null,
    day: record.k_day ?? null,
    hour: record.k_hour ?? null,
    minute: record.k_minute ?? null,
    requests: record.requests,
    errors: record.errors,
    cancellations: record.cancellations,
    promptTokens: record.prompt_tokens,
    completionTokens: record.completion_tokens,
    cachedPromptTokens: record.cached_prompt_tokens,
    cacheWrite5mTokens: record.cache_write_5m_tokens,
    cacheWrite1hTokens: record.cache_write_1h_tokens,
    cacheSavingPicos: BigInt(record.cache_saving_picos),
    reasoningTokens: record.reasoning_tokens,
    costPicos: BigInt(record.cost_picos),
    unpricedRequests: record.unpriced,
    latencyP50Ms: record.p50 === null ? null : Math.round(record.p50),
    latencyP95Ms: record.p95 === null ? null : Math.round(record.p95),
  };
}
