import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse, waitFor, wsClient } from '../helpers/subscriptions.js';

const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { id } }
`;

const USAGE = /* GraphQL */ `
  query Usage($groupBy: [UsageDimension!], $filter: UsageFilter) {
    usage(groupBy: $groupBy, filter: $filter) {
      key { modelId model { id } providerId provider { id } apiKeyId day hour }
      requests errors cancellations promptTokens completionTokens costUsd costKnown unpricedRequests latencyP50Ms latencyP95Ms
    }
  }
`;

const GENERATIONS = /* GraphQL */ `
  query Generations($filter: GenerationFilter) {
    generations(first: 500, filter: $filter) {
      edges { node { id status model { id } provider { id } apiKeyId usage { promptTokens completionTokens costUsd } } }
    }
  }
`;

interface Bucket {
  key: { modelId: string | null; model: { id: string } | null; providerId: string | null; provider: { id: string } | null; apiKeyId: string | null; day: string | null; hour: string | null };
  requests: number;
  errors: number;
  cancellations: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  costKnown: boolean;
  unpricedRequests: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

interface Node {
  id: string;
  status: string;
  model: { id: string } | null;
  provider: { id: string } | null;
  apiKeyId: string | null;
  usage: { promptTokens: number; completionTokens: number; costUsd: number };
}

const user = (content: string) => [{ role: 'USER', content }];

// One gateway and one fake upstream for the whole file: starting a gateway costs more than these tests.
let server: TestServer;
let fake: FakeUpstream;
const statements: string[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url }, { onStatement: (sql) => statements.push(sql) });
});
afterAll(async () => {
  await server.stop();
  await fake.close();
});

describe('ledger queries over GraphQL', () => {
  it('usage buckets equal the sums of the generations they group', async () => {
    for (let index = 0; index < 5; index++) await server.graphql(COMPLETE, { input: { model: 'local/echo', messages: user(`echo number ${index}`) } });
    fake.enqueue({ kind: 'text', text: 'Priced.', promptTokens: 400, completionTokens: 40 });
    await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: user('priced') } });
    fake.enqueue({ kind: 'error', error: 'bad_request' });
    const failed = await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: user('fails') } });
    expect(failed.errors?.[0]?.extensions?.['code']).toBe('PROVIDER_ERROR');

    const nodes = (await server.graphql<{ generations: { edges: Array<{ node: Node }> } }>(GENERATIONS)).data!.generations.edges.map((edge) => edge.node);
    statements.length = 0;
    const body = await server.graphql<{ usage: Bucket[] }>(USAGE, { groupBy: ['MODEL', 'PROVIDER'] });
    expect(body.errors).toBeUndefined();
    // One aggregate statement, then one batched lookup each for the models and providers of the keys.
    expect(statements.filter((sql) => sql.includes('from generations'))).toHaveLength(1);
    expect(statements.length).toBeLessThanOrEqual(3);

    const buckets = body.data!.usage;
    expect(buckets.map((bucket) => `${bucket.key.modelId}@${bucket.key.providerId}`).sort()).toEqual(['local/echo@local', 'openai/gpt-4o-mini@openai']);
    for (const bucket of buckets) {
      const members = nodes.filter((node) => node.model?.id === bucket.key.modelId && node.provider?.id === bucket.key.providerId);
      expect(bucket.requests).toBe(members.length);
      expect(bucket.errors).toBe(members.filter((node) => node.status === 'FAILED' || node.status === 'INTERRUPTED').length);
      expect(bucket.promptTokens).toBe(members.reduce((sum, node) => sum + node.usage.promptTokens, 0));
      expect(bucket.completionTokens).toBe(members.reduce((sum, node) => sum + node.usage.completionTokens, 0));
      expect(bucket.costUsd).toBeCloseTo(members.reduce((sum, node) => sum + node.usage.costUsd, 0), 15);
      expect(bucket.key.model?.id).toBe(bucket.key.modelId);
      expect(bucket.key.provider?.id).toBe(bucket.key.providerId);
      expect(bucket.key.day).toBeNull();
      expect(bucket.latencyP50Ms).not.toBeNull();
    }
    const openai = buckets.find((bucket) => bucket.key.providerId === 'openai')!;
    expect(openai).toMatchObject({ requests: 2, errors: 1, promptTokens: 400, completionTokens: 40, costUsd: (400 * 150_000 + 40 * 600_000) / 1e12, costKnown: true });
  });

  it('buckets by UTC day and hour as DateTime keys', async () => {
    const body = await server.graphql<{ usage: Bucket[] }>(USAGE, { groupBy: ['DAY', 'HOUR'], filter: { provider: 'local' } });
    expect(body.errors).toBeUndefined();
    const [bucket] = body.data!.usage;
    expect(bucket!.key.day).toMatch(/T00:00:00\.000Z$/);
    expect(bucket!.key.hour).toMatch(/:00:00\.000Z$/);
    expect(bucket!.key.modelId).toBeNull();
    expect(body.data!.usage.reduce((sum, item) => sum + item.requests, 0)).toBeGreaterThanOrEqual(5);
  });

  it('shows the request summary, key and prices on generation(id), and filters generations by key', async () => {
    const done = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, {
      input: { model: 'local/echo', messages: [{ role: 'SYSTEM', content: 'Be brief.' }, ...user('summarize me')], temperature: 0.5, maxTokens: 50 },
    });
    const id = done.data!.createCompletion.id;
    const body = await server.graphql<{ generation: { requestSummary: Record<string, unknown>; apiKeyId: string | null; pricing: { known: boolean } } }>(
      `query($id: ID!) { generation(id: $id) { requestSummary { messages images maxTokens temperature topP tools toolChoice { mode tool } responseFormat } apiKeyId pricing { known } } }`,
      { id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.generation).toEqual({
      // Typed now: what the request did not set reads as null.
      requestSummary: { messages: 2, images: 0, maxTokens: 50, temperature: 0.5, topP: null, tools: null, toolChoice: null, responseFormat: null },
      apiKeyId: null,
      pricing: { known: true },
    });
    expect(JSON.stringify(body.data!.generation.requestSummary)).not.toContain('summarize me');

    // Keys are another engineer's work: rows made with a key are written directly here.
    const [template] = await server.app.services.storage.ledger.listGenerations({}, { limit: 1 });
    await server.app.services.storage.ledger.writeGenerations([{ ...template!, id: 'gen_key_x1', apiKeyId: 'key_x' }, { ...template!, id: 'gen_key_x2', apiKeyId: 'key_x' }]);
    const filtered = await server.graphql<{ generations: { edges: Array<{ node: Node }> } }>(GENERATIONS, { filter: { apiKeyId: 'key_x' } });
    expect(filtered.data!.generations.edges.map((edge) => edge.node.id).sort()).toEqual(['gen_key_x1', 'gen_key_x2']);
    const usage = await server.graphql<{ usage: Bucket[] }>(USAGE, { groupBy: ['KEY'], filter: { apiKeyId: 'key_x' } });
    expect(usage.data!.usage).toHaveLength(1);
    expect(usage.data!.usage[0]).toMatchObject({ key: { apiKeyId: 'key_x' }, requests: 2 });
  });

  it('usageEvents delivers every generation of a burst of 200, in commit order, none missing', async () => {
    const { recorder } = server.app.services;
    const committed: string[] = [];
    const stopListening = recorder.finished.listen((rows) => committed.push(...rows.map((row) => row.id)));

    const client = wsClient(server.wsUrl);
    const received: string[] = [];
    const iterator = client.iterate<{ usageEvents: { id: string; status: string; usage: { totalTokens: number } } }>({
      query: 'subscription { usageEvents { id status usage { totalTokens } } }',
    });
    const consumed = (async () => {
      for await (const result of iterator) {
        expect(result.errors).toBeUndefined();
        received.push(result.data!.usageEvents.id);
        if (received.length === 200) break;
      }
    })();
    await waitFor(() => recorder.finished.subscriberCount === 1 || undefined);

    const ids: string[] = [];
    for (let burst = 0; burst < 4; burst++) {
      const bodies = await Promise.all(
        Array.from({ length: 50 }, (_, index) => server.graphql<{ createCompletion: { id: string } }>(COMPLETE, { input: { model: 'local/echo', messages: user(`burst ${burst} request ${index}`) } })),
      );
      ids.push(...bodies.map((body) => body.data!.createCompletion.id));
    }
    await consumed;
    stopListening();
    await client.dispose();

    expect(new Set(received).size).toBe(200);
    expect([...received].sort()).toEqual([...ids].sort());
    expect(received).toEqual(committed.slice(0, 200));
    await waitFor(() => recorder.finished.subscriberCount === 0 || undefined);
  });

  it('usageEvents works over SSE too', async () => {
    const { recorder } = server.app.services;
    const events = subscribeSse(server.url, 'subscription { usageEvents { id status } }', {}, { stopWhen: () => true });
    await waitFor(() => recorder.finished.subscriberCount === 1 || undefined);
    const done = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, { input: { model: 'local/echo', messages: user('over sse') } });
    expect((await events).map((result) => result.data?.['usageEvents'])).toEqual([{ id: done.data!.createCompletion.id, status: 'SUCCEEDED' }]);
  });
});

/**
 * Hand-computed from the seeded prices (micro-dollars per million tokens = pico-dollars per token):
 *   openai/gpt-4o-mini   $0.15 / $0.60 / cached $0.075   -> 150_000 / 600_000 / 75_000 picos per token
 *   openai/gpt-5-nano    $0.05 / $0.40 / cached $0.005   ->  50_000 / 400_000 /  5_000
 *   openai/gpt-4.1-nano  $0.10 / $0.40, cached price removed by the test -> cached tokens at 100_000
 */

const COMPLETE_PRICED = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) {
    createCompletion(input: $input) { id usage { promptTokens completionTokens cachedPromptTokens reasoningTokens costUsd costKnown } }
  }
`;

const GENERATION = /* GraphQL */ `
  query Generation($id: ID!) {
    generation(id: $id) {
      status
      usage { promptTokens completionTokens cachedPromptTokens reasoningTokens costUsd costKnown }
      pricing { promptPerMillion completionPerMillion cachedPromptPerMillion known }
    }
  }
`;

const STREAM = /* GraphQL */ `
  subscription Stream($input: CompletionInput!) {
    completionStream(input: $input) {
      __typename
      ... on CompletionStarted { id }
      ... on CompletionDone { usage { costUsd costKnown } }
    }
  }
`;

interface UsageOut {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  reasoningTokens: number;
  costUsd: number;
  costKnown: boolean;
}

interface GenerationOut {
  generation: { status: string; usage: UsageOut; pricing: { promptPerMillion: number; completionPerMillion: number; cachedPromptPerMillion: number | null; known: boolean } };
}

describe('exact cost, end to end through a fake OpenAI upstream', () => {
  const complete = async (model: string): Promise<{ id: string; usage: UsageOut }> => {
    const body = await server.graphql<{ createCompletion: { id: string; usage: UsageOut } }>(COMPLETE_PRICED, { input: { model, messages: [{ role: 'USER', content: 'price me' }] } });
    expect(body.errors).toBeUndefined();
    return body.data!.createCompletion;
  };

  const ledger = async (id: string): Promise<{ costPicos: number | null; query: GenerationOut['generation'] }> => {
    const body = await server.graphql<GenerationOut>(GENERATION, { id });
    expect(body.errors).toBeUndefined();
    return { costPicos: (await server.app.services.storage.ledger.findGeneration(id))!.costPicos, query: body.data!.generation };
  };

  it('charges cached prompt tokens at the cached price and reasoning tokens as completion tokens', async () => {
    fake.enqueue({ kind: 'text', text: 'Thought about it.', promptTokens: 1234, cachedPromptTokens: 1000, completionTokens: 321, reasoningTokens: 200 });
    const completion = await complete('openai/gpt-4o-mini');
    // 234 uncached × 150_000 + 1000 cached × 75_000 + 321 completion (200 of them reasoning) × 600_000
    const expectedPicos = 234 * 150_000 + 1000 * 75_000 + 321 * 600_000;
    expect(expectedPicos).toBe(302_700_000);
    expect(completion.usage).toEqual({ promptTokens: 1234, completionTokens: 321, cachedPromptTokens: 1000, reasoningTokens: 200, costUsd: 0.0003027, costKnown: true });
    const { costPicos, query } = await ledger(completion.id);
    expect(costPicos).toBe(expectedPicos);
    expect(query.usage.costUsd).toBe(0.0003027);
    expect(query.pricing).toEqual({ promptPerMillion: 0.15, completionPerMillion: 0.6, cachedPromptPerMillion: 0.075, known: true });
  });

  it('stays exact to the nano-dollar at sub-cent prices where float arithmetic would drift', async () => {
    fake.enqueue({ kind: 'text', text: 'Tiny.', promptTokens: 2, cachedPromptTokens: 1, completionTokens: 3, reasoningTokens: 2 });
    const completion = await complete('openai/gpt-5-nano');
    const expectedPicos = 1 * 50_000 + 1 * 5_000 + 3 * 400_000;
    // Summing per-token dollar prices as floats misses the exact figure: the reason costs are integers.
    expect(1 * 0.05e-6 + 1 * 0.005e-6 + 3 * 0.4e-6).not.toBe(0.000001255);
    const { costPicos, query } = await ledger(completion.id);
    expect(costPicos).toBe(expectedPicos);
    expect(query.usage.costUsd).toBe(0.000001255);
    expect(completion.usage.costUsd).toBe(0.000001255);
  });

  it('charges cached tokens at the prompt price when the endpoint has no cached price', async () => {
    await server.app.services.storage.catalog.updateEndpoint({ providerId: 'openai', providerModelId: 'gpt-4.1-nano', cachedPromptPriceMicros: null });
    // A write behind the gateway's back says so, as every writer does: the routing snapshot reloads.
    server.app.services.feed.publish('catalog');
    await server.app.services.catalog.refresh();
    fake.enqueue({ kind: 'text', text: 'No cache discount.', promptTokens: 100, cachedPromptTokens: 60, completionTokens: 10 });
    const completion = await complete('openai/gpt-4.1-nano');
    const { costPicos, query } = await ledger(completion.id);
    expect(costPicos).toBe(100 * 100_000 + 10 * 400_000);
    expect(query.usage.costUsd).toBe(0.000014);
    expect(query.pricing.cachedPromptPerMillion).toBeNull();
  });

  it('records an unknown price as unknown, not as zero', async () => {
    fake.enqueue({ kind: 'text', text: 'Who prices me?', promptTokens: 50, completionTokens: 5 });
    const completion = await complete('openai/gpt-unlisted-preview');
    expect(completion.usage).toMatchObject({ promptTokens: 50, completionTokens: 5, costUsd: null, costKnown: false });
    const { costPicos, query } = await ledger(completion.id);
    expect(costPicos).toBeNull();
    expect(query.usage.costKnown).toBe(false);
    expect(query.pricing.known).toBe(false);
  });

  it('prices a streamed completion from the usage of its last chunk, exactly', async () => {
    fake.enqueue({ kind: 'text', text: 'Streamed and priced.', promptTokens: 2048, cachedPromptTokens: 1536, completionTokens: 77, reasoningTokens: 40 });
    const results = await subscribeSse(server.url, STREAM, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'stream me' }] } });
    const events = results.map((result) => (result.data as { completionStream: { __typename: string; id?: string; usage?: { costUsd: number; costKnown: boolean } } }).completionStream);
    const id = events[0]!.id!;
    const expectedPicos = 512 * 150_000 + 1536 * 75_000 + 77 * 600_000;
    expect(events.at(-1)).toEqual({ __typename: 'CompletionDone', usage: { costUsd: expectedPicos / 1e12, costKnown: true } });
    const { costPicos, query } = await ledger(id);
    expect(costPicos).toBe(expectedPicos);
    expect(query.usage).toMatchObject({ promptTokens: 2048, cachedPromptTokens: 1536, completionTokens: 77, reasoningTokens: 40, costUsd: 0.0002382 });
  });
});
