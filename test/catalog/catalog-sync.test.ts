import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncProviderCatalog } from '../../src/catalog/sync.js';
import { TimeoutError } from '../../src/errors.js';
import { listModelsWithEndpoints } from '../../src/db/catalog.js';
import { readCatalogSeed } from '../../src/db/seed.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer, sqliteOf } from '../helpers/app.js';
import { errorCode, query } from './graphql.js';

const SYNC = `
  mutation($id: ID!) {
    syncProviderModels(providerId: $id) {
      provider { id }
      listed unchanged notListed
      addedEndpoints { id providerModelId status pricing { known } model { id } }
      createdModels { id name vendor contextLength maxOutputTokens pricing { known } }
    }
  }`;

interface SyncData {
  syncProviderModels: {
    provider: { id: string };
    listed: number;
    unchanged: number;
    notListed: string[];
    addedEndpoints: Array<{ id: string; providerModelId: string; status: string; pricing: { known: boolean }; model: { id: string } }>;
    createdModels: Array<{ id: string; name: string; vendor: string; contextLength: number | null; maxOutputTokens: number | null; pricing: { known: boolean } }>;
  };
}

const seed = readCatalogSeed();
const seededOn = (provider: string): string[] =>
  seed.models.flatMap((model) => model.endpoints.filter((endpoint) => endpoint.provider === provider).map((endpoint) => endpoint.providerModelId));

let server: TestServer;
let openai: FakeUpstream;
let ollama: FakeUpstream;
let gemini: FakeUpstream;

beforeAll(async () => {
  [openai, ollama, gemini] = await Promise.all([
    // Three seeded ids, a dated id that is an alias of openai/gpt-4o, and two the catalog has never heard of.
    startFakeOpenAI({ models: ['gpt-4o', 'gpt-4o-mini', 'gpt-5.6-luna', 'gpt-4o-2024-08-06', 'o3-mini-2099', 'ft:gpt-4o:acme:custom:abc123'] }),
    // Groq's id for Llama 3.1 8B, OpenRouter's id for Qwen3 32B, and a local tag.
    startFakeOllama({ models: ['llama-3.1-8b-instant', 'qwen/qwen3-32b', 'llama3.2:latest'] }),
    startFakeGemini({
      models: [
        { name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', inputTokenLimit: 1_048_576, outputTokenLimit: 65_536, supportedGenerationMethods: ['generateContent'] },
        { name: 'models/gemini-9-experimental', displayName: 'Gemini 9 Experimental', inputTokenLimit: 2_000_000, outputTokenLimit: 100_000, supportedGenerationMethods: ['generateContent'] },
        { name: 'models/text-embedding-9', displayName: 'Embedding 9', inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent'] },
      ],
    }),
  ]);
  server = await startTestServer({
    OPENAI_API_KEY: FAKE_OPENAI_KEY,
    OPENAI_BASE_URL: openai.url,
    OLLAMA_BASE_URL: ollama.url,
    GEMINI_API_KEY: 'fake-gemini-key',
    GEMINI_BASE_URL: gemini.url,
  });
});
afterAll(async () => {
  await Promise.all([server.stop(), openai.close(), ollama.close(), gemini.close()]);
});

describe('syncProviderModels', () => {
  it('adds the OpenAI models the catalog lacks, linking known ones and creating the rest with unknown prices', async () => {
    const result = (await query<SyncData>(server, SYNC, { id: 'openai' })).syncProviderModels;
    expect(openai.received.some((request) => request.method === 'GET' && request.path.startsWith('/v1/models'))).toBe(true);
    expect(result.provider.id).toBe('openai');
    expect(result.listed).toBe(6);
    expect(result.unchanged).toBe(3);
    expect(result.addedEndpoints.map((endpoint) => [endpoint.providerModelId, endpoint.model.id])).toEqual([
      ['gpt-4o-2024-08-06', 'openai/gpt-4o'],
      ['o3-mini-2099', 'openai/o3-mini-2099'],
      ['ft:gpt-4o:acme:custom:abc123', 'openai/ft:gpt-4o:acme:custom:abc123'],
    ]);
    for (const endpoint of result.addedEndpoints) expect(endpoint).toMatchObject({ status: 'ACTIVE', pricing: { known: false } });
    expect(result.createdModels).toEqual([
      { id: 'openai/o3-mini-2099', name: 'o3-mini-2099', vendor: 'openai', contextLength: null, maxOutputTokens: null, pricing: { known: false } },
      { id: 'openai/ft:gpt-4o:acme:custom:abc123', name: 'ft:gpt-4o:acme:custom:abc123', vendor: 'openai', contextLength: null, maxOutputTokens: null, pricing: { known: false } },
    ]);
    const expectedNotListed = seededOn('openai').filter((id) => !['gpt-4o', 'gpt-4o-mini', 'gpt-5.6-luna'].includes(id)).sort();
    expect([...result.notListed].sort()).toEqual(expectedNotListed);

    // Linking to openai/gpt-4o added an endpoint without touching the model's known (seeded) price.
    const gpt4o = await query<{ model: { pricing: { promptPerMillion: number; known: boolean }; endpoints: Array<{ id: string }> } }>(
      server,
      `{ model(id: "openai/gpt-4o") { pricing { promptPerMillion known } endpoints { id } } }`,
    );
    expect(gpt4o.model.pricing).toEqual({ promptPerMillion: 2.5, known: true });
    expect(gpt4o.model.endpoints.map((endpoint) => endpoint.id)).toContain('openai:gpt-4o-2024-08-06');
  });

  it('changes nothing on a second run', async () => {
    const again = (await query<SyncData>(server, SYNC, { id: 'openai' })).syncProviderModels;
    expect(again).toMatchObject({ listed: 6, unchanged: 6, addedEndpoints: [], createdModels: [] });
  });

  it('serves a synced model, with its cost flagged unknown rather than zero', async () => {
    const completion = await query<{ createCompletion: { model: { id: string }; usage: { costUsd: number; costKnown: boolean; promptTokens: number } } }>(
      server,
      `mutation { createCompletion(input: { model: "openai/o3-mini-2099", messages: [{ role: USER, content: "hi" }] }) {
        model { id } usage { costUsd costKnown promptTokens } } }`,
    );
    expect(completion.createCompletion.model.id).toBe('openai/o3-mini-2099');
    expect(completion.createCompletion.usage.costKnown).toBe(false);
    const usage = await query<{ model: { usage: { requests: number; costKnown: boolean; unpricedRequests: number } } }>(
      server,
      `{ model(id: "openai/o3-mini-2099") { usage { requests costKnown unpricedRequests } } }`,
    );
    expect(usage.model.usage).toEqual({ requests: 1, costKnown: false, unpricedRequests: 1 });
  });

  it('matches Ollama tags by another provider’s model id, and creates the unknown ones', async () => {
    const result = (await query<SyncData>(server, SYNC, { id: 'ollama' })).syncProviderModels;
    expect(ollama.received.some((request) => request.path === '/api/tags')).toBe(true);
    expect(result.addedEndpoints.map((endpoint) => [endpoint.id, endpoint.model.id])).toEqual([
      ['ollama:llama-3.1-8b-instant', 'meta-llama/llama-3.1-8b-instruct'],
      ['ollama:qwen/qwen3-32b', 'qwen/qwen3-32b'],
      ['ollama:llama3.2:latest', 'ollama/llama3.2:latest'],
    ]);
    // /api/tags gives no context length: null says "unknown", and a minimum-context filter leaves it out.
    expect(result.createdModels).toMatchObject([{ id: 'ollama/llama3.2:latest', contextLength: null, vendor: 'ollama' }]);
    const filtered = await query<{ models: { edges: Array<{ node: { id: string } }> } }>(
      server,
      `{ models(first: 200, filter: { provider: "ollama", minContextLength: 1 }) { edges { node { id } } } }`,
    );
    expect(filtered.models.edges.map((edge) => edge.node.id).sort()).toEqual(['meta-llama/llama-3.1-8b-instruct', 'mixedbread-ai/mxbai-embed-large', 'nomic-ai/nomic-embed-text', 'qwen/qwen3-32b']);
  });

  it('takes Gemini limits from the listing and skips models that cannot generate', async () => {
    const result = (await query<SyncData>(server, SYNC, { id: 'gemini' })).syncProviderModels;
    expect(result.listed).toBe(2);
    expect(result.unchanged).toBe(1);
    expect(result.createdModels).toEqual([
      { id: 'gemini/gemini-9-experimental', name: 'Gemini 9 Experimental', vendor: 'gemini', contextLength: 2_000_000, maxOutputTokens: 100_000, pricing: { known: false } },
    ]);
  });

  it('refuses unknown and disabled providers, and reports upstream failures as provider errors', async () => {
    expect(await errorCode(server, SYNC, { id: 'nowhere' })).toBe('BAD_REQUEST');
    expect(await errorCode(server, SYNC, { id: 'groq' })).toBe('BAD_REQUEST');
    const broken = await startTestServer({ OPENAI_API_KEY: 'sk-wrong', OPENAI_BASE_URL: openai.url });
    try {
      expect(await errorCode(broken, SYNC, { id: 'openai' })).toBe('PROVIDER_ERROR');
    } finally {
      await broken.stop();
    }
  });
});

describe('a provider that never answers its model list', () => {
  it('times the sync out instead of hanging', async () => {
    const silent = createServer(() => {
      // Never answers: the sync must give up on its own.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      await query(server, `mutation($url: String!) { upsertProvider(input: { id: "silent", baseUrl: $url }) { id } }`, { url: `http://127.0.0.1:${port}/v1` });
      const started = Date.now();
      await expect(syncProviderCatalog(server.app.services, 'silent', { timeoutMs: 200 })).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('listModelsWithEndpoints, what GET /v1/models lists from', () => {
  it('lists every model with its aliases and endpoints', () => {
    const entries = listModelsWithEndpoints(sqliteOf(server.app.services));
    expect(entries.length).toBeGreaterThanOrEqual(seed.models.length);
    const sonnet = entries.find((entry) => entry.model.id === 'anthropic/claude-sonnet-5');
    expect(sonnet?.aliases).toEqual(['claude-sonnet', 'claude-sonnet-5']);
    expect(sonnet?.endpoints.map((endpoint) => endpoint.id).sort()).toEqual(['anthropic:claude-sonnet-5', 'openrouter:anthropic/claude-sonnet-5']);
    expect(entries.map((entry) => entry.model.id)).toEqual(entries.map((entry) => entry.model.id).sort());
    // Models added by sync are in it too, with the endpoint that brought them.
    expect(entries.find((entry) => entry.model.id === 'ollama/llama3.2:latest')?.endpoints.map((endpoint) => endpoint.id)).toEqual(['ollama:llama3.2:latest']);
  });
});
