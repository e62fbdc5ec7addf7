import type { Usage } from '../providers/types.js';

/** Prices in micro-dollars per million tokens, which is the same number as pico-dollars per token. */
export interface Prices {
  promptPriceMicros: number | null;
  completionPriceMicros: number | null;
  cachedPromptPriceMicros: number | null;
}

/**
 * The exact cost of a usage in pico-dollars, or null when a price it needs is unknown. Cached prompt tokens
 * are charged at the cached price (the prompt price when the endpoint has none); reasoning tokens are part of
 * the completion and charged at the completion price.
 */
export function costPicos(usage: Pick<Usage, 'promptTokens' | 'completionTokens' | 'cachedPromptTokens'>, prices: Prices): number | null {
  if (prices.promptPriceMicros === null || prices.completionPriceMicros === null) return null;
  const cached = Math.min(usage.cachedPromptTokens, usage.promptTokens);
  const uncached = usage.promptTokens - cached;
  const cachedPrice = prices.cachedPromptPriceMicros ?? prices.promptPriceMicros;
  return uncached * prices.promptPriceMicros + cached * cachedPrice + usage.completionTokens * prices.completionPriceMicros;
}

/**
 * What a request is expected to cost before it runs (routing's price strategy, budget reservations): the same
 * formula with no cached tokens, since nobody knows ahead which prompt tokens a provider will find cached.
 */
export function expectedCostPicos(prices: Prices, promptTokens: number, completionTokens: number): number | null {
  return costPicos({ promptTokens, completionTokens, cachedPromptTokens: 0 }, prices);
}

/**
 * The most completion tokens a request may produce for its expected cost to stay within `picos`: null when the
 * prompt alone costs more (or a price is unknown), Infinity when completions are free.
 */
export function affordableCompletionTokens(prices: Prices, promptTokens: number, picos: number): number | null {
  const promptCost = expectedCostPicos(prices, promptTokens, 0);
  if (promptCost === null || prices.completionPriceMicros === null || promptCost > picos) return null;
  if (prices.completionPriceMicros === 0) return Number.POSITIVE_INFINITY;
  return Math.floor((picos - promptCost) / prices.completionPriceMicros);
}
