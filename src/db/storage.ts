import type { ApiKeyPage } from './api-keys.js';
import type { AuditEntry, AuditFilter, AuditPage } from './audit.js';
import type { EndpointWrite, ProviderWrite } from './catalog-admin.js';
import type { Db } from './client.js';
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
}

/**
 * The repository: one interface, an implementation per dialect (src/db/sqlite-storage.ts, src/db/pg/storage.ts).
 * `sqlite` is the synchronous SQLite handle the SQLite-only code paths (admin catalog edits, model listing) still
 * use; undefined on PostgreSQL.
 */
export interface Storage {
  readonly dialect: Dialect;
  readonly ledger: LedgerStore;
  readonly keys: KeyStore;
  readonly audit: AuditStore;
  readonly catalog: CatalogStore;
  readonly sqlite: Db | undefined;
  /** Applies pending migrations (SQLite applies them on open). */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}
