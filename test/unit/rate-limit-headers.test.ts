import { describe, expect, it } from 'vitest';
import { durationText, rateLimitHeaders } from '../../src/rest/rate-limit-headers.js';

describe('OpenAI rate-limit headers', () => {
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [120, '120ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1200, '1.2s'],
    [6000, '6s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [61_500, '1m1.5s'],
    [3_600_000, '1h0m0s'],
    [3_723_000, '1h2m3s'],
    [-5, '0s'],
  ])('writes %i ms as %s, Go’s duration format as OpenAI sends it', (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });

  it('sends only the limits the key has', () => {
    expect(rateLimitHeaders(undefined)).toEqual({});
    expect(rateLimitHeaders({})).toEqual({});
    expect(rateLimitHeaders({ tokens: { limit: 1000, remaining: 250, resetMs: 45_000 } })).toEqual({
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '250',
      'x-ratelimit-reset-tokens': '45s',
    });
  });
});
