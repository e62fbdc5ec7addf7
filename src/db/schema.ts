import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { Message, ToolCall } from '../providers/types.js';

/**
 * Money is stored as integers so sums never drift: a price per million tokens in micro-dollars is exactly a
 * price per token in pico-dollars, so cost = tokens × price is an exact integer of pico-dollars.
 */

export const providers = sqliteTable('providers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind', { enum: ['openai', 'anthropic', 'gemini', 'ollama', 'openai_compatible', 'local'] }).notNull(),
  baseUrl: text('base_url'),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  /** The provider's API key when set through the API, sealed with the master key (src/auth/secret-box.ts); never plaintext. */
  apiKeyCiphertext: text('api_key_ciphertext'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

export const models = sqliteTable(
  'models',
  {
    /** Canonical `vendor/name`. */
    id: text('id').primaryKey(),
    vendor: text('vendor').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    contextLength: integer('context_length').notNull(),
    maxOutputTokens: integer('max_output_tokens'),
    inputModalities: text('input_modalities', { mode: 'json' }).$type<string[]>().notNull(),
    outputModalities: text('output_modalities', { mode: 'json' }).$type<string[]>().notNull(),
    supportedParameters: text('supported_parameters', { mode: 'json' }).$type<string[]>().notNull(),
    releasedAt: text('released_at'),
    /** Set when an admin edited the row, so a seed upgrade leaves it alone. */
    editedByAdmin: integer('edited_by_admin', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (table) => [index('models_vendor_idx').on(table.vendor)],
);

export const modelAliases = sqliteTable(
  'model_aliases',
  {
    alias: text('alias').primaryKey(),
    modelId: text('model_id')
      .notNull()
      .references(() => models.id, { onDelete: 'cascade' }),
  },
  (table) => [index('model_aliases_model_idx').on(table.modelId)],
);

export const modelEndpoints = sqliteTable(
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
    /** Micro-dollars per million tokens (= pico-dollars per token). Null: price unknown. */
    promptPriceMicros: integer('prompt_price_micros'),
    completionPriceMicros: integer('completion_price_micros'),
    cachedPromptPriceMicros: integer('cached_prompt_price_micros'),
    /** Five-minute cache writes; null: charged at the prompt price. One-hour writes are always twice the prompt price. */
    cacheWritePriceMicros: integer('cache_write_price_micros'),
    contextLength: integer('context_length'),
    status: text('status', { enum: ['ACTIVE', 'DISABLED', 'DEPRECATED'] }).notNull().default('ACTIVE'),
    weight: integer('weight').notNull().default(1),
    priceSource: text('price_source'),
    priceDate: text('price_date'),
    editedByAdmin: integer('edited_by_admin', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('model_endpoints_provider_model_idx').on(table.providerId, table.providerModelId),
    index('model_endpoints_model_idx').on(table.modelId),
  ],
);

export const generationStatuses = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'] as const;
export type GenerationStatus = (typeof generationStatuses)[number];

/** One row per request, written when it starts and completed when it ends. */
export const generations = sqliteTable(
  'generations',
  {
    id: text('id').primaryKey(),
    requestId: text('request_id'),
    apiKeyId: text('api_key_id'),
    /** What the caller asked for, as they wrote it. */
    requestedModel: text('requested_model').notNull(),
    /** The canonical catalog id, or null when the model was addressed directly and is not in the catalog. */
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
    /** Prompt tokens written to the provider's cache, kept apart by lifetime since they are priced apart. */
    cacheWrite5mTokens: integer('cache_write_5m_tokens').notNull().default(0),
    cacheWrite1hTokens: integer('cache_write_1h_tokens').notNull().default(0),
    reasoningTokens: integer('reasoning_tokens').notNull().default(0),
    usageEstimated: integer('usage_estimated', { mode: 'boolean' }).notNull().default(false),
    /** Pico-dollars; null when a price was unknown. */
    costPicos: integer('cost_picos'),
    /** The prices in force when it ran (micro-dollars per million tokens). */
    promptPriceMicros: integer('prompt_price_micros'),
    completionPriceMicros: integer('completion_price_micros'),
    cachedPromptPriceMicros: integer('cached_prompt_price_micros'),
    cacheWritePriceMicros: integer('cache_write_price_micros'),
    latencyMs: integer('latency_ms'),
    timeToFirstTokenMs: integer('time_to_first_token_ms'),
    streamed: integer('streamed', { mode: 'boolean' }).notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    warnings: text('warnings', { mode: 'json' }).$type<string[]>(),
    attempts: text('attempts', { mode: 'json' }).$type<AttemptRecord[]>(),
    /** What was asked, without the prompt text: message and tool counts, parameters, response format. */
    requestSummary: text('request_summary', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** The caller's own metadata from the request, for their reports. */
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** The caller's end user (OpenAI's `user`, Anthropic's metadata.user_id), for spend per end user; null when none was sent. */
    endUser: text('end_user'),
    /** Answered from the response cache (src/cache/): no provider was called, so costPicos is 0. */
    cacheHit: integer('cache_hit', { mode: 'boolean' }).notNull().default(false),
    /** On a cache hit, what the cached answer cost when a provider produced it (pico-dollars); null otherwise or when unknown. */
    savedPicos: integer('saved_picos'),
    /**
     * The gateway instance that wrote the row (src/db/instances.ts): at start-up an instance marks INTERRUPTED only
     * the in-flight rows of instances that are gone, never those of another live instance on a shared database.
     */
    instanceId: text('instance_id'),
    /** Unix milliseconds. */
    createdAt: integer('created_at').notNull(),
    finishedAt: integer('finished_at'),
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

/** What a generation was asked and answered, kept only with SWITCHBOARD_STORE_CONTENT. */
export interface StoredContent {
  /** The normalized messages the provider received, an earlier response's conversation included. */
  messages: Message[];
  /** The answer: its text and the function calls it made. */
  answer: { content: string | null; toolCalls: ToolCall[] };
}

/**
 * A generation's content, apart from the ledger row: usage queries scan `generations`, and prompts many kilobytes
 * long in the same rows would spread them over many more pages. Deleted with its generation (the foreign key, and
 * retention deletes it explicitly too).
 */
export const generationContents = sqliteTable('generation_contents', {
  generationId: text('generation_id')
    .primaryKey()
    .references(() => generations.id, { onDelete: 'cascade' }),
  content: text('content', { mode: 'json' }).$type<StoredContent>().notNull(),
  createdAt: integer('created_at').notNull(),
});

export interface AttemptRecord {
  providerId: string;
  providerModelId: string;
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  /** A GatewayError code; HEDGE_LOST for a hedged attempt aborted because the other produced the first token first. */
  errorCode?: string;
  errorMessage?: string;
  latencyMs: number;
  /** 0 for an endpoint's first try in this request, then 1, 2… for its retries. */
  retry?: number;
  /** Started as a hedge while an earlier attempt was still waiting for its first token. */
  hedged?: boolean;
  /** The upstream HTTP status of a failed attempt, when there was one. */
  httpStatus?: number;
  timeToFirstTokenMs?: number;
  /** What the attempt cost when its provider reported usage: the winner's, or a losing hedge that answered anyway. */
  costPicos?: number;
  /** When it started, in milliseconds after the request did. */
  startedAfterMs?: number;
}

export type ProviderRow = typeof providers.$inferSelect;
export type ModelRow = typeof models.$inferSelect;
export type ModelEndpointRow = typeof modelEndpoints.$inferSelect;
export type GenerationRow = typeof generations.$inferSelect;
export type NewGeneration = typeof generations.$inferInsert;


export const scopes = ['ADMIN', 'COMPLETIONS', 'READ'] as const;
export type Scope = (typeof scopes)[number];
export const budgetPeriods = ['DAILY', 'WEEKLY', 'MONTHLY'] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];

/** Gateway API keys. Only a SHA-256 hash of the secret is stored; `prefix` identifies a key to humans. */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<Scope[]>().notNull(),
    /** Model ids, aliases or vendor wildcards (`anthropic/*`); null means every model. */
    allowedModels: text('allowed_models', { mode: 'json' }).$type<string[]>(),
    requestsPerMinute: integer('requests_per_minute'),
    tokensPerMinute: integer('tokens_per_minute'),
    concurrentStreams: integer('concurrent_streams'),
    /** Pico-dollars; null means no budget. */
    budgetLimitPicos: integer('budget_limit_picos'),
    budgetPeriod: text('budget_period', { enum: budgetPeriods }),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** The response cache's TTL for this key's requests that say nothing themselves; null: they are not cached. */
    cacheTtlSeconds: integer('cache_ttl_seconds'),
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
  },
  (table) => [uniqueIndex('api_keys_secret_hash_idx').on(table.secretHash)],
);

/** Every admin change (keys, providers, models, prices): who, when, and what it was before and after. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    /** The acting key's id, or null for the bootstrap admin key and open local mode. */
    actorKeyId: text('actor_key_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    before: text('before', { mode: 'json' }).$type<Record<string, unknown>>(),
    after: text('after', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: integer('created_at').notNull(),
  },
  (table) => [index('audit_log_created_idx').on(table.createdAt), index('audit_log_target_idx').on(table.targetType, table.targetId)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * The response cache's database store (src/cache/database-store.ts): one answer per request hash. Rows past
 * `expires_at` are never read and are deleted as new ones come in; the oldest go first when the table is over its
 * size bound. Only a hit reads a row; nothing lists them.
 */
export const responseCache = sqliteTable(
  'response_cache',
  {
    /** SHA-256 (hex) of the scope and the normalized request (src/cache/key.ts). */
    key: text('key').primaryKey(),
    /** The cached answer as JSON text (src/cache/entry.ts `CachedAnswer`). */
    answer: text('answer').notNull(),
    /** Bytes of `answer` in UTF-8, summed for the size bound. */
    sizeBytes: integer('size_bytes').notNull(),
    /** Unix milliseconds; the oldest rows are evicted first. */
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  // Covering the size bound's reads (totals, then the oldest rows) so they never touch the answers' pages.
  (table) => [index('response_cache_age_idx').on(table.createdAt, table.key, table.sizeBytes), index('response_cache_expires_idx').on(table.expiresAt)],
);

export type ResponseCacheRow = typeof responseCache.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
