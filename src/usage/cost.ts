import type { Usage } from '../providers/types.js';

/** Prices in micro-dollars per million tokens, which is the same number as pico-dollars per token. */
export interface Prices {
  promptPriceMicros: number | null;
  completionPriceMicros: number | null;
  cachedPromptPriceMicros: number | null;
}

const PICOS_PER_DOLLAR = 1_000_000_000_000;

/** Dollars per million tokens to micro-dollars per million tokens, exact for any price quoted to 6 decimals. */
export function dollarsPerMillionToMicros(dollars: number): number {
  return Math.round(dollars * 1_000_000);
}

export function microsToDollarsPerMillion(micros: number): number {
  return micros / 1_000_000;
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

export function picosToUsd(picos: number): number {
  return picos / PICOS_PER_DOLLAR;
}
