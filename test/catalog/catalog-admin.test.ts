import { graphql } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/auth/viewer.js';
import { createContext } from '../../src/context.js';
import { ForbiddenError } from '../../src/errors.js';
import { getSchema } from '../../src/schema/index.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { errorCode, query } from './graphql.js';

const COMPLETE = `
  mutation($model: String!, $text: String!) {
    createCompletion(input: { model: $model, messages: [{ role: USER, content: $text }] }) {
      id model { id } provider { id } message { content } usage { promptTokens completionTokens costUsd }
    }
  }`;

interface CompletionData {
  createCompletion: {
    id: string;
    model: { id: string };
    provider: { id: string };
    message: { content: string };
    usage: { promptTokens: number; completionTokens: number; costUsd: number };
  };
}

const SET_PRICE = `
  mutation($input: ModelEndpointInput!) {
    updateModelEndpoint(input: $input) { id editedByAdmin priceSource pricing { promptPerMillion completionPerMillion known } }
  }`;

let server: TestServer;
let selfHosted: FakeUpstream;

beforeAll(async () => {
  [server, selfHosted] = await Promise.all([startTestServer(), startFakeOpenAI({ apiKey: null, models: ['house-llm'] })]);
});
afterAll(async () => {
  await Promise.all([server.stop(), selfHosted.close()]);
});

describe('upsertModel', () => {
  it('adds an alias to local/echo that createCompletion resolves', async () => {
    const upserted = await query<{ upsertModel: { id: string; aliases: string[]; editedByAdmin: boolean } }>(
      server,
      `mutation { upsertModel(input: { id: "local/echo", aliases: ["House-Echo"] }) { id aliases editedByAdmin } }`,
    );
    expect(upserted.upsertModel).toEqual({ id: 'local/echo', aliases: ['house-echo'], editedByAdmin: true });

    const completion = await query<CompletionData>(server, COMPLETE, { model: 'house-echo', text: 'hello through an alias' });
    expect(completion.createCompletion.model.id).toBe('local/echo');
    expect(completion.createCompletion.provider.id).toBe('local');
    expect(completion.createCompletion.message.content).toBe('hello through an alias');
    expect((await query<{ model: { id: string } }>(server, `{ model(id: "house-echo") { id } }`)).model.id).toBe('local/echo');
  });

  it('creates a model with an endpoint, and moves an alias to it', async () => {
    const created = await query<{ upsertModel: { id: string; name: string; vendor: string; contextLength: number; inputModalities: string[]; pricing: { promptPerMillion: number; known: boolean }; endpoints: Array<{ id: string; status: string }> } }>(
      server,
      `mutation($input: ModelInput!) { upsertModel(input: $input) {
        id name vendor contextLength inputModalities pricing { promptPerMillion known } endpoints { id status } } }`,
      {
        input: {
          id: 'anthropic/claude-sonnet-6',
          name: 'Claude Sonnet 6',
          contextLength: 1_000_000,
          inputModalities: ['TEXT', 'IMAGE'],
          aliases: ['claude-sonnet'],
          endpoints: [{ provider: 'anthropic', providerModelId: 'claude-sonnet-6', promptPerMillion: 2.5, completionPerMillion: 12.5 }],
        },
      },
    );
    expect(created.upsertModel).toEqual({
      id: 'anthropic/claude-sonnet-6',
      name: 'Claude Sonnet 6',
      vendor: 'anthropic',
      contextLength: 1_000_000,
      inputModalities: ['TEXT', 'IMAGE'],
      pricing: { promptPerMillion: 2.5, known: true },
      endpoints: [{ id: 'anthropic:claude-sonnet-6', status: 'ACTIVE' }],
    });
    expect((await query<{ model: { id: string } }>(server, `{ model(id: "claude-sonnet") { id } }`)).model.id).toBe('anthropic/claude-sonnet-6');
    const previous = await query<{ model: { aliases: string[] } }>(server, `{ model(id: "anthropic/claude-sonnet-5") { aliases } }`);
    expect(previous.model.aliases).toEqual(['claude-sonnet-5']);
  });

  it('edits only the fields it is given', async () => {
    const before = await query<{ model: { name: string; contextLength: number; maxOutputTokens: number; supportedParameters: string[] } }>(
      server,
      `{ model(id: "openai/gpt-4.1") { name contextLength maxOutputTokens supportedParameters } }`,
    );
    const after = await query<{ upsertModel: { name: string; contextLength: number; maxOutputTokens: number; supportedParameters: string[]; editedByAdmin: boolean } }>(
      server,
      `mutation { upsertModel(input: { id: "openai/gpt-4.1", contextLength: 500000 }) { name contextLength maxOutputTokens supportedParameters editedByAdmin } }`,
    );
    expect(after.upsertModel).toEqual({ ...before.model, contextLength: 500_000, editedByAdmin: true });
  });

  it('refuses invalid input', async () => {
    const upsert = `mutation($input: ModelInput!) { upsertModel(input: $input) { id } }`;
    expect(await errorCode(server, upsert, { input: { id: 'no-slash', contextLength: 10 } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'acme/new-model' } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'local/echo', aliases: ['openai/gpt-4o'] } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'local/echo', aliases: ['has space'] } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'local/echo', releasedAt: '2026-02-30' } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'local/echo', endpoints: [{ provider: 'nowhere', providerModelId: 'x' }] } })).toBe('BAD_REQUEST');
    // An endpoint belongs to one model: it cannot be claimed by another through upsertModel.
    expect(await errorCode(server, upsert, { input: { id: 'local/echo', endpoints: [{ provider: 'openai', providerModelId: 'gpt-4o' }] } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, SET_PRICE, { input: { provider: 'local', providerModelId: 'echo', promptPerMillion: -1 } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, SET_PRICE, { input: { provider: 'local', providerModelId: 'nope', promptPerMillion: 1 } })).toBe('BAD_REQUEST');
    // Nothing was written by the refused requests.
    expect((await query<{ model: null }>(server, `{ model(id: "acme/new-model") { id } }`)).model).toBeNull();
  });
});

describe('endpoint price changes', () => {
  it('apply to new generations only: each generation keeps the prices it ran at', async () => {
    const first = await query<{ updateModelEndpoint: { id: string; editedByAdmin: boolean; priceSource: string; pricing: { promptPerMillion: number; completionPerMillion: number } } }>(
      server,
      SET_PRICE,
      { input: { provider: 'local', providerModelId: 'echo', promptPerMillion: 1, completionPerMillion: 2 } },
    );
    expect(first.updateModelEndpoint).toMatchObject({ id: 'local:echo', editedByAdmin: true, priceSource: 'admin', pricing: { promptPerMillion: 1, completionPerMillion: 2 } });
    const cheap = (await query<CompletionData>(server, COMPLETE, { model: 'local/echo', text: 'price me please' })).createCompletion;

    await query(server, SET_PRICE, { input: { provider: 'local', providerModelId: 'echo', promptPerMillion: 10, completionPerMillion: 20 } });
    const dear = (await query<CompletionData>(server, COMPLETE, { model: 'local/echo', text: 'price me please' })).createCompletion;

    const expectedCheap = (cheap.usage.promptTokens * 1 + cheap.usage.completionTokens * 2) / 1_000_000;
    expect(cheap.usage.costUsd).toBeCloseTo(expectedCheap, 12);
    expect(cheap.usage.costUsd).toBeGreaterThan(0);
    expect(dear.usage.costUsd).toBeCloseTo(expectedCheap * 10, 12);

    // Read back after the second price change: the first generation still costs what it cost.
    const stored = await query<{ a: { usage: { costUsd: number } }; b: { usage: { costUsd: number } } }>(
      server,
      `query($a: ID!, $b: ID!) { a: generation(id: $a) { usage { costUsd } } b: generation(id: $b) { usage { costUsd } } }`,
      { a: cheap.id, b: dear.id },
    );
    expect(stored.a.usage.costUsd).toBeCloseTo(expectedCheap, 12);
    expect(stored.b.usage.costUsd).toBeCloseTo(expectedCheap * 10, 12);
    const rows = [await server.app.services.storage.ledger.findGeneration(cheap.id)];
    expect(rows[0]).toMatchObject({ promptPriceMicros: 1_000_000, completionPriceMicros: 2_000_000 });

    const usage = await query<{ model: { usage: { requests: number; costUsd: number; costKnown: boolean; errors: number; latencyP50Ms: number | null } } }>(
      server,
      `{ model(id: "local/echo") { usage { requests costUsd costKnown errors latencyP50Ms } } }`,
    );
    // The alias test's completion ran at price 0 before these two.
    expect(usage.model.usage).toMatchObject({ requests: 3, errors: 0, costKnown: true });
    expect(usage.model.usage.costUsd).toBeCloseTo(expectedCheap * 11, 12);
    expect(usage.model.usage.latencyP50Ms).not.toBeNull();
  });

  it('a price set to null becomes unknown, never zero', async () => {
    const data = await query<{ updateModelEndpoint: { pricing: { known: boolean } } }>(server, SET_PRICE, {
      input: { provider: 'openai', providerModelId: 'gpt-4o-mini', promptPerMillion: null },
    });
    expect(data.updateModelEndpoint.pricing.known).toBe(false);
  });
});

describe('upsertProvider', () => {
  it('adds a self-hosted OpenAI-compatible provider that serves requests at once', async () => {
    const added = await query<{ upsertProvider: { id: string; name: string; kind: string; enabled: boolean } }>(
      server,
      `mutation($input: ProviderInput!) { upsertProvider(input: $input) { id name kind enabled } }`,
      { input: { id: 'house', name: 'House vLLM', baseUrl: selfHosted.url } },
    );
    expect(added.upsertProvider).toEqual({ id: 'house', name: 'House vLLM', kind: 'OPENAI_COMPATIBLE', enabled: true });

    const synced = await query<{ syncProviderModels: { createdModels: Array<{ id: string }> } }>(
      server,
      `mutation { syncProviderModels(providerId: "house") { createdModels { id } } }`,
    );
    expect(synced.syncProviderModels.createdModels).toEqual([{ id: 'house/house-llm' }]);

    const completion = await query<CompletionData>(server, COMPLETE, { model: 'house/house-llm', text: 'hi' });
    expect(completion.createCompletion.provider.id).toBe('house');
    const chat = selfHosted.received.find((request) => request.path.endsWith('/chat/completions'));
    expect(chat?.body).toMatchObject({ model: 'house-llm' });

    const renamed = await query<{ upsertProvider: { name: string; enabled: boolean } }>(
      server,
      `mutation { upsertProvider(input: { id: "house", name: "House" }) { name enabled } }`,
    );
    expect(renamed.upsertProvider).toEqual({ name: 'House', enabled: true });
  });

  it('refuses what it cannot do honestly', async () => {
    const upsert = `mutation($input: ProviderInput!) { upsertProvider(input: $input) { id } }`;
    expect(await errorCode(server, upsert, { input: { id: 'other', kind: 'OPENAI', baseUrl: 'http://127.0.0.1:1/v1' } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'other' } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'other', baseUrl: 'http://user:secret@127.0.0.1:1/v1' } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'Bad Id', baseUrl: 'http://127.0.0.1:1/v1' } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'mistral', enabled: true } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'local', enabled: false } })).toBe('BAD_REQUEST');
    expect(await errorCode(server, upsert, { input: { id: 'local', kind: 'OPENAI' } })).toBe('BAD_REQUEST');
  });
});

describe('admin-only operations', () => {
  it('refuse a caller who is not an admin', async () => {
    const operations = [
      `mutation { upsertModel(input: { id: "local/echo", name: "x" }) { id } }`,
      `mutation { updateModelEndpoint(input: { provider: "local", providerModelId: "echo", promptPerMillion: 5 }) { id } }`,
      `mutation { upsertProvider(input: { id: "local", name: "x" }) { id } }`,
      `mutation { syncProviderModels(providerId: "local") { listed } }`,
      `{ model(id: "local/echo") { usage { requests } } }`,
    ];
    // The real schema and services, with the viewer of a key that may read but not administer.
    const reader: Viewer = { apiKeyId: 'key_reader', isAdmin: false, scopes: new Set(['READ']), key: null };
    for (const source of operations) {
      const contextValue = createContext(server.app.services, reader, 'req_test', undefined);
      const result = await graphql({ schema: getSchema(), source, contextValue });
      expect(result.errors?.[0]?.originalError, source).toBeInstanceOf(ForbiddenError);
    }
    const echo = await query<{ model: { name: string } }>(server, `{ model(id: "local/echo") { name } }`);
    expect(echo.model.name).not.toBe('x');
  });
});
