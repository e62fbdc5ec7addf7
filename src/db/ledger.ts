import type { GenerationRow, StoredContent } from './schema.js';
import type { GenerationFilter, GenerationPage } from './generations.js';
import type { UsageBucket, UsageDimension, UsageFilter } from './usage.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The ledger's repository: one interface, one implementation per dialect (src/db/sqlite-ledger.ts,
 * src/db/pg/ledger.ts). Reads are asynchronous because PostgreSQL's are; `writeGenerations` may return void when
 * the store commits synchronously (SQLite), so the recorder settles a batch in the same turn there.
 */
export interface LedgerStore {
  readonly dialect: Dialect;
  /** This instance's id, written into every row's `instance_id` that does not name one already. */
  readonly instanceId: string;
  /** Upserts rows in one transaction: a finished row overwrites the start row of the same id. */
  writeGenerations(rows: readonly GenerationRow[]): void | Promise<void>;
  /**
   * Crash recovery at start-up: marks INTERRUPTED the rows left IN_PROGRESS by instances that are gone, never those
   * of another live instance sharing the database; resolves with how many. On PostgreSQL the first call also claims
   * this instance's liveness (an advisory lock held for the store's life), so call it before writing any row.
   * SQLite is one process's file: every in-flight row not written by this store is a previous run's.
   */
  markInterrupted(now?: number): Promise<number>;
  findGeneration(id: string): Promise<GenerationRow | undefined>;
  listGenerations(filter: GenerationFilter, page: GenerationPage): Promise<GenerationRow[]>;
  countGenerations(filter: GenerationFilter): Promise<number>;
  queryUsage(filter: UsageFilter, groupBy: readonly UsageDimension[]): Promise<UsageBucket[]>;
  /** The recorded cost of a key's generations created at or after `startMs`, in pico-dollars (budgets). */
  spentSince(keyId: string, startMs: number): Promise<number>;
  saveContent(generationId: string, content: StoredContent, now: number): Promise<void>;
  findContent(generationId: string): Promise<StoredContent | undefined>;
  /** Deletes up to `limit` finished generations created before `cutoff` (and their content); resolves with how many. */
  deleteExpired(cutoff: number, limit: number): Promise<number>;
}

/**
 * The ledger's columns in statement order. Both recorders bind a row positionally from this list instead of going
 * through the ORM's per-column mapping on every row (the hot path's insert); test/storage checks it names every
 * column of both tables.
 */
export const GENERATION_COLUMNS = [
  ['id', 'id'],
  ['requestId', 'request_id'],
  ['apiKeyId', 'api_key_id'],
  ['requestedModel', 'requested_model'],
  ['modelId', 'model_id'],
  ['providerId', 'provider_id'],
  ['providerModelId', 'provider_model_id'],
  ['status', 'status'],
  ['finishReason', 'finish_reason'],
  ['rawFinishReason', 'raw_finish_reason'],
  ['promptTokens', 'prompt_tokens'],
  ['completionTokens', 'completion_tokens'],
  ['totalTokens', 'total_tokens'],
  ['cachedPromptTokens', 'cached_prompt_tokens'],
  ['cacheWrite5mTokens', 'cache_write_5m_tokens'],
  ['cacheWrite1hTokens', 'cache_write_1h_tokens'],
  ['reasoningTokens', 'reasoning_tokens'],
  ['usageEstimated', 'usage_estimated'],
  ['costPicos', 'cost_picos'],
  ['promptPriceMicros', 'prompt_price_micros'],
  ['completionPriceMicros', 'completion_price_micros'],
  ['cachedPromptPriceMicros', 'cached_prompt_price_micros'],
  ['cacheWritePriceMicros', 'cache_write_price_micros'],
  ['latencyMs', 'latency_ms'],
  ['timeToFirstTokenMs', 'time_to_first_token_ms'],
  ['streamed', 'streamed'],
  ['errorCode', 'error_code'],
  ['errorMessage', 'error_message'],
  ['warnings', 'warnings'],
  ['attempts', 'attempts'],
  ['requestSummary', 'request_summary'],
  ['metadata', 'metadata'],
  ['endUser', 'end_user'],
  ['cacheHit', 'cache_hit'],
  ['savedPicos', 'saved_picos'],
  ['instanceId', 'instance_id'],
  ['createdAt', 'created_at'],
  ['finishedAt', 'finished_at'],
] as const satisfies ReadonlyArray<readonly [keyof GenerationRow, string]>;

// A column added to the table but not to the list above would be dropped silently by both writers: this line
// stops the build instead, naming the missing field.
type UnlistedColumn = Exclude<keyof GenerationRow, (typeof GENERATION_COLUMNS)[number][0]>;
const everyColumnListed: [UnlistedColumn] extends [never] ? true : UnlistedColumn = true;
void everyColumnListed;

/**
 * A row's values in GENERATION_COLUMNS order, `instance_id` defaulting to the writing store's: objects and arrays as JSON text, and booleans turned by `bool` into
 * what the driver binds (SQLite has no boolean type: 0/1; PostgreSQL takes it as it is).
 */
export function generationValues<B>(row: GenerationRow, bool: (value: boolean) => B, instanceId: string | null = null): Array<string | number | null | B> {
  return GENERATION_COLUMNS.map(([field]) => {
    const value = field === 'instanceId' ? (row.instanceId ?? instanceId) : row[field];
    if (value === null || value === undefined) return null;
    if (typeof value === 'boolean') return bool(value);
    if (typeof value === 'object') return JSON.stringify(value);
    return value;
  });
}

/** `col = excluded.col` for every column but the key: the statement both dialects' upserts end with. */
export const GENERATION_UPSERT_SET = GENERATION_COLUMNS.filter(([, column]) => column !== 'id')
  .map(([, column]) => `${column} = excluded.${column}`)
  .join(', ');
