import { and, asc, desc, eq, exists, getTableColumns, gte, inArray, isNotNull, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import type { Db } from './client.js';
import { generations, modelAliases, modelEndpoints, models, providers, type ModelEndpointRow, type ModelRow, type ProviderRow } from './schema.js';

/** Catalog reads. Batch functions return results in the order of the keys they were given, as DataLoader needs. */

/**
 * The lookups every completion makes, prepared once per database: building the SQL and compiling the statement
 * on each request was most of the gateway's per-request CPU.
 */
function prepareHotQueries(db: Db) {
  return {
    modelById: db.select().from(models).where(eq(models.id, sql.placeholder('id'))).prepare(),
    modelByAlias: db
      .select({ model: models })
      .from(modelAliases)
      .innerJoin(models, eq(models.id, modelAliases.modelId))
      .where(eq(modelAliases.alias, sql.placeholder('alias')))
      .prepare(),
    endpoint: db
      .select()
      .from(modelEndpoints)
      .where(and(eq(modelEndpoints.providerId, sql.placeholder('providerId')), eq(modelEndpoints.providerModelId, sql.placeholder('providerModelId'))))
      .prepare(),
    endpointsOfModel: db
      .select()
      .from(modelEndpoints)
      .where(eq(modelEndpoints.modelId, sql.placeholder('modelId')))
      .orderBy(asc(modelEndpoints.createdAt), asc(modelEndpoints.id))
      .prepare(),
  };
}

const preparedByDb = new WeakMap<Db, ReturnType<typeof prepareHotQueries>>();

function hotQueries(db: Db): ReturnType<typeof prepareHotQueries> {
  let prepared = preparedByDb.get(db);
  if (!prepared) {
    prepared = prepareHotQueries(db);
    preparedByDb.set(db, prepared);
  }
  return prepared;
}

export function findModel(db: Db, idOrAlias: string): ModelRow | undefined {
  const queries = hotQueries(db);
  return queries.modelById.get({ id: idOrAlias }) ?? queries.modelByAlias.get({ alias: idOrAlias.toLowerCase() })?.model;
}

export function findEndpoint(db: Db, providerId: string, providerModelId: string): ModelEndpointRow | undefined {
  return hotQueries(db).endpoint.get({ providerId, providerModelId });
}

/** The endpoints of one model, in the order routing considers them. */
export function endpointsOfModel(db: Db, modelId: string): ModelEndpointRow[] {
  return hotQueries(db).endpointsOfModel.all({ modelId });
}

export function modelsByIds(db: Db, ids: readonly string[]): Array<ModelRow | undefined> {
  const rows = db.select().from(models).where(inArray(models.id, [...ids])).all();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

export function providersByIds(db: Db, ids: readonly string[]): Array<ProviderRow | undefined> {
  const rows = db.select().from(providers).where(inArray(providers.id, [...ids])).all();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

function groupBy<T>(rows: T[], keys: readonly string[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}

export function endpointsByModelIds(db: Db, modelIds: readonly string[]): ModelEndpointRow[][] {
  const rows = db
    .select()
    .from(modelEndpoints)
    .where(inArray(modelEndpoints.modelId, [...modelIds]))
    .orderBy(asc(modelEndpoints.createdAt), asc(modelEndpoints.id))
    .all();
  return groupBy(rows, modelIds, (row) => row.modelId);
}

export function endpointsByProviderIds(db: Db, providerIds: readonly string[]): ModelEndpointRow[][] {
  const rows = db
    .select()
    .from(modelEndpoints)
    .where(inArray(modelEndpoints.providerId, [...providerIds]))
    .orderBy(asc(modelEndpoints.modelId))
    .all();
  return groupBy(rows, providerIds, (row) => row.providerId);
}

export function aliasesByModelIds(db: Db, modelIds: readonly string[]): string[][] {
  const rows = db.select().from(modelAliases).where(inArray(modelAliases.modelId, [...modelIds])).orderBy(asc(modelAliases.alias)).all();
  return groupBy(rows, modelIds, (row) => row.modelId).map((group) => group.map((row) => row.alias));
}

export function listProviders(db: Db): ProviderRow[] {
  return db.select().from(providers).orderBy(asc(providers.id)).all();
}

/** What `models` can be narrowed by; every condition runs in SQL. Prices are micro-dollars per million tokens. */
export interface ModelListFilter {
  /** Keeps models with an ACTIVE endpoint on this provider; price conditions and price ordering then look at that provider only. */
  providerId?: string;
  vendor?: string;
  /** The model accepts every one of these. */
  inputModalities?: readonly string[];
  outputModalities?: readonly string[];
  supportedParameters?: readonly string[];
  minContextLength?: number;
  maxPromptPriceMicros?: number;
  maxCompletionPriceMicros?: number;
  /** Case-insensitive substring of the id, name, description or an alias. */
  search?: string;
  /**
   * Only models a caller could use now: an ACTIVE endpoint on one of `providerIds` (the enabled providers) and, when
   * `allowed` is not null, allowed by that key allowlist (canonical ids, `vendor/*` wildcards, aliases).
   */
  servable?: { providerIds: readonly string[]; allowed: readonly string[] | null };
}

export const modelSortFields = ['ID', 'NAME', 'PRICE', 'PROMPT_PRICE', 'COMPLETION_PRICE', 'CONTEXT_LENGTH', 'RELEASED_AT'] as const;
export type ModelSortField = (typeof modelSortFields)[number];
export type SortDirection = 'ASC' | 'DESC';

export interface ModelListOrder {
  field: ModelSortField;
  direction: SortDirection;
}

export type SortKey = string | number | null;

/** A place in one ordering: the row's sort key and its id, which breaks ties so every position is unique. */
export interface ModelPosition {
  key: SortKey;
  id: string;
}

export interface ListedModel extends ModelRow {
  /** The value the page was ordered by, for the row's cursor. */
  sortKey: SortKey;
}

export interface ModelListQuery {
  filter: ModelListFilter;
  order: ModelListOrder;
  limit: number;
  after?: ModelPosition;
  before?: ModelPosition;
  /** Walks the ordering backwards from `before` (Relay's `last`); the caller reverses the rows. */
  inverted?: boolean;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** The status of endpoints that price their model; src/catalog/pricing.ts imports it for the same rule in TypeScript. */
export const PRICED_ENDPOINT_STATUS = 'ACTIVE' satisfies ModelEndpointRow['status'];

/**
 * The price-eligible endpoints per model: PRICED_ENDPOINT_STATUS, both prices known, on the filtered provider and
 * within the price caps. Their minimum prices are what price filters and price ordering mean by "the model's
 * price". This is the SQL form of modelPrices() in src/catalog/pricing.ts (rank = prompt + completion), kept in SQL
 * so a page is filtered, ordered and cut in one statement; test/catalog/pricing.test.ts checks the two agree.
 */
function pricedEndpoints(db: Db, filter: ModelListFilter) {
  const conditions: SQL[] = [eq(modelEndpoints.status, PRICED_ENDPOINT_STATUS), isNotNull(modelEndpoints.promptPriceMicros), isNotNull(modelEndpoints.completionPriceMicros)];
  if (filter.providerId !== undefined) conditions.push(eq(modelEndpoints.providerId, filter.providerId));
  if (filter.maxPromptPriceMicros !== undefined) conditions.push(lte(modelEndpoints.promptPriceMicros, filter.maxPromptPriceMicros));
  if (filter.maxCompletionPriceMicros !== undefined) conditions.push(lte(modelEndpoints.completionPriceMicros, filter.maxCompletionPriceMicros));
  return db
    .select({
      modelId: modelEndpoints.modelId,
      total: sql<number>`min(${modelEndpoints.promptPriceMicros} + ${modelEndpoints.completionPriceMicros})`.as('priced_total'),
      prompt: sql<number>`min(${modelEndpoints.promptPriceMicros})`.as('priced_prompt'),
      completion: sql<number>`min(${modelEndpoints.completionPriceMicros})`.as('priced_completion'),
    })
    .from(modelEndpoints)
    .where(and(...conditions))
    .groupBy(modelEndpoints.modelId)
    .as('priced');
}

function containsAll(column: SQLiteColumn, values: readonly string[]): SQL[] {
  return values.map((value) => sql`exists (select 1 from json_each(${column}) where json_each.value = ${value})`);
}

function filterConditions(db: Db, filter: ModelListFilter): SQL[] {
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
  if (filter.servable !== undefined) conditions.push(...servableConditions(db, filter.servable));
  if (filter.vendor !== undefined) conditions.push(eq(models.vendor, filter.vendor));
  if (filter.inputModalities) conditions.push(...containsAll(models.inputModalities, filter.inputModalities));
  if (filter.outputModalities) conditions.push(...containsAll(models.outputModalities, filter.outputModalities));
  if (filter.supportedParameters) conditions.push(...containsAll(models.supportedParameters, filter.supportedParameters));
  if (filter.minContextLength !== undefined) conditions.push(gte(models.contextLength, filter.minContextLength));
  if (filter.search !== undefined && filter.search.trim() !== '') {
    const pattern = `%${escapeLike(filter.search.trim().toLowerCase())}%`;
    const matches = (column: SQL | typeof models.id) => sql`lower(${column}) like ${pattern} escape '\\'`;
    const aliasMatch = exists(
      db
        .select({ one: sql`1` })
        .from(modelAliases)
        .where(and(eq(modelAliases.modelId, models.id), sql`${modelAliases.alias} like ${pattern} escape '\\'`)),
    );
    const matched = or(matches(models.id), matches(sql`${models.name}`), matches(sql`coalesce(${models.description}, '')`), aliasMatch);
    if (matched) conditions.push(matched);
  }
  return conditions;
}

function servableConditions(db: Db, servable: NonNullable<ModelListFilter['servable']>): SQL[] {
  const providerIds = [...servable.providerIds];
  const served = providerIds.length === 0
    ? sql`0`
    : exists(
        db
          .select({ one: sql`1` })
          .from(modelEndpoints)
          .where(and(eq(modelEndpoints.modelId, models.id), inArray(modelEndpoints.providerId, providerIds), eq(modelEndpoints.status, 'ACTIVE'))),
      );
  if (servable.allowed === null) return [served];
  const wildcards = servable.allowed.filter((pattern) => pattern.endsWith('/*')).map((pattern) => sql`${models.id} like ${`${escapeLike(pattern.slice(0, -1))}%`} escape '\\'`);
  const exact = servable.allowed.filter((pattern) => !pattern.endsWith('/*'));
  const byName = exact.length === 0
    ? []
    : [
        inArray(models.id, exact),
        exists(db.select({ one: sql`1` }).from(modelAliases).where(and(eq(modelAliases.modelId, models.id), inArray(modelAliases.alias, exact)))),
      ];
  return [served, or(sql`0`, ...wildcards, ...byName) ?? sql`0`];
}

function hasPriceCaps(filter: ModelListFilter): boolean {
  return filter.maxPromptPriceMicros !== undefined || filter.maxCompletionPriceMicros !== undefined;
}

function isPriceField(field: ModelSortField): boolean {
  return field === 'PRICE' || field === 'PROMPT_PRICE' || field === 'COMPLETION_PRICE';
}

function sortKeyOf(field: ModelSortField, priced: ReturnType<typeof pricedEndpoints>): SQL<SortKey> {
  switch (field) {
    case 'ID':
      return sql<SortKey>`${models.id}`;
    case 'NAME':
      return sql<SortKey>`lower(${models.name})`;
    case 'PRICE':
      return sql<SortKey>`${priced.total}`;
    case 'PROMPT_PRICE':
      return sql<SortKey>`${priced.prompt}`;
    case 'COMPLETION_PRICE':
      return sql<SortKey>`${priced.completion}`;
    case 'CONTEXT_LENGTH':
      // 0 is how an unknown context length is stored (see catalog sync); it sorts with the other unknowns.
      return sql<SortKey>`nullif(${models.contextLength}, 0)`;
    case 'RELEASED_AT':
      return sql<SortKey>`${models.releasedAt}`;
  }
}

interface Direction {
  /** Whether rows with an unknown key come after those with one. */
  nullsLast: boolean;
  key: SortDirection;
  id: SortDirection;
}

function compare(direction: SortDirection): string {
  return direction === 'ASC' ? '>' : '<';
}

/**
 * Rows strictly after `position` in the ordering (null flag, key, id). Unknown keys form their own block (last in
 * forward order), so a cursor on a null key continues inside that block by id alone.
 */
function afterPosition(key: SQL<SortKey>, keyNullable: boolean, direction: Direction, position: ModelPosition): SQL {
  const idAfter = sql`${models.id} ${sql.raw(compare(direction.id))} ${position.id}`;
  if (!keyNullable) {
    return sql`(${key} ${sql.raw(compare(direction.key))} ${position.key} or (${key} = ${position.key} and ${idAfter}))`;
  }
  if (position.key === null) {
    return direction.nullsLast ? sql`(${key} is null and ${idAfter})` : sql`(${key} is not null or ${idAfter})`;
  }
  const withinKnown = sql`(${key} is not null and (${key} ${sql.raw(compare(direction.key))} ${position.key} or (${key} = ${position.key} and ${idAfter})))`;
  return direction.nullsLast ? sql`(${withinKnown} or ${key} is null)` : withinKnown;
}

function flip(direction: SortDirection): SortDirection {
  return direction === 'ASC' ? 'DESC' : 'ASC';
}

/**
 * One page of models in a stable keyset order: (sort key, id), unknown keys last in either direction. Filters,
 * ordering and the cursor position are all applied in SQL; one statement per page.
 */
export function listModels(db: Db, query: ModelListQuery): ListedModel[] {
  const { filter, order } = query;
  const priced = pricedEndpoints(db, filter);
  const key = sortKeyOf(order.field, priced);
  const keyNullable = order.field !== 'ID' && order.field !== 'NAME';
  // Ordered by id itself, the tie-break follows the requested direction; otherwise ties go by ascending id.
  const idDirection: SortDirection = order.field === 'ID' ? order.direction : 'ASC';
  const forward: Direction = { nullsLast: true, key: order.direction, id: idDirection };
  const backward: Direction = { nullsLast: false, key: flip(order.direction), id: flip(idDirection) };
  const walk = query.inverted ? backward : forward;

  const conditions = filterConditions(db, filter);
  if (query.after) conditions.push(afterPosition(key, keyNullable, forward, query.after));
  if (query.before) conditions.push(afterPosition(key, keyNullable, backward, query.before));

  const base = db.select({ ...getTableColumns(models), sortKey: key }).from(models);
  const joined =
    hasPriceCaps(filter) ? base.innerJoin(priced, eq(priced.modelId, models.id)) : isPriceField(order.field) ? base.leftJoin(priced, eq(priced.modelId, models.id)) : base;
  const ordering: SQL[] = [];
  if (keyNullable) ordering.push(walk.nullsLast ? sql`${key} is null` : sql`${key} is not null`);
  if (order.field !== 'ID') ordering.push(walk.key === 'ASC' ? asc(key) : desc(key));
  ordering.push(walk.id === 'ASC' ? asc(models.id) : desc(models.id));
  return joined
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(...ordering)
    .limit(query.limit)
    .all();
}

/** How many models match a filter, for `totalCount`. */
export function countModels(db: Db, filter: ModelListFilter): number {
  const conditions = filterConditions(db, filter);
  const base = db.select({ count: sql<number>`count(*)` }).from(models);
  const priced = pricedEndpoints(db, filter);
  const joined = hasPriceCaps(filter) ? base.innerJoin(priced, eq(priced.modelId, models.id)) : base;
  return joined.where(conditions.length > 0 ? and(...conditions) : undefined).get()?.count ?? 0;
}

export interface ModelWithEndpoints {
  model: ModelRow;
  aliases: string[];
  endpoints: ModelEndpointRow[];
}

/**
 * Every catalog model with its aliases and endpoints, in id order: three statements whatever the catalog size.
 * The REST facade's `GET /v1/models` lists from here.
 */
export function listModelsWithEndpoints(db: Db): ModelWithEndpoints[] {
  const rows = db.select().from(models).orderBy(asc(models.id)).all();
  const endpoints = new Map<string, ModelEndpointRow[]>();
  for (const endpoint of db.select().from(modelEndpoints).orderBy(asc(modelEndpoints.createdAt), asc(modelEndpoints.id)).all()) {
    const list = endpoints.get(endpoint.modelId) ?? [];
    list.push(endpoint);
    endpoints.set(endpoint.modelId, list);
  }
  const aliases = new Map<string, string[]>();
  for (const alias of db.select().from(modelAliases).orderBy(asc(modelAliases.alias)).all()) {
    const list = aliases.get(alias.modelId) ?? [];
    list.push(alias.alias);
    aliases.set(alias.modelId, list);
  }
  return rows.map((model) => ({ model, aliases: aliases.get(model.id) ?? [], endpoints: endpoints.get(model.id) ?? [] }));
}

/** A window of recorded generations for one model; null bounds are open. Unix milliseconds, `to` exclusive. */
export interface ModelUsageKey {
  modelId: string;
  from: number | null;
  to: number | null;
}

export interface ModelUsageSummary {
  /** Finished requests (in-flight ones are left out until they finish). */
  requests: number;
  /** FAILED or INTERRUPTED; a cancelled request is the caller's choice, not an error. */
  errors: number;
  promptTokens: number;
  completionTokens: number;
  /** The sum of the known costs, in pico-dollars. */
  costPicos: number;
  /** Requests that used tokens at a price nobody knew: their cost is missing from costPicos. */
  unpricedRequests: number;
  /** Nearest-rank percentiles of successful requests' latency; null with no successful request. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

const EMPTY_USAGE: ModelUsageSummary = {
  requests: 0,
  errors: 0,
  promptTokens: 0,
  completionTokens: 0,
  costPicos: 0,
  unpricedRequests: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
};

interface UsageAggregateRow {
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

function usageInWindow(db: Db, modelIds: readonly string[], from: number | null, to: number | null): UsageAggregateRow[] {
  const window: SQL[] = [inArray(generations.modelId, [...modelIds]), ne(generations.status, 'IN_PROGRESS')];
  if (from !== null) window.push(gte(generations.createdAt, from));
  if (to !== null) window.push(lt(generations.createdAt, to));
  // One statement for every model of the window: totals per model, and percentiles by ranking each model's
  // successful latencies (nearest rank: the ceil(p·n)-th smallest, in integer arithmetic).
  return db.all<UsageAggregateRow>(sql`
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
      count(*) as "requests",
      sum(case when scoped.status in ('FAILED', 'INTERRUPTED') then 1 else 0 end) as "errors",
      sum(scoped.prompt_tokens) as "promptTokens",
      sum(scoped.completion_tokens) as "completionTokens",
      sum(scoped.cost_picos) as "costPicos",
      sum(case when scoped.cost_picos is null and scoped.prompt_tokens + scoped.completion_tokens > 0 then 1 else 0 end) as "unpricedRequests",
      max(percentiles.p50) as "latencyP50Ms",
      max(percentiles.p95) as "latencyP95Ms"
    from scoped left join percentiles on percentiles.model_id = scoped.model_id
    group by scoped.model_id
  `);
}

/**
 * Usage summaries in key order. Keys sharing a window (the usual case: one `usage(from, to)` selection over a
 * page of models) cost one statement together.
 */
export function usageByModelWindows(db: Db, keys: readonly ModelUsageKey[]): ModelUsageSummary[] {
  const windows = new Map<string, { from: number | null; to: number | null; modelIds: Set<string> }>();
  for (const key of keys) {
    const windowKey = `${key.from ?? ''}|${key.to ?? ''}`;
    const window = windows.get(windowKey) ?? { from: key.from, to: key.to, modelIds: new Set<string>() };
    window.modelIds.add(key.modelId);
    windows.set(windowKey, window);
  }
  const summaries = new Map<string, ModelUsageSummary>();
  for (const [windowKey, window] of windows) {
    for (const row of usageInWindow(db, [...window.modelIds], window.from, window.to)) {
      summaries.set(`${row.modelId}|${windowKey}`, { ...row, costPicos: row.costPicos ?? 0 });
    }
  }
  return keys.map((key) => summaries.get(`${key.modelId}|${key.from ?? ''}|${key.to ?? ''}`) ?? EMPTY_USAGE);
}
