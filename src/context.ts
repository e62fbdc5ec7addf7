import DataLoader from 'dataloader';
import type { Viewer } from './auth/viewer.js';
import { aliasesByModelIds, endpointsByModelIds, endpointsByProviderIds, modelsByIds, providersByIds, usageByModelWindows, type ModelUsageKey, type ModelUsageSummary } from './db/catalog.js';
import type { Db } from './db/client.js';
import type { ModelEndpointRow, ModelRow, ProviderRow } from './db/schema.js';
import type { Services } from './services.js';
import type { TraceScope } from './telemetry/tracing.js';

/** The context of one GraphQL operation (HTTP or WebSocket): who asks, the services, and per-operation loaders. */


export interface Loaders {
  model: DataLoader<string, ModelRow | undefined>;
  provider: DataLoader<string, ProviderRow | undefined>;
  endpointsByModel: DataLoader<string, ModelEndpointRow[]>;
  endpointsByProvider: DataLoader<string, ModelEndpointRow[]>;
  aliasesByModel: DataLoader<string, string[]>;
  /** Keyed by model and window, so a page of models asking for the same window is one statement. */
  modelUsage: DataLoader<ModelUsageKey, ModelUsageSummary, string>;
}

export interface Context {
  services: Services;
  viewer: Viewer;
  requestId: string;
  loaders: Loaders;
  /** Aborts when the client goes away. */
  signal: AbortSignal | undefined;
  /** The transport's span (HTTP request or WebSocket operation) when traced; completions hang their spans under it. */
  trace?: TraceScope;
}

/** Fresh loaders per operation, so caching never outlives a request or leaks between callers. */
export function createLoaders(services: Pick<Services, 'storage' | 'catalog'>): Loaders {
  const db = services.storage.sqlite;
  return db ? sqliteLoaders(db) : snapshotLoaders(services.catalog, services.storage.catalog);
}

/** On PostgreSQL the catalog loaders read the instance's snapshot: no query, and at most as old as the snapshot is. */
function snapshotLoaders(catalog: Services['catalog'], store: Services['storage']['catalog']): Loaders {
  const batch = <K, V>(read: (index: Services['catalog']['index'], key: K) => V) => (keys: readonly K[]) => {
    const index = catalog.index;
    return Promise.resolve(keys.map((key) => read(index, key)));
  };
  return {
    model: new DataLoader(batch((index, id: string) => index.model(id))),
    provider: new DataLoader(batch((index, id: string) => index.provider(id))),
    endpointsByModel: new DataLoader(batch((index, id: string) => [...index.endpointsOfModel(id)])),
    endpointsByProvider: new DataLoader(batch((index, id: string) => [...index.endpointsOfProvider(id)])),
    aliasesByModel: new DataLoader(batch((index, id: string) => [...index.aliasesOf(id)])),
    modelUsage: new DataLoader((keys) => store.usageByModelWindows(keys), {
      cacheKeyFn: (key) => `${key.modelId}|${key.from ?? ''}|${key.to ?? ''}`,
    }),
  };
}

function sqliteLoaders(db: Db): Loaders {
  return {
    model: new DataLoader((ids) => Promise.resolve(modelsByIds(db, ids))),
    provider: new DataLoader((ids) => Promise.resolve(providersByIds(db, ids))),
    endpointsByModel: new DataLoader((ids) => Promise.resolve(endpointsByModelIds(db, ids))),
    endpointsByProvider: new DataLoader((ids) => Promise.resolve(endpointsByProviderIds(db, ids))),
    aliasesByModel: new DataLoader((ids) => Promise.resolve(aliasesByModelIds(db, ids))),
    modelUsage: new DataLoader((keys) => Promise.resolve(usageByModelWindows(db, keys)), {
      cacheKeyFn: (key) => `${key.modelId}|${key.from ?? ''}|${key.to ?? ''}`,
    }),
  };
}

export function createContext(services: Services, viewer: Viewer, requestId: string, signal: AbortSignal | undefined, trace?: TraceScope): Context {
  return { services, viewer, requestId, loaders: createLoaders(services), signal, ...(trace ? { trace } : {}) };
}
