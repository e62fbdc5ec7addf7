import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';

/** One time bucket of an endpoint's or a provider's finished generations, from the ledger. */
export interface HistoryBucket {
  /** Start of the bucket, unix milliseconds. */
  start: number;
  requests: number;
  /** FAILED and INTERRUPTED; a caller's cancellation is not the provider's failure. */
  failures: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

export interface HistoryQuery {
  providerId: string;
  /** Only this provider model; the whole provider when absent. */
  providerModelId?: string;
  /** Unix milliseconds, inclusive; aligned down to a bucket. */
  from: number;
  /** Unix milliseconds, exclusive. */
  to: number;
  bucketMs: number;
}

interface HistoryRecord {
  k_start: number;
  requests: number;
  failures: number;
  p50: number | null;
  p95: number | null;
}

/**
 * Uptime and latency over time of the generations a provider (or one of its models) finally served or failed, in
 * fixed buckets; buckets without requests are absent. Refusals before routing name no provider and never count.
 * A Promise so that the PostgreSQL twin can share the signature.
 */
export async function endpointHistory(db: Db, query: HistoryQuery): Promise<HistoryBucket[]> {
  const bucket = Math.max(1, Math.floor(query.bucketMs));
  const conditions: SQL[] = [
    sql`status <> 'IN_PROGRESS'`,
    sql`provider_id = ${query.providerId}`,
    sql`created_at >= ${query.from}`,
    sql`created_at < ${query.to}`,
  ];
  if (query.providerModelId !== undefined) conditions.push(sql`provider_model_id = ${query.providerModelId}`);
  // The bucket goes in as an integer literal: a bound JavaScript number arrives as a REAL and the division would
  // not floor. It is an integer computed here, never caller text.
  const width = sql.raw(String(bucket));
  const records = db.all<HistoryRecord>(sql`
    select (created_at / ${width}) * ${width} as k_start,
      count(*) as requests,
      sum(status in ('FAILED', 'INTERRUPTED')) as failures,
      percentile_cont(latency_ms, 0.5) as p50,
      percentile_cont(latency_ms, 0.95) as p95
    from generations
    where ${sql.join(conditions, sql` and `)}
    group by k_start
    order by k_start
  `);
  return records.map((record) => ({
    start: record.k_start,
    requests: record.requests,
    failures: record.failures,
    latencyP50Ms: record.p50 === null ? null : Math.round(record.p50),
    latencyP95Ms: record.p95 === null ? null : Math.round(record.p95),
  }));
}
