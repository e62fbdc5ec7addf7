import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { endpointId } from './catalog-admin.js';
import type { Db } from './client.js';
import { modelAliases, modelEndpoints, models, providers } from './schema.js';
import { catalogSeedSchema, type CatalogSeed } from './seed/catalog-schema.js';
import { dollarsPerMillionToMicros } from '../money.js';
import type { ProviderKind } from '../providers/types.js';

/**
 * What a five-minute cache write costs as a multiple of the prompt price, as each provider publishes it, for
 * endpoints whose seed gives no figure: Anthropic 1.25x (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing).
 * Providers that cache implicitly (OpenAI, Gemini, DeepSeek) charge writes as plain input, which a null price means.
 * Kept as a fraction so a price in micro-dollars stays an exact integer.
 */
const CACHE_WRITE_MULTIPLIERS: Partial<Record<ProviderKind, { numerator: number; denominator: number }>> = {
  anthropic: { numerator: 5, denominator: 4 },
};

export function seededCacheWritePriceMicros(kind: ProviderKind | undefined, promptPriceMicros: number, cacheWritePerMillion: number | null | undefined): number | null {
  if (cacheWritePerMillion !== undefined && cacheWritePerMillion !== null) return dollarsPerMillionToMicros(cacheWritePerMillion);
  const multiplier = kind === undefined ? undefined : CACHE_WRITE_MULTIPLIERS[kind];
  return multiplier === undefined ? null : Math.round((promptPriceMicros * multiplier.numerator) / multiplier.denominator);
}

const SEED_FILE = resolve(dirname(fileURLToPath(import.meta.url)), 'seed/catalog.json');

export function readCatalogSeed(path = SEED_FILE): CatalogSeed {
  return catalogSeedSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

export interface KnownProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  baseUrl: string | null;
  enabled: boolean;
}

/**
 * Brings the providers table in line with configuration: every known provider has a row (so the catalog can list
 * endpoints of providers not configured here), enabled exactly when configured.
 */
export function syncProviders(db: Db, known: KnownProvider[], now = Date.now()): void {
  db.transaction((tx) => {
    for (const provider of known) {
      tx.insert(providers)
        .values({ ...provider, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: providers.id,
          // An unconfigured provider keeps the base URL an admin gave it (with a key stored through the API).
          set: { name: provider.name, kind: provider.kind, enabled: provider.enabled, updatedAt: now, ...(provider.enabled ? { baseUrl: provider.baseUrl } : {}) },
        })
        .run();
    }
  });
}

/** The columns the seed sets on a model it owns (an admin's edit keeps the row as edited). */
export function seededModelValues(model: CatalogSeed['models'][number]) {
  return {
    vendor: model.vendor,
    name: model.name,
    description: model.description ?? null,
    contextLength: model.contextLength,
    maxOutputTokens: model.maxOutputTokens,
    inputModalities: model.inputModalities,
    outputModalities: model.outputModalities,
    supportedParameters: model.supportedParameters,
    releasedAt: model.releasedAt ?? null,
  };
}

/**
 * Loads the seed catalog. New models, aliases and endpoints are added; existing ones are refreshed from the seed
 * unless an admin edited them, so an upgrade brings new prices without clobbering local changes.
 */
export function seedCatalog(db: Db, seed: CatalogSeed, now = Date.now()): { models: number; endpoints: number } {
  const providerKinds = new Map(db.select({ id: providers.id, kind: providers.kind }).from(providers).all().map((row) => [row.id, row.kind]));
  const knownProviders = new Set(providerKinds.keys());
  let endpointCount = 0;
  db.transaction((tx) => {
    for (const model of seed.models) {
      const values = seededModelValues(model);
      const existing = tx.select({ edited: models.editedByAdmin }).from(models).where(eq(models.id, model.id)).get();
      if (!existing) tx.insert(models).values({ id: model.id, ...values, createdAt: now, updatedAt: now }).run();
      else if (!existing.edited) tx.update(models).set({ ...values, updatedAt: now }).where(eq(models.id, model.id)).run();

      for (const alias of model.aliases) {
        tx.insert(modelAliases).values({ alias: alias.toLowerCase(), modelId: model.id }).onConflictDoNothing().run();
      }

      for (const endpoint of model.endpoints) {
        if (!knownProviders.has(endpoint.provider)) continue;
        const id = endpointId(endpoint.provider, endpoint.providerModelId);
        const prices = {
          promptPriceMicros: dollarsPerMillionToMicros(endpoint.promptPerMillion),
          completionPriceMicros: dollarsPerMillionToMicros(endpoint.completionPerMillion),
          cachedPromptPriceMicros: endpoint.cachedPromptPerMillion === null ? null : dollarsPerMillionToMicros(endpoint.cachedPromptPerMillion),
          cacheWritePriceMicros: seededCacheWritePriceMicros(providerKinds.get(endpoint.provider), dollarsPerMillionToMicros(endpoint.promptPerMillion), endpoint.cacheWritePerMillion),
          contextLength: endpoint.contextLength ?? null,
          priceSource: endpoint.priceSource,
          priceDate: endpoint.priceDate,
        };
        const current = tx.select({ edited: modelEndpoints.editedByAdmin }).from(modelEndpoints).where(eq(modelEndpoints.id, id)).get();
        if (!current) {
          tx.insert(modelEndpoints)
            .values({ id, modelId: model.id, providerId: endpoint.provider, providerModelId: endpoint.providerModelId, ...prices, createdAt: now, updatedAt: now })
            .run();
        } else if (!current.edited) {
          tx.update(modelEndpoints).set({ ...prices, updatedAt: now }).where(eq(modelEndpoints.id, id)).run();
        }
        endpointCount++;
      }
    }
  });
  return { models: seed.models.length, endpoints: endpointCount };
}
