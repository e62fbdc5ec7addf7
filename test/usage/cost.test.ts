import { describe, expect, it } from 'vitest';
import { dollarsPerMillionToMicros, picosToUsd } from '../../src/money.js';
import { costPicos } from '../../src/usage/cost.js';

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
});
