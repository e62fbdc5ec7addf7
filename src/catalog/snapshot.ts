import type { ChangeFeed } from '../coordination/change-feed.js';
import { Snapshot, type SnapshotOptions } from '../coordination/snapshot.js';
import type { ModelEndpointRow, ModelRow, ProviderRow } from '../db/schema.js';
import type { CatalogLookup, CatalogRows, CatalogStore } from '../db/storage.js';

export type { CatalogLookup };

export interface CatalogIndex extends CatalogLookup {
  providers: readonly ProviderRow[];
  /** Every model, in id order. */
  models: readonly ModelRow[];
  /** By id only (no alias), as the GraphQL loaders read it. */
  model(id: string): ModelRow | undefined;
  provider(id: string): ProviderRow | undefined;
  /** Sorted. */
  aliasesOf(modelId: string): readonly string[];
  /** By model id. */
  endpointsOfProvider(providerId: string): readonly ModelEndpointRow[];
}

const NO_ENDPOINTS: readonly ModelEndpointRow[] = [];

/** Maps over the loaded rows; lookups answer as the prepared statements of src/db/catalog.ts did (an id first, then an alias, lowercased). */
export function indexCatalog(rows: CatalogRows): CatalogIndex {
  const models = new Map(rows.models.map((model) => [model.id, model]));
  const aliases = new Map<string, ModelRow>();
  for (const { alias, modelId } of rows.aliases) {
    const model = models.get(modelId);
    if (model) aliases.set(alias, model);
  }
  const endpoints = new Map<string, ModelEndpointRow>();
  const byModel = new Map<string, ModelEndpointRow[]>();
  for (const endpoint of rows.endpoints) {
    endpoints.set(`${endpoint.providerId}\u0000${endpoint.providerModelId}`, endpoint);
    const list = byModel.get(endpoint.modelId) ?? [];
    list.push(endpoint);
    byModel.set(endpoint.modelId, list);
  }
  const providers = new Map(rows.providers.map((provider) => [provider.id, provider]));
  const aliasesByModel = new Map<string, string[]>();
  for (const { alias, modelId } of [...rows.aliases].sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0))) {
    const list = aliasesByModel.get(modelId) ?? [];
    list.push(alias);
    aliasesByModel.set(modelId, list);
  }
  const byProvider = new Map<string, ModelEndpointRow[]>();
  for (const endpoint of [...rows.endpoints].sort((a, b) => (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0))) {
    const list = byProvider.get(endpoint.providerId) ?? [];
    list.push(endpoint);
    byProvider.set(endpoint.providerId, list);
  }
  return {
    providers: rows.providers,
    models: [...rows.models].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    model: (id) => models.get(id),
    provider: (id) => providers.get(id),
    aliasesOf: (modelId) => aliasesByModel.get(modelId) ?? [],
    endpointsOfProvider: (providerId) => byProvider.get(providerId) ?? NO_ENDPOINTS,
    findModel: (idOrAlias) => models.get(idOrAlias) ?? aliases.get(idOrAlias.toLowerCase()),
    findEndpoint: (providerId, providerModelId) => endpoints.get(`${providerId}\u0000${providerModelId}`),
    endpointsOfModel: (modelId) => byModel.get(modelId) ?? NO_ENDPOINTS,
  };
}

/**
 * The routing catalog (models, aliases, endpoints, providers) held in memory: loaded at start, reloaded when the
 * change feed says `catalog` or `providers` changed, and at least every `maxAgeMs` where other instances may write
 * without a shared feed. Completions resolve models against it without a query.
 */
export class CatalogSnapshot implements CatalogLookup {
  private readonly snapshot: Snapshot<CatalogIndex>;
  private providerListener: ((rows: readonly ProviderRow[]) => void) | undefined;

  constructor(store: Pick<CatalogStore, 'load'>, feed: ChangeFeed, options: SnapshotOptions = {}) {
    const indexed = (rows: CatalogRows): CatalogIndex => {
      const index = indexCatalog(rows);
      this.providerListener?.(rows.providers);
      return index;
    };
    this.snapshot = new Snapshot(
      () => {
        const rows = store.load();
        return rows instanceof Promise ? rows.then(indexed) : indexed(rows);
      },
      feed,
      ['catalog', 'providers'],
      options,
    );
  }

  /**
   * Called with the provider rows of every load, so each instance keeps its adapters in step with providers another
   * instance added or edited through the API (src/catalog/providers.ts `refreshProviderAdapters`).
   */
  onProviders(listener: (rows: readonly ProviderRow[]) => void): void {
    this.providerListener = listener;
  }

  start(): Promise<void> {
    return this.snapshot.start();
  }

  /** Reloads now (a writer that must see its own change awaits this). */
  refresh(): Promise<void> {
    return this.snapshot.refresh();
  }

  get providers(): readonly ProviderRow[] {
    return this.snapshot.current.providers;
  }

  /** The index as loaded now; a reader that looks several things up takes it once, for one consistent view. */
  get index(): CatalogIndex {
    return this.snapshot.current;
  }

  findModel(idOrAlias: string): ModelRow | undefined {
    return this.snapshot.current.findModel(idOrAlias);
  }

  findEndpoint(providerId: string, providerModelId: string): ModelEndpointRow | undefined {
    return this.snapshot.current.findEndpoint(providerId, providerModelId);
  }

  endpointsOfModel(modelId: string): readonly ModelEndpointRow[] {
    return this.snapshot.current.endpointsOfModel(modelId);
  }

  close(): void {
    this.snapshot.close();
  }
}
