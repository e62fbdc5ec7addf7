import { PRICED_ENDPOINT_STATUS } from '../db/catalog.js';
import type { ModelEndpointRow } from '../db/schema.js';
import type { Prices } from '../usage/cost.js';

/**
 * "A model's price is its cheapest active priced endpoint": GraphQL's Model.pricing and REST's /v1/models call
 * modelPrices(). The catalog query that filters and orders models by price (pricedEndpoints in src/db/catalog.ts)
 * must stay in SQL to page by keyset; it shares PRICED_ENDPOINT_STATUS with this file, applies the same "both
 * prices known" and ranks by the same prompt + completion, and test/catalog/pricing.test.ts checks the two agree.
 */

type PricedFields = Pick<ModelEndpointRow, 'status' | 'promptPriceMicros' | 'completionPriceMicros' | 'cachedPromptPriceMicros'> & Partial<Pick<ModelEndpointRow, 'cacheWritePriceMicros'>>;

/** An endpoint that can price its model: active, with both prices known. */
export function isPricedEndpoint<T extends PricedFields>(endpoint: T): endpoint is T & { promptPriceMicros: number; completionPriceMicros: number } {
  return endpoint.status === PRICED_ENDPOINT_STATUS && endpoint.promptPriceMicros !== null && endpoint.completionPriceMicros !== null;
}

/** How priced endpoints are compared: prompt plus completion price per million tokens. */
export function priceRank(endpoint: { promptPriceMicros: number; completionPriceMicros: number }): number {
  return endpoint.promptPriceMicros + endpoint.completionPriceMicros;
}

/** The endpoint that prices a model; ties go to the first in the given order. */
export function cheapestPricedEndpoint<T extends PricedFields>(endpoints: readonly T[]): (T & { promptPriceMicros: number; completionPriceMicros: number }) | undefined {
  let best: (T & { promptPriceMicros: number; completionPriceMicros: number }) | undefined;
  for (const endpoint of endpoints) {
    if (isPricedEndpoint(endpoint) && (best === undefined || priceRank(endpoint) < priceRank(best))) best = endpoint;
  }
  return best;
}

export const UNKNOWN_PRICES: Prices = { promptPriceMicros: null, completionPriceMicros: null, cachedPromptPriceMicros: null, cacheWritePriceMicros: null };

/** A model's prices, from its endpoints: the cheapest priced one's, or unknown when none is priced. */
export function modelPrices(endpoints: readonly PricedFields[]): Prices {
  const cheapest = cheapestPricedEndpoint(endpoints);
  if (!cheapest) return UNKNOWN_PRICES;
  return {
    promptPriceMicros: cheapest.promptPriceMicros,
    completionPriceMicros: cheapest.completionPriceMicros,
    cachedPromptPriceMicros: cheapest.cachedPromptPriceMicros,
    cacheWritePriceMicros: cheapest.cacheWritePriceMicros ?? null,
  };
}
