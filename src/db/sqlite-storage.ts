import { asc } from 'drizzle-orm';
import { countApiKeys, findApiKey, findApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey, touchApiKey } from './api-keys.js';
import { countAudit, listAudit, recordAudit } from './audit.js';
import { existingModelIds, updateEndpoint, writeProvider } from './catalog-admin.js';
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
export function createSqliteStorage(handle: DatabaseHandle): Storage {
  const db = handle.db;
  return {
    dialect: 'sqlite',
    sqlite: db,
    ledger: createSqliteLedger(db),
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
    },
    migrate: async () => undefined,
    ping: async () => handle.ping(),
    pendingMigrations: async () => handle.pendingMigrations(),
    close: async () => handle.close(),
  };
}
