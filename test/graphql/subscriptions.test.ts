import type { GenerationRow } from '../../src/db/schema.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse, subscribeWs, waitFor, wsClient, type ExecutionResultLike } from '../helpers/subscriptions.js';

const STREAM = /* GraphQL */ `
  subscription Stream($input: CompletionInput!) {
    completionStream(input: $input) {
      __typename
      ... on CompletionStarted { id model { id } provider { id } }
      ... on CompletionDelta { id text }
      ... on CompletionDone { id finishReason usage { promptTokens completionTokens totalTokens costUsd } }
      ... on CompletionError { id code message usage { completionTokens estimated } }
    }
  }
`;

type Event = { __typename: string; id: string; text?: string; finishReason?: string; code?: string; usage?: { promptTokens: number; completionTokens: number; totalTokens: number } };

function events(results: ExecutionResultLike[]): Event[] {
  return results.map((result) => {
    expect(result.errors).toBeUndefined();
    return (result.data as { completionStream: Event }).completionStream;
  });
}

function checkStream(list: Event[], answer: string): void {
  expect(list[0]?.__typename).toBe('CompletionStarted');
  const deltas = list.filter((event) => event.__typename === 'CompletionDelta');
  expect(deltas.length).toBeGreaterThan(2);
  expect(deltas.map((event) => event.text).join('')).toBe(answer);
  const done = list.at(-1)!;
  expect(done.__typename).toBe('CompletionDone');
  expect(done.finishReason).toBe('STOP');
  expect(done.usage!.totalTokens).toBe(done.usage!.promptTokens + done.usage!.completionTokens);
  expect(new Set(list.map((event) => event.id)).size).toBe(1);
}

function generationRow(server: TestServer, id: string): Promise<GenerationRow | undefined> {
  return server.app.services.storage.ledger.findGeneration(id);
}

const answer = 'The quick brown fox jumps over the lazy dog';
const input = (text: string, model = 'local/echo') => ({ input: { model, messages: [{ role: 'USER', content: text }] } });

describe('completionStream', () => {
  let server: TestServer;
  let slow: TestServer;
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
    slow = await startTestServer({ SWITCHBOARD_LOCAL_DELAY_MS: '40' });
  });
  afterAll(async () => {
    await server.stop();
    await slow.stop();
    await fake.close();
  });

  it('streams Started, Deltas and Done over graphql-ws', async () => {
    const client = wsClient(server.wsUrl);
    const list = events(await subscribeWs(client, STREAM, input(answer)));
    await client.dispose();
    checkStream(list, answer);
    expect(await generationRow(server, list[0]!.id)).toMatchObject({ status: 'SUCCEEDED', streamed: true, finishReason: 'stop' });
  });

  it('streams Started, Deltas and Done over SSE', async () => {
    const list = events(await subscribeSse(server.url, STREAM, input(answer)));
    checkStream(list, answer);
    expect(await generationRow(server, list[0]!.id)).toMatchObject({ status: 'SUCCEEDED', streamed: true });
  });

  it('streams a provider completion from a fake OpenAI upstream, with its usage', async () => {
    fake.enqueue({ kind: 'text', text: 'Streamed from the fake upstream', promptTokens: 21, completionTokens: 6 });
    const list = events(await subscribeWs(wsClient(server.wsUrl), STREAM, input('ignored', 'openai/gpt-4o-mini')));
    expect(list[0]).toMatchObject({ __typename: 'CompletionStarted', provider: { id: 'openai' }, model: { id: 'openai/gpt-4o-mini' } });
    expect(list.filter((event) => event.__typename === 'CompletionDelta').map((event) => event.text).join('')).toBe('Streamed from the fake upstream');
    expect(list.at(-1)).toMatchObject({ __typename: 'CompletionDone', finishReason: 'STOP', usage: { promptTokens: 21, completionTokens: 6, totalTokens: 27 } });
    const row = await generationRow(server, list[0]!.id);
    // gpt-4o-mini's seeded price makes this a real, non-zero cost.
    expect(row).toMatchObject({ status: 'SUCCEEDED', promptTokens: 21, completionTokens: 6 });
    expect(Number(row!.costPicos)).toBeGreaterThan(0);
  });

  it('reports pre-stream errors as GraphQL errors with a code', async () => {
    const results = await subscribeWs(wsClient(server.wsUrl), STREAM, input('hi', 'nobody/nothing')).catch((error: unknown) => error);
    const list = Array.isArray(results) ? results : [];
    const errors = Array.isArray(results) ? list[0]?.errors : (results as Array<{ extensions?: Record<string, unknown> }>);
    expect(errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
    const sse = await subscribeSse(server.url, STREAM, input('hi', 'nobody/nothing'));
    expect(sse[0]?.errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
  });

  it('records a stream cut short by the provider as FAILED with the tokens so far, and says so to the client', async () => {
    fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer before' });
    const list = events(await subscribeWs(wsClient(server.wsUrl), STREAM, input('x', 'openai/gpt-4o-mini')));
    const last = list.at(-1)!;
    expect(last.__typename).toBe('CompletionError');
    expect(last.code).toBe('PROVIDER_ERROR');
    const row = await generationRow(server, last.id);
    expect(row).toMatchObject({ status: 'FAILED', finishReason: 'error', errorCode: 'PROVIDER_ERROR', usageEstimated: true });
    expect(Number(row!.completionTokens)).toBeGreaterThan(0);
  });

  it('aborts generation and records CANCELLED when a graphql-ws client unsubscribes', async () => {
    const client = wsClient(slow.wsUrl);
    const long = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
    const list = events(await subscribeWs(client, STREAM, input(long), (_result, index) => index >= 2));
    const id = list[0]!.id;
    const row = await waitFor(async () => {
      const current = await generationRow(slow, id);
      return current && current.status !== 'IN_PROGRESS' ? current : undefined;
    });
    await client.dispose();
    expect(row).toMatchObject({ status: 'CANCELLED', finishReason: 'cancelled', streamed: true });
    // Cancelled after two words of sixty: the row holds the tokens so far, not the whole answer.
    expect(Number(row.completionTokens)).toBeGreaterThan(0);
    expect(Number(row.completionTokens)).toBeLessThan(10);
    expect(slow.app.services.completions.activeCount).toBe(0);
  });

  it('records CANCELLED when an SSE client disconnects', async () => {
    const long = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
    const list = events(await subscribeSse(slow.url, STREAM, input(long), { stopWhen: (_result, index) => index >= 2 }));
    const row = await waitFor(async () => {
      const current = await generationRow(slow, list[0]!.id);
      return current && current.status !== 'IN_PROGRESS' ? current : undefined;
    });
    expect(row).toMatchObject({ status: 'CANCELLED', streamed: true });
  });

  it('closes the upstream connection when the subscriber goes away mid-stream', async () => {
    fake.enqueue({ kind: 'hang', textBefore: 'Waiting for more' });
    const client = wsClient(server.wsUrl);
    const list = events(await subscribeWs(client, STREAM, input('x', 'openai/gpt-4o-mini'), (result) => (result.data as { completionStream: Event }).completionStream.__typename === 'CompletionDelta'));
    await waitFor(() => fake.activeResponses() === 0 || undefined);
    expect(fake.activeResponses()).toBe(0);
    const row = await waitFor(async () => {
      const current = await generationRow(server, list[0]!.id);
      return current && current.status !== 'IN_PROGRESS' ? current : undefined;
    });
    await client.dispose();
    expect(row.status).toBe('CANCELLED');
  });
});
