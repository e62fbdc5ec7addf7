import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalogSeed } from '../../src/db/seed.js';
import type { SeedModel } from '../../src/db/seed/catalog-schema.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { errorCode, query, type ModelsPage } from './graphql.js';

/**
 * The `models` query against the seeded catalog. Expected results are computed here from catalog.json, the
 * independent oracle: the server must give the same answer from SQL.
 */

const seed = readCatalogSeed();
const micros = (dollars: number): number => Math.round(dollars * 1_000_000);

interface PriceView {
  total: number;
  prompt: number;
  completion: number;
}

/** The cheapest endpoints as the API defines them (every seeded endpoint is ACTIVE and priced). */
function prices(model: SeedModel, options: { provider?: string; maxPrompt?: number; maxCompletion?: number } = {}): PriceView | null {
  const eligible = model.endpoints.filter(
    (endpoint) =>
      (options.provider === undefined || endpoint.provider === options.provider) &&
      (options.maxPrompt === undefined || micros(endpoint.promptPerMillion) <= micros(options.maxPrompt)) &&
      (options.maxCompletion === undefined || micros(endpoint.completionPerMillion) <= micros(options.maxCompletion)),
  );
  if (eligible.length === 0) return null;
  return {
    total: Math.min(...eligible.map((endpoint) => micros(endpoint.promptPerMillion) + micros(endpoint.completionPerMillion))),
    prompt: Math.min(...eligible.map((endpoint) => micros(endpoint.promptPerMillion))),
    completion: Math.min(...eligible.map((endpoint) => micros(endpoint.completionPerMillion))),
  };
}

type Key = string | number | null;

/** (key, id) with unknown keys last whatever the direction, ties by ascending id. */
function sortIds(models: SeedModel[], keyOf: (model: SeedModel) => Key, direction: 'ASC' | 'DESC'): string[] {
  const sign = direction === 'ASC' ? 1 : -1;
  return [...models]
    .sort((a, b) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      if (ka === null || kb === null) {
        if (ka !== kb) return ka === null ? 1 : -1;
      } else if (ka !== kb) {
        return (ka < kb ? -1 : 1) * sign;
      }
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    })
    .map((model) => model.id);
}

const keyOfField: Record<string, (model: SeedModel) => Key> = {
  NAME: (model) => model.name.toLowerCase(),
  PRICE: (model) => prices(model)?.total ?? null,
  PROMPT_PRICE: (model) => prices(model)?.prompt ?? null,
  COMPLETION_PRICE: (model) => prices(model)?.completion ?? null,
  CONTEXT_LENGTH: (model) => model.contextLength,
  RELEASED_AT: (model) => model.releasedAt ?? null,
};

const PAGE = `
  query Page($filter: ModelFilter, $orderBy: ModelOrder, $first: Int, $after: String, $last: Int, $before: String) {
    models(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function ids(filter: Record<string, unknown>, orderBy?: Record<string, unknown>): Promise<string[]> {
  const data = await query<ModelsPage>(server, PAGE, { filter, orderBy, first: 200 });
  return data.models.edges.map((edge) => edge.node.id);
}

/** Every id, fetched `size` at a time by following endCursor. */
async function walk(orderBy: Record<string, unknown>, size: number, filter: Record<string, unknown> = {}): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    const data: ModelsPage = await query<ModelsPage>(server, PAGE, { filter, orderBy, first: size, after });
    seen.push(...data.models.edges.map((edge) => edge.node.id));
    if (!data.models.pageInfo.hasNextPage) return seen;
    after = data.models.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

describe('models', () => {
  it('lists the seeded catalog with prices and limits', async () => {
    const data = await query<ModelsPage<{ id: string; name: string; contextLength: number; maxOutputTokens: number | null; inputModalities: string[]; pricing: { promptPerMillion: number; completionPerMillion: number; known: boolean }; endpoints: Array<{ provider: { id: string }; providerModelId: string; status: string }> }>>(
      server,
      `{ models(first: 100) { totalCount edges { node { id name contextLength maxOutputTokens inputModalities
          pricing { promptPerMillion completionPerMillion known } endpoints { provider { id } providerModelId status } } } } }`,
    );
    const nodes = data.models.edges.map((edge) => edge.node);
    expect(nodes.length).toBeGreaterThanOrEqual(40);
    expect(nodes.length).toBe(seed.models.length);
    expect(data.models.totalCount).toBe(seed.models.length);

    const luna = nodes.find((node) => node.id === 'openai/gpt-5.6-luna');
    // Two endpoints: openai at $0.20/$1.20 and openrouter at $0.10/$0.60; the model shows the cheaper one.
    expect(luna).toMatchObject({ contextLength: 1_050_000, maxOutputTokens: 128_000, pricing: { promptPerMillion: 0.1, completionPerMillion: 0.6, known: true } });
    expect(luna?.endpoints.map((endpoint) => `${endpoint.provider.id}:${endpoint.providerModelId}`).sort()).toEqual(['openai:gpt-5.6-luna', 'openrouter:openai/gpt-5.6-luna']);
    for (const node of nodes) {
      expect(node.contextLength).toBeGreaterThan(0);
      expect(node.pricing.known).toBe(true);
    }
  });

  it('filters by provider, vendor, modality, parameters and context length', async () => {
    const expected = (predicate: (model: SeedModel) => boolean): string[] => seed.models.filter(predicate).map((model) => model.id).sort();

    expect(await ids({ provider: 'groq' })).toEqual(expected((model) => model.endpoints.some((endpoint) => endpoint.provider === 'groq')));
    expect(await ids({ vendor: 'anthropic' })).toEqual(expected((model) => model.vendor === 'anthropic'));
    expect(await ids({ inputModalities: ['AUDIO'] })).toEqual(expected((model) => model.inputModalities.includes('AUDIO')));
    expect(await ids({ inputModalities: ['TEXT', 'IMAGE'], outputModalities: ['TEXT'] })).toEqual(
      expected((model) => model.inputModalities.includes('IMAGE') && model.outputModalities.includes('TEXT')),
    );
    expect(await ids({ supportedParameters: ['tools', 'response_format'] })).toEqual(
      expected((model) => model.supportedParameters.includes('tools') && model.supportedParameters.includes('response_format')),
    );
    expect(await ids({ minContextLength: 1_000_000 })).toEqual(expected((model) => model.contextLength >= 1_000_000));
    const combined = await ids({ vendor: 'openai', inputModalities: ['IMAGE'], minContextLength: 500_000 });
    expect(combined).toEqual(expected((model) => model.vendor === 'openai' && model.inputModalities.includes('IMAGE') && model.contextLength >= 500_000));
    expect(combined.length).toBeGreaterThan(0);
    expect(await ids({ vendor: 'no-such-vendor' })).toEqual([]);
  });

  it('filters by price: one ACTIVE endpoint must meet every cap, on the filtered provider when given', async () => {
    const byCaps = (options: { provider?: string; maxPrompt?: number; maxCompletion?: number }): string[] =>
      seed.models
        .filter((model) => (options.provider === undefined || model.endpoints.some((endpoint) => endpoint.provider === options.provider)) && prices(model, options) !== null)
        .map((model) => model.id)
        .sort();

    const cheap = await ids({ maxPromptPricePerMillion: 0.1, maxCompletionPricePerMillion: 0.5 });
    expect(cheap).toEqual(byCaps({ maxPrompt: 0.1, maxCompletion: 0.5 }));
    expect(cheap.length).toBeGreaterThan(0);
    // Different endpoints meeting each cap separately do not count: gpt-5.6-luna has $0.10 prompt only with $0.60 completion.
    expect(cheap).not.toContain('openai/gpt-5.6-luna');
    expect(await ids({ maxPromptPricePerMillion: 0.1 })).toContain('openai/gpt-5.6-luna');

    // On together, Llama 3.3 70B costs $0.88; on openrouter $0.13: the provider filter narrows the price check.
    const together = await ids({ provider: 'together', maxPromptPricePerMillion: 0.2 });
    expect(together).toEqual(byCaps({ provider: 'together', maxPrompt: 0.2 }));
    expect(together).not.toContain('meta-llama/llama-3.3-70b-instruct');
    expect(await ids({ provider: 'openrouter', maxPromptPricePerMillion: 0.2 })).toContain('meta-llama/llama-3.3-70b-instruct');
  });

  it('searches ids, names and aliases, case-insensitively and literally', async () => {
    const sonnet = await ids({ search: 'SONNET' });
    expect(sonnet).toEqual(seed.models.filter((model) => model.id.includes('sonnet')).map((model) => model.id).sort());
    // `llama-70b` is only an alias of Llama 3.3 70B.
    expect(await ids({ search: 'llama-70b' })).toEqual(['meta-llama/llama-3.3-70b-instruct']);
    // LIKE wildcards in the search text are matched literally.
    expect(await ids({ search: '%' })).toEqual([]);
    expect(await ids({ search: 'gpt_5' })).toEqual([]);
    const counted = await query<ModelsPage>(server, PAGE, { filter: { search: 'sonnet' }, first: 1 });
    expect(counted.models.totalCount).toBe(sonnet.length);
    expect(counted.models.edges).toHaveLength(1);
  });

  it('refuses bad filter values', async () => {
    expect(await errorCode(server, PAGE, { filter: { maxPromptPricePerMillion: -1 } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, PAGE, { filter: { minContextLength: -5 } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, PAGE, { first: -1 })).toBe('BAD_REQUEST');
  });

  for (const field of Object.keys(keyOfField)) {
    for (const direction of ['ASC', 'DESC'] as const) {
      it(`orders by ${field} ${direction}, unknown keys last, and pages through it by cursor`, async () => {
        const expected = sortIds(seed.models, keyOfField[field] ?? (() => null), direction);
        const whole = await ids({}, { field, direction });
        expect(whole).toEqual(expected);
        expect(await walk({ field, direction }, 7)).toEqual(expected);
      });
    }
  }

  it('orders by id in both directions', async () => {
    const sorted = seed.models.map((model) => model.id).sort();
    expect(await walk({ field: 'ID', direction: 'ASC' }, 9)).toEqual(sorted);
    expect(await walk({ field: 'ID', direction: 'DESC' }, 9)).toEqual([...sorted].reverse());
  });

  it('pages with a filter and an ordering together', async () => {
    const filter = { minContextLength: 200_000, maxCompletionPricePerMillion: 5 };
    const expected = sortIds(
      seed.models.filter((model) => model.contextLength >= 200_000 && prices(model, { maxCompletion: 5 }) !== null),
      (model) => prices(model, { maxCompletion: 5 })?.total ?? null,
      'DESC',
    );
    expect(expected.length).toBeGreaterThan(5);
    expect(await walk({ field: 'PRICE', direction: 'DESC' }, 4, filter)).toEqual(expected);
  });

  it('pages backwards with last/before', async () => {
    const orderBy = { field: 'RELEASED_AT', direction: 'DESC' };
    const expected = sortIds(seed.models, keyOfField['RELEASED_AT'] ?? (() => null), 'DESC');
    const end = await query<ModelsPage>(server, PAGE, { orderBy, first: 30 });
    const cursor = end.models.pageInfo.endCursor;
    const back = await query<ModelsPage>(server, PAGE, { orderBy, last: 5, before: cursor });
    expect(back.models.edges.map((edge) => edge.node.id)).toEqual(expected.slice(24, 29));
    expect(back.models.pageInfo.hasPreviousPage).toBe(true);
  });

  it('refuses malformed cursors and cursors of another ordering', async () => {
    expect(await errorCode(server, PAGE, { after: 'not a cursor!' })).toBe('BAD_REQUEST');
    expect(await errorCode(server, PAGE, { after: Buffer.from('{"f":"ID"}').toString('base64url') })).toBe('BAD_REQUEST');
    expect(await errorCode(server, PAGE, { after: Buffer.from('[1,2]').toString('base64url') })).toBe('BAD_REQUEST');
    const byName = await query<ModelsPage>(server, PAGE, { orderBy: { field: 'NAME' }, first: 3 });
    const body = await server.graphql(PAGE, { orderBy: { field: 'PRICE' }, first: 3, after: byName.models.pageInfo.endCursor });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    expect(body.errors?.[0]?.message).toMatch(/ordering NAME ASC/);
  });
});

describe('model and providers', () => {
  it('finds a model by id or alias', async () => {
    const lookup = `query($id: ID!) { model(id: $id) { id aliases } }`;
    expect((await query<{ model: { id: string } }>(server, lookup, { id: 'anthropic/claude-sonnet-5' })).model.id).toBe('anthropic/claude-sonnet-5');
    const byAlias = await query<{ model: { id: string; aliases: string[] } }>(server, lookup, { id: 'claude-sonnet' });
    expect(byAlias.model.id).toBe('anthropic/claude-sonnet-5');
    expect(byAlias.model.aliases).toContain('claude-sonnet');
    expect((await query<{ model: null }>(server, lookup, { id: 'no/such-model' })).model).toBeNull();
  });

  it('lists providers with their endpoints', async () => {
    const data = await query<{ providers: Array<{ id: string; kind: string; enabled: boolean; models: Array<{ providerModelId: string; model: { id: string } }> }> }>(
      server,
      `{ providers { id kind enabled models { providerModelId model { id } } } }`,
    );
    const local = data.providers.find((provider) => provider.id === 'local');
    expect(local).toMatchObject({ kind: 'LOCAL', enabled: true, models: expect.arrayContaining([{ providerModelId: 'echo', model: { id: 'local/echo' } }, { providerModelId: 'embed', model: { id: 'local/embed' } }]) });
    expect(local?.models).toHaveLength(2);
    const groq = data.providers.find((provider) => provider.id === 'groq');
    expect(groq?.enabled).toBe(false);
    const groqSeeded = seed.models.flatMap((model) => model.endpoints.filter((endpoint) => endpoint.provider === 'groq').map((endpoint) => endpoint.providerModelId)).sort();
    expect(groq?.models.map((endpoint) => endpoint.providerModelId).sort()).toEqual(groqSeeded);
  });
});
