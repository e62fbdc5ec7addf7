import { and, asc, count, desc, eq, gt, gte, inArray, lt, type SQL } from 'drizzle-orm';
import { dollarsPerMillionToMicros } from '../../money.js';
import { auditRow, type AuditFilter } from '../audit.js';
import { CatalogConflict, endpointChanges, endpointId } from '../catalog-admin.js';
import { seededModelValues } from '../seed.js';
import type { ProviderRow } from '../schema.js';
import type { Storage } from '../storage.js';
import { openPostgres } from './client.js';
import { newId } from '../../ids.js';
import { applyCatalogSyncPg, existingProviderIdsPg, writeModelPg } from './catalog-admin.js';
import { countModelsPg, listModelsPg, usageByModelWindowsPg } from './catalog.js';
import { endpointHistoryPg, keyWindowUsePg } from './diagnostics.js';
import { createPgLedger, InstanceLiveness } from './ledger.js';
import { createPgResponseCache } from './response-cache.js';
import { apiKeys, auditLog, modelAliases, modelEndpoints, models, providers } from './schema.js';

function auditConditions(filter: AuditFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.targetType !== undefined) conditions.push(eq(auditLog.targetType, filter.targetType));
  if (filter.targetId !== undefined) conditions.push(eq(auditLog.targetId, filter.targetId));
  if (filter.from !== undefined) conditions.push(gte(auditLog.createdAt, filter.from));
  if (filter.to !== undefined) conditions.push(lt(auditLog.createdAt, filter.to));
  return conditions;
}

/** The repository on PostgreSQL. Nothing here runs on the completion path but the ledger's commit. */
export function createPgStorage(url: string, options: { onStatement?: (sql: string) => void; max?: number; instanceId?: string } = {}): Storage {
  const handle = openPostgres(url, options);
  const { db, client } = handle;
  const liveness = new InstanceLiveness(client, options.instanceId ?? newId('inst'));
  return {
    dialect: 'postgres',
    sqlite: undefined,
    ledger: createPgLedger(db, client, liveness),
    keys: {
      insert: async (row) => {
        await db.insert(apiKeys).values(row);
      },
      findByHash: async (hash) => (await db.select().from(apiKeys).where(eq(apiKeys.secretHash, hash)).limit(1))[0],
      find: async (id) => (await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1))[0],
      list: async (page) => {
        const conditions: SQL[] = [];
        if (page.olderThan !== undefined) conditions.push(lt(apiKeys.id, page.olderThan));
        if (page.newerThan !== undefined) conditions.push(gt(apiKeys.id, page.newerThan));
        return db
          .select()
          .from(apiKeys)
          .where(conditions.length > 0 ? and(...conditions) : undefined)
          .orderBy(page.oldestFirst ? asc(apiKeys.id) : desc(apiKeys.id))
          .limit(page.limit);
      },
      count: async () => (await db.select({ count: count() }).from(apiKeys))[0]?.count ?? 0,
      all: async () => db.select().from(apiKeys),
      revoke: async (id, now) => {
        await db.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, id));
        return (await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1))[0];
      },
      touch: async (id, now) => {
        await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id));
      },
    },
    audit: {
      record: async (entry, now = Date.now()) => {
        const row = auditRow(entry, now);
        await db.insert(auditLog).values(row);
        return row;
      },
      list: async (filter, page) => {
        const conditions = auditConditions(filter);
        if (page.olderThan !== undefined) conditions.push(lt(auditLog.id, page.olderThan));
        if (page.newerThan !== undefined) conditions.push(gt(auditLog.id, page.newerThan));
        return db
          .select()
          .from(auditLog)
          .where(conditions.length > 0 ? and(...conditions) : undefined)
          .orderBy(page.oldestFirst ? asc(auditLog.id) : desc(auditLog.id))
          .limit(page.limit);
      },
      count: async (filter) => {
        const conditions = auditConditions(filter);
        return (await db.select({ count: count() }).from(auditLog).where(conditions.length > 0 ? and(...conditions) : undefined))[0]?.count ?? 0;
      },
    },
    catalog: {
      load: async () => {
        const [modelRows, aliasRows, endpointRows, providerRows] = await Promise.all([
          db.select().from(models),
          db.select().from(modelAliases),
          db.select().from(modelEndpoints).orderBy(asc(modelEndpoints.createdAt), asc(modelEndpoints.id)),
          db.select().from(providers).orderBy(asc(providers.id)),
        ]);
        return { models: modelRows, aliases: aliasRows, endpoints: endpointRows, providers: providerRows };
      },
      syncProviders: async (known, now = Date.now()) => {
        await db.transaction(async (tx) => {
          for (const provider of known) {
            await tx
              .insert(providers)
              .values({ ...provider, createdAt: now, updatedAt: now })
              .onConflictDoUpdate({
                target: providers.id,
                set: { name: provider.name, kind: provider.kind, enabled: provider.enabled, updatedAt: now, ...(provider.enabled ? { baseUrl: provider.baseUrl } : {}) },
              });
          }
        });
      },
      seed: async (seed, now = Date.now()) => {
        let endpointCount = 0;
        await db.transaction(async (tx) => {
          const knownProviders = new Set((await tx.select({ id: providers.id }).from(providers)).map((row) => row.id));
          const editedModels = new Map((await tx.select({ id: models.id, edited: models.editedByAdmin }).from(models)).map((row) => [row.id, row.edited]));
          const editedEndpoints = new Map((await tx.select({ id: modelEndpoints.id, edited: modelEndpoints.editedByAdmin }).from(modelEndpoints)).map((row) => [row.id, row.edited]));
          for (const model of seed.models) {
            const values = seededModelValues(model);
            const edited = editedModels.get(model.id);
            if (edited === undefined) await tx.insert(models).values({ id: model.id, ...values, createdAt: now, updatedAt: now });
            else if (!edited) await tx.update(models).set({ ...values, updatedAt: now }).where(eq(models.id, model.id));
            if (model.aliases.length > 0) {
              await tx
                .insert(modelAliases)
                .values(model.aliases.map((alias) => ({ alias: alias.toLowerCase(), modelId: model.id })))
                .onConflictDoNothing();
            }
            for (const endpoint of model.endpoints) {
              if (!knownProviders.has(endpoint.provider)) continue;
              const id = endpointId(endpoint.provider, endpoint.providerModelId);
              const prices = {
                promptPriceMicros: dollarsPerMillionToMicros(endpoint.promptPerMillion),
                completionPriceMicros: dollarsPerMillionToMicros(endpoint.completionPerMillion),
                cachedPromptPriceMicros: endpoint.cachedPromptPerMillion === null ? null : dollarsPerMillionToMicros(endpoint.cachedPromptPerMillion),
                contextLength: endpoint.contextLength ?? null,
                priceSource: endpoint.priceSource,
                priceDate: endpoint.priceDate,
              };
              const current = editedEndpoints.get(id);
              if (current === undefined) {
                await tx
                  .insert(modelEndpoints)
                  .values({ id, modelId: model.id, providerId: endpoint.provider, providerModelId: endpoint.providerModelId, ...prices, createdAt: now, updatedAt: now });
              } else if (!current) {
                await tx.update(modelEndpoints).set({ ...prices, updatedAt: now }).where(eq(modelEndpoints.id, id));
              }
              endpointCount++;
            }
          }
        });
        return { models: seed.models.length, endpoints: endpointCount };
      },
      writeProvider: async (input, now = Date.now()) =>
        db.transaction(async (tx) => {
          const [existing] = await tx.select().from(providers).where(eq(providers.id, input.id)).for('update');
          if (!existing) {
            const row: ProviderRow = {
              id: input.id,
              name: input.name ?? input.id,
              kind: input.kind ?? 'openai_compatible',
              baseUrl: input.baseUrl ?? null,
              enabled: input.enabled ?? true,
              apiKeyCiphertext: input.apiKeyCiphertext ?? null,
              createdAt: now,
              updatedAt: now,
            };
            await tx.insert(providers).values(row);
            return { row, created: true };
          }
          const changes: Partial<ProviderRow> = { updatedAt: now };
          if (input.name !== undefined) changes.name = input.name;
          if (input.baseUrl !== undefined) changes.baseUrl = input.baseUrl;
          if (input.enabled !== undefined) changes.enabled = input.enabled;
          if (input.apiKeyCiphertext !== undefined) changes.apiKeyCiphertext = input.apiKeyCiphertext;
          await tx.update(providers).set(changes).where(eq(providers.id, input.id));
          return { row: { ...existing, ...changes }, created: false };
        }),
      updateEndpoint: async (input, now = Date.now()) =>
        db.transaction(async (tx) => {
          const [existing] = await tx
            .select()
            .from(modelEndpoints)
            .where(and(eq(modelEndpoints.providerId, input.providerId), eq(modelEndpoints.providerModelId, input.providerModelId)))
            .for('update');
          if (!existing) throw new CatalogConflict(`No endpoint ${endpointId(input.providerId, input.providerModelId)}`);
          const changes = endpointChanges(input, now);
          await tx.update(modelEndpoints).set(changes).where(eq(modelEndpoints.id, existing.id));
          return { ...existing, ...changes };
        }),
      existingProviderIds: (ids) => existingProviderIdsPg(db, ids),
      writeModel: (input, aliases, endpoints, now) => writeModelPg(db, input, aliases, endpoints, now),
      applySync: (providerId, listing, matcher, now) => applyCatalogSyncPg(db, providerId, listing, matcher, now),
      listModels: (query) => listModelsPg(db, query),
      countModels: (filter) => countModelsPg(db, filter),
      usageByModelWindows: (keys) => usageByModelWindowsPg(db, keys),
      existingModelIds: async (ids) => {
        if (ids.length === 0) return new Set();
        return new Set((await db.select({ id: models.id }).from(models).where(inArray(models.id, ids))).map((row) => row.id));
      },
    },
    responseCache: createPgResponseCache(db),
    diagnostics: {
      endpointHistory: (query) => endpointHistoryPg(db, query),
      keyWindowUse: (apiKeyId, from) => keyWindowUsePg(db, apiKeyId, from),
    },
    migrate: () => handle.migrate(),
    ping: () => handle.ping(),
    pendingMigrations: () => handle.pendingMigrations(),
    close: async () => {
      await liveness.release();
      await handle.close();
    },
  };
}

