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
  /** Upserts rows in one transaction: a finished row overwrites the start row of the same id. */
  writeGenerations(rows: readonly GenerationRow[]): void | Promise<void>;
  /** Marks rows left IN_PROGRESS by a crash INTERRUPTED; resolves with how many. */
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
  ['reasoningTokens', 'reasoning_tokens'],
  ['usageEstimated', 'usage_estimated'],
  ['costPicos', 'cost_picos'],
  ['promptPriceMicros', 'prompt_price_micros'],
  ['completionPriceMicros', 'completion_price_micros'],
  ['cachedPromptPriceMicros', 'cached_prompt_price_micros'],
  ['latencyMs', 'latency_ms'],
  ['timeToFirstTokenMs', 'time_to_first_token_ms'],
  ['streamed', 'streamed'],
  ['errorCode', 'error_code'],
  ['errorMessage', 'error_message'],
  ['warnings', 'warnings'],
  ['attempts', 'attempts'],
  ['requestSummary', 'request_summary'],
  ['metadata', 'metadata'],
  ['createdAt', 'created_at'],
  ['finishedAt', 'finished_at'],
] as const satisfies ReadonlyArray<readonly [keyof GenerationRow, string]>;

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/**
 * A row's values in GENERATION_COLUMNS order, JSON as text. `bool` turns a boolean into what the driver binds:
 * SQLite has no boolean type (0/1), PostgreSQL takes it as it is.
 */
export function generationValues<B>(row: GenerationRow, bool: (value: boolean) => B): Array<string | number | null | B> {
  return [
    row.id,
    row.requestId,
    row.apiKeyId,
    row.requestedModel,
    row.modelId,
    row.providerId,
    row.providerModelId,
    row.status,
    row.finishReason,
    row.rawFinishReason,
    row.promptTokens,
    row.completionTokens,
    row.totalTokens,
    row.cachedPromptTokens,
    row.reasoningTokens,
    bool(row.usageEstimated),
    row.costPicos,
    row.promptPriceMicros,
    row.completionPriceMicros,
    row.cachedPromptPriceMicros,
    row.latencyMs,
    row.timeToFirstTokenMs,
    bool(row.streamed),
    row.errorCode,
    row.errorMessage,
    json(row.warnings),
    json(row.attempts),
    json(row.requestSummary),
    json(row.metadata),
    row.createdAt,
    row.finishedAt,
  ];
}

/** `col = excluded.col` for every column but the key: the statement both dialects' upserts end with. */
export const GENERATION_UPSERT_SET = GENERATION_COLUMNS.filter(([, column]) => column !== 'id')
  .map(([, column]) => `${column} = excluded.${column}`)
  .join(', ');
