import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { fakeTokenCount } from '../fakes/embedding-vectors.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * Embeddings are admitted like completions (issue 18): a key's allowlist, requests and tokens per minute and its
 * spend budget apply, each refusal answered in OpenAI's shape and kept in the ledger.
 */
const ADMIN = 'admin-secret-for-embedding-limits-0123';
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`;
/** text-embedding-3-large: $0.13 per million input tokens, in pico-dollars per token. */
const LARGE_PICOS_PER_TOKEN = 130_000;

let server: TestServer;
let fake: FakeUpstream;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
});
afterAll(async () => {
  await server.stop();
  await fake.close();
});

async function createKey(input: Record<string, unknown>): Promise<{ secret: string; id: string }> {
  const body = await server.graphql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_KEY, { input: { scopes: ['COMPLETIONS'], ...input } }, { authorization: `Bearer ${ADMIN}` });
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return { secret: body.data.createApiKey.secret, id: body.data.createApiKey.apiKey.id };
}

async function embedding(secret: string, body: Record<string, unknown>): Promise<{ status: number; json: { error?: { code: string | null; type: string }; usage?: { prompt_tokens: number } }; generationId: string | null }> {
  const response = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as never, generationId: response.headers.get('x-switchboard-generation-id') };
}

describe('admission of embeddings', () => {
  it('counts requests per minute', async () => {
    const key = await createKey({ name: 'rpm', rateLimit: { requestsPerMinute: 2 } });
    const results = [];
    for (let index = 0; index < 3; index++) results.push(await embedding(key.secret, { model: 'local/embed', input: `request ${index}` }));
    expect(results.map((result) => result.status)).toEqual([200, 200, 429]);
    expect(results[2]!.json.error?.type).toBe('rate_limit_error');
    const refused = await server.app.services.storage.ledger.listGenerations({ apiKeyId: key.id, status: 'FAILED' }, { limit: 5 });
    expect(refused.map((row) => row.errorCode)).toEqual(['RATE_LIMITED']);
  });

  it('counts the inputs’ tokens against tokens per minute', async () => {
    const key = await createKey({ name: 'tpm', rateLimit: { tokensPerMinute: 200 } });
    expect((await embedding(key.secret, { model: 'local/embed', input: 'a few words' })).status).toBe(200);
    // One input of ~500 tokens, and a batch whose inputs add up to as much: both are over the minute's tokens.
    const long = 'lorem ipsum dolor sit amet '.repeat(100);
    expect((await embedding(key.secret, { model: 'local/embed', input: long })).status).toBe(429);
    expect((await embedding(key.secret, { model: 'local/embed', input: Array.from({ length: 50 }, () => 'lorem ipsum dolor sit amet') })).status).toBe(429);
  });

  it('keeps a key to its allowlist', async () => {
    const key = await createKey({ name: 'chat only', allowedModels: ['local/echo'] });
    const refused = await embedding(key.secret, { model: 'local/embed', input: 'x' });
    expect(refused.status).toBe(403);
  });

  it('spends a budget at the catalog price, to the pico-dollar, and refuses once it cannot pay', async () => {
    const limitPicos = 10_000_000; // $0.00001: a few dozen tokens of text-embedding-3-large
    const key = await createKey({ name: 'budget', budget: { limitUsd: limitPicos / 1e12 } });
    const text = 'one two three four five six seven eight nine ten';
    const tokens = fakeTokenCount(text);
    let spent = 0;
    let admitted = 0;
    let refusal: { status: number; json: { error?: { code: string | null } } } | undefined;
    for (let index = 0; index < 40 && refusal === undefined; index++) {
      const result = await embedding(key.secret, { model: 'openai/text-embedding-3-large', input: text });
      if (result.status !== 200) {
        refusal = result;
        break;
      }
      admitted++;
      const row = await server.app.services.storage.ledger.findGeneration(result.generationId!);
      expect(row).toMatchObject({ promptTokens: tokens, costPicos: tokens * LARGE_PICOS_PER_TOKEN });
      spent += row!.costPicos!;
    }
    expect(admitted).toBeGreaterThan(1);
    expect(refusal?.status).toBe(429);
    expect(refusal?.json.error?.code).toBe('budget_exceeded');
    // Never more than one request over the limit, and nothing left that could pay one more.
    expect(spent).toBeLessThanOrEqual(limitPicos);
    expect(limitPicos - spent).toBeLessThan(2 * tokens * LARGE_PICOS_PER_TOKEN);
  });

  it('refuses an unpriced model to a key with a budget', async () => {
    const key = await createKey({ name: 'budget, unpriced', budget: { limitUsd: 1 } });
    const refused = await embedding(key.secret, { model: 'openai/some-new-embedding-model', input: 'x' });
    expect(refused.status).toBe(403);
    expect(fake.received.some((request) => (request.body as { model?: string } | undefined)?.model === 'some-new-embedding-model')).toBe(false);
  });
});
