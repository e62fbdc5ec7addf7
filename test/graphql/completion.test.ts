import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) {
    createCompletion(input: $input) {
      id
      message { role content toolCalls { id } }
      finishReason
      usage { promptTokens completionTokens totalTokens cachedPromptTokens reasoningTokens costUsd costKnown estimated }
      model { id }
      provider { id kind }
      latencyMs
    }
  }
`;

interface CompletionData {
  createCompletion: {
    id: string;
    message: { role: string; content: string; toolCalls: unknown[] };
    finishReason: string;
    usage: { promptTokens: number; completionTokens: number; totalTokens: number; cachedPromptTokens: number; reasoningTokens: number; costUsd: number; costKnown: boolean; estimated: boolean };
    model: { id: string };
    provider: { id: string; kind: string };
    latencyMs: number;
  };
}

describe('createCompletion over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  const user = (content: string) => [{ role: 'USER', content }];

  it('echoes the last user message on local/echo with STOP and consistent usage', async () => {
    const body = await server.graphql<CompletionData>(COMPLETE, {
      input: { model: 'local/echo', messages: [{ role: 'SYSTEM', content: 'Be brief.' }, ...user('first'), { role: 'ASSISTANT', content: 'ok' }, ...user('Hello from the test suite')] },
    });
    expect(body.errors).toBeUndefined();
    const completion = body.data!.createCompletion;
    expect(completion.message).toEqual({ role: 'ASSISTANT', content: 'Hello from the test suite', toolCalls: [] });
    expect(completion.finishReason).toBe('STOP');
    expect(completion.model.id).toBe('local/echo');
    expect(completion.provider).toEqual({ id: 'local', kind: 'LOCAL' });
    const usage = completion.usage;
    expect(usage.completionTokens).toBeGreaterThan(0);
    expect(usage.promptTokens).toBeGreaterThan(usage.completionTokens);
    expect(usage.totalTokens).toBe(usage.promptTokens + usage.completionTokens);
    expect(usage).toMatchObject({ costUsd: 0, costKnown: true, estimated: false });
  });

  it('stops at maxTokens with LENGTH', async () => {
    const body = await server.graphql<CompletionData>(COMPLETE, { input: { model: 'local/echo', maxTokens: 2, messages: user('one two three four five six') } });
    const completion = body.data!.createCompletion;
    expect(completion.finishReason).toBe('LENGTH');
    expect(completion.usage.completionTokens).toBe(2);
    expect(completion.message.content).toBe('one two');
  });

  it('answers an unknown model with MODEL_NOT_FOUND', async () => {
    const body = await server.graphql(COMPLETE, { input: { model: 'nobody/nothing', messages: user('hi') } });
    expect(body.data?.['createCompletion'] ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
  });

  it('answers a catalog model whose providers are not configured with MODEL_NOT_FOUND naming the reason', async () => {
    const body = await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: user('hi') } });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
    expect(body.errors?.[0]?.message).toMatch(/No enabled provider/);
  });

  it('answers an empty message list with BAD_REQUEST naming the field', async () => {
    const body = await server.graphql(COMPLETE, { input: { model: 'local/echo', messages: [] } });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'messages' });
  });

  it('rejects out-of-range parameters with BAD_REQUEST', async () => {
    const body = await server.graphql(COMPLETE, { input: { model: 'local/echo', temperature: 7, messages: user('hi') } });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'temperature' });
  });

  it('refuses maxTokens above the model’s maximum output with BAD_REQUEST naming the field', async () => {
    // local/echo's catalog entry allows 4096 output tokens.
    const body = await server.graphql(COMPLETE, { input: { model: 'local/echo', maxTokens: 5000, messages: user('hi') } });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'maxTokens' });
    const ok = await server.graphql(COMPLETE, { input: { model: 'local/echo', maxTokens: 4096, messages: user('hi') } });
    expect(ok.errors).toBeUndefined();
  });

  it('gives malformed GraphQL a 400 with BAD_REQUEST and no stack trace', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ models( }' }),
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);

    const invalidJson = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(invalidJson.status).toBe(400);
  });

  it('records a generation row for every request, failed ones included', async () => {
    const before = new Database(server.databasePath, { readonly: true });
    const count = (): number => (before.prepare('select count(*) as n from generations').get() as { n: number }).n;
    const start = count();
    const ok = await server.graphql<CompletionData>(COMPLETE, { input: { model: 'local/echo', messages: user('recorded'), metadata: { team: 'qa' } } });
    await server.graphql(COMPLETE, { input: { model: 'local/echo', messages: [{ role: 'TOOL', content: 'x', toolCallId: '' }] } });
    // The refused request is in the ledger too: FAILED with its code, and no provider (none was called).
    expect(count()).toBe(start + 2);
    const refused = before.prepare("select * from generations where status = 'FAILED' order by created_at desc limit 1").get() as Record<string, unknown>;
    expect(refused).toMatchObject({ error_code: 'BAD_REQUEST', provider_id: null, cost_picos: 0 });

    const row = before.prepare('select * from generations where id = ?').get(ok.data!.createCompletion.id) as Record<string, unknown>;
    expect(row).toMatchObject({ status: 'SUCCEEDED', finish_reason: 'stop', model_id: 'local/echo', provider_id: 'local', streamed: 0, cost_picos: 0 });
    expect(row['total_tokens']).toBe(ok.data!.createCompletion.usage.totalTokens);
    expect(JSON.parse(String(row['metadata']))).toEqual({ team: 'qa' });
    before.close();

    const queried = await server.graphql<{ generation: { status: string; usage: { totalTokens: number }; attempts: Array<{ provider: { id: string }; status: string }> } }>(
      `query($id: ID!) { generation(id: $id) { status usage { totalTokens } attempts { provider { id } status } } }`,
      { id: ok.data!.createCompletion.id },
    );
    expect(queried.data?.generation).toEqual({ status: 'SUCCEEDED', usage: { totalTokens: ok.data!.createCompletion.usage.totalTokens }, attempts: [{ provider: { id: 'local' }, status: 'SUCCEEDED' }] });
  });

  it('pages through generations newest first, forwards and backwards', async () => {
    const ids: string[] = [];
    for (const text of ['page one', 'page two', 'page three']) {
      const body = await server.graphql<CompletionData>(COMPLETE, { input: { model: 'local/echo', messages: user(text), metadata: { page: true } } });
      ids.push(body.data!.createCompletion.id);
    }
    type Page = { generations: { edges: Array<{ node: { id: string } }>; pageInfo: { endCursor: string; hasNextPage: boolean; hasPreviousPage: boolean } } };
    const query = `query($first: Int, $after: String, $last: Int, $before: String) { generations(first: $first, after: $after, last: $last, before: $before) { edges { node { id } } pageInfo { endCursor hasNextPage hasPreviousPage } } }`;
    const first = await server.graphql<Page>(query, { first: 2 });
    expect(first.data!.generations.edges.map((edge) => edge.node.id)).toEqual([ids[2], ids[1]]);
    expect(first.data!.generations.pageInfo.hasNextPage).toBe(true);
    const next = await server.graphql<Page>(query, { first: 1, after: first.data!.generations.pageInfo.endCursor });
    expect(next.data!.generations.edges.map((edge) => edge.node.id)).toEqual([ids[0]]);
    const back = await server.graphql<Page>(query, { last: 1, before: ids[1] });
    expect(back.data!.generations.edges.map((edge) => edge.node.id)).toEqual([ids[2]]);
  });

  it('serves /healthz and echoes a sane x-request-id', async () => {
    const response = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    expect(await response.json()).toEqual({ status: 'ok' });
    const unsafe = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^req_/);
  });
});
