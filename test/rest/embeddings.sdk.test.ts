import { createOpenAI } from '@ai-sdk/openai';
import { embed, embedMany } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countTokensExact } from '../../src/providers/tokenizer.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { fakeTokenCount, fakeVector } from '../fakes/embedding-vectors.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { startFakeOpenAICompatible } from '../fakes/openai-compatible.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * Issue 18: POST /v1/embeddings answered 404. The official clients (the `openai` SDK's embeddings.create, the AI
 * SDK's embed/embedMany) against the OpenAI, Gemini and Ollama fakes and local/embed, and what each request left
 * in the ledger: its prompt tokens and their exact cost at the catalog's price.
 */
const ADMIN = 'admin-secret-for-embedding-tests-0123';
/** Catalog prices in micro-dollars per million tokens, which is pico-dollars per token. */
const PRICE = { small: 20_000, large: 130_000, gemini: 150_000 } as const;

let server: TestServer;
let openaiFake: FakeUpstream;
let geminiFake: FakeUpstream;
let ollamaFake: FakeUpstream;
let togetherFake: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  openaiFake = await startFakeOpenAI();
  geminiFake = await startFakeGemini({ apiKey: 'gemini-test-key' });
  ollamaFake = await startFakeOllama();
  togetherFake = await startFakeOpenAICompatible('together');
  server = await startTestServer({
    SWITCHBOARD_ADMIN_KEY: ADMIN,
    OPENAI_API_KEY: FAKE_OPENAI_KEY,
    OPENAI_BASE_URL: openaiFake.url,
    GEMINI_API_KEY: 'gemini-test-key',
    GEMINI_BASE_URL: geminiFake.url,
    OLLAMA_BASE_URL: ollamaFake.url,
    TOGETHER_API_KEY: FAKE_OPENAI_KEY,
    TOGETHER_BASE_URL: togetherFake.url,
  });
  client = new OpenAI({ apiKey: ADMIN, baseURL: `${server.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await Promise.all([openaiFake.close(), geminiFake.close(), ollamaFake.close(), togetherFake.close()]);
});
beforeEach(() => {
  for (const fake of [openaiFake, geminiFake, ollamaFake, togetherFake]) fake.received.length = 0;
});

/** The generation a REST answer names, read from the ledger once committed (it is, before the answer is sent). */
async function ledgerRow(generationId: string | null) {
  expect(generationId).toBeTruthy();
  const row = await server.app.services.storage.ledger.findGeneration(generationId!);
  expect(row).toBeDefined();
  return row!;
}

async function rawEmbeddings(body: Record<string, unknown>, key = ADMIN): Promise<Response> {
  return fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function decodeBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, index) => bytes.readFloatLE(index * 4));
}

describe('the openai SDK against the OpenAI fake', () => {
  it('embeds one text (the SDK asks for base64 by default) and records its exact cost', async () => {
    const text = 'The quick brown fox jumps over the lazy dog';
    const { data: response, response: raw } = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: text }).withResponse();
    expect(response.data).toHaveLength(1);
    expect(response.data[0]!.embedding).toEqual(fakeVector(text, 1536));
    expect(response.model).toBe('openai/text-embedding-3-small');
    const tokens = fakeTokenCount(text);
    expect(response.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    // The upstream was asked for float, whatever the caller's encoding: compatible servers do not all speak base64.
    expect(openaiFake.received.at(-1)!.body).toMatchObject({ model: 'text-embedding-3-small', input: text, encoding_format: 'float' });

    const row = await ledgerRow(raw.headers.get('x-switchboard-generation-id'));
    expect(row).toMatchObject({ status: 'SUCCEEDED', providerId: 'openai', modelId: 'openai/text-embedding-3-small', promptTokens: tokens, completionTokens: 0, totalTokens: tokens, usageEstimated: false, streamed: false });
    expect(row.costPicos).toBe(tokens * PRICE.small);
    expect(row.requestSummary).toMatchObject({ operation: 'embedding', inputs: 1 });
    expect(raw.headers.get('x-switchboard-cost-usd')).toBe(`0.${String(tokens * PRICE.small).padStart(12, '0').replace(/0+$/, '')}`);
  });

  it('embeds a batch in input order, though OpenAI numbers its answers by index and not by position', async () => {
    const texts = ['first input', 'a second, longer input about embeddings', 'third'];
    const { data: response, response: raw } = await client.embeddings.create({ model: 'text-embedding-3-large', input: texts }).withResponse();
    expect(response.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(response.data.map((item) => item.embedding)).toEqual(texts.map((text) => fakeVector(text, 3072)));
    const tokens = texts.reduce((sum, text) => sum + fakeTokenCount(text), 0);
    const row = await ledgerRow(raw.headers.get('x-switchboard-generation-id'));
    expect(row.promptTokens).toBe(tokens);
    expect(row.costPicos).toBe(tokens * PRICE.large);
  });

  it('answers encoding_format base64 as little-endian float32, and float as numbers: the same vector', async () => {
    const text = 'encode me';
    const asFloat = (await (await rawEmbeddings({ model: 'text-embedding-3-small', input: text, encoding_format: 'float' })).json()) as { data: Array<{ embedding: number[] }> };
    const asBase64 = (await (await rawEmbeddings({ model: 'text-embedding-3-small', input: text, encoding_format: 'base64' })).json()) as { data: Array<{ embedding: string }> };
    expect(typeof asBase64.data[0]!.embedding).toBe('string');
    expect(decodeBase64(asBase64.data[0]!.embedding)).toEqual(asFloat.data[0]!.embedding);
    expect(asFloat.data[0]!.embedding).toEqual(fakeVector(text, 1536));
  });

  it('passes dimensions upstream and answers with vectors that long', async () => {
    const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['short', 'vectors'], dimensions: 256 });
    expect(response.data.map((item) => item.embedding.length)).toEqual([256, 256]);
    expect(openaiFake.received.at(-1)!.body).toMatchObject({ dimensions: 256, input: ['short', 'vectors'] });
  });

  it('passes token arrays to the OpenAI family as they are', async () => {
    const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: [[1, 2, 3], [4, 5]] });
    expect(response.data).toHaveLength(2);
    expect(openaiFake.received.at(-1)!.body).toMatchObject({ input: [[1, 2, 3], [4, 5]] });
    expect(response.usage.prompt_tokens).toBe(5);
  });
});

describe('the OpenAI-compatible family', () => {
  it('embeds through a compatible provider addressed directly, its cost unknown rather than invented', async () => {
    const { data: response, response: raw } = await client.embeddings.create({ model: 'together/BAAI/bge-large-en-v1.5', input: ['compatible', 'servers'], user: 'end-user-7' }).withResponse();
    expect(response.data.map((item) => item.embedding)).toEqual([fakeVector('compatible', 3072), fakeVector('servers', 3072)]);
    expect(togetherFake.received.at(-1)).toMatchObject({ path: '/v1/embeddings', body: { model: 'BAAI/bge-large-en-v1.5', input: ['compatible', 'servers'], user: 'end-user-7' } });
    expect(raw.headers.get('x-switchboard-cost-usd')).toBeNull();
    const row = await ledgerRow(raw.headers.get('x-switchboard-generation-id'));
    expect(row).toMatchObject({ providerId: 'together', modelId: null, costPicos: null, promptTokens: response.usage.prompt_tokens });
  });
});

describe('Gemini: embedContent for one input, batchEmbedContents for several', () => {
  it('embeds one text with embedContent, estimating the tokens Gemini does not report', async () => {
    const text = 'Gemini reports no token counts for embeddings';
    const { data: response, response: raw } = await client.embeddings.create({ model: 'gemini-embedding-001', input: text, dimensions: 768 }).withResponse();
    expect(response.data[0]!.embedding).toEqual(fakeVector(text, 768));
    const received = geminiFake.received.at(-1)!;
    expect(received.path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
    expect(received.body).toEqual({ content: { parts: [{ text }] }, outputDimensionality: 768 });
    const tokens = await countTokensExact(text);
    const row = await ledgerRow(raw.headers.get('x-switchboard-generation-id'));
    expect(row).toMatchObject({ providerId: 'gemini', promptTokens: tokens, usageEstimated: true, status: 'SUCCEEDED' });
    expect(row.costPicos).toBe(tokens * PRICE.gemini);
    expect(response.usage.prompt_tokens).toBe(tokens);
  });

  it('embeds several texts with batchEmbedContents, each request naming the model', async () => {
    const texts = ['one', 'two', 'three'];
    const response = await client.embeddings.create({ model: 'google/gemini-embedding-001', input: texts });
    expect(response.data.map((item) => item.embedding)).toEqual(texts.map((text) => fakeVector(text, 3072)));
    const received = geminiFake.received.at(-1)!;
    expect(received.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(received.body).toEqual({ requests: texts.map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] } })) });
  });

  it('sends more than 100 inputs as several batches, as Gemini takes at most 100 at a time', async () => {
    const texts = Array.from({ length: 250 }, (_, index) => `text number ${index}`);
    const { data: response, response: raw } = await client.embeddings.create({ model: 'gemini-embedding-001', input: texts, dimensions: 4 }).withResponse();
    expect(response.data.map((item) => item.embedding)).toEqual(texts.map((text) => fakeVector(text, 4)));
    expect(geminiFake.received.map((request) => (request.body as { requests: unknown[] }).requests.length)).toEqual([100, 100, 50]);
    const tokens = (await Promise.all(texts.map((text) => countTokensExact(text)))).reduce((a, b) => a + b, 0);
    expect((await ledgerRow(raw.headers.get('x-switchboard-generation-id'))).costPicos).toBe(tokens * PRICE.gemini);
  });

  it('refuses token arrays for Gemini by name, with a row in the ledger', async () => {
    const response = await rawEmbeddings({ model: 'gemini-embedding-001', input: [[1, 2, 3]] });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { param: string | null; type: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'input[0]' });
    expect(geminiFake.received).toHaveLength(0);
  });
});

describe('Gemini failures', () => {
  it('answers a request Gemini refused as a bad gateway, recorded FAILED at no cost, upstream text for admins only', async () => {
    geminiFake.enqueue({ kind: 'error', error: 'bad_request' });
    const response = await rawEmbeddings({ model: 'gemini-embedding-001', input: 'x' });
    expect(response.status).toBe(502);
    expect(((await response.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: 'api_error', code: 'provider_error' });
    expect(geminiFake.received).toHaveLength(1);
    const [row] = await server.app.services.storage.ledger.listGenerations({ providerId: 'gemini', status: 'FAILED' }, { limit: 1 });
    expect(row).toMatchObject({ requestedModel: 'gemini-embedding-001', costPicos: 0, errorCode: 'PROVIDER_ERROR' });
    expect(row!.attempts).toMatchObject([{ providerId: 'gemini', status: 'FAILED', httpStatus: 400 }]);
  });
});

describe('Ollama: /api/embed, free', () => {
  it('embeds with a catalog model at no cost, with the tokens Ollama counted', async () => {
    const texts = ['local models', 'cost nothing'];
    const { data: response, response: raw } = await client.embeddings.create({ model: 'nomic-embed-text', input: texts }).withResponse();
    expect(response.data.map((item) => item.embedding)).toEqual(texts.map((text) => fakeVector(text, 768)));
    expect(ollamaFake.received.at(-1)).toMatchObject({ path: '/api/embed', body: { model: 'nomic-embed-text', input: texts } });
    const row = await ledgerRow(raw.headers.get('x-switchboard-generation-id'));
    const tokens = texts.reduce((sum, text) => sum + fakeTokenCount(text), 0);
    expect(row).toMatchObject({ providerId: 'ollama', promptTokens: tokens, costPicos: 0, usageEstimated: false });
  });

  it('prices a model addressed directly on Ollama at zero rather than unknown', async () => {
    const { data: response, response: raw } = await client.embeddings.create({ model: 'ollama/all-minilm', input: 'direct', dimensions: 384 }).withResponse();
    expect(response.data[0]!.embedding).toHaveLength(384);
    expect(response.model).toBe('ollama/all-minilm');
    expect(ollamaFake.received.at(-1)!.body).toEqual({ model: 'all-minilm', input: 'direct', dimensions: 384 });
    expect((await ledgerRow(raw.headers.get('x-switchboard-generation-id'))).costPicos).toBe(0);
  });
});

describe('local/embed', () => {
  const cosine = (a: number[], b: number[]): number => a.reduce((sum, value, index) => sum + value * b[index]!, 0);

  it('is deterministic, unit length, 256 numbers by default, and closer for texts that share words', async () => {
    const texts = ['the cat sat on the mat', 'the cat sat on a mat', 'quarterly revenue rose sharply'];
    const first = await client.embeddings.create({ model: 'local/embed', input: texts });
    const again = await client.embeddings.create({ model: 'local/embed', input: texts, encoding_format: 'float' });
    const [cat, cat2, revenue] = first.data.map((item) => item.embedding) as [number[], number[], number[]];
    // The SDK decoded base64 the first time; float32 of the same numbers the second.
    expect(again.data.map((item) => item.embedding)).toEqual([cat, cat2, revenue]);
    expect(cat).toHaveLength(256);
    expect(Math.abs(cosine(cat, cat) - 1)).toBeLessThan(1e-5);
    expect(cosine(cat, cat2)).toBeGreaterThan(cosine(cat, revenue) + 0.3);
    expect(first.usage.prompt_tokens).toBe((await Promise.all(texts.map((text) => countTokensExact(text)))).reduce((a, b) => a + b, 0));
  });

  it('honours dimensions and refuses what it cannot make', async () => {
    const response = await client.embeddings.create({ model: 'local/embed', input: 'x', dimensions: 64 });
    expect(response.data[0]!.embedding).toHaveLength(64);
    const refused = await rawEmbeddings({ model: 'local/embed', input: 'x', dimensions: 5000 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe('dimensions');
  });
});

describe('the Vercel AI SDK’s embed and embedMany, pointed at the gateway', () => {
  const provider = () => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: ADMIN });

  it.each([
    ['OpenAI', 'openai/text-embedding-3-small', 1536],
    ['Gemini', 'gemini-embedding-001', 3072],
    ['Ollama', 'nomic-embed-text', 768],
  ] as const)('embed and embedMany against the %s fake', async (_name, model, length) => {
    const one = await embed({ model: provider().embedding(model), value: 'sunny day at the beach', maxRetries: 0 });
    expect(one.embedding).toEqual(fakeVector('sunny day at the beach', length));
    expect(one.usage.tokens).toBeGreaterThan(0);
    const values = ['rainy day in the mountains', 'a quiet library', 'espresso'];
    const many = await embedMany({ model: provider().embedding(model), values, maxRetries: 0 });
    expect(many.embeddings).toEqual(values.map((value) => fakeVector(value, length)));
  });

  it('embed and embedMany with local/embed, no key needed upstream', async () => {
    const one = await embed({ model: provider().embedding('local/embed'), value: 'hello', maxRetries: 0 });
    const many = await embedMany({ model: provider().embedding('local/embed'), values: ['hello', 'world'], maxRetries: 0 });
    expect(many.embeddings[0]).toEqual(one.embedding);
    expect(many.embeddings[1]).not.toEqual(one.embedding);
    expect(many.usage.tokens).toBe(2);
  });
});

describe('errors, in OpenAI’s shape', () => {
  it('refuses an embedding of a chat model, and a completion of an embedding model, as 400 naming model', async () => {
    const chat = await client.embeddings.create({ model: 'local/echo', input: 'x' }).catch((error: unknown) => error);
    expect(chat).toBeInstanceOf(OpenAI.BadRequestError);
    expect((chat as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('model');
    expect((chat as Error).message).toMatch(/not an embedding model/);

    const completion = await client.chat.completions.create({ model: 'local/embed', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    expect(completion).toBeInstanceOf(OpenAI.BadRequestError);
    expect((completion as Error).message).toMatch(/embedding model/);
  });

  it('answers an unknown model 404, an empty input 400, a GET 405', async () => {
    await expect(client.embeddings.create({ model: 'nobody/nothing', input: 'x' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const empty = await rawEmbeddings({ model: 'local/embed', input: [] });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { param: string } }).error.param).toBe('input');
    const blank = await rawEmbeddings({ model: 'local/embed', input: ['ok', ''] });
    expect(((await blank.json()) as { error: { param: string } }).error.param).toBe('input[1]');
    expect((await fetch(`${server.url}/v1/embeddings`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(405);
    expect((await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
  });

  it('bounds a request: at most 2048 inputs, token ids non-negative integers', async () => {
    const many = await rawEmbeddings({ model: 'local/embed', input: Array.from({ length: 2049 }, () => 'x') });
    expect(many.status).toBe(400);
    expect(((await many.json()) as { error: { param: string } }).error.param).toBe('input');
    expect((await rawEmbeddings({ model: 'local/embed', input: Array.from({ length: 2048 }, () => 'x') })).status).toBe(200);
    const negative = await rawEmbeddings({ model: 'local/embed', input: [1, -2, 3] });
    expect(negative.status).toBe(400);
    expect((await rawEmbeddings({ model: 'local/embed', input: 'x', encoding_format: 'int8' })).status).toBe(400);
  });

  it('maps an upstream failure and records it FAILED at no cost', async () => {
    openaiFake.enqueue({ kind: 'error', error: 'bad_request' });
    const failure = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' }).catch((error: unknown) => error);
    // The upstream refused what the gateway sent: a bad gateway to the caller, as for completions.
    expect(failure).toMatchObject({ status: 502, type: 'api_error', code: 'provider_error' });
    const rows = await server.app.services.storage.ledger.listGenerations({ providerId: 'openai', status: 'FAILED' }, { limit: 1 });
    expect(rows[0]).toMatchObject({ requestedModel: 'text-embedding-3-small', errorCode: 'PROVIDER_ERROR', costPicos: 0 });
  });

  it('retries an upstream 5xx like a completion, and records both attempts on the one row', async () => {
    openaiFake.enqueue({ kind: 'error', error: 'server_error' });
    const { data: response, response: raw } = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'try again' }).withResponse();
    expect(response.data[0]!.embedding).toEqual(fakeVector('try again', 1536));
    expect(openaiFake.received).toHaveLength(2);
    const row = await ledgerRow(raw.headers.get('x-switchboard-generation-id'));
    expect(row.status).toBe('SUCCEEDED');
    expect(row.attempts?.map((attempt) => attempt.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(row.costPicos).toBe(fakeTokenCount('try again') * PRICE.small);
  });

  it('records a request whose caller went away as CANCELLED', async () => {
    openaiFake.enqueue({ kind: 'hang', textBefore: '' });
    const controller = new AbortController();
    const pending = client.embeddings.create({ model: 'text-embedding-3-small', input: 'wait for me' }, { signal: controller.signal }).catch((error: unknown) => error);
    for (let wait = 0; wait < 200 && openaiFake.received.length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await pending;
    let row;
    for (let wait = 0; wait < 200; wait++) {
      row = (await server.app.services.storage.ledger.listGenerations({ providerId: 'openai', status: 'CANCELLED' }, { limit: 1 }))[0];
      if (row) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(row).toMatchObject({ requestedModel: 'text-embedding-3-small', errorCode: 'CANCELLED' });
  });
});
