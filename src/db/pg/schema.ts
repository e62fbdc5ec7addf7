import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { budgetPeriods, generationStatuses, type AttemptRecord, type Scope, type StoredContent } from '../schema.js';

/**
 * The PostgreSQL twin of ../schema.ts: the same tables, columns and indexes, so a row read from either store has
 * the same TypeScript shape (test/storage checks the two agree column by column). Instants and money are bigint
 * read as number: unix milliseconds outgrow int4, and pico-dollars stay exact below 2^53 ($9,007 per row) — sums
 * are computed in the database as numeric and handed over as text. JSON is jsonb; booleans are boolean.
 */

const millis = (name: string) => bigint(name, { mode: 'number' });

export const providers = pgTable('providers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind', { enum: ['openai', 'anthropic', 'gemini', 'ollama', 'openai_compatible', 'local'] }).notNull(),
  baseUrl: text('base_url'),
  enabled: boolean('enabled').notNull().default(true),
  apiKeyCiphertext: text('api_key_ciphertext'),
  createdAt: millis('created_at').notNull(),
  updatedAt: millis('updated_at').notNull(),
});

export const models = pgTable(
  'models',
  {
    id: text('id').primaryKey(),
    vendor: text('vendor').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    contextLength: integer('context_length').notNull(),
    maxOutputTokens: integer('max_output_tokens'),
    inputModalities: jsonb('input_modalities').$type<string[]>().notNull(),
    outputModalities: jsonb('output_modalities').$type<string[]>().notNull(),
    supportedParameters: jsonb('supported_parameters').$type<string[]>().notNull(),
    releasedAt: text('released_at'),
    editedByAdmin: boolean('edited_by_admin').notNull().default(false),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
  },
  (table) => [index('models_vendor_idx').on(table.vendor)],
);

export const modelAliases = pgTable(
  'model_aliases',
  {
    alias: text('alias').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
  },
  (table) => [index('model_aliases_model_idx').on(table.modelId)],
);

export const modelEndpoints = pgTable(
  'model_endpoints',
  {
    id: text('id').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
    providerId: text('provider_id')
      .notNull()
      .references(() => providers.id, { onDelete: 'cascade' }),
    providerModelId: text('provider_model_id').notNull(),
    promptPriceMicros: bigint('prompt_price_micros', { mode: 'number' }),
    completionPriceMicros: bigint('completion_price_micros', { mode: 'number' }),
    cachedPromptPriceMicros: bigint('cached_prompt_price_micros', { mode: 'number' }),
    cacheWritePriceMicros: bigint('cache_write_price_micros', { mode: 'number' }),
    contextLength: integer('context_length'),
    status: text('status', { enum: ['ACTIVE', 'DISABLED', 'DEPRECATED'] }).notNull().default('ACTIVE'),
    weight: integer('weight').notNull().default(1),
    priceSource: text('price_source'),
    priceDate: text('price_date'),
    editedByAdmin: boolean('edited_by_admin').notNull().default(false),
    createdAt: millis('created_at').notNull(),
    updatedAt: millis('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('model_endpoints_provider_model_idx').on(table.providerId, table.providerModelId),
    index('model_endpoints_model_idx').on(table.modelId),
  ],
);

export const generations = pgTable(
  'generations',
  {
    id: text('id').primaryKey(),
    requestId: text('request_id'),
    apiKeyId: text('api_key_id'),
    requestedModel: text('requested_model').notNull(),
    modelId: text('model_id'),
    providerId: text('provider_id'),
    providerModelId: text('provider_model_id'),
    status: text('status', { enum: generationStatuses }).notNull(),
    finishReason: text('finish_reason'),
    rawFinishReason: text('raw_finish_reason'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    totalTokens: integer('total_tokens').notNull().default(0),
    cachedPromptTokens: integer('cached_prompt_tokens').notNull().default(0),
    cacheWrite5mTokens: integer('cache_write_5m_tokens').notNull().default(0),
    cacheWrite1hTokens: integer('cache_write_1h_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    usageEstimated: boolean('usage_estimated').notNull().default(false),
    costPicos: bigint('cost_picos', { mode: 'number' }),
    promptPriceMicros: bigint('prompt_price_micros', { mode: 'number' }),
    completionPriceMicros: bigint('completion_price_micros', { mode: 'number' }),
    cachedPromptPriceMicros: bigint('cached_prompt_price_micros', { mode: 'number' }),
    cacheWritePriceMicros: bigint('cache_write_price_micros', { mode: 'number' }),
    latencyMs: integer('latency_ms'),
    timeToFirstTokenMs: integer('time_to_first_token_ms'),
    streamed: boolean('streamed').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    warnings: jsonb('warnings').$type<string[]>(),
    attempts: jsonb('attempts').$type<AttemptRecord[]>(),
    requestSummary: jsonb('request_summary').$type<Record<string, unknown>>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    endUser: text('end_user'),
    cacheHit: boolean('cache_hit').notNull().default(false),
    savedPicos: bigint('saved_picos', { mode: 'number' }),
    instanceId: text('instance_id'),
    createdAt: millis('created_at').notNull(),
    finishedAt: millis('finished_at'),
  },
  (table) => [
    index('generations_created_idx').on(table.createdAt),
    index('generations_model_created_idx').on(table.modelId, table.createdAt),
    index('generations_provider_created_idx').on(table.providerId, table.createdAt),
    index('generations_key_created_idx').on(table.apiKeyId, table.createdAt),
    index('generations_end_user_created_idx').on(table.endUser, table.createdAt),
    index('generations_status_idx').on(table.status).where(sql`status = 'IN_PROGRESS'`),
  ],
);

export const generationContents = pgTable('generation_contents', {
  generationId: text('generation_id')
    .primaryKey()
    .references(() => generations.id, { onDelete: 'cascade' }),
  content: jsonb('content').$type<StoredContent>().notNull(),
  createdAt: millis('created_at').notNull(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: jsonb('scopes').$type<Scope[]>().notNull(),
    allowedModels: jsonb('allowed_models').$type<string[]>(),
    requestsPerMinute: integer('requests_per_minute'),
    tokensPerMinute: integer('tokens_per_minute'),
    concurrentStreams: integer('concurrent_streams'),
    budgetLimitPicos: bigint('budget_limit_picos', { mode: 'number' }),
    budgetPeriod: text('budget_period', { enum: budgetPeriods }),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    cacheTtlSeconds: integer('cache_ttl_seconds'),
    expiresAt: millis('expires_at'),
    revokedAt: millis('revoked_at'),
    createdAt: millis('created_at').notNull(),
    lastUsedAt: millis('last_used_at'),
  },
  (table) => [uniqueIndex('api_keys_secret_hash_idx').on(table.secretHash)],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    actorKeyId: text('actor_key_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    before: jsonb('before').$type<Record<string, unknown>>(),
    after: jsonb('after').$type<Record<string, unknown>>(),
    createdAt: millis('created_at').notNull(),
  },
  (table) => [index('audit_log_created_idx').on(table.createdAt), index('audit_log_target_idx').on(table.targetType, table.targetId)],
);

/** The response cache's database store; the twin of ../schema.ts `responseCache`. */
export const responseCache = pgTable(
  'response_cache',
  {
    key: text('key').primaryKey(),
    answer: text('answer').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    createdAt: millis('created_at').notNull(),
    expiresAt: millis('expires_at').notNull(),
  },
  (table) => [index('response_cache_age_idx').on(table.createdAt, table.key, table.sizeBytes), index('response_cache_expires_idx').on(table.expiresAt)],
);
