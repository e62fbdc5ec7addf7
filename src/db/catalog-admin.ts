import { and, asc, eq, inArray } from 'drizzle-orm';
import { directModelId } from '../ids.js';
import type { Db } from './client.js';
import { modelAliases, modelEndpoints, models, providers, type ModelEndpointRow, type ModelRow, type ProviderRow } from './schema.js';

/**
 * Catalog writes made through the admin API and catalog sync. Inputs arrive validated (src/catalog/admin.ts);
 * prices are micro-dollars per million tokens. Every admin edit sets `editedByAdmin`, which is what tells the
 * seeder at start-up to leave the row alone.
 */

type Transaction = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface ProviderWrite {
  id: string;
  name?: string;
  kind?: ProviderRow['kind'];
  baseUrl?: string | null;
  enabled?: boolean;
  /** A sealed API key (never plaintext); null clears it. */
  apiKeyCiphertext?: string | null;
}

export function writeProvider(db: Db, input: ProviderWrite, now = Date.now()): { row: ProviderRow; created: boolean } {
  return db.transaction((tx) => {
    const existing = tx.select().from(providers).where(eq(providers.id, input.id)).get();
    if (!existing) {
      const row = {
        id: input.id,
        name: input.name ?? input.id,
        kind: input.kind ?? 'openai_compatible',
        baseUrl: input.baseUrl ?? null,
        enabled: input.enabled ?? true,
        apiKeyCiphertext: input.apiKeyCiphertext ?? null,
        createdAt: now,
        updatedAt: now,
      };
      tx.insert(providers).values(row).run();
      return { row, created: true };
    }
    const changes: Partial<ProviderRow> = { updatedAt: now };
    if (input.name !== undefined) changes.name = input.name;
    if (input.baseUrl !== undefined) changes.baseUrl = input.baseUrl;
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    if (input.apiKeyCiphertext !== undefined) changes.apiKeyCiphertext = input.apiKeyCiphertext;
    tx.update(providers).set(changes).where(eq(providers.id, input.id)).run();
    return { row: { ...existing, ...changes }, created: false };
  });
}

/** Fields an admin may set on a model; undefined leaves a field as it is, null clears a nullable one. */
export interface ModelWrite {
  id: string;
  vendor: string;
  name?: string;
  description?: string | null;
  contextLength?: number;
  maxOutputTokens?: number | null;
  inputModalities?: string[];
  outputModalities?: string[];
  supportedParameters?: string[];
  releasedAt?: string | null;
}

export interface EndpointWrite {
  providerId: string;
  providerModelId: string;
  promptPriceMicros?: number | null;
  completionPriceMicros?: number | null;
  cachedPromptPriceMicros?: number | null;
  cacheWritePriceMicros?: number | null;
  contextLength?: number | null;
  status?: ModelEndpointRow['status'];
  /** The weighted strategy's share (0: last resort only); set from the config file. */
  weight?: number;
}

/** Seeded endpoints use the same id, so an endpoint added here and a later seed entry for it are one row. */
export function endpointId(providerId: string, providerModelId: string): string {
  return `${providerId}:${providerModelId}`;
}

/** The endpoint a provider sync adds for a listed model it did not serve yet: unpriced until the catalog knows. */
export function syncedEndpointRow(providerId: string, modelId: string, entry: ListedProviderModel, now: number): ModelEndpointRow {
  return {
    id: endpointId(providerId, entry.id),
    modelId,
    providerId,
    providerModelId: entry.id,
    promptPriceMicros: null,
    completionPriceMicros: null,
    cachedPromptPriceMicros: null,
    cacheWritePriceMicros: null,
    contextLength: entry.contextLength ?? null,
    status: 'ACTIVE',
    weight: 1,
    priceSource: null,
    priceDate: null,
    editedByAdmin: false,
    createdAt: now,
    updatedAt: now,
  };
}

export class CatalogConflict extends Error {}

export function today(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** What an admin edit of an endpoint sets, the same on every dialect. */
export function endpointChanges(input: EndpointWrite, now: number): Partial<ModelEndpointRow> {
  const priced = input.promptPriceMicros !== undefined || input.completionPriceMicros !== undefined || input.cachedPromptPriceMicros !== undefined || input.cacheWritePriceMicros !== undefined;
  const changes: Partial<ModelEndpointRow> = { editedByAdmin: true, updatedAt: now };
  if (input.promptPriceMicros !== undefined) changes.promptPriceMicros = input.promptPriceMicros;
  if (input.completionPriceMicros !== undefined) changes.completionPriceMicros = input.completionPriceMicros;
  if (input.cachedPromptPriceMicros !== undefined) changes.cachedPromptPriceMicros = input.cachedPromptPriceMicros;
  if (input.cacheWritePriceMicros !== undefined) changes.cacheWritePriceMicros = input.cacheWritePriceMicros;
  if (input.contextLength !== undefined) changes.contextLength = input.contextLength;
  if (input.status !== undefined) changes.status = input.status;
  if (input.weight !== undefined) changes.weight = input.weight;
  if (priced) {
    changes.priceSource = 'admin';
    changes.priceDate = today(now);
  }
  return changes;
}

function writeEndpoint(tx: Transaction, modelId: string, input: EndpointWrite, options: { create: boolean }, now: number): ModelEndpointRow {
  const existing = tx
    .select()
    .from(modelEndpoints)
    .where(and(eq(modelEndpoints.providerId, input.providerId), eq(modelEndpoints.providerModelId, input.providerModelId)))
    .get();
  const changes = endpointChanges(input, now);
  if (existing) {
    if (existing.modelId !== modelId) {
      throw new CatalogConflict(`Endpoint ${existing.id} serves ${existing.modelId}, not ${modelId}`);
    }
    tx.update(modelEndpoints).set(changes).where(eq(modelEndpoints.id, existing.id)).run();
    return { ...existing, ...changes };
  }
  if (!options.create) throw new CatalogConflict(`No endpoint ${endpointId(input.providerId, input.providerModelId)}`);
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
  tx.insert(modelEndpoints).values(row).run();
  return row;
}

/**
 * Creates or edits a model, points the given aliases at it (moving any that named another model) and creates or
 * edits the given endpoints, all in one transaction.
 */
export function writeModel(
  db: Db,
  input: ModelWrite,
  aliases: string[],
  endpoints: EndpointWrite[],
  now = Date.now(),
): { model: ModelRow; created: boolean } {
  return db.transaction((tx) => {
    const existing = tx.select().from(models).where(eq(models.id, input.id)).get();
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
      tx.update(models).set(changes).where(eq(models.id, input.id)).run();
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
      tx.insert(models).values(model).run();
    }

    for (const alias of aliases) {
      tx.insert(modelAliases).values({ alias, modelId: input.id }).onConflictDoUpdate({ target: modelAliases.alias, set: { modelId: input.id } }).run();
    }
    for (const endpoint of endpoints) writeEndpoint(tx, input.id, endpoint, { create: true }, now);
    return { model, created: !existing };
  });
}

/** Edits one existing endpoint (prices, status, context length). */
export function updateEndpoint(db: Db, input: EndpointWrite, now = Date.now()): ModelEndpointRow {
  return db.transaction((tx) => {
    const existing = tx
      .select({ modelId: modelEndpoints.modelId })
      .from(modelEndpoints)
      .where(and(eq(modelEndpoints.providerId, input.providerId), eq(modelEndpoints.providerModelId, input.providerModelId)))
      .get();
    if (!existing) throw new CatalogConflict(`No endpoint ${endpointId(input.providerId, input.providerModelId)}`);
    return writeEndpoint(tx, existing.modelId, input, { create: false }, now);
  });
}

/** Model ids that would shadow an alias: `findModel` tries ids first, so such an alias could never resolve. */
export function existingModelIds(db: Db, ids: string[]): Set<string> {
  if (ids.length === 0) return new Set();
  return new Set(db.select({ id: models.id }).from(models).where(inArray(models.id, ids)).all().map((row) => row.id));
}

export function existingProviderIds(db: Db, ids: string[]): Set<string> {
  if (ids.length === 0) return new Set();
  return new Set(db.select({ id: providers.id }).from(providers).where(inArray(providers.id, ids)).all().map((row) => row.id));
}

// ---- Catalog sync ----

export interface ListedProviderModel {
  id: string;
  displayName?: string;
  contextLength?: number;
  maxOutputTokens?: number;
}

export interface SyncResult {
  listed: number;
  addedEndpoints: ModelEndpointRow[];
  createdModels: ModelRow[];
  unchanged: number;
  /** Provider model ids the catalog has for this provider that the listing did not include; left as they are. */
  notListed: string[];
}

/** What the catalog holds that a listed id could match, read in the sync's transaction. */
export interface CatalogSyncLookups {
  /** Every catalog model id; models the sync creates are added as it goes. */
  modelIds: Set<string>;
  /** For each listed id, the models with an endpoint (on any provider) of that provider model id. */
  byProviderModelId: Map<string, Set<string>>;
  /** Aliases (lowercase) of the listed ids, to the model each names. */
  byAlias: Map<string, string>;
}

/** Decides which catalog model a listed id belongs to (undefined: none, so a new model is created). src/catalog/sync.ts holds the policy. */
export type CatalogSyncMatcher = (lookups: CatalogSyncLookups) => (listedId: string) => string | undefined;

/**
 * Adds an endpoint for every listed model the provider has none for, linked to the catalog model `matcher` picks or
 * to a new model `<provider>/<listed id>`. New endpoints have unknown prices (null, so costs show as unknown, never
 * as zero); a new model's context length is the listing's, or 0 (unknown) when the listing gives none.
 */
export function applyCatalogSync(db: Db, providerId: string, listing: ListedProviderModel[], matcher: CatalogSyncMatcher, now = Date.now()): SyncResult {
  const unique = [...new Map(listing.map((entry) => [entry.id, entry])).values()];
  return db.transaction((tx) => {
    const providerEndpoints = tx
      .select({ providerModelId: modelEndpoints.providerModelId })
      .from(modelEndpoints)
      .where(eq(modelEndpoints.providerId, providerId))
      .orderBy(asc(modelEndpoints.providerModelId))
      .all();
    const known = new Set(providerEndpoints.map((row) => row.providerModelId));
    const missing = unique.filter((entry) => !known.has(entry.id));
    const listedIds = new Set(unique.map((entry) => entry.id));
    const notListed = providerEndpoints.map((row) => row.providerModelId).filter((id) => !listedIds.has(id));

    const createdModels: ModelRow[] = [];
    const addedEndpoints: ModelEndpointRow[] = [];
    if (missing.length > 0) {
      const missingIds = missing.map((entry) => entry.id);
      const modelIds = new Set(tx.select({ id: models.id }).from(models).all().map((row) => row.id));
      const byProviderModelId = new Map<string, Set<string>>();
      for (const row of tx
        .select({ providerModelId: modelEndpoints.providerModelId, modelId: modelEndpoints.modelId })
        .from(modelEndpoints)
        .where(inArray(modelEndpoints.providerModelId, missingIds))
        .all()) {
        const set = byProviderModelId.get(row.providerModelId) ?? new Set<string>();
        set.add(row.modelId);
        byProviderModelId.set(row.providerModelId, set);
      }
      const byAlias = new Map(
        tx
          .select()
          .from(modelAliases)
          .where(inArray(modelAliases.alias, missingIds.map((id) => id.toLowerCase())))
          .all()
          .map((row) => [row.alias, row.modelId]),
      );
      const match = matcher({ modelIds, byProviderModelId, byAlias });

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
            // A provider's model list is of chat models; text in and out is the one thing they all do.
            inputModalities: ['TEXT'],
            outputModalities: ['TEXT'],
            supportedParameters: [],
            releasedAt: null,
            editedByAdmin: false,
            createdAt: now,
            updatedAt: now,
          };
          tx.insert(models).values(model).run();
          modelIds.add(modelId);
          createdModels.push(model);
        }
        const endpoint = syncedEndpointRow(providerId, modelId, entry, now);
        tx.insert(modelEndpoints).values(endpoint).run();
        addedEndpoints.push(endpoint);
      }
    }
    return { listed: unique.length, addedEndpoints, createdModels, unchanged: unique.length - missing.length, notListed };
  });
}
