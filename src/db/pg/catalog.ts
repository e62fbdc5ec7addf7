import { and, asc, desc, eq, exists, getTableColumns, gte, inArray, isNotNull, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import {
  PRICED_ENDPOINT_STATUS,
  type ListedModel,
  type ModelListFilter,
  type ModelListQuery,
  type ModelPosition,
  type ModelSortField,
  type ModelUsageKey,
  type ModelUsageSummary,
  type SortDirection,
  type SortKey,
} from '../catalog.js';
import type { PgDb } from './client.js';
import { generations, modelAliases, modelEndpoints, models } from './schema.js';

/**
 * The PostgreSQL twin of the `models` listing and `Model.usage` in ../catalog.ts: the same filters, keyset
 * ordering and cursor, in PostgreSQL's words (jsonb containment for the lists, bigint sums and prices cast to
 * float8 so they arrive as numbers; prices are micro-dollars, exact far below 2^53).
 */

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function pricedEndpoints(db: PgDb, filter: ModelListFilter) {
  const conditions: SQL[] = [eq(modelEndpoints.status, PRICED_ENDPOINT_STATUS), isNotNull(modelEndpoints.promptPriceMicros), isNotNull(modelEndpoints.completionPriceMicros)];
  if (filter.providerId !== undefined) conditions.push(eq(modelEndpoints.providerId, filter.providerId));
  if (filter.maxPromptPriceMicros !== undefined) conditions.push(lte(modelEndpoints.promptPriceMicros, filter.maxPromptPriceMicros));
  if (filter.maxCompletionPriceMicros !== undefined) conditions.push(lte(modelEndpoints.completionPriceMicros, filter.maxCompletionPriceMicros));
  return db
    .select({
      modelId: modelEndpoints.modelId,
      total: sql<number>`min(${modelEndpoints.promptPriceMicros} + ${modelEndpoints.completionPriceMicros})::float8`.as('priced_total'),
      prompt: sql<number>`min(${modelEndpoints.promptPriceMicros})::float8`.as('priced_prompt'),
      completion: sql<number>`min(${modelEndpoints.completionPriceMicros})::float8`.as('priced_completion'),
    })
    .from(modelEndpoints)
    .where(and(...conditions))
    .groupBy(modelEndpoints.modelId)
    .as('priced');
}

function containsAll(column: PgColumn, values: readonly string[]): SQL[] {
  return values.map((value) => sql`${column} @> ${JSON.stringify([value])}::jsonb`);
}

function filterConditions(db: PgDb, filter: ModelListFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.providerId !== undefined) {
    conditions.push(
      exists(
        db
          .select({ one: sql`1` })
          .from(modelEndpoints)
          .where(and(eq(modelEndpoints.modelId, models.id), eq(modelEndpoints.providerId, filter.providerId), eq(modelEndpoints.status, 'ACTIVE'))),
      ),
    );
  }
  if (filter.vendor !== undefined) conditions.push(eq(models.vendor, filter.vendor));
  if (filter.inputModalities) conditions.push(...containsAll(models.inputModalities, filter.inputModalities));
  if (filter.outputModalities) conditions.push(...containsAll(models.outputModalities, filter.outputModalities));
  if (filter.supportedParameters) conditions.push(...containsAll(models.supportedParameters, filter.supportedParameters));
  if (filter.minContextLength !== undefined) conditions.push(gte(models.contextLength, filter.minContextLength));
  if (filter.search !== undefined && filter.search.trim() !== '') {
    const pattern = `%${escapeLike(filter.search.trim().toLowerCase())}%`;
    const matches = (column: SQL) => sql`lower(${column}) like ${pattern} escape '\\'`;
    const aliasMatch = exists(
      db
        .select({ one: sql`1` })
        .from(modelAliases)
        .where(and(eq(modelAliases.modelId, models.id), sql`${modelAliases.alias} like ${pattern} escape '\\'`)),
    );
    const matched = or(matches(sql`${models.id}`), matches(sql`${models.name}`), matches(sql`coalesce(${models.description}, '')`), aliasMatch);
    if (matched) conditions.push(matched);
  }
  return conditions;
}

const hasPriceCaps = (filter: ModelListFilter): boolean => filter.maxPromptPriceMicros !== undefined || filter.maxCompletionPriceMicros !== undefined;
const isPriceField = (field: ModelSortField): boolean => field === 'PRICE' || field === 'PROMPT_PRICE' || field === 'COMPLETION_PRICE';

/**
 * Text keys and the id compare under the "C" collation, in ordering and cursor alike: PostgreSQL's default collation
 * orders text unlike SQLite's byte order, and a page must come out the same on both stores.
 */
function sortKeyOf(field: ModelSortField, priced: ReturnType<typeof pricedEndpoints>): SQL<SortKey> {
  switch (field) {
    case 'ID':
      return sql<SortKey>`${models.id} collate "C"`;
    case 'NAME':
      return sql<SortKey>`lower(${models.name}) collate "C"`;
    case 'PRICE':
      return sql<SortKey>`${priced.total}`;
    case 'PROMPT_PRICE':
      return sql<SortKey>`${priced.prompt}`;
    case 'COMPLETION_PRICE':
      return sql<SortKey>`${priced.completion}`;
    case 'CONTEXT_LENGTH':
      return sql<SortKey>`nullif(${models.contextLength}, 0)`;
    case 'RELEASED_AT':
      return sql<SortKey>`${models.releasedAt} collate "C"`;
  }
}

/** How a cursor's key is bound: PostgreSQL compares a text parameter with a number column only after a cast. */
function keyParameter(field: ModelSortField, key: SortKey): SQL {
  if (isPriceField(field)) return sql`${key}::float8`;
  if (field === 'CONTEXT_LENGTH') return sql`${key}::int4`;
  return sql`${key}::text`;
}

interface Direction {
  nullsLast: boolean;
  key: SortDirection;
  id: SortDirection;
}

const compare = (direction: SortDirection): string => (direction === 'ASC' ? '>' : '<');
const flip = (direction: SortDirection): SortDirection => (direction === 'ASC' ? 'DESC' : 'ASC');

function afterPosition(field: ModelSortField, key: SQL<SortKey>, keyNullable: boolean, direction: Direction, position: ModelPosition): SQL {
  const idAfter = sql`${models.id} collate "C" ${sql.raw(compare(direction.id))} ${position.id}`;
  const value = keyParameter(field, position.key);
  if (!keyNullable) return sql`(${key} ${sql.raw(compare(direction.key))} ${value} or (${key} = ${value} and ${idAfter}))`;
  if (position.key === null) return direction.nullsLast ? sql`(${key} is null and ${idAfter})` : sql`(${key} is not null or ${idAfter})`;
  const withinKnown = sql`(${key} is not null and (${key} ${sql.raw(compare(direction.key))} ${value} or (${key} = ${value} and ${idAfter})))`;
  return direction.nullsLast ? sql`(${withinKnown} or ${key} is null)` : withinKnown;
}

export async function listModelsPg(db: PgDb, query: ModelListQuery): Promise<ListedModel[]> {
  const { filter, order } = query;
  const priced = pricedEndpoints(db, filter);
  const key = sortKeyOf(order.field, priced);
  const keyNullable = order.field !== 'ID' && order.field !== 'NAME';
  const idDirection: SortDirection = order.field === 'ID' ? order.direction : 'ASC';
  const forward: Direction = { nullsLast: true, key: order.direction, id: idDirection };
  const backward: Direction = { nullsLast: false, key: flip(order.direction), id: flip(idDirection) };
  const walk = query.inverted ? backward : forward;
  const conditions = filterConditions(db, filter);
  if (query.after) conditions.push(afterPosition(order.field, key, keyNullable, forward, query.after));
  if (query.before) conditions.push(afterPosition(order.field, key, keyNullable, backward, query.before));
  const base = db.select({ ...getTableColumns(models), sortKey: key }).from(models);
  const joined = hasPriceCaps(filter) ? base.innerJoin(priced, eq(priced.modelId, models.id)) : isPriceField(order.field) ? base.leftJoin(priced, eq(priced.modelId, models.id)) : base;
  const ordering: SQL[] = [];
  if (keyNullable) ordering.push(walk.nullsLast ? sql`${key} is null` : sql`${key} is not null`);
  if (order.field !== 'ID') ordering.push(walk.key === 'ASC' ? asc(key) : desc(key));
  ordering.push(walk.id === 'ASC' ? sql`${models.id} collate "C" asc` : sql`${models.id} collate "C" desc`);
  return joined.where(conditions.length > 0 ? and(...conditions) : undefined).orderBy(...ordering).limit(query.limit);
}

export async function countModelsPg(db: PgDb, filter: ModelListFilter): Promise<number> {
  const conditions = filterConditions(db, filter);
  const base = db.select({ count: sql<number>`count(*)::int4` }).from(models);
  const priced = pricedEndpoints(db, filter);
  const joined = hasPriceCaps(filter) ? base.innerJoin(priced, eq(priced.modelId, models.id)) : base;
  const [row] = await joined.where(conditions.length > 0 ? and(...conditions) : undefined);
  return row?.count ?? 0;
}

const EMPTY_USAGE: ModelUsageSummary = { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costPicos: 0, unpricedRequests: 0, latencyP50Ms: null, latencyP95Ms: null };

interface UsageAggregateRow extends Record<string, unknown> {
  modelId: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costPicos: number | null;
  unpricedRequests: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

async function usageInWindow(db: PgDb, modelIds: readonly string[], from: number | null, to: number | null): Promise<UsageAggregateRow[]> {
  const window: SQL[] = [inArray(generations.modelId, [...modelIds]), ne(generations.status, 'IN_PROGRESS')];
  if (from !== null) window.push(gte(generations.createdAt, from));
  if (to !== null) window.push(lt(generations.createdAt, to));
  // As on SQLite: nearest-rank percentiles (the ceil(p·n)-th smallest) of successful latencies, one statement per window.
  const rows = await db.execute<UsageAggregateRow>(sql`
    with scoped as (
      select model_id, status, prompt_tokens, completion_tokens, cost_picos, latency_ms
      from ${generations} where ${and(...window)}
    ),
    ranked as (
      select model_id, latency_ms,
        row_number() over (partition by model_id order by latency_ms) as position,
        count(*) over (partition by model_id) as total
      from scoped where status = 'SUCCEEDED' and latency_ms is not null
    ),
    percentiles as (
      select model_id,
        max(case when position = (total * 50 + 99) / 100 then latency_ms end) as p50,
        max(case when position = (total * 95 + 99) / 100 then latency_ms end) as p95
      from ranked group by model_id
    )
    select scoped.model_id as "modelId",
      count(*)::float8 as "requests",
      sum(case when scoped.status in ('FAILED', 'INTERRUPTED') then 1 else 0 end)::float8 as "errors",
      sum(scoped.prompt_tokens)::float8 as "promptTokens",
      sum(scoped.completion_tokens)::float8 as "completionTokens",
      sum(scoped.cost_picos)::float8 as "costPicos",
      sum(case when scoped.cost_picos is null and scoped.prompt_tokens + scoped.completion_tokens > 0 then 1 else 0 end)::float8 as "unpricedRequests",
      max(percentiles.p50) as "latencyP50Ms",
      max(percentiles.p95) as "latencyP95Ms"
    from scoped left join percentiles on percentiles.model_id = scoped.model_id
    group by scoped.model_id
  `);
  return [...rows];
}

export async function usageByModelWindowsPg(db: PgDb, keys: readonly ModelUsageKey[]): Promise<ModelUsageSummary[]> {
  const windows = new Map<string, { from: number | null; to: number | null; modelIds: Set<string> }>();
  for (const key of keys) {
    const windowKey = `${key.from ?? ''}|${key.to ?? ''}`;
    const window = windows.get(windowKey) ?? { from: key.from, to: key.to, modelIds: new Set<string>() };
    window.modelIds.add(key.modelId);
    windows.set(windowKey, window);
  }
  const summaries = new Map<string, ModelUsageSummary>();
  for (const [windowKey, window] of windows) {
    for (const row of await usageInWindow(db, [...window.modelIds], window.from, window.to)) {
      const { modelId, ...summary } = row;
      summaries.set(`${modelId}|${windowKey}`, { ...summary, costPicos: summary.costPicos ?? 0 });
    }
  }
  return keys.map((key) => summaries.get(`${key.modelId}|${key.from ?? ''}|${key.to ?? ''}`) ?? EMPTY_USAGE);
}
