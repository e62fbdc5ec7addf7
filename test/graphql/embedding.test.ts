import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

/** GraphQL's createEmbedding (issue 18): the same service as POST /v1/embeddings, in GraphQL's own terms. */
const ADMIN = 'admin-secret-for-graphql-embeddings-01';
const EMBED = `mutation ($input: CreateEmbeddingInput!) {
  createEmbedding(input: $input) {
    id servedModel providerModelId dimensions latencyMs warnings
    model { id outputModalities }
    provider { id }
    vectors { index values }
    usage { promptTokens completionTokens totalTokens costUsd costKnown estimated }
  }
}`;

interface Embedding {
  id: string;
  servedModel: string;
  dimensions: number;
  model: { id: string; outputModalities: string[] } | null;
  provider: { id: string };
  vectors: Array<{ index: number; values: number[] }>;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; costUsd: number | null; costKnown: boolean; estimated: boolean };
}

let server: TestServer;
const admin = { authorization: `Bearer ${ADMIN}` };

beforeAll(async () => {
  server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN });
});
afterAll(async () => {
  await server.stop();
});

describe('createEmbedding', () => {
  it('embeds texts with local/embed and records the generation', async () => {
    const body = await server.graphql<{ createEmbedding: Embedding }>(EMBED, { input: { model: 'local/embed', input: ['alpha beta', 'gamma'], dimensions: 32, metadata: { team: 'search' } } }, admin);
    expect(body.errors).toBeUndefined();
    const result = body.data!.createEmbedding;
    expect(result).toMatchObject({ servedModel: 'local/embed', dimensions: 32, model: { id: 'local/embed', outputModalities: ['EMBEDDING'] }, provider: { id: 'local' } });
    expect(result.vectors.map((vector) => [vector.index, vector.values.length])).toEqual([[0, 32], [1, 32]]);
    expect(result.usage).toMatchObject({ completionTokens: 0, costUsd: 0, costKnown: true, estimated: false });
    expect(result.usage.promptTokens).toBeGreaterThan(0);

    const generation = await server.graphql<{ generation: { status: string; requestedModel: string; usage: { promptTokens: number }; metadata: unknown; requestSummary: unknown } }>(
      'query ($id: ID!) { generation(id: $id) { status requestedModel usage { promptTokens } metadata requestSummary { messages embeddingInputs dimensions } } }',
      { id: result.id },
      admin,
    );
    expect(generation.data?.generation).toEqual({ status: 'SUCCEEDED', requestedModel: 'local/embed', usage: { promptTokens: result.usage.promptTokens }, metadata: { team: 'search' }, requestSummary: { messages: null, embeddingInputs: 2, dimensions: 32 } });
  });

  it('refuses a chat model, and createCompletion refuses an embedding model, both BAD_REQUEST', async () => {
    const embedChat = await server.graphql(EMBED, { input: { model: 'local/echo', input: ['x'] } }, admin);
    expect(embedChat.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    const complete = await server.graphql('mutation ($input: CompletionInput!) { createCompletion(input: $input) { id } }', { input: { model: 'local/embed', messages: [{ role: 'USER', content: 'hi' }] } }, admin);
    expect(complete.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    expect(complete.errors?.[0]?.message).toMatch(/embedding model/);
  });

  it('needs the COMPLETIONS scope', async () => {
    const created = await server.graphql<{ createApiKey: { secret: string } }>('mutation { createApiKey(input: { name: "reader", scopes: [READ] }) { secret } }', {}, admin);
    const refused = await server.graphql(EMBED, { input: { model: 'local/embed', input: ['x'] } }, { authorization: `Bearer ${created.data!.createApiKey.secret}` });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});
