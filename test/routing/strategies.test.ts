import { describe, expect, it } from 'vitest';
import type { CompletionInput } from '../../src/completions/types.js';
import type { ModelRow } from '../../src/db/schema.js';
import { DEFAULT_ROUTING_CONFIG } from '../../src/routing/config.js';
import { hedgeDelayMs, DEFAULT_HEDGE_DELAY_MS } from '../../src/routing/hedge.js';
import { RouterState } from '../../src/routing/health.js';
import { applyOrder, meetsRequirements, requirementsOf } from '../../src/routing/preferences.js';
import type { Candidate } from '../../src/routing/resolve.js';
import { retryDelayMs } from '../../src/routing/retry.js';
import { Router } from '../../src/routing/router.js';
import { rankCandidates, weightedOrder, type RankingContext } from '../../src/routing/strategies.js';
import { scriptedEndpoint } from './helpers.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function context(state: RouterState, overrides: Partial<RankingContext> = {}): RankingContext {
  return {
    streamed: false,
    promptTokens: 1000,
    expectedCompletionTokens: 256,
    health: (candidate) => state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: null }),
    random: seeded(1),
    exploreEvery: 5,
    ...overrides,
  };
}

const ids = (candidates: Candidate[]): string[] => candidates.map((candidate) => candidate.providerId);

describe('strategies', () => {
  it('ranks by price weighted by the request’s expected tokens, unknown prices last', () => {
    // a: cheap prompt, dear completion; b: the reverse; c: price unknown.
    const a = scriptedEndpoint('a', { promptPriceMicros: 100_000, completionPriceMicros: 10_000_000 }).candidate;
    const b = scriptedEndpoint('b', { promptPriceMicros: 2_000_000, completionPriceMicros: 1_000_000 }).candidate;
    const c = scriptedEndpoint('c', { promptPriceMicros: null }).candidate;
    const state = new RouterState({ breaker: DEFAULT_ROUTING_CONFIG.breaker });
    // A long prompt with a short answer favours the cheap prompt…
    expect(ids(rankCandidates([c, b, a], 'price', context(state, { promptTokens: 50_000, expectedCompletionTokens: 50 })))).toEqual(['a', 'b', 'c']);
    // …a short prompt with a long answer the cheap completion.
    expect(ids(rankCandidates([c, a, b], 'price', context(state, { promptTokens: 100, expectedCompletionTokens: 4000 })))).toEqual(['b', 'a', 'c']);
  });

  it('spreads first picks by endpoint weight, and keeps weight-0 endpoints as last resorts', () => {
    const heavy = scriptedEndpoint('heavy', { weight: 3 }).candidate;
    const light = scriptedEndpoint('light', { weight: 1 }).candidate;
    const spare = scriptedEndpoint('spare', { weight: 0 }).candidate;
    const random = seeded(42);
    const firsts = { heavy: 0, light: 0 };
    for (let index = 0; index < 4000; index++) {
      const order = weightedOrder([light, spare, heavy], random);
      expect(order).toHaveLength(3);
      expect(order[2]).toBe(spare);
      firsts[order[0]?.providerId as 'heavy' | 'light']++;
    }
    expect(firsts.heavy / 4000).toBeGreaterThan(0.72);
    expect(firsts.heavy / 4000).toBeLessThan(0.78);
  });

  it('routes a model configured for the weighted strategy by its endpoint weights, and keeps other models ordered', () => {
    // What a 400-request end-to-end test used to measure, on a seeded random: SWITCHBOARD_ROUTING_MODELS gives one
    // model the weighted strategy; its endpoints weigh 3 and 1; every other model keeps the default (ordered).
    const router = new Router({
      config: { ...DEFAULT_ROUTING_CONFIG, models: { 'vendor/weighted': { strategy: 'weighted' } } },
      random: seeded(7),
    });
    const heavy = scriptedEndpoint('heavy', { weight: 3 }).candidate;
    const light = scriptedEndpoint('light', { weight: 1 }).candidate;
    const input = (model: string): CompletionInput => ({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'weigh me' }] }] });
    const firstPick = (model: string): string => router.plan([{ requested: model, model: null, candidates: [light, heavy] }], input(model), false).candidates[0]?.providerId ?? '';
    const total = 4000;
    let heavyFirst = 0;
    for (let index = 0; index < total; index++) if (firstPick('vendor/weighted') === 'heavy') heavyFirst++;
    // Expected 3000 of 4000; the standard deviation is about 27, so ±120 is over four of them.
    expect(heavyFirst).toBeGreaterThan(2880);
    expect(heavyFirst).toBeLessThan(3120);
    expect(new Set(Array.from({ length: 50 }, () => firstPick('vendor/unconfigured')))).toEqual(new Set(['light']));
  });

  it('ranks by moving-average latency, tries the unmeasured first, and explores an endpoint it keeps passing over', () => {
    const state = new RouterState({ breaker: DEFAULT_ROUTING_CONFIG.breaker });
    const fast = scriptedEndpoint('fast').candidate;
    const slow = scriptedEndpoint('slow').candidate;
    const fresh = scriptedEndpoint('fresh').candidate;
    const health = (candidate: Candidate) => state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: null });
    health(fast).succeeded(20, 10, 20, 0);
    health(slow).succeeded(400, 10, 400, 0);
    const ctx = context(state, { exploreEvery: 5 });
    expect(ids(rankCandidates([slow, fast, fresh], 'latency', ctx))).toEqual(['fresh', 'fast', 'slow']);
    health(fresh).succeeded(100, 10, 100, 0);

    const firsts: string[] = [];
    for (let index = 0; index < 12; index++) firsts.push(rankCandidates([slow, fast, fresh], 'latency', ctx)[0]?.providerId ?? '');
    // Mostly the fastest; the others get a turn once they have been passed over five times.
    expect(firsts.filter((id) => id === 'fast').length).toBeGreaterThanOrEqual(8);
    expect(firsts).toContain('slow');
    expect(firsts).toContain('fresh');
  });

  it('ranks streams by time to first token and an endpoint that only failed last', () => {
    const state = new RouterState({ breaker: DEFAULT_ROUTING_CONFIG.breaker });
    const quickStart = scriptedEndpoint('quick-start').candidate;
    const quickFinish = scriptedEndpoint('quick-finish').candidate;
    const broken = scriptedEndpoint('broken').candidate;
    const health = (candidate: Candidate) => state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: null });
    health(quickStart).firstToken(30, true, 0);
    health(quickStart).succeeded(2000, 100, 1970, 0);
    health(quickFinish).firstToken(300, true, 0);
    health(quickFinish).succeeded(500, 100, 200, 0);
    health(broken).failed('boom', 'PROVIDER_ERROR', 0);
    expect(ids(rankCandidates([broken, quickFinish, quickStart], 'latency', context(state, { streamed: true, exploreEvery: 100 })))).toEqual(['quick-start', 'quick-finish', 'broken']);
    expect(ids(rankCandidates([broken, quickStart, quickFinish], 'latency', context(state, { streamed: false, exploreEvery: 100 })))).toEqual(['quick-finish', 'quick-start', 'broken']);
    expect(ids(rankCandidates([broken, quickStart, quickFinish], 'throughput', context(state, { exploreEvery: 100 })))).toEqual(['quick-finish', 'quick-start', 'broken']);
  });
});

describe('preferences and requirements', () => {
  const a = scriptedEndpoint('groq').candidate;
  const b = scriptedEndpoint('together').candidate;
  const c = scriptedEndpoint('openrouter').candidate;

  it('puts the providers in `order` first and keeps the rest unless fallbacks are off', () => {
    expect(ids(applyOrder([a, b, c], { order: ['openrouter', 'Together'] }))).toEqual(['openrouter', 'together', 'groq']);
    expect(ids(applyOrder([a, b, c], { order: ['openrouter'], allowFallbacks: false }))).toEqual(['openrouter']);
    expect(ids(applyOrder([a, b, c], { allowFallbacks: false }))).toEqual(['groq']);
    expect(ids(applyOrder([a, b, c], { order: ['nobody'], allowFallbacks: false }))).toEqual(['groq']);
  });

  const model = (overrides: Partial<ModelRow>): ModelRow => ({
    id: 'vendor/model',
    vendor: 'vendor',
    name: 'Model',
    description: null,
    contextLength: 100,
    maxOutputTokens: null,
    inputModalities: ['TEXT'],
    outputModalities: ['TEXT'],
    supportedParameters: [],
    releasedAt: null,
    editedByAdmin: false,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  });
  const withModel = (candidate: Candidate, row: ModelRow, contextLength: number | null = null): Candidate => ({
    ...candidate,
    model: row,
    endpoint: candidate.endpoint ? { ...candidate.endpoint, contextLength } : null,
  });
  const ask = (text: string, extra: Partial<CompletionInput> = {}): CompletionInput => ({ model: 'vendor/model', messages: [{ role: 'user', content: [{ type: 'text', text }] }], ...extra });

  it('sends tools and images only to models that take them, and a prompt only where it fits', () => {
    const plain = withModel(a, model({}));
    const capable = withModel(b, model({ supportedParameters: ['tools'], inputModalities: ['TEXT', 'IMAGE'], contextLength: 100_000 }));
    const small = withModel(c, model({ contextLength: 100_000 }), 20);
    const tools = requirementsOf(ask('hi', { tools: [{ name: 'look', parameters: { type: 'object' } }] }));
    expect([plain, capable].map((candidate) => meetsRequirements(candidate, tools))).toEqual([false, true]);
    const image = requirementsOf({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/png;base64,AA' }] }] });
    expect([plain, capable].map((candidate) => meetsRequirements(candidate, image))).toEqual([false, true]);
    const long = requirementsOf(ask('word '.repeat(60)));
    // 60 words is over the 20-token endpoint limit and within the model's own 100,000.
    expect([small, capable].map((candidate) => meetsRequirements(candidate, long))).toEqual([false, true]);
    const short = requirementsOf(ask('hello'));
    expect(meetsRequirements(small, short)).toBe(true);
  });
});

describe('backoff and hedge delays', () => {
  it('doubles the backoff per retry with jitter between half and all of it, never under Retry-After', () => {
    const options = { baseMs: 100, maxMs: 1000, random: () => 0 };
    expect([1, 2, 3, 4, 5].map((retry) => retryDelayMs(retry, options))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3].map((retry) => retryDelayMs(retry, { ...options, random: () => 0.999 }))).toEqual([100, 200, 400]);
    expect(retryDelayMs(1, options, 750)).toBe(750);
    expect(retryDelayMs(3, options, 10)).toBe(200);
  });

  it('hedges after the primary’s recent p95, or a default until it has enough samples', () => {
    const state = new RouterState({ breaker: DEFAULT_ROUTING_CONFIG.breaker });
    const primary = state.endpoint({ providerId: 'groq', providerModelId: 'm', modelId: null });
    expect(hedgeDelayMs(250, primary, true, 0, 60_000)).toBe(250);
    expect(hedgeDelayMs('p95', primary, true, 0, 60_000)).toBe(DEFAULT_HEDGE_DELAY_MS);
    for (let ms = 10; ms <= 200; ms += 10) primary.firstToken(ms, true, 0);
    expect(hedgeDelayMs('p95', primary, true, 0, 60_000)).toBe(190);
    // Non-streamed requests go by whole latency, which has no samples yet.
    expect(hedgeDelayMs('p95', primary, false, 0, 60_000)).toBe(DEFAULT_HEDGE_DELAY_MS);
  });
});
