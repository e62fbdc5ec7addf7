import { asc } from 'drizzle-orm';
import { countApiKeys, findApiKey, findApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey, touchApiKey } from './api-keys.js';
import { countAudit, listAudit, recordAudit } from './audit.js';
import { countModels, listModels, usageByModelWindows } from './catalog.js';
import { applyCatalogSync, existingModelIds, existingProviderIds, updateEndpoint, writeModel, writeProvider } from './catalog-admin.js';
import { endpointHistory } from './endpoint-history.js';
import { keyWindowUse } from './key-window.js';
import { cacheTotals, deleteCacheEntry, findCacheEntry, putCacheEntry } from './response-cache.js';
import type { DatabaseHandle, Db } from './client.js';
import { apiKeys, modelAliases, modelEndpoints, models, providers } from './schema.js';
import { seedCatalog, syncProviders } from './seed.js';
import { createSqliteLedger } from './sqlite-ledger.js';
import type { CatalogRows, Storage } from './storage.js';

/** Everything routing reads, in the order the prepared lookups of ./catalog.ts return it. */
export function loadCatalogRows(db: Db): CatalogRows {
  return {
    models: db.select().from(models).all(),
    aliases: db.select().from(modelAliases).all(),
    endpoints: db.select().from(modelEndpoints).orderBy(asc(modelEndpoints.createdAt), asc(modelEndpoints.id)).all(),
    providers: db.select().from(providers).orderBy(asc(providers.id)).all(),
  };
}

/** The repository over one SQLite file; each call runs synchronously underneath, as before. */
export function createSqliteStorage(handle: DatabaseHandle, options: { instanceId?: string } = {}): Storage {
  const db = handle.db;
  return {
    dialect: 'sqlite',
    sqlite: db,
    ledger: createSqliteLedger(db, options.instanceId),
    keys: {
      insert: async (row) => insertApiKey(db, row),
      findByHash: async (hash) => findApiKeyByHash(db, hash),
      find: async (id) => findApiKey(db, id),
      list: async (page) => listApiKeys(db, page),
      count: async () => countApiKeys(db),
      all: () => db.select().from(apiKeys).all(),
      revoke: async (id, now) => revokeApiKey(db, id, now),
      touch: async (id, now) => touchApiKey(db, id, now),
    },
    audit: {
      record: async (entry, now) => recordAudit(db, entry, now),
      list: async (filter, page) => listAudit(db, filter, page),
      count: async (filter) => countAudit(db, filter),
    },
    catalog: {
      load: () => loadCatalogRows(db),
      syncProviders: async (known, now) => syncProviders(db, known, now),
      seed: async (seed, now) => seedCatalog(db, seed, now),
      writeProvider: async (input, now) => writeProvider(db, input, now),
      existingModelIds: async (ids) => existingModelIds(db, ids),
      updateEndpoint: async (input, now) => updateEndpoint(db, input, now),
      existingProviderIds: async (ids) => existingProviderIds(db, ids),
      writeModel: async (input, aliases, endpoints, now) => writeModel(db, input, aliases, endpoints, now),
      applySync: async (providerId, listing, matcher, now) => applyCatalogSync(db, providerId, listing, matcher, now),
      listModels: async (query) => listModels(db, query),
      countModels: async (filter) => countModels(db, filter),
      usageByModelWindows: async (keys) => usageByModelWindows(db, keys),
    },
    responseCache: {
      find: (key, now) => findCacheEntry(db, key, now),
      put: (entry, bounds, now) => putCacheEntry(db, entry, bounds, now),
      delete: (key) => deleteCacheEntry(db, key),
      totals: (now) => cacheTotals(db, now),
    },
    diagnostics: {
      endpointHistory: (query) => endpointHistory(db, query),
      keyWindowUse: (apiKeyId, from) => keyWindowUse(db, apiKeyId, from),
    },
    migrate: async () => undefined,
    ping: async () => handle.ping(),
    pendingMigrations: async () => handle.pendingMigrations(),
    close: async () => handle.close(),
  };
}
