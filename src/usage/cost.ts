import type { Usage } from '../providers/types.js';

/** Prices in micro-dollars per million tokens, which is the same number as pico-dollars per token. */
export interface Prices {
  promptPriceMicros: number | null;
  completionPriceMicros: number | null;
  cachedPromptPriceMicros: number | null;
  /** Five-minute cache writes; null: the prompt price. One-hour writes cost ONE_HOUR_WRITE_MULTIPLIER × the prompt price. */
  cacheWritePriceMicros?: number | null;
}

/** Anthropic charges a one-hour cache write at twice the base input price, on every model. */
export const ONE_HOUR_WRITE_MULTIPLIER = 2;

type CostedUsage = Pick<Usage, 'promptTokens' | 'completionTokens' | 'cachedPromptTokens' | 'cacheWriteTokens' | 'cacheWrite1hTokens'>;

/**
 * The exact cost of a usage in pico-dollars, or null when a price it needs is unknown. Cached prompt tokens
 * are charged at the cached price (the prompt price when the endpoint has none); reasoning tokens are part of
 * the completion and charged at the completion price.
 */
export function costPicos(usage: CostedUsage, prices: Prices): number | null {
  if (prices.promptPriceMicros === null || prices.completionPriceMicros === null) return null;
  const parts = promptParts(usage);
  const cachedPrice = prices.cachedPromptPriceMicros ?? prices.promptPriceMicros;
  const writePrice = prices.cacheWritePriceMicros ?? prices.promptPriceMicros;
  return (
    parts.uncached * prices.promptPriceMicros +
    parts.read * cachedPrice +
    parts.write5m * writePrice +
    parts.write1h * ONE_HOUR_WRITE_MULTIPLIER * prices.promptPriceMicros +
    usage.completionTokens * prices.completionPriceMicros
  );
}

/**
 * The prompt split by how each token is charged. Reads and writes are parts of promptTokens; a provider that
 * reported more of them than the prompt holds is clamped (reads first), so no part is ever negative.
 */
export function promptParts(usage: CostedUsage): { uncached: number; read: number; write5m: number; write1h: number } {
  const read = Math.min(usage.cachedPromptTokens, usage.promptTokens);
  const writes = Math.min(usage.cacheWriteTokens ?? 0, usage.promptTokens - read);
  const write1h = Math.min(usage.cacheWrite1hTokens ?? 0, writes);
  return { uncached: usage.promptTokens - read - writes, read, write5m: writes - write1h, write1h };
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
