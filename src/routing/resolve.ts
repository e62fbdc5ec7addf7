import type { CatalogLookup } from '../db/storage.js';
import type { ModelEndpointRow, ModelRow } from '../db/schema.js';
import { ModelNotFoundError } from '../errors.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { Prices } from '../usage/cost.js';

/** One place a request can be sent: a provider's model, with the prices it is charged at. */
export interface Candidate {
  providerId: string;
  providerModelId: string;
  adapter: ProviderAdapter;
  /** The catalog entry; null for a model addressed directly that the catalog does not list. */
  model: ModelRow | null;
  endpoint: ModelEndpointRow | null;
  prices: Prices;
}

export interface Resolution {
  requested: string;
  model: ModelRow | null;
  candidates: Candidate[];
}

const UNKNOWN_PRICES: Prices = { promptPriceMicros: null, completionPriceMicros: null, cachedPromptPriceMicros: null };

function candidateFor(endpoint: ModelEndpointRow, model: ModelRow, adapter: ProviderAdapter): Candidate {
  return {
    providerId: endpoint.providerId,
    providerModelId: endpoint.providerModelId,
    adapter,
    model,
    endpoint,
    prices: {
      promptPriceMicros: endpoint.promptPriceMicros,
      completionPriceMicros: endpoint.completionPriceMicros,
      cachedPromptPriceMicros: endpoint.cachedPromptPriceMicros,
      cacheWritePriceMicros: endpoint.cacheWritePriceMicros,
    },
  };
}

/**
 * Turns what the caller wrote into the endpoints that can serve it: a catalog id or alias gives every active
 * endpoint on an enabled provider; `<providerId>/<providerModelId>` reaches an enabled provider directly, even
 * for a model the catalog does not list yet (its cost is then unknown, not zero).
 */
export function resolveModel(catalog: CatalogLookup, registry: AdapterRegistry, requested: string): Resolution {
  const model = catalog.findModel(requested);
  if (model) {
    const endpoints = catalog.endpointsOfModel(model.id);
    const candidates: Candidate[] = [];
    for (const endpoint of endpoints) {
      const adapter = registry.get(endpoint.providerId);
      if (adapter && endpoint.status === 'ACTIVE') candidates.push(candidateFor(endpoint, model, adapter));
    }
    return { requested, model, candidates };
  }

  const slash = requested.indexOf('/');
  if (slash > 0) {
    const providerId = requested.slice(0, slash);
    const providerModelId = requested.slice(slash + 1);
    const adapter = registry.get(providerId);
    if (adapter && providerModelId !== '') {
      const endpoint = catalog.findEndpoint(providerId, providerModelId);
      const catalogModel = endpoint ? catalog.findModel(endpoint.modelId) : undefined;
      if (endpoint && catalogModel) return { requested, model: catalogModel, candidates: [candidateFor(endpoint, catalogModel, adapter)] };
      return {
        requested,
        model: null,
        candidates: [{ providerId, providerModelId, adapter, model: null, endpoint: null, prices: UNKNOWN_PRICES }],
      };
    }
  }
  throw new ModelNotFoundError(requested);
}
