/**
 * Money units, a leaf every layer may import (storage seeds prices, transports print them). Prices are stored in
 * micro-dollars per million tokens, which is the same number as pico-dollars per token, so a cost is an exact
 * integer of pico-dollars.
 */

const MICROS_PER_DOLLAR = 1_000_000;
const PICOS_PER_DOLLAR = 1_000_000_000_000;

/** Dollars per million tokens to micro-dollars per million tokens, exact for any price quoted to 6 decimals. */
export function dollarsPerMillionToMicros(dollars: number): number {
  return Math.round(dollars * MICROS_PER_DOLLAR);
}

export function microsToDollarsPerMillion(micros: number): number {
  return micros / MICROS_PER_DOLLAR;
}

/** A budget in US dollars to pico-dollars, rounded to the micro-dollar so a limit typed in dollars is exact. */
export function usdToPicos(usd: number): number {
  return Math.round(usd * MICROS_PER_DOLLAR) * (PICOS_PER_DOLLAR / MICROS_PER_DOLLAR);
}

export function picosToUsd(picos: number): number {
  return picos / PICOS_PER_DOLLAR;
}
