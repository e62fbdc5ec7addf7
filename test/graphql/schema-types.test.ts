import { GraphQLError, isObjectType, isScalarType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generations } from '../../src/db/schema.js';
import { getSchema } from '../../src/schema/index.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type GraphQLBody, type TestServer, sqliteOf } from '../helpers/app.js';

/** The schema of issue 13 at work: typed inputs, enums for closed sets, null for unknowns, one authorization path. */

const ADMIN = 'admin-secret-for-schema-types-0123';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const code = (body: GraphQLBody<unknown>) => body.errors?.[0]?.extensions?.['code'];

const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { id finishReason message { toolCalls { name } } } }
`;

const GENERATION = /* GraphQL */ `
  query Generation($id: ID!) {
    generation(id: $id) {
      status errorCode
      attempts { provider { id kind } providerId status errorCode }
      requestSummary { messages tools toolChoice { mode tool } }
    }
  }
`;

const WEATHER_TOOL = { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

describe('the schema, honest about what it knows', () => {
  let server: TestServer;
  let fake: FakeUpstream;

  async function admin<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const body = await server.graphql<T>(query, variables, bearer(ADMIN));
    expect(body.errors).toBeUndefined();
    return body.data!;
  }

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
  });

  it('sends DEVELOPER messages as the normalized system role', async () => {
    await admin(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'DEVELOPER', content: 'Be terse.' }, { role: 'USER', content: 'Hi' }] } });
    const body = fake.received.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(body.messages[0]).toEqual({ role: 'system', content: 'Be terse.' });
  });

  it('takes toolChoice as a typed input: a named tool, a mode, and nothing ambiguous', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Lisbon"}', promptTokens: 20, completionTokens: 5 });
    const named = await admin<{ createCompletion: { id: string; finishReason: string; message: { toolCalls: Array<{ name: string }> } } }>(COMPLETE, {
      input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'Weather?' }], tools: [WEATHER_TOOL], toolChoice: { tool: 'get_weather' } },
    });
    expect(named.createCompletion).toMatchObject({ finishReason: 'TOOL_CALLS', message: { toolCalls: [{ name: 'get_weather' }] } });
    expect((fake.received.at(-1)!.body as { tool_choice: unknown }).tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    const recorded = await admin<{ generation: { requestSummary: unknown } }>(GENERATION, { id: named.createCompletion.id });
    expect(recorded.generation.requestSummary).toEqual({ messages: 1, tools: ['get_weather'], toolChoice: { mode: 'REQUIRED', tool: 'get_weather' } });

    await admin(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'No tools' }], tools: [WEATHER_TOOL], toolChoice: { mode: 'NONE' } } });
    expect((fake.received.at(-1)!.body as { tool_choice: unknown }).tool_choice).toBe('none');

    for (const toolChoice of [{ mode: 'AUTO', tool: 'get_weather' }, {}]) {
      const refused = await server.graphql(COMPLETE, { input: { model: 'local/echo', messages: [{ role: 'USER', content: 'x' }], tools: [WEATHER_TOOL], toolChoice } }, bearer(ADMIN));
      expect(code(refused)).toBe('BAD_REQUEST');
    }
  });

  it('records a failure with ErrorCode and AttemptStatus enums and the attempt’s Provider', async () => {
    fake.enqueue({ kind: 'error', error: 'authentication' });
    const failed = await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'fail' }] } }, bearer(ADMIN));
    const failure = code(failed);
    expect(failure).toBe('PROVIDER_ERROR');
    const page = await admin<{ generations: { totalCount: number; edges: Array<{ node: { id: string } }> } }>(
      `{ generations(first: 1, filter: { status: FAILED, provider: "openai" }) { totalCount edges { node { id } } } }`,
    );
    expect(page.generations.totalCount).toBe(1);
    const recorded = await admin<{ generation: unknown }>(GENERATION, { id: page.generations.edges[0]!.node.id });
    expect(recorded.generation).toMatchObject({
      status: 'FAILED',
      errorCode: failure,
      attempts: [{ provider: { id: 'openai', kind: 'OPENAI' }, providerId: 'openai', status: 'FAILED', errorCode: failure }],
    });
  });

  it('shows an unknown context length, price and error rate as null, and catalog dates as DateTime', async () => {
    await admin(`mutation { upsertModel(input: { id: "acme/mystery", contextLength: null, releasedAt: "2025-01-31", endpoints: [{ provider: "openai", providerModelId: "mystery-1" }] }) { id } }`);
    const { model } = await admin<{ model: unknown }>(
      `{ model(id: "acme/mystery") { contextLength releasedAt pricing { known promptPerMillion completionPerMillion cachedPromptPerMillion } endpoints { priceDate pricing { promptPerMillion } } } }`,
    );
    expect(model).toEqual({
      contextLength: null,
      releasedAt: '2025-01-31T00:00:00.000Z',
      pricing: { known: false, promptPerMillion: null, completionPerMillion: null, cachedPromptPerMillion: null },
      endpoints: [{ priceDate: null, pricing: { promptPerMillion: null } }],
    });
    const seeded = await admin<{ model: { endpoints: Array<{ priceDate: string | null }> } }>(`{ model(id: "openai/gpt-4o") { endpoints { priceDate } } }`);
    for (const endpoint of seeded.model.endpoints) expect(endpoint.priceDate).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);

    const { provider } = await admin<{ provider: { health: { requests: number; errorRate: number | null } } }>(`{ provider(id: "anthropic") { health { requests errorRate } } }`);
    expect(provider.health).toEqual({ requests: 0, errorRate: null });
  });

  it('counts every connection and names what an audit entry changed', async () => {
    const audit = await admin<{ auditLog: { totalCount: number; edges: Array<{ node: { action: string; changedFields: string[]; before: unknown } }> } }>(
      `{ auditLog(first: 5, filter: { targetType: "model", targetId: "acme/mystery" }) { totalCount edges { node { action changedFields before } } } }`,
    );
    expect(audit.auditLog.totalCount).toBe(1);
    expect(audit.auditLog.edges[0]!.node).toMatchObject({ action: 'model.create', before: null });
    expect(audit.auditLog.edges[0]!.node.changedFields).toContain('id');

    const counts = await admin<{ models: { totalCount: number }; generations: { totalCount: number }; apiKeys: { totalCount: number }; auditLog: { totalCount: number } }>(
      `{ models(first: 1) { totalCount } generations(first: 1) { totalCount } apiKeys(first: 1) { totalCount } auditLog(first: 1) { totalCount } }`,
    );
    expect(counts.models.totalCount).toBeGreaterThan(60);
    expect(counts.generations.totalCount).toBeGreaterThanOrEqual(4);
    expect(counts.apiKeys.totalCount).toBe(0);
    expect(counts.auditLog.totalCount).toBeGreaterThanOrEqual(1);
  });

  it('sums usage past 2^31 exactly with SafeInt', async () => {
    const db = sqliteOf(server.app.services);
    const [template] = db.select().from(generations).limit(1).all();
    const huge = 3_000_000_000;
    db.insert(generations)
      .values([1, 2].map((index) => ({ ...template!, id: `gen_huge_${index}`, modelId: 'acme/huge', status: 'SUCCEEDED' as const, promptTokens: huge, completionTokens: huge, totalTokens: 2 * huge })))
      .run();
    const { usage } = await admin<{ usage: Array<{ requests: number; promptTokens: number; completionTokens: number }> }>(
      `{ usage(filter: { model: "acme/huge" }) { requests promptTokens completionTokens } }`,
    );
    expect(usage).toEqual([{ requests: 2, promptTokens: 2 * huge, completionTokens: 2 * huge }]);

    const safeInt = getSchema().getType('SafeInt');
    if (!isScalarType(safeInt)) throw new Error('SafeInt is missing');
    expect(safeInt.serialize(2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(() => safeInt.serialize(2 ** 53)).toThrow(GraphQLError);
    expect(() => safeInt.serialize(1.5)).toThrow(GraphQLError);
    expect(() => safeInt.parseValue('12')).toThrow(GraphQLError);
  });
});

describe('authorization: one path, scope-auth', () => {
  it('declares authScopes on every mutation and on every admin query field', () => {
    const schema = getSchema();
    const scopesOf = (field: { extensions: Record<string, unknown> }): unknown => {
      const options = field.extensions['pothosOptions'];
      return typeof options === 'object' && options !== null ? (options as Record<string, unknown>)['authScopes'] : undefined;
    };
    for (const field of Object.values(schema.getMutationType()!.getFields())) expect(scopesOf(field), `Mutation.${field.name}`).toBeDefined();
    const queries = schema.getQueryType()!.getFields();
    for (const name of ['apiKeys', 'auditLog']) expect(scopesOf(queries[name]!), `Query.${name}`).toEqual({ admin: true });
    const model = schema.getType('Model');
    if (!isObjectType(model)) throw new Error('Model is missing');
    expect(scopesOf(model.getFields()['usage']!), 'Model.usage').toEqual({ admin: true });
  });
});
