import { sql, type SQL } from 'drizzle-orm';
import type { HistoryBucket, HistoryQuery } from '../endpoint-history.js';
import type { KeyWindowUse } from '../key-window.js';
import type { PgDb } from './client.js';

/** The PostgreSQL twins of ../endpoint-history.ts and ../key-window.ts, for the dashboard and diagnostics. */

interface HistoryRecord extends Record<string, unknown> {
  k_start: number;
  requests: number;
  failures: number;
  p50: number | null;
  p95: number | null;
}

/** percentile_cont here is PostgreSQL's ordered-set aggregate: the same linear interpolation as SQLite's function. */
export async function endpointHistoryPg(db: PgDb, query: HistoryQuery): Promise<HistoryBucket[]> {
  const bucket = Math.max(1, Math.floor(query.bucketMs));
  const conditions: SQL[] = [sql`status <> 'IN_PROGRESS'`, sql`provider_id = ${query.providerId}`, sql`created_at >= ${query.from}`, sql`created_at < ${query.to}`];
  if (query.providerModelId !== undefined) conditions.push(sql`provider_model_id = ${query.providerModelId}`);
  // An integer computed here, never caller text; bigint division floors as SQLite's integer division does.
  const width = sql.raw(`${bucket}::int8`);
  const records = await db.execute<HistoryRecord>(sql`
    select ((created_at / ${width}) * ${width})::float8 as k_start,
      count(*)::float8 as requests,
      (count(*) filter (where status in ('FAILED', 'INTERRUPTED')))::float8 as failures,
      percentile_cont(0.5) within group (order by latency_ms) as p50,
      percentile_cont(0.95) within group (order by latency_ms) as p95
    from generations
    where ${sql.join(conditions, sql` and `)}
    group by 1
    order by 1
  `);
  return [...records].map((record) => ({
    start: record.k_start,
    requests: record.requests,
    failures: record.failures,
    latencyP50Ms: record.p50 === null ? null : Math.round(record.p50),
    latencyP95Ms: record.p95 === null ? null : Math.round(record.p95),
  }));
}

export async function keyWindowUsePg(db: PgDb, apiKeyId: string, from: number): Promise<KeyWindowUse> {
  const [record] = await db.execute<{ requests: number; tokens: number | null }>(sql`
    select count(*)::float8 as requests, sum(prompt_tokens + completion_tokens)::float8 as tokens
    from generations
    where api_key_id = ${apiKeyId} and created_at >= ${from} and (error_code is null or error_code <> 'RATE_LIMITED')
  `);
  return { requests: record?.requests ?? 0, tokens: record?.tokens ?? 0 };
}
