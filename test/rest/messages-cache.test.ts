import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGeneration } from '../../src/db/generations.js';
import { dollarsPerMillionToMicros } from '../../src/money.js';
import { usdText } from '../../src/rest/chat-response.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { startTestServer, type TestServer, sqliteOf } from '../helpers/app.js';

/**
 * Prompt caching end to end on /v1/messages: a breakpoint reaches Anthropic, a five-minute write, a read and a
 * one-hour write are each charged at the catalog's price for them (read back through GraphQL, not restated here)
 * times the tokens, to the pico-dollar, in the response, the cost header, the ledger row and the `usage` query.
 */
const ADMIN_KEY = 'sk-admin-messages-cache';
const MODEL = 'anthropic/claude-sonnet-4-6';
let server: TestServer;
let fake: FakeUpstream;
let client: Anthropic;

interface Prices {
  prompt: number;
  completion: number;
  cached: number;
  write: number;
}

let prices: Prices;

const SYSTEM: Anthropic.TextBlockParam[] = [
  { type: 'text', text: 'You answer questions about the attached handbook.' },
  { type: 'text', text: 'HANDBOOK '.repeat(400), cache_control: { type: 'ephemeral' } },
];

async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const body = await server.graphql<T>(query, variables, { authorization: `Bearer ${ADMIN_KEY}` });
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN_KEY, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: fake.url });
  client = new Anthropic({ apiKey: ADMIN_KEY, baseURL: server.url, maxRetries: 0 });
  const data = await graphql<{ model: { endpoints: Array<{ provider: { id: string }; pricing: { promptPerMillion: number; completionPerMillion: number; cachedPromptPerMillion: number; cacheWritePerMillion: number } }> } }>(
    `query ($id: ID!) { model(id: $id) { endpoints { provider { id } pricing { promptPerMillion completionPerMillion cachedPromptPerMillion cacheWritePerMillion } } } }`,
    { id: MODEL },
  );
  const pricing = data.model.endpoints.find((endpoint) => endpoint.provider.id === 'anthropic')!.pricing;
  // Micro-dollars per million tokens are pico-dollars per token.
  prices = {
    prompt: dollarsPerMillionToMicros(pricing.promptPerMillion),
    completion: dollarsPerMillionToMicros(pricing.completionPerMillion),
    cached: dollarsPerMillionToMicros(pricing.cachedPromptPerMillion),
    write: dollarsPerMillionToMicros(pricing.cacheWritePerMillion),
  };
});

afterAll(async () => {
  await server.stop();
  await fake.close();
});

type CostedUsage = Anthropic.Usage & { cost_usd: number | null; cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } };

describe('prompt caching on /v1/messages', () => {
  const expected: Array<{ id: string; picos: number }> = [];

  it('seeds the five-minute write price from Anthropic’s 1.25x and keeps the catalog’s read price', () => {
    expect(prices.write * 4).toBe(prices.prompt * 5);
    expect(prices.cached).toBeLessThan(prices.prompt);
  });

  it('REST /v1/models shows the same write price', async () => {
    const response = await fetch(`${server.url}/v1/models/${encodeURIComponent(MODEL)}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const model = (await response.json()) as { pricing: { prompt_per_million: number; cache_write_per_million: number | null } };
    expect(dollarsPerMillionToMicros(model.pricing.cache_write_per_million ?? 0)).toBe(prices.write);
  });

  it('a write, then a read: each charged at its price times its tokens, to the pico-dollar, in the response and the header', async () => {
    fake.enqueue({ kind: 'text', text: 'Section 4.', promptTokens: 2_130, cacheWriteTokens: 2_000, completionTokens: 12 });
    const write = await client.messages.create({ model: MODEL, max_tokens: 100, system: SYSTEM, messages: [{ role: 'user', content: 'Where is the leave policy?' }] }).withResponse();
    // The breakpoint went upstream as it was sent.
    expect((fake.received.at(-1)!.body as { system: unknown }).system).toEqual(SYSTEM);
    const writeUsage = write.data.usage as CostedUsage;
    expect(writeUsage).toMatchObject({ input_tokens: 130, cache_creation_input_tokens: 2_000, cache_read_input_tokens: 0, output_tokens: 12 });
    expect(writeUsage.cache_creation).toEqual({ ephemeral_5m_input_tokens: 2_000, ephemeral_1h_input_tokens: 0 });
    const writePicos = 130 * prices.prompt + 2_000 * prices.write + 12 * prices.completion;
    expect(writeUsage.cost_usd).toBe(writePicos / 1e12);
    expect(write.response.headers.get('x-switchboard-cost-usd')).toBe(usdText(writePicos));
    expected.push({ id: write.data.id.slice('msg_'.length), picos: writePicos });

    fake.enqueue({ kind: 'text', text: 'Section 5.', promptTokens: 2_125, cachedPromptTokens: 2_000, completionTokens: 9 });
    const read = await client.messages.create({ model: MODEL, max_tokens: 100, system: SYSTEM, messages: [{ role: 'user', content: 'And sick leave?' }] }).withResponse();
    const readUsage = read.data.usage as CostedUsage;
    expect(readUsage).toMatchObject({ input_tokens: 125, cache_creation_input_tokens: 0, cache_read_input_tokens: 2_000, output_tokens: 9 });
    const readPicos = 125 * prices.prompt + 2_000 * prices.cached + 9 * prices.completion;
    expect(readUsage.cost_usd).toBe(readPicos / 1e12);
    expect(read.response.headers.get('x-switchboard-cost-usd')).toBe(usdText(readPicos));
    // The read is cheaper than the write, which costs more than no caching at all.
    expect(readPicos).toBeLessThan(2_125 * prices.prompt + 9 * prices.completion);
    expect(writePicos).toBeGreaterThan(2_130 * prices.prompt + 12 * prices.completion);
    expected.push({ id: read.data.id.slice('msg_'.length), picos: readPicos });
  });

  it('a one-hour write, streamed: twice the prompt price, kept apart from five-minute writes', async () => {
    fake.enqueue({ kind: 'text', text: 'Section 6.', promptTokens: 2_140, cacheWriteTokens: 2_000, cacheWrite1hTokens: 2_000, completionTokens: 7 });
    const system: Anthropic.TextBlockParam[] = [SYSTEM[0]!, { ...SYSTEM[1]!, cache_control: { type: 'ephemeral', ttl: '1h' } }];
    const stream = client.messages.stream({ model: MODEL, max_tokens: 100, system, messages: [{ role: 'user', content: 'And parental leave?' }] });
    let final: CostedUsage | undefined;
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_delta') final = event.usage as unknown as CostedUsage;
    });
    const message = await stream.finalMessage();
    expect((fake.received.at(-1)!.body as { system: unknown }).system).toEqual(system);
    // The SDK folds message_delta's counts into the message; the lifetime split and the cost are read off the event.
    expect(message.usage).toMatchObject({ input_tokens: 140, cache_creation_input_tokens: 2_000, cache_read_input_tokens: 0, output_tokens: 7 });
    expect(final?.cache_creation).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 2_000 });
    const picos = 140 * prices.prompt + 2_000 * 2 * prices.prompt + 7 * prices.completion;
    expect(final?.cost_usd).toBe(picos / 1e12);
    expected.push({ id: message.id.slice('msg_'.length), picos });
  });

  it('the ledger rows hold the same costs, the writes by lifetime and the write price in force', async () => {
    expect(expected).toHaveLength(3);
    const rows = await Promise.all(expected.map(async ({ id }) => findGeneration(sqliteOf(server.app.services), id)));
    expect(rows.map((row) => row?.costPicos)).toEqual(expected.map(({ picos }) => picos));
    expect(rows.map((row) => [row?.cachedPromptTokens, row?.cacheWrite5mTokens, row?.cacheWrite1hTokens])).toEqual([
      [0, 2_000, 0],
      [2_000, 0, 0],
      [0, 0, 2_000],
    ]);
    expect(rows.map((row) => row?.cacheWritePriceMicros)).toEqual([prices.write, prices.write, prices.write]);
    const generation = await graphql<{ generation: { usage: { cacheWriteTokens: number; cacheWrite1hTokens: number; cachedPromptTokens: number; promptTokens: number } } }>(
      'query ($id: ID!) { generation(id: $id) { usage { promptTokens cachedPromptTokens cacheWriteTokens cacheWrite1hTokens } } }',
      { id: expected[2]!.id },
    );
    expect(generation.generation.usage).toEqual({ promptTokens: 2_140, cachedPromptTokens: 0, cacheWriteTokens: 2_000, cacheWrite1hTokens: 2_000 });
  });

  it('the usage query carries reads, writes, the cost and the saving against uncached prices', async () => {
    const data = await graphql<{ usage: Array<{ requests: number; promptTokens: number; cachedPromptTokens: number; cacheWriteTokens: number; cacheWrite1hTokens: number; costUsd: number; cacheSavingUsd: number }> }>(
      `query ($model: String) { usage(filter: { model: $model }) { requests promptTokens cachedPromptTokens cacheWriteTokens cacheWrite1hTokens costUsd cacheSavingUsd } }`,
      { model: MODEL },
    );
    const totalPicos = expected.reduce((sum, { picos }) => sum + picos, 0);
    // Read discount, less the five-minute surcharge, less the one-hour surcharge (2x - 1x the prompt price).
    const savingPicos = 2_000 * (prices.prompt - prices.cached) - 2_000 * (prices.write - prices.prompt) - 2_000 * prices.prompt;
    expect(data.usage).toEqual([
      {
        requests: 3,
        promptTokens: 2_130 + 2_125 + 2_140,
        cachedPromptTokens: 2_000,
        cacheWriteTokens: 4_000,
        cacheWrite1hTokens: 2_000,
        costUsd: totalPicos / 1e12,
        cacheSavingUsd: savingPicos / 1e12,
      },
    ]);
    // The saving is exactly what the same prompts would have cost uncached, less what they cost.
    const uncachedPicos = (2_130 + 2_125 + 2_140) * prices.prompt + (12 + 9 + 7) * prices.completion;
    expect(uncachedPicos - totalPicos).toBe(savingPicos);
  });
});

describe('breakpoints from the other transports reach Anthropic', () => {
  it('Chat Completions: cache_control on content parts (OpenRouter’s convention), writes reported and priced', async () => {
    fake.enqueue({ kind: 'text', text: 'ok', promptTokens: 1_010, cacheWriteTokens: 1_000, cacheWrite1hTokens: 400, completionTokens: 1 });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({
        model: MODEL,
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Handbook…', cache_control: { type: 'ephemeral', ttl: '1h' } }] },
          { role: 'user', content: [{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral' } }] },
        ],
      }),
    });
    expect(response.status).toBe(200);
    const sent = fake.received.at(-1)!.body as { system: unknown; messages: unknown };
    expect(sent.system).toEqual([{ type: 'text', text: 'Handbook…', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
    expect(sent.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral' } }] }]);
    const body = (await response.json()) as { usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number; cache_write_tokens?: number }; cost_usd: number } };
    expect(body.usage.prompt_tokens).toBe(1_010);
    expect(body.usage.prompt_tokens_details).toEqual({ cached_tokens: 0, cache_write_tokens: 1_000 });
    expect(body.usage.cost_usd).toBe((10 * prices.prompt + 600 * prices.write + 400 * 2 * prices.prompt + prices.completion) / 1e12);
  });

  it('GraphQL CompletionInput: cacheControl on a message, a part and a tool', async () => {
    fake.enqueue({ kind: 'text', text: 'ok', promptTokens: 50, completionTokens: 1 });
    const data = await graphql<{ createCompletion: { usage: { cacheWriteTokens: number } } }>(
      `mutation {
        createCompletion(input: {
          model: "${MODEL}"
          maxTokens: 20
          messages: [
            { role: SYSTEM, content: "Handbook…", cacheControl: { ttl: ONE_HOUR } }
            { role: USER, parts: [{ type: TEXT, text: "Question", cacheControl: {} }] }
          ]
          tools: [{ name: "lookup", parameters: { type: "object", properties: {} }, cacheControl: { ttl: FIVE_MINUTES } }]
        }) { usage { cacheWriteTokens } }
      }`,
    );
    expect(data.createCompletion.usage.cacheWriteTokens).toBe(0);
    const sent = fake.received.at(-1)!.body as { system: unknown; messages: unknown; tools: unknown };
    expect(sent.system).toEqual([{ type: 'text', text: 'Handbook…', cache_control: { type: 'ephemeral', ttl: '1h' } }]);
    expect(sent.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Question', cache_control: { type: 'ephemeral' } }] }]);
    expect(sent.tools).toEqual([{ name: 'lookup', input_schema: { type: 'object', properties: {} }, cache_control: { type: 'ephemeral', ttl: '5m' } }]);
  });
});
