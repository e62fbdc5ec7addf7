import { describe, expect, it } from 'vitest';
import { dollarsPerMillionToMicros, picosToUsd } from '../../src/money.js';
import { seededCacheWritePriceMicros } from '../../src/db/seed.js';
import { costPicos, promptParts } from '../../src/usage/cost.js';

const prices = (prompt: number | null, completion: number | null, cached: number | null = null) => ({
  promptPriceMicros: prompt === null ? null : dollarsPerMillionToMicros(prompt),
  completionPriceMicros: completion === null ? null : dollarsPerMillionToMicros(completion),
  cachedPromptPriceMicros: cached === null ? null : dollarsPerMillionToMicros(cached),
});

describe('cost', () => {
  it('is exact in pico-dollars for a cheap model where floats would drift', () => {
    // $0.075 / $0.30 per million: one prompt token costs 75 pico-dollars.
    const cost = costPicos({ promptTokens: 7, completionTokens: 3, cachedPromptTokens: 0 }, prices(0.075, 0.3));
    expect(cost).toBe(7 * 75_000 + 3 * 300_000);
    expect(picosToUsd(cost!)).toBeCloseTo(0.000001425, 15);
  });

  it('charges cached prompt tokens at the cached price', () => {
    const cost = costPicos({ promptTokens: 1000, completionTokens: 10, cachedPromptTokens: 800 }, prices(2.5, 10, 1.25));
    expect(cost).toBe(200 * 2_500_000 + 800 * 1_250_000 + 10 * 10_000_000);
  });

  it('charges cached tokens at the prompt price when the endpoint has no cached price', () => {
    expect(costPicos({ promptTokens: 10, completionTokens: 0, cachedPromptTokens: 4 }, prices(1, 2))).toBe(10 * 1_000_000);
  });

  it('is unknown, not zero, when a price is unknown', () => {
    expect(costPicos({ promptTokens: 10, completionTokens: 5, cachedPromptTokens: 0 }, prices(null, null))).toBeNull();
  });

  it('converts quoted prices without floating-point residue', () => {
    expect(dollarsPerMillionToMicros(0.0375)).toBe(37_500);
    expect(dollarsPerMillionToMicros(0.1)).toBe(100_000);
  });

  it('charges cache writes at the write price for five minutes and twice the prompt price for an hour', () => {
    const withWrites = { ...prices(3, 15, 0.3), cacheWritePriceMicros: dollarsPerMillionToMicros(3.75) };
    const usage = { promptTokens: 10_000, completionTokens: 100, cachedPromptTokens: 6_000, cacheWriteTokens: 3_000, cacheWrite1hTokens: 1_000 };
    expect(costPicos(usage, withWrites)).toBe(1_000 * 3_000_000 + 6_000 * 300_000 + 2_000 * 3_750_000 + 1_000 * 6_000_000 + 100 * 15_000_000);
    // Without a write price, five-minute writes cost the prompt price (implicit caches charge nothing extra).
    expect(costPicos(usage, prices(3, 15, 0.3))).toBe(3_000 * 3_000_000 + 6_000 * 300_000 + 1_000 * 6_000_000 + 100 * 15_000_000);
  });

  it('never splits the prompt into negative parts, whatever a provider claims', () => {
    expect(promptParts({ promptTokens: 100, completionTokens: 0, cachedPromptTokens: 80, cacheWriteTokens: 50, cacheWrite1hTokens: 70 })).toEqual({ uncached: 0, read: 80, write5m: 0, write1h: 20 });
    expect(promptParts({ promptTokens: 100, completionTokens: 0, cachedPromptTokens: 500 })).toEqual({ uncached: 0, read: 100, write5m: 0, write1h: 0 });
    expect(promptParts({ promptTokens: 100, completionTokens: 0, cachedPromptTokens: 0 })).toEqual({ uncached: 100, read: 0, write5m: 0, write1h: 0 });
  });

  it('seeds the write price from the provider’s multiplier only where the catalog gives none', () => {
    expect(seededCacheWritePriceMicros('anthropic', 3_000_000, undefined)).toBe(3_750_000);
    expect(seededCacheWritePriceMicros('anthropic', 800_000, null)).toBe(1_000_000);
    expect(seededCacheWritePriceMicros('anthropic', 3_000_000, 4)).toBe(4_000_000);
    expect(seededCacheWritePriceMicros('openai', 2_500_000, undefined)).toBeNull();
    expect(seededCacheWritePriceMicros(undefined, 2_500_000, undefined)).toBeNull();
  });
});
