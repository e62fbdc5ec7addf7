import { isModelAllowed } from '../auth/allowlist.js';
import { modelPrices } from '../catalog/pricing.js';
import { aliasesByModelIds, endpointsByModelIds, findModel, listModelsWithEndpoints } from '../db/catalog.js';
import type { CatalogIndex } from '../catalog/snapshot.js';
import type { Db } from '../db/client.js';
import type { ModelEndpointRow, ModelRow } from '../db/schema.js';
import type { AdapterRegistry } from '../providers/registry.js';
import { microsToDollarsPerMillion } from '../money.js';

/**
 * GET /v1/models in OpenAI's list shape (`id`, `object`, `created`, `owned_by`), with the catalog's own facts
 * beside them in snake_case, as OpenRouter does, so SDK clients that read only OpenAI's fields are unaffected.
 */
export interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  name: string;
  aliases: string[];
  description: string | null;
  context_length: number;
  max_output_tokens: number | null;
  input_modalities: string[];
  output_modalities: string[];
  supported_parameters: string[];
  /** US dollars per million tokens at the cheapest active endpoint; null when no price is known. */
  pricing: { prompt_per_million: number; completion_per_million: number; cached_prompt_per_million: number | null; cache_write_per_million: number | null } | null;
  /** True when an enabled provider serves the model, i.e. a request for it can be routed now. */
  available: boolean;
  endpoints: Array<{ provider: string; provider_model_id: string; status: ModelEndpointRow['status']; enabled: boolean }>;
}

export interface OpenAIModelList {
  object: 'list';
  data: OpenAIModel[];
}

function createdSeconds(model: ModelRow): number {
  const released = model.releasedAt ? Date.parse(model.releasedAt) : Number.NaN;
  return Math.floor((Number.isNaN(released) ? model.createdAt : released) / 1000);
}

function pricingOf(endpoints: ModelEndpointRow[]): OpenAIModel['pricing'] {
  const prices = modelPrices(endpoints);
  if (prices.promptPriceMicros === null || prices.completionPriceMicros === null) return null;
  return {
    prompt_per_million: microsToDollarsPerMillion(prices.promptPriceMicros),
    completion_per_million: microsToDollarsPerMillion(prices.completionPriceMicros),
    cached_prompt_per_million: prices.cachedPromptPriceMicros === null ? null : microsToDollarsPerMillion(prices.cachedPromptPriceMicros),
    // Five-minute writes; null: the prompt price. One-hour writes cost twice the prompt price.
    cache_write_per_million: prices.cacheWritePriceMicros == null ? null : microsToDollarsPerMillion(prices.cacheWritePriceMicros),
  };
}

function toOpenAIModel(model: ModelRow, aliases: string[], endpoints: ModelEndpointRow[], registry: AdapterRegistry): OpenAIModel {
  const listed = endpoints.map((endpoint) => ({
    provider: endpoint.providerId,
    provider_model_id: endpoint.providerModelId,
    status: endpoint.status,
    enabled: registry.has(endpoint.providerId),
  }));
  return {
    id: model.id,
    object: 'model',
    created: createdSeconds(model),
    owned_by: model.vendor,
    name: model.name,
    aliases,
    description: model.description,
    context_length: model.contextLength,
    max_output_tokens: model.maxOutputTokens,
    input_modalities: model.inputModalities.map((modality) => modality.toLowerCase()),
    output_modalities: model.outputModalities.map((modality) => modality.toLowerCase()),
    supported_parameters: model.supportedParameters,
    pricing: pricingOf(endpoints),
    available: listed.some((endpoint) => endpoint.enabled && endpoint.status === 'ACTIVE'),
    endpoints: listed,
  };
}

/**
 * Which models a listing shows. `allowed` is the calling key's allowlist (null: every model); `servableOnly` keeps
 * the models a request could be routed to now (an enabled provider serves an ACTIVE endpoint), which model pickers
 * need: a model they offer that then answers 403 or 404 is worse than one they do not offer.
 */
export interface ModelListScope {
  servableOnly: boolean;
  allowed: readonly string[] | null;
}

/** An allowlist entry may be a canonical id, a vendor wildcard or an alias (src/auth/allowlist.ts). */
function allowedByList(allowed: readonly string[] | null, model: OpenAIModel): boolean {
  if (allowed === null) return true;
  return isModelAllowed(allowed, model.id) || model.aliases.some((alias) => allowed.includes(alias));
}

/** Where the models come from: SQLite's tables, or (PostgreSQL) the instance's catalog snapshot. */
export type ModelSource = Db | CatalogIndex;

function modelsWithEndpoints(source: ModelSource): Array<{ model: ModelRow; aliases: string[]; endpoints: ModelEndpointRow[] }> {
  if ('aliasesOf' in source) return source.models.map((model) => ({ model, aliases: [...source.aliasesOf(model.id)], endpoints: [...source.endpointsOfModel(model.id)] }));
  return listModelsWithEndpoints(source);
}

export function listOpenAIModels(source: ModelSource, registry: AdapterRegistry, scope: ModelListScope = { servableOnly: false, allowed: null }): OpenAIModelList {
  const data: OpenAIModel[] = [];
  for (const { model, aliases, endpoints } of modelsWithEndpoints(source)) {
    const listed = toOpenAIModel(model, aliases, endpoints, registry);
    if (scope.servableOnly && !listed.available) continue;
    if (!allowedByList(scope.allowed, listed)) continue;
    data.push(listed);
  }
  return { object: 'list', data };
}

/** A model by canonical id or alias, as GraphQL's model(id) finds it. */
export function findOpenAIModel(source: ModelSource, registry: AdapterRegistry, idOrAlias: string): OpenAIModel | undefined {
  if ('aliasesOf' in source) {
    const model = source.findModel(idOrAlias);
    return model ? toOpenAIModel(model, [...source.aliasesOf(model.id)], [...source.endpointsOfModel(model.id)], registry) : undefined;
  }
  const model = findModel(source, idOrAlias);
  if (!model) return undefined;
  return toOpenAIModel(model, aliasesByModelIds(source, [model.id])[0] ?? [], endpointsByModelIds(source, [model.id])[0] ?? [], registry);
}
