import type { ApiKeyPage } from './api-keys.js';
import type { AuditEntry, AuditFilter, AuditPage } from './audit.js';
import type { ListedModel, ModelListFilter, ModelListQuery, ModelUsageKey, ModelUsageSummary } from './catalog.js';
import type { CatalogSyncMatcher, EndpointWrite, ListedProviderModel, ModelWrite, ProviderWrite, SyncResult } from './catalog-admin.js';
import type { Db } from './client.js';
import type { HistoryBucket, HistoryQuery } from './endpoint-history.js';
import type { KeyWindowUse } from './key-window.js';
import type { CacheBounds, StoredCacheEntry } from './response-cache.js';
import type { Dialect, LedgerStore } from './ledger.js';
import type { ApiKeyRow, AuditRow, ModelEndpointRow, ModelRow, ProviderRow } from './schema.js';
import type { KnownProvider } from './seed.js';
import type { CatalogSeed } from './seed/catalog-schema.js';

/** Gateway keys. */
export interface KeyStore {
  insert(row: ApiKeyRow): Promise<void>;
  findByHash(secretHash: string): Promise<ApiKeyRow | undefined>;
  find(id: string): Promise<ApiKeyRow | undefined>;
  list(page: ApiKeyPage): Promise<ApiKeyRow[]>;
  count(): Promise<number>;
  /** Every key, for the authenticator's in-memory snapshot; on SQLite synchronous, so a reload is immediate. */
  all(): ApiKeyRow[] | Promise<ApiKeyRow[]>;
  revoke(id: string, now: number): Promise<ApiKeyRow | undefined>;
  touch(id: string, now: number): Promise<void>;
}

export interface AuditStore {
  record(entry: AuditEntry, now?: number): Promise<AuditRow>;
  list(filter: AuditFilter, page: AuditPage): Promise<AuditRow[]>;
  count(filter: AuditFilter): Promise<number>;
}

/** What routing, authentication's allowlists and the model loaders read on every request, held in memory. */
export interface CatalogRows {
  models: ModelRow[];
  aliases: Array<{ alias: string; modelId: string }>;
  /** In the order routing considers a model's endpoints: created first, then by id. */
  endpoints: ModelEndpointRow[];
  providers: ProviderRow[];
}

/** The catalog lookups a completion makes: by id or alias, an endpoint by provider and provider model id. */
export interface CatalogLookup {
  findModel(idOrAlias: string): ModelRow | undefined;
  findEndpoint(providerId: string, providerModelId: string): ModelEndpointRow | undefined;
  /** The endpoints of one model, in the order routing considers them (created first, then by id). */
  endpointsOfModel(modelId: string): readonly ModelEndpointRow[];
}

/** The catalog's storage: what start-up and the instance snapshot need on every dialect. */
export interface CatalogStore {
  /** The whole routing catalog; synchronous on SQLite. */
  load(): CatalogRows | Promise<CatalogRows>;
  syncProviders(known: KnownProvider[], now?: number): Promise<void>;
  seed(seed: CatalogSeed, now?: number): Promise<{ models: number; endpoints: number }>;
  writeProvider(input: ProviderWrite, now?: number): Promise<{ row: ProviderRow; created: boolean }>;
  existingModelIds(ids: string[]): Promise<Set<string>>;
  /** Edits one existing endpoint (prices, status, context length, weight); throws CatalogConflict for an unknown one. */
  updateEndpoint(input: EndpointWrite, now?: number): Promise<ModelEndpointRow>;
  existingProviderIds(ids: string[]): Promise<Set<string>>;
  /** Creates or edits a model, points the aliases at it and writes its endpoints, in one transaction (admin edits, the config file). */
  writeModel(input: ModelWrite, aliases: string[], endpoints: EndpointWrite[], now?: number): Promise<{ model: ModelRow; created: boolean }>;
  /** Adds the endpoints (and models) a provider's listing has and the catalog lacks, in one transaction. */
  applySync(providerId: string, listing: ListedProviderModel[], matcher: CatalogSyncMatcher, now?: number): Promise<SyncResult>;
  /** One page of the `models` query: filters, keyset order and cursor in one statement. */
  listModels(query: ModelListQuery): Promise<ListedModel[]>;
  countModels(filter: ModelListFilter): Promise<number>;
  /** `Model.usage` summaries in key order; keys sharing a window cost one statement together. */
  usageByModelWindows(keys: readonly ModelUsageKey[]): Promise<ModelUsageSummary[]>;
}

/** The response cache's table (src/cache/database-store.ts). */
export interface ResponseCacheRows {
  find(key: string, now: number): Promise<string | undefined>;
  /** Stores an entry and evicts, oldest first, to stay within the bounds; resolves with how many went for the bound. */
  put(entry: StoredCacheEntry, bounds: CacheBounds, now: number): Promise<number>;
  delete(key: string): Promise<boolean>;
  totals(now: number): Promise<{ entries: number; bytes: number }>;
}

/** Ledger read-outs for the dashboard and diagnostics. */
export interface DiagnosticsStore {
  endpointHistory(query: HistoryQuery): Promise<HistoryBucket[]>;
  keyWindowUse(apiKeyId: string, from: number): Promise<KeyWindowUse>;
}

/**
 * The repository: one interface, an implementation per dialect (src/db/sqlite-storage.ts, src/db/pg/storage.ts).
 * `sqlite` is the synchronous SQLite handle, for the per-operation loaders that read SQLite directly (the
 * catalog snapshot serves them on PostgreSQL) and for tests; undefined on PostgreSQL. Nothing else may need it.
 */
export interface Storage {
  readonly dialect: Dialect;
  readonly ledger: LedgerStore;
  readonly keys: KeyStore;
  readonly audit: AuditStore;
  readonly catalog: CatalogStore;
  readonly responseCache: ResponseCacheRows;
  readonly diagnostics: DiagnosticsStore;
  readonly sqlite: Db | undefined;
  /** Applies pending migrations (SQLite applies them on open). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}
