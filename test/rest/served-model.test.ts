import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { subscribeSse } from '../helpers/subscriptions.js';
import { generationIdOf, startRestFixture, type RestFixture } from './setup.js';

/**
 * Every answer names the model that served (CompletionResult.servedModel): after a fallback the fallback model,
 * by its catalog id, in the REST body, every streamed chunk, GraphQL's Completion and CompletionStarted, and as the
 * official SDK reads them; the generation keeps the model that was asked for.
 *
 * The requested model, openai/gpt-4o-mini, has one endpoint here (OpenRouter is not configured): the fake OpenAI
 * fails it. The fallback is asked for by its alias, `claude-haiku`, and served by the fake Anthropic, so the name
 * the answers carry is neither what was asked for nor the upstream's own (`claude-haiku-4-5`).
 */
const REQUESTED = 'openai/gpt-4o-mini';
const FALLBACK_ALIAS = 'claude-haiku';
const SERVED = 'anthropic/claude-haiku-4-5';

let fixture: RestFixture;
let anthropic: FakeUpstream;
let client: OpenAI;

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  fixture = await startRestFixture({
    ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
    // Each test fails the OpenAI endpoint once; an open circuit would skip it, and the fake's scripted failure
    // would then wait for the next test.
    SWITCHBOARD_BREAKER_FAILURES: '1000',
    SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: '1000',
  });
  client = fixture.client();
});
afterAll(async () => {
  await fixture.stop();
  await anthropic.close();
});

const hello = [{ role: 'user' as const, content: 'Which model are you?' }];
const withFallback = { model: REQUESTED, models: [FALLBACK_ALIAS], messages: hello };

/** Completion calls a fake received (catalog sync also lists its models). */
function completionCalls(fake: FakeUpstream): number {
  return fake.received.filter((request) => request.method === 'POST').length;
}

async function postChat(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${fixture.server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The JSON chunks of a chat completions SSE stream, up to [DONE]. */
async function streamedChunks(response: Response): Promise<Array<{ model: string; choices: unknown[] }>> {
  const text = await response.text();
  const payloads = text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
  expect(payloads.at(-1)).toBe('[DONE]');
  return payloads.slice(0, -1).map((payload) => JSON.parse(payload) as { model: string; choices: unknown[] });
}

interface LedgerRow {
  requestedModel: string;
  model: { id: string } | null;
  provider: { id: string } | null;
  attempts: Array<{ providerId: string; status: string }>;
}

async function ledger(generationId: string): Promise<LedgerRow | null> {
  const body = await fixture.server.graphql<{ generation: LedgerRow | null }>(
    'query ($id: ID!) { generation(id: $id) { requestedModel model { id } provider { id } attempts { providerId status } } }',
    { id: generationId },
  );
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data?.generation ?? null;
}

/** The generation a fallback answer recorded: asked for the first model, served by the fallback after one failed attempt. */
async function expectFallbackRecorded(generationId: string): Promise<void> {
  expect(await ledger(generationId)).toEqual({
    requestedModel: REQUESTED,
    model: { id: SERVED },
    provider: { id: 'anthropic' },
    attempts: [
      { providerId: 'openai', status: 'FAILED' },
      { providerId: 'anthropic', status: 'SUCCEEDED' },
    ],
  });
}

describe('after a fallback, every answer names the model that served', () => {
  beforeEach(() => {
    fixture.fake.received.length = 0;
    anthropic.received.length = 0;
  });

  it('REST, not streamed: the body’s model is the serving model’s catalog id, the same as x-switchboard-model', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const response = await postChat(withFallback);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; model: string };
    expect(body.model).toBe(SERVED);
    expect(response.headers.get('x-switchboard-model')).toBe(SERVED);
    expect(response.headers.get('x-switchboard-provider')).toBe('anthropic');
    expect(completionCalls(fixture.fake)).toBe(1);
    expect(completionCalls(anthropic)).toBe(1);
    await expectFallbackRecorded(generationIdOf(body.id));
  });

  it('REST, streamed: every chunk’s model is the serving model, including the usage chunk', async () => {
    // A rate limit moves on to the next model as a server error does.
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited' });
    const response = await postChat({ ...withFallback, stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchboard-model')).toBe(SERVED);
    const chunks = await streamedChunks(response);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.map((chunk) => chunk.model)).toEqual(chunks.map(() => SERVED));
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(completionCalls(fixture.fake)).toBe(1);
    await expectFallbackRecorded(response.headers.get('x-switchboard-generation-id') ?? '');
  });

  it('the openai SDK, Responses API: responses.create and its streamed events name the serving model', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    // `models` is Switchboard's fallback list, as on chat completions; the SDK passes unknown fields through.
    const response = await client.responses.create({ model: REQUESTED, input: 'Which model are you?', models: [FALLBACK_ALIAS] } as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(response.model).toBe(SERVED);
    await expectFallbackRecorded(response.id.replace(/^resp_/, 'gen_'));

    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const stream = await client.responses.create({ model: REQUESTED, input: 'Which model are you?', models: [FALLBACK_ALIAS], stream: true } as OpenAI.Responses.ResponseCreateParamsStreaming);
    const models: string[] = [];
    for await (const event of stream) {
      if ('response' in event) models.push(event.response.model);
    }
    expect(models.length).toBeGreaterThanOrEqual(2);
    expect(models).toEqual(models.map(() => SERVED));
  });

  it('the openai SDK: chat.completions.create reads the serving model as completion.model', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const completion = await client.chat.completions.create(withFallback);
    expect(completion.model).toBe(SERVED);
    expect(completion.choices[0]?.message.content).toEqual(expect.any(String));
    await expectFallbackRecorded(generationIdOf(completion.id));
  });

  it('the openai SDK, streamed: each chunk’s model is the serving model', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const stream = await client.chat.completions.create({ ...withFallback, stream: true });
    const models: string[] = [];
    let id = '';
    for await (const chunk of stream) {
      models.push(chunk.model);
      id = chunk.id;
    }
    expect(models.length).toBeGreaterThanOrEqual(2);
    expect(new Set(models)).toEqual(new Set([SERVED]));
    await expectFallbackRecorded(generationIdOf(id));
  });

  it('GraphQL createCompletion: Completion.model is the serving model', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const body = await fixture.server.graphql<{ createCompletion: { id: string; model: { id: string }; provider: { id: string } } }>(
      'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id model { id } provider { id } } }',
      { input: { model: REQUESTED, models: [FALLBACK_ALIAS], messages: [{ role: 'USER', content: 'Which model are you?' }] } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.createCompletion).toMatchObject({ model: { id: SERVED }, provider: { id: 'anthropic' } });
    await expectFallbackRecorded(body.data?.createCompletion.id ?? '');
  });

  it('GraphQL completionStream: CompletionStarted.model is the serving model', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const results = await subscribeSse(
      fixture.server.url,
      'subscription ($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionStarted { id model { id } provider { id } } } }',
      { input: { model: REQUESTED, models: [FALLBACK_ALIAS], messages: [{ role: 'USER', content: 'Which model are you?' }] } },
    );
    const started = results[0]?.data?.['completionStream'] as { __typename: string; id: string; model: { id: string }; provider: { id: string } } | undefined;
    expect(started).toMatchObject({ __typename: 'CompletionStarted', model: { id: SERVED }, provider: { id: 'anthropic' } });
    expect(results.at(-1)?.data?.['completionStream']).toEqual({ __typename: 'CompletionDone' });
    await expectFallbackRecorded(started?.id ?? '');
  });
});

describe('without a fallback, the served model is the requested model’s canonical id', () => {
  // An alias names the model it resolves to: the catalog id, as OpenRouter answers, not what the caller wrote.
  it.each([
    { requested: 'gpt-4o-mini', served: 'openai/gpt-4o-mini' },
    { requested: 'openai/gpt-4o-mini', served: 'openai/gpt-4o-mini' },
    { requested: FALLBACK_ALIAS, served: SERVED },
    // A model the catalog does not list, addressed on its provider directly, is named as it was addressed.
    { requested: 'openai/gpt-unlisted-preview', served: 'openai/gpt-unlisted-preview' },
  ])('$requested is served as $served in the REST body, each chunk, and GraphQL', async ({ requested, served }) => {
    const plain = await client.chat.completions.create({ model: requested, messages: hello });
    expect(plain.model).toBe(served);
    expect((await ledger(generationIdOf(plain.id)))?.requestedModel).toBe(requested);

    const stream = await client.chat.completions.create({ model: requested, messages: hello, stream: true });
    const models: string[] = [];
    for await (const chunk of stream) models.push(chunk.model);
    expect(models.length).toBeGreaterThanOrEqual(2);
    expect(new Set(models)).toEqual(new Set([served]));

    const body = await fixture.server.graphql<{ createCompletion: { model: { id: string } } }>('mutation ($input: CompletionInput!) { createCompletion(input: $input) { model { id } } }', {
      input: { model: requested, messages: [{ role: 'USER', content: 'Which model are you?' }] },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.createCompletion.model.id).toBe(served);
  });
});
