import { and, asc, eq, inArray } from 'drizzle-orm';
import { directModelId } from '../../ids.js';
import { CatalogConflict, endpointChanges, endpointId, syncedEndpointRow, today, type CatalogSyncMatcher, type EndpointWrite, type ListedProviderModel, type ModelWrite, type SyncResult } from '../catalog-admin.js';
import type { ModelEndpointRow, ModelRow } from '../schema.js';
import type { PgDb } from './client.js';
import { modelAliases, modelEndpoints, models, providers } from './schema.js';

/** The PostgreSQL twin of ../catalog-admin.ts's model writes and catalog sync: the same rules, awaited statements. */

type Transaction = Parameters<Parameters<PgDb['transaction']>[0]>[0];

async function writeEndpoint(tx: Transaction, modelId: string, input: EndpointWrite, now: number): Promise<ModelEndpointRow> {
  const [existing] = await tx
    .select()
    .from(modelEndpoints)
    .where(and(eq(modelEndpoints.providerId, input.providerId), eq(modelEndpoints.providerModelId, input.providerModelId)))
    .for('update');
  const changes = endpointChanges(input, now);
  if (existing) {
    if (existing.modelId !== modelId) throw new CatalogConflict(`Endpoint ${existing.id} serves ${existing.modelId}, not ${modelId}`);
    await tx.update(modelEndpoints).set(changes).where(eq(modelEndpoints.id, existing.id));
    return { ...existing, ...changes };
  }
  const row: ModelEndpointRow = {
    id: endpointId(input.providerId, input.providerModelId),
    modelId,
    providerId: input.providerId,
    providerModelId: input.providerModelId,
    promptPriceMicros: null,
    completionPriceMicros: null,
    cachedPromptPriceMicros: null,
    cacheWritePriceMicros: null,
    contextLength: null,
    status: 'ACTIVE',
    weight: 1,
    priceSource: null,
    priceDate: null,
    editedByAdmin: true,
    createdAt: now,
    updatedAt: now,
    ...changes,
  };
  await tx.insert(modelEndpoints).values(row);
  return row;
}

export async function writeModelPg(db: PgDb, input: ModelWrite, aliases: string[], endpoints: EndpointWrite[], now = Date.now()): Promise<{ model: ModelRow; created: boolean }> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(models).where(eq(models.id, input.id)).for('update');
    const changes: Partial<ModelRow> = { editedByAdmin: true, updatedAt: now };
    if (input.name !== undefined) changes.name = input.name;
    if (input.description !== undefined) changes.description = input.description;
    if (input.contextLength !== undefined) changes.contextLength = input.contextLength;
    if (input.maxOutputTokens !== undefined) changes.maxOutputTokens = input.maxOutputTokens;
    if (input.inputModalities !== undefined) changes.inputModalities = input.inputModalities;
    if (input.outputModalities !== undefined) changes.outputModalities = input.outputModalities;
    if (input.supportedParameters !== undefined) changes.supportedParameters = input.supportedParameters;
    if (input.releasedAt !== undefined) changes.releasedAt = input.releasedAt;
    let model: ModelRow;
    if (existing) {
      await tx.update(models).set(changes).where(eq(models.id, input.id));
      model = { ...existing, ...changes };
    } else {
      if (input.contextLength === undefined) throw new CatalogConflict(`contextLength is required to create ${input.id}`);
      model = {
        id: input.id,
        vendor: input.vendor,
        name: input.name ?? input.id.slice(input.id.indexOf('/') + 1),
        description: null,
        contextLength: input.contextLength,
        maxOutputTokens: null,
        inputModalities: ['TEXT'],
        outputModalities: ['TEXT'],
        supportedParameters: [],
        releasedAt: null,
        editedByAdmin: true,
        createdAt: now,
        updatedAt: now,
        ...changes,
      };
      await tx.insert(models).values(model);
    }
    for (const alias of aliases) {
      await tx.insert(modelAliases).values({ alias, modelId: input.id }).onConflictDoUpdate({ target: modelAliases.alias, set: { modelId: input.id } });
    }
    for (const endpoint of endpoints) await writeEndpoint(tx, input.id, endpoint, now);
    return { model, created: !existing };
  });
}

export async function existingProviderIdsPg(db: PgDb, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set((await db.select({ id: providers.id }).from(providers).where(inArray(providers.id, ids))).map((row) => row.id));
}

export async function applyCatalogSyncPg(db: PgDb, providerId: string, listing: ListedProviderModel[], matcher: CatalogSyncMatcher, now = Date.now()): Promise<SyncResult> {
  const unique = [...new Map(listing.map((entry) => [entry.id, entry])).values()];
  return db.transaction(async (tx) => {
    const providerEndpoints = await tx
      .select({ providerModelId: modelEndpoints.providerModelId })
      .from(modelEndpoints)
      .where(eq(modelEndpoints.providerId, providerId))
      .orderBy(asc(modelEndpoints.providerModelId));
    const known = new Set(providerEndpoints.map((row) => row.providerModelId));
    const missing = unique.filter((entry) => !known.has(entry.id));
    const listedIds = new Set(unique.map((entry) => entry.id));
    const notListed = providerEndpoints.map((row) => row.providerModelId).filter((id) => !listedIds.has(id));
    const createdModels: ModelRow[] = [];
    const addedEndpoints: ModelEndpointRow[] = [];
    if (missing.length > 0) {
      const missingIds = missing.map((entry) => entry.id);
      const modelIds = new Set((await tx.select({ id: models.id }).from(models)).map((row) => row.id));
      const byProviderModelId = new Map<string, Set<string>>();
      const sharing = await tx
        .select({ providerModelId: modelEndpoints.providerModelId, modelId: modelEndpoints.modelId })
        .from(modelEndpoints)
        .where(inArray(modelEndpoints.providerModelId, missingIds));
      for (const row of sharing) {
        const set = byProviderModelId.get(row.providerModelId) ?? new Set<string>();
        set.add(row.modelId);
        byProviderModelId.set(row.providerModelId, set);
      }
      const aliasRows = await tx
        .select()
        .from(modelAliases)
        .where(inArray(modelAliases.alias, missingIds.map((id) => id.toLowerCase())));
      const match = matcher({ modelIds, byProviderModelId, byAlias: new Map(aliasRows.map((row) => [row.alias, row.modelId])) });
      for (const entry of missing) {
        let modelId = match(entry.id);
        if (modelId === undefined) {
          modelId = directModelId(providerId, entry.id);
          const model: ModelRow = {
            id: modelId,
            vendor: providerId,
            name: entry.displayName ?? entry.id,
            description: `Added by catalog sync from ${providerId} on ${today(now)}; prices unknown until an admin sets them`,
            contextLength: entry.contextLength ?? 0,
            maxOutputTokens: entry.maxOutputTokens ?? null,
            inputModalities: ['TEXT'],
            outputModalities: ['TEXT'],
            supportedParameters: [],
            releasedAt: null,
            editedByAdmin: false,
            createdAt: now,
            updatedAt: now,
          };
          await tx.insert(models).values(model);
          modelIds.add(modelId);
          createdModels.push(model);
        }
        const endpoint = syncedEndpointRow(providerId, modelId, entry, now);
        await tx.insert(modelEndpoints).values(endpoint);
        addedEndpoints.push(endpoint);
      }
    }
    return { listed: unique.length, addedEndpoints, createdModels, unchanged: unique.length - missing.length, notListed };
  });
}
