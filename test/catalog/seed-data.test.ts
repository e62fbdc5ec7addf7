import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  catalogSeedSchema,
  loadCatalogSeed,
  type CatalogSeed,
  type SeedModel,
} from '../../src/db/seed/catalog-schema.js';

const catalogUrl = new URL('../../src/db/seed/catalog.json', import.meta.url);
const raw: unknown = JSON.parse(readFileSync(catalogUrl, 'utf8'));
const catalog: CatalogSeed = catalogSeedSchema.parse(raw);

function model(id: string): SeedModel {
  const found = catalog.models.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`model ${id} is not in the seed`);
  return found;
}

function resolve(idOrAlias: string): SeedModel | undefined {
  return catalog.models.find((candidate) => candidate.id === idOrAlias || candidate.aliases.includes(idOrAlias));
}

/** A minimal valid catalog for the schema's negative cases. */
function tinyCatalog(): CatalogSeed {
  return {
    asOf: '2026-08-01',
    sources: ['test'],
    models: [
      {
        id: 'acme/one',
        name: 'One',
        vendor: 'acme',
        contextLength: 1000,
        maxOutputTokens: 100,
        inputModalities: ['TEXT'],
        outputModalities: ['TEXT'],
        supportedParameters: ['max_tokens'],
        aliases: ['one'],
        endpoints: [
          {
            provider: 'openrouter',
            providerModelId: 'acme/one',
            promptPerMillion: 1,
            completionPerMillion: 2,
            cachedPromptPerMillion: 0.1,
            priceSource: 'test',
            priceDate: '2026-07-01',
          },
        ],
      },
    ],
  };
}

describe('the shipped seed catalog', () => {
  it('parses with the schema', () => {
    const result = catalogSeedSchema.safeParse(raw);
    expect(result.success ? [] : result.error.issues).toEqual([]);
    expect(loadCatalogSeed().models.length).toBe(catalog.models.length);
  });

  it('keeps the reference snapshot date and its sources', () => {
    expect(catalog.asOf).toBe('2026-08-01');
    expect(catalog.sources.length).toBeGreaterThanOrEqual(1);
    expect(catalog.sources.some((source) => source.includes('model_prices_and_context_window.json'))).toBe(true);
  });

  it('has at least 40 models', () => {
    expect(catalog.models.length).toBeGreaterThanOrEqual(40);
  });

  it('has unique ids', () => {
    const ids = catalog.models.map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists each provider endpoint once (the seeder keys endpoints by provider:providerModelId)', () => {
    const keys = catalog.models.flatMap((entry) => entry.endpoints.map((endpoint) => `${endpoint.provider}:${endpoint.providerModelId}`));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('has unique aliases that never collide with an id', () => {
    const ids = new Set(catalog.models.map((entry) => entry.id));
    const aliases = catalog.models.flatMap((entry) => entry.aliases);
    expect(new Set(aliases).size).toBe(aliases.length);
    expect(aliases.filter((alias) => ids.has(alias))).toEqual([]);
    expect(aliases.filter((alias) => alias !== alias.toLowerCase() || /\s/.test(alias))).toEqual([]);
  });

  it('covers every expected vendor', () => {
    const vendors = new Set(catalog.models.map((entry) => entry.vendor));
    for (const vendor of ['openai', 'anthropic', 'google', 'mistralai', 'meta-llama', 'deepseek', 'qwen', 'local']) {
      expect(vendors, vendor).toContain(vendor);
    }
  });

  it('has at least 3 models served by 2+ endpoints at different prices', () => {
    const multiPriced = catalog.models.filter((entry) => {
      const prices = new Set(entry.endpoints.map((endpoint) => `${endpoint.promptPerMillion}/${endpoint.completionPerMillion}`));
      return entry.endpoints.length >= 2 && prices.size >= 2;
    });
    expect(multiPriced.length).toBeGreaterThanOrEqual(3);
  });

  it('serves open models from several providers', () => {
    const providersOf = (id: string) => model(id).endpoints.map((endpoint) => endpoint.provider);
    expect(providersOf('meta-llama/llama-3.3-70b-instruct')).toEqual(expect.arrayContaining(['groq', 'together']));
    expect(providersOf('deepseek/deepseek-v4-pro')).toEqual(expect.arrayContaining(['deepseek', 'openrouter']));
    expect(providersOf('deepseek/deepseek-v3.1')).toEqual(expect.arrayContaining(['together', 'openrouter']));
  });

  it('never prices cached input above uncached input', () => {
    const offenders = catalog.models.flatMap((entry) =>
      entry.endpoints
        .filter((endpoint) => endpoint.cachedPromptPerMillion !== null && endpoint.cachedPromptPerMillion > endpoint.promptPerMillion)
        .map((endpoint) => `${entry.id}@${endpoint.provider}`),
    );
    expect(offenders).toEqual([]);
  });

  it('never allows more output than context', () => {
    const offenders = catalog.models.filter((entry) => entry.maxOutputTokens !== null && entry.maxOutputTokens > entry.contextLength);
    expect(offenders.map((entry) => entry.id)).toEqual([]);
    for (const entry of catalog.models) {
      expect(entry.contextLength, entry.id).toBeGreaterThan(0);
      expect(entry.endpoints.length, entry.id).toBeGreaterThan(0);
    }
  });

  it('dates and sources every endpoint price, never after asOf', () => {
    for (const entry of catalog.models) {
      for (const endpoint of entry.endpoints) {
        const where = `${entry.id}@${endpoint.provider}`;
        expect(endpoint.priceSource.trim().length, where).toBeGreaterThan(0);
        expect(endpoint.priceDate, where).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(endpoint.priceDate <= catalog.asOf, where).toBe(true);
      }
      if (entry.releasedAt !== undefined) expect(entry.releasedAt <= catalog.asOf, entry.id).toBe(true);
    }
  });

  it('has no per-token/per-million unit slips between providers of one model', () => {
    for (const entry of catalog.models) {
      for (const key of ['promptPerMillion', 'completionPerMillion'] as const) {
        const prices = entry.endpoints.map((endpoint) => endpoint[key]).filter((price) => price > 0);
        if (prices.length < 2) continue;
        expect(Math.max(...prices) / Math.min(...prices), `${entry.id} ${key}`).toBeLessThan(100);
      }
    }
  });

  it('ships local/echo as a free built-in model', () => {
    const echo = model('local/echo');
    expect(echo).toMatchObject({
      name: 'Local Echo',
      vendor: 'local',
      contextLength: 128000,
      maxOutputTokens: 4096,
      inputModalities: ['TEXT'],
      outputModalities: ['TEXT'],
      supportedParameters: ['max_tokens', 'temperature', 'top_p', 'stop', 'seed'],
    });
    expect(echo.endpoints).toEqual([
      {
        provider: 'local',
        providerModelId: 'echo',
        promptPerMillion: 0,
        completionPerMillion: 0,
        cachedPromptPerMillion: 0,
        priceSource: 'built-in demo provider',
        priceDate: catalog.asOf,
      },
    ]);
  });

  it('resolves the short family aliases to the current models', () => {
    expect(resolve('claude-sonnet')?.id).toBe('anthropic/claude-sonnet-5');
    expect(resolve('claude-opus')?.id).toBe('anthropic/claude-opus-5');
    expect(resolve('claude-haiku')?.id).toBe('anthropic/claude-haiku-4-5');
    expect(resolve('gemini-pro')?.id).toBe('google/gemini-3.1-pro-preview');
    expect(resolve('gemini-flash')?.id).toBe('google/gemini-3.6-flash');
    expect(resolve('gpt-4o')?.id).toBe('openai/gpt-4o');
    expect(resolve('gpt-4.1')?.id).toBe('openai/gpt-4.1');
    expect(resolve('llama-70b')?.id).toBe('meta-llama/llama-3.3-70b-instruct');
  });

  it('carries the corrections recorded in README.md', () => {
    const qwenTogether = model('qwen/qwen3-235b-a22b-2507').endpoints.find((endpoint) => endpoint.provider === 'together');
    expect(qwenTogether?.completionPerMillion).toBe(0.6);
    expect(qwenTogether?.priceSource).toMatch(/CORRECTED/);
    expect(model('anthropic/claude-opus-5').supportedParameters).not.toContain('temperature');
    expect(model('anthropic/claude-opus-4-8').supportedParameters).not.toContain('temperature');
    const modalities = catalog.models.flatMap((entry) => [...entry.inputModalities, ...entry.outputModalities]);
    expect(new Set(modalities)).toEqual(new Set(['TEXT', 'IMAGE', 'AUDIO', 'FILE', 'EMBEDDING']));
  });

  it('ships embedding models with their prices per million input tokens, and EMBEDDING only as an output', () => {
    const prices = (id: string) => model(id).endpoints.map((endpoint) => [endpoint.provider, endpoint.providerModelId, endpoint.promptPerMillion, endpoint.completionPerMillion]);
    expect(prices('openai/text-embedding-3-small')).toEqual([['openai', 'text-embedding-3-small', 0.02, 0]]);
    expect(prices('openai/text-embedding-3-large')).toEqual([['openai', 'text-embedding-3-large', 0.13, 0]]);
    expect(prices('google/gemini-embedding-001')).toEqual([['gemini', 'gemini-embedding-001', 0.15, 0]]);
    expect(prices('nomic-ai/nomic-embed-text')).toEqual([['ollama', 'nomic-embed-text', 0, 0]]);
    expect(prices('local/embed')).toEqual([['local', 'embed', 0, 0]]);
    const embedding = catalog.models.filter((entry) => entry.outputModalities.includes('EMBEDDING'));
    expect(embedding.length).toBe(6);
    for (const entry of embedding) expect(entry.outputModalities, entry.id).toEqual(['EMBEDDING']);
    expect(catalog.models.filter((entry) => entry.inputModalities.includes('EMBEDDING'))).toEqual([]);
  });
});

describe('catalogSeedSchema', () => {
  it('accepts the minimal catalog used below', () => {
    expect(catalogSeedSchema.safeParse(tinyCatalog()).success).toBe(true);
  });

  const rejects: Array<[string, (catalog: CatalogSeed) => unknown]> = [
    ['a cached price above the prompt price', (c) => { c.models[0]!.endpoints[0]!.cachedPromptPerMillion = 5; return c; }],
    ['maxOutputTokens above contextLength', (c) => { c.models[0]!.maxOutputTokens = 5000; return c; }],
    ['a priceDate after asOf', (c) => { c.models[0]!.endpoints[0]!.priceDate = '2026-08-02'; return c; }],
    ['a releasedAt after asOf', (c) => { c.models[0]!.releasedAt = '2027-01-01'; return c; }],
    ['an impossible date', (c) => { c.models[0]!.endpoints[0]!.priceDate = '2026-02-30'; return c; }],
    ['a non-Switchboard provider id', (c) => ({ ...c, models: [{ ...c.models[0]!, endpoints: [{ ...c.models[0]!.endpoints[0]!, provider: 'google' }] }] })],
    ['a modality outside the enum', (c) => ({ ...c, models: [{ ...c.models[0]!, inputModalities: ['TEXT', 'VIDEO'] }] })],
    ['an unknown supported parameter', (c) => ({ ...c, models: [{ ...c.models[0]!, supportedParameters: ['top_k'] }] })],
    ['json_schema without response_format', (c) => { c.models[0]!.supportedParameters = ['json_schema']; return c; }],
    ['an id that is not lowercase vendor/name', (c) => { c.models[0]!.id = 'Acme/One'; return c; }],
    ['an uppercase alias', (c) => { c.models[0]!.aliases = ['One']; return c; }],
    ['no endpoints', (c) => { c.models[0]!.endpoints = []; return c; }],
    ['a zero context length', (c) => { c.models[0]!.contextLength = 0; return c; }],
    ['a negative price', (c) => { c.models[0]!.endpoints[0]!.promptPerMillion = -1; return c; }],
    ['a missing priceSource', (c) => { c.models[0]!.endpoints[0]!.priceSource = ' '; return c; }],
    ['a duplicate id', (c) => { c.models.push({ ...c.models[0]!, aliases: [] }); return c; }],
    ['an alias on two models', (c) => { c.models.push({ ...c.models[0]!, id: 'acme/two' }); return c; }],
    ['one provider endpoint under two models', (c) => { c.models.push({ ...c.models[0]!, id: 'acme/two', aliases: [] }); return c; }],
    ['an alias equal to another model id', (c) => { c.models.push({ ...c.models[0]!, id: 'acme/two', aliases: ['acme/one'] }); return c; }],
  ];

  it.each(rejects)('rejects %s', (_label, mutate) => {
    expect(catalogSeedSchema.safeParse(mutate(tinyCatalog())).success).toBe(false);
  });
});
