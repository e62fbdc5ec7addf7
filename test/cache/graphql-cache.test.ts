import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse, subscribeWs, wsClient, type ExecutionResultLike } from '../helpers/subscriptions.js';

const ADMIN = 'sk-admin-cache-graphql-test';
const AUTH = { authorization: `Bearer ${ADMIN}` };

const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) {
    createCompletion(input: $input) {
      id
      cache
      finishReason
      message { content toolCalls { id name arguments } }
      usage { promptTokens completionTokens costUsd }
    }
  }
`;

const STREAM = /* GraphQL */ `
  subscription Stream($input: CompletionInput!) {
    completionStream(input: $input) {
      __typename
      ... on CompletionStarted { id cache provider { id } model { id } }
      ... on CompletionDelta { id text reasoning toolCalls { index id name argumentsDelta } }
      ... on CompletionDone { id finishReason rawFinishReason usage { promptTokens completionTokens costUsd } }
      ... on CompletionError { id code message }
    }
  }
`;

const LEDGER = /* GraphQL */ `
  query Ledger($id: ID!) {
    generation(id: $id) { status streamed cacheHit savedUsd usage { costUsd } }
  }
`;

interface Completion {
  id: string;
  cache: string | null;
  finishReason: string;
  message: { content: string | null; toolCalls: Array<{ id: string; name: string; arguments: string }> };
  usage: { promptTokens: number; completionTokens: number; costUsd: number | null };
}

type StreamEvent = Record<string, unknown> & { __typename: string; id: string };

let server: TestServer;
let fake: FakeUpstream;
let unique = 0;
const prompt = (): string => `graphql cache prompt ${++unique} ${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_ADMIN_KEY: ADMIN });
});
afterAll(async () => {
  await server.stop();
  await fake.close();
});

const upstreamCalls = (): number => fake.received.filter((request) => request.path.endsWith('/chat/completions')).length;

async function complete(input: Record<string, unknown>): Promise<Completion> {
  const body = await server.graphql<{ createCompletion: Completion }>(COMPLETE, { input }, AUTH);
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.createCompletion;
}

async function ledger(id: string): Promise<{ status: string; streamed: boolean; cacheHit: boolean; savedUsd: number | null; usage: { costUsd: number | null } }> {
  const body = await server.graphql<{ generation: { status: string; streamed: boolean; cacheHit: boolean; savedUsd: number | null; usage: { costUsd: number | null } } }>(LEDGER, { id }, AUTH);
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.generation;
}

function events(results: ExecutionResultLike[]): StreamEvent[] {
  return results.map((result) => {
    expect(result.errors).toBeUndefined();
    return (result.data as { completionStream: StreamEvent }).completionStream;
  });
}

/** The events without what differs between two generations by nature: their ids, and what each cost. */
function comparable(list: StreamEvent[]): unknown[] {
  return list.map(({ id: _id, cache: _cache, usage, ...rest }) => ({ ...rest, ...(usage ? { usage: { ...(usage as Record<string, unknown>), costUsd: 'ignored' } } : {}) }));
}

describe('the response cache over GraphQL', () => {
  it('answers createCompletion twice with one upstream call; the second is a free cacheHit generation', async () => {
    const input = { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: prompt() }], cache: { ttlSeconds: 60 } };
    const before = upstreamCalls();
    const first = await complete(input);
    const second = await complete(input);
    expect(upstreamCalls() - before).toBe(1);
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(second.message).toEqual(first.message);
    expect(second.usage).toEqual({ ...first.usage, costUsd: 0 });
    const original = await ledger(first.id);
    expect(original.usage.costUsd).toBeGreaterThan(0);
    expect(await ledger(second.id)).toMatchObject({ status: 'SUCCEEDED', cacheHit: true, savedUsd: original.usage.costUsd, usage: { costUsd: 0 } });
    // Without the cache input the request takes no part.
    const plain = await complete({ ...input, cache: undefined });
    expect(plain.cache).toBeNull();
    expect(upstreamCalls() - before).toBe(2);
  });

  it('replays a streamed subscription as the same events over SSE and WebSocket, with one upstream call', async () => {
    const input = { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: prompt() }], cache: { ttlSeconds: 60 } };
    fake.enqueue({ kind: 'text', text: 'A streamed answer in several pieces, replayed as it was sent', promptTokens: 11, completionTokens: 13 });
    const before = upstreamCalls();
    const first = events(await subscribeSse(server.url, STREAM, { input }, { headers: AUTH }));
    const client = wsClient(server.wsUrl, AUTH);
    let second: StreamEvent[];
    try {
      second = events(await subscribeWs(client, STREAM, { input }));
    } finally {
      await client.dispose();
    }
    expect(upstreamCalls() - before).toBe(1);
    expect(first[0]).toMatchObject({ __typename: 'CompletionStarted', cache: 'MISS' });
    expect(second[0]).toMatchObject({ __typename: 'CompletionStarted', cache: 'HIT' });
    expect(first.filter((event) => event.__typename === 'CompletionDelta').length).toBeGreaterThan(2);
    expect(comparable(second)).toEqual(comparable(first));
    const done = second.at(-1)!;
    expect(done).toMatchObject({ __typename: 'CompletionDone', finishReason: 'STOP', usage: { promptTokens: 11, completionTokens: 13, costUsd: 0 } });
    expect(await ledger(done.id)).toMatchObject({ status: 'SUCCEEDED', streamed: true, cacheHit: true, usage: { costUsd: 0 } });
  });

  it('skips the lookup with bypass: true, and refuses a TTL out of range', async () => {
    const input = { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: prompt() }], cache: { ttlSeconds: 60 } };
    const before = upstreamCalls();
    expect((await complete(input)).cache).toBe('MISS');
    expect((await complete({ ...input, cache: { ttlSeconds: 60, bypass: true } })).cache).toBe('BYPASS');
    expect((await complete(input)).cache).toBe('HIT');
    expect(upstreamCalls() - before).toBe(2);
    const refused = await server.graphql(COMPLETE, { input: { ...input, cache: { ttlSeconds: -5 } } }, AUTH);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
  });
});
