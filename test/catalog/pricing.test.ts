import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cheapestPricedEndpoint, modelPrices, priceRank } from '../../src/catalog/pricing.js';
import { writeModel, writeProvider, type EndpointWrite } from '../../src/db/catalog-admin.js';
import { endpointsByModelIds, listModels, type ModelListFilter } from '../../src/db/catalog.js';
import { openDatabase } from '../../src/db/client.js';
import type { ModelEndpointRow } from '../../src/db/schema.js';

/**
 * "A model's price is its cheapest active priced endpoint" is written once in TypeScript (src/catalog/pricing.ts)
 * and once in SQL (pricedEndpoints in src/db/catalog.ts, so a page can be ordered by price in the database). These
 * properties hold the two together: for any catalog, the price SQL orders by is the rank of the endpoint
 * modelPrices() picks, and a model SQL finds unpriced is one modelPrices() calls unknown.
 */

const PROVIDERS = ['p1', 'p2', 'p3'] as const;

const priceArbitrary = fc.option(fc.integer({ min: 0, max: 50_000_000 }), { nil: null });
const endpointArbitrary = fc.record({
  provider: fc.constantFrom(...PROVIDERS),
  status: fc.constantFrom<ModelEndpointRow['status']>('ACTIVE', 'DISABLED', 'DEPRECATED'),
  prompt: priceArbitrary,
  completion: priceArbitrary,
  cached: priceArbitrary,
});
const catalogArbitrary = fc.array(fc.array(endpointArbitrary, { maxLength: 4 }), { minLength: 1, maxLength: 8 });

type CatalogSpec = Array<Array<{ provider: string; status: ModelEndpointRow['status']; prompt: number | null; completion: number | null; cached: number | null }>>;

function withCatalog(spec: CatalogSpec, check: (db: ReturnType<typeof openDatabase>['db'], modelIds: string[]) => void): void {
  const handle = openDatabase(':memory:');
  try {
    for (const id of PROVIDERS) writeProvider(handle.db, { id, kind: 'openai_compatible', baseUrl: 'http://127.0.0.1:1' });
    const modelIds = spec.map((endpoints, index) => {
      const id = `vendor/model-${index}`;
      const writes: EndpointWrite[] = endpoints.map((endpoint, position) => ({
        providerId: endpoint.provider,
        providerModelId: `model-${index}-${position}`,
        status: endpoint.status,
        promptPriceMicros: endpoint.prompt,
        completionPriceMicros: endpoint.completion,
        cachedPromptPriceMicros: endpoint.cached,
      }));
      writeModel(handle.db, { id, vendor: 'vendor', contextLength: 1000 }, [], writes);
      return id;
    });
    check(handle.db, modelIds);
  } finally {
    handle.close();
  }
}

function sqlPriceKeys(db: ReturnType<typeof openDatabase>['db'], filter: ModelListFilter): Map<string, unknown> {
  const rows = listModels(db, { filter, order: { field: 'PRICE', direction: 'ASC' }, limit: 1000 });
  return new Map(rows.map((row) => [row.id, row.sortKey]));
}

describe('a model’s price: the TypeScript rule and the SQL ordering agree', () => {
  it('orders by the rank of the endpoint modelPrices picks, and finds the same models unpriced', () => {
    fc.assert(
      fc.property(catalogArbitrary, (spec) => {
        withCatalog(spec, (db, modelIds) => {
          const keys = sqlPriceKeys(db, {});
          const endpoints = endpointsByModelIds(db, modelIds);
          modelIds.forEach((id, index) => {
            const prices = modelPrices(endpoints[index] ?? []);
            const expected = prices.promptPriceMicros === null || prices.completionPriceMicros === null ? null : priceRank({ promptPriceMicros: prices.promptPriceMicros, completionPriceMicros: prices.completionPriceMicros });
            expect(keys.get(id)).toBe(expected);
          });
        });
      }),
      { numRuns: 25 },
    );
  });

  it('agrees within one provider’s endpoints, as the provider filter narrows them', () => {
    fc.assert(
      fc.property(catalogArbitrary, fc.constantFrom(...PROVIDERS), (spec, provider) => {
        withCatalog(spec, (db, modelIds) => {
          const keys = sqlPriceKeys(db, { providerId: provider });
          const endpoints = endpointsByModelIds(db, modelIds);
          modelIds.forEach((id, index) => {
            const own = (endpoints[index] ?? []).filter((endpoint) => endpoint.providerId === provider);
            const cheapest = cheapestPricedEndpoint(own);
            // The provider filter keeps only models with an ACTIVE endpoint there; the others are not listed.
            if (!own.some((endpoint) => endpoint.status === 'ACTIVE')) expect(keys.has(id)).toBe(false);
            else expect(keys.get(id)).toBe(cheapest ? priceRank(cheapest) : null);
          });
        });
      }),
      { numRuns: 25 },
    );
  });

  it('picks the first of equally cheap endpoints and keeps its cached and cache-write prices', () => {
    const endpoint = (status: ModelEndpointRow['status'], prompt: number | null, completion: number | null, cached: number | null) => ({
      status,
      promptPriceMicros: prompt,
      completionPriceMicros: completion,
      cachedPromptPriceMicros: cached,
      cacheWritePriceMicros: cached === null ? null : cached * 10,
    });
    expect(modelPrices([endpoint('DISABLED', 1, 1, null), endpoint('ACTIVE', 5, 5, 2), endpoint('ACTIVE', 4, 6, 3), endpoint('ACTIVE', null, 1, null)])).toEqual({
      promptPriceMicros: 5,
      completionPriceMicros: 5,
      cachedPromptPriceMicros: 2,
      cacheWritePriceMicros: 20,
    });
    expect(modelPrices([endpoint('ACTIVE', 1, null, null)])).toEqual({ promptPriceMicros: null, completionPriceMicros: null, cachedPromptPriceMicros: null, cacheWritePriceMicros: null });
  });
});
