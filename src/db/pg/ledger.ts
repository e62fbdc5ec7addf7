import { and, asc, count, desc, eq, gt, gte, isNull, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { ReservedSql } from 'postgres';
import { INTERRUPTED_COLUMNS, type GenerationFilter } from '../generations.js';
import { GENERATION_COLUMNS, GENERATION_UPSERT_SET, generationValues, type LedgerStore } from '../ledger.js';
import type { GenerationRow } from '../schema.js';
import { toUsageBucket, usageDimensionColumns, USAGE_DIMENSION_ORDER, type UsageBucketRecord, type UsageDimension, type UsageFilter } from '../usage.js';
import type { PgClient, PgDb } from './client.js';
import { generationContents, generations } from './schema.js';

/** Each column's type, so every positional parameter carries an explicit cast and postgres.js need not guess. */
const COLUMN_TYPES: Record<string, string> = {
  prompt_tokens: 'int4',
  completion_tokens: 'int4',
  total_tokens: 'int4',
  cached_prompt_tokens: 'int4',
  cache_write_5m_tokens: 'int4',
  cache_write_1h_tokens: 'int4',
  reasoning_tokens: 'int4',
  latency_ms: 'int4',
  time_to_first_token_ms: 'int4',
  usage_estimated: 'bool',
  streamed: 'bool',
  cache_hit: 'bool',
  cost_picos: 'int8',
  prompt_price_micros: 'int8',
  completion_price_micros: 'int8',
  cached_prompt_price_micros: 'int8',
  cache_write_price_micros: 'int8',
  saved_picos: 'int8',
  created_at: 'int8',
  finished_at: 'int8',
  warnings: 'jsonb',
  attempts: 'jsonb',
  request_summary: 'jsonb',
  metadata: 'jsonb',
};

const COLUMN_LIST = GENERATION_COLUMNS.map(([, column]) => column).join(', ');

/**
 * The batch travels as one JSON parameter (an array of rows, each an array in GENERATION_COLUMNS order) and is
 * unpacked by the server: one statement text whatever the batch size, so it is prepared once per connection, and
 * the client's work per row is one JSON.stringify of an array instead of binding every column as a typed parameter.
 */
const UPSERT = `insert into generations (${COLUMN_LIST})
  select ${GENERATION_COLUMNS.map(([, column], index) => `(row->>${index})::${COLUMN_TYPES[column] ?? 'text'}`).join(', ')}
  from jsonb_array_elements($1::jsonb) as rows(row)
  on conflict (id) do update set ${GENERATION_UPSERT_SET}`;

const asIs = (value: boolean): boolean => value;

/** Rows of one commit: a single statement, so one round trip and PostgreSQL's own transaction around it. */
export async function writeGenerationsPg(client: PgClient, rows: readonly GenerationRow[], instanceId: string | null = null): Promise<void> {
  if (rows.length === 0) return;
  let batch = JSON.stringify(rows.map((row) => generationValues(row, asIs, instanceId)));
  // PostgreSQL stores no NUL character in text or jsonb; an upstream's error message with one must not hold the
  // batch back forever (the recorder retries a failed commit), so it becomes U+FFFD. Rare: only then the slow path.
  if (batch.includes('\\u0000')) batch = JSON.stringify(rows.map((row) => generationValues(row, asIs, instanceId).map(withoutNul)));
  await client.unsafe(UPSERT, [batch], { prepare: true });
}

/** A raw NUL, or the escape of one inside a JSON column's text (not an escaped backslash before "u0000"). */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

function withoutNul<T>(value: T | string): T | string {
  return typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD').replace(NUL_ESCAPE, '$1\\ufffd') : value;
}

function filterConditions(filter: GenerationFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.apiKeyId !== undefined) conditions.push(filter.apiKeyId === null ? isNull(generations.apiKeyId) : eq(generations.apiKeyId, filter.apiKeyId));
  if (filter.modelId) conditions.push(eq(generations.modelId, filter.modelId));
  if (filter.providerId) conditions.push(eq(generations.providerId, filter.providerId));
  if (filter.status) conditions.push(eq(generations.status, filter.status));
  if (filter.user !== undefined) conditions.push(eq(generations.endUser, filter.user));
  if (filter.from !== undefined) conditions.push(gte(generations.createdAt, filter.from));
  if (filter.to !== undefined) conditions.push(lt(generations.createdAt, filter.to));
  return conditions;
}

/** As in ../usage.ts, the time buckets cast to float8 so they come back as numbers. */
const DIMENSION_COLUMNS = usageDimensionColumns((expression) => `(${expression})::float8`);

type BucketRecord = UsageBucketRecord & Record<string, unknown>;

/**
 * The usage query of ../usage.ts in PostgreSQL's words: percentile_cont as an ordered-set aggregate (the same
 * linear interpolation), counts and sums as float8 (exact below 2^53), the cost summed as numeric and handed over
 * as text so it stays exact past 2^53. The (api_key_id, created_at) and (created_at) indexes serve the filters.
 */
function usageStatement(filter: UsageFilter, groupBy: readonly UsageDimension[]): SQL {
  const dimensions = USAGE_DIMENSION_ORDER.filter((dimension) => groupBy.includes(dimension)).map((dimension) => DIMENSION_COLUMNS[dimension]);
  const keys = dimensions.map((dimension) => dimension.alias).join(', ');
  const keySelect = dimensions.map((dimension) => `${dimension.expression} as ${dimension.alias}, `).join('');
  const where: SQL[] = [sql`status <> 'IN_PROGRESS'`];
  if (filter.modelId !== undefined) where.push(sql`model_id = ${filter.modelId}`);
  if (filter.providerId !== undefined) where.push(sql`provider_id = ${filter.providerId}`);
  if (filter.apiKeyId !== undefined) where.push(sql`api_key_id = ${filter.apiKeyId}`);
  if (filter.user !== undefined) where.push(sql`end_user = ${filter.user}`);
  if (filter.from !== undefined) where.push(sql`created_at >= ${filter.from}`);
  if (filter.to !== undefined) where.push(sql`created_at < ${filter.to}`);
  return sql`
    select ${sql.raw(keySelect)}count(*)::float8 as requests,
      (count(*) filter (where status in ('FAILED', 'INTERRUPTED')))::float8 as errors,
      (count(*) filter (where status = 'CANCELLED'))::float8 as cancellations,
      sum(prompt_tokens)::float8 as prompt_tokens,
      sum(completion_tokens)::float8 as completion_tokens,
      sum(cached_prompt_tokens)::float8 as cached_prompt_tokens,
      sum(cache_write_5m_tokens)::float8 as cache_write_5m_tokens,
      sum(cache_write_1h_tokens)::float8 as cache_write_1h_tokens,
      coalesce(sum(case when cost_picos is null then 0 else
        cached_prompt_tokens::numeric * (prompt_price_micros - coalesce(cached_prompt_price_micros, prompt_price_micros))
        - cache_write_5m_tokens::numeric * (coalesce(cache_write_price_micros, prompt_price_micros) - prompt_price_micros)
        - cache_write_1h_tokens::numeric * prompt_price_micros end), 0)::text as cache_saving_picos,
      sum(reasoning_tokens)::float8 as reasoning_tokens,
      coalesce(sum(cost_picos), 0)::text as cost_picos,
      (count(*) filter (where cost_picos is null))::float8 as unpriced,
      percentile_cont(0.5) within group (order by latency_ms) as p50,
      percentile_cont(0.95) within group (order by latency_ms) as p95
    from generations
    where ${sql.join(where, sql` and `)}
    ${sql.raw(keys === '' ? '' : `group by ${keys}`)}
    having count(*) > 0
    ${sql.raw(keys === '' ? '' : `order by ${keys}`)}
  `;
}


/**
 * Which instances are alive, without a heartbeat table or a clock: each live instance holds a session advisory
 * lock named after its id on a connection of its own, which PostgreSQL releases the moment that session ends (a
 * crash, a kill -9, a lost network). An instance is gone when its lock can be taken.
 */
export class InstanceLiveness {
  private held: Promise<ReservedSql> | undefined;

  constructor(
    private readonly client: PgClient,
    readonly instanceId: string,
  ) {}

  /** Takes this instance's lock (once) on a connection reserved for the store's life. */
  claim(): Promise<ReservedSql> {
    this.held ??= (async () => {
      const reserved = await this.client.reserve();
      await reserved`select pg_advisory_lock(hashtextextended(${LOCK_PREFIX + this.instanceId}, 0))`;
      return reserved;
    })();
    return this.held;
  }

  /** Whether `instanceId`'s lock is free (its session ended); asked on the claimed connection, the lock is released at once. */
  async gone(instanceId: string): Promise<boolean> {
    const reserved = await this.claim();
    const [row] = await reserved<Array<{ free: boolean }>>`select pg_try_advisory_lock(hashtextextended(${LOCK_PREFIX + instanceId}, 0)) as free`;
    if (!row?.free) return false;
    await reserved`select pg_advisory_unlock(hashtextextended(${LOCK_PREFIX + instanceId}, 0))`;
    return true;
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    const reserved = await held;
    await reserved`select pg_advisory_unlock_all()`.catch(() => undefined);
    reserved.release();
  }
}

const LOCK_PREFIX = 'switchboard-instance:';

export function createPgLedger(db: PgDb, client: PgClient, liveness: InstanceLiveness): LedgerStore {
  const instanceId = liveness.instanceId;
  return {
    dialect: 'postgres',
    instanceId,
    writeGenerations: (rows) => writeGenerationsPg(client, rows, instanceId),
    markInterrupted: async (now = Date.now()) => {
      await liveness.claim();
      const writers = await db
        .selectDistinct({ instanceId: generations.instanceId })
        .from(generations)
        .where(and(eq(generations.status, 'IN_PROGRESS'), or(isNull(generations.instanceId), ne(generations.instanceId, instanceId))));
      let interrupted = 0;
      for (const { instanceId: writer } of writers) {
        // Rows from before instance ids (null) have no lock to ask about: their writer predates this upgrade.
        if (writer !== null && !(await liveness.gone(writer))) continue;
        const rows = await db
          .update(generations)
          .set({ ...INTERRUPTED_COLUMNS, finishedAt: now })
          .where(and(eq(generations.status, 'IN_PROGRESS'), writer === null ? isNull(generations.instanceId) : eq(generations.instanceId, writer)))
          .returning({ id: generations.id });
        interrupted += rows.length;
      }
      return interrupted;
    },
    findGeneration: async (id) => (await db.select().from(generations).where(eq(generations.id, id)).limit(1))[0],
    listGenerations: async (filter, page) => {
      const conditions = filterConditions(filter);
      if (page.olderThan) conditions.push(lt(generations.id, page.olderThan));
      if (page.newerThan) conditions.push(gt(generations.id, page.newerThan));
      return db
        .select()
        .from(generations)
        .where(conditions.length ? and(...conditions) : undefined)
        .orderBy(page.oldestFirst ? asc(generations.id) : desc(generations.id))
        .limit(page.limit);
    },
    countGenerations: async (filter) => {
      const conditions = filterConditions(filter);
      const [row] = await db.select({ count: count() }).from(generations).where(conditions.length ? and(...conditions) : undefined);
      return row?.count ?? 0;
    },
    queryUsage: async (filter, groupBy) => (await db.execute<BucketRecord>(usageStatement(filter, groupBy))).map(toUsageBucket),
    spentSince: async (keyId, startMs) => {
      const [row] = await client<Array<{ spent: string }>>`
        select coalesce(sum(cost_picos), 0)::text as spent from generations where api_key_id = ${keyId} and created_at >= ${startMs}`;
      return Number(row?.spent ?? 0);
    },
    saveContent: async (generationId, content, now) => {
      await db.insert(generationContents).values({ generationId, content, createdAt: now }).onConflictDoNothing();
    },
    findContent: async (generationId) =>
      (await db.select({ content: generationContents.content }).from(generationContents).where(eq(generationContents.generationId, generationId)).limit(1))[0]?.content,
    deleteExpired: async (cutoff, limit) => {
      const rows = await client`
        delete from generations where id in (
          select id from generations where created_at < ${cutoff} and status <> 'IN_PROGRESS' limit ${limit}
        ) returning id`;
      return rows.length;
    },
  };
}
