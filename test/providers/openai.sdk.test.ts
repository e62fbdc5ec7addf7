import OpenAI, { APIError, AuthenticationError, BadRequestError, InternalServerError, RateLimitError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { compatibleFlavors, startFakeOpenAICompatible, type CompatibleFlavorName } from '../fakes/openai-compatible.js';

/** The official SDK pointed at the fakes: if it parses what they send, they speak the real wire format. */
describe('the OpenAI fake, read by the official openai SDK', () => {
  let fake: FakeUpstream;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // The fake's url is the base URL exactly as OPENAI_BASE_URL takes it (ending in /v1), which is also what the SDK wants.
    client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('answers a non-streaming text request', async () => {
    fake.enqueue({ kind: 'text', text: 'Hello from the fake.', promptTokens: 11, completionTokens: 5, cachedPromptTokens: 3 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], max_completion_tokens: 32 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake.');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 16, prompt_tokens_details: { cached_tokens: 3 } });
    expect(fake.received[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', max_completion_tokens: 32 } });
  });

  it('streams text in several chunks with usage in a final choices-less chunk', async () => {
    fake.enqueue({ kind: 'text', text: 'One two three four five', promptTokens: 9, completionTokens: 5, reasoningTokens: 2 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('One two three four five');
    expect(chunks.filter((chunk) => (chunk.choices[0]?.delta.content ?? '') !== '').length).toBeGreaterThan(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 5, completion_tokens_details: { reasoning_tokens: 2 } });
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('sends no usage when the stream was not asked for it', async () => {
    fake.enqueue({ kind: 'text', text: 'No usage here', promptTokens: 4, completionTokens: 3 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.usage === undefined)).toBe(true);
    expect(chunks.every((chunk) => chunk.choices.length === 1)).toBe(true);
  });

  it('returns a tool call without streaming', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'call_7Qe', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 61, completionTokens: 17 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.content).toBeNull();
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
  });

  it('streams tool-call arguments in fragments that the SDK assembles', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'call_9', name: 'get_weather', arguments: '{"city":"Rome","unit":"celsius"}', promptTokens: 40, completionTokens: 12 });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      stream_options: { include_usage: true },
    });
    let fragments = 0;
    runner.on('tool_calls.function.arguments.delta', () => fragments++);
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(fragments).toBeGreaterThan(1);
    expect(call?.id).toBe('call_9');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Rome', unit: 'celsius' });
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 12 });
  });

  it('answers a wrong key with 401 as AuthenticationError', async () => {
    const stranger = new OpenAI({ apiKey: 'sk-wrong', baseURL: fake.url, maxRetries: 0 });
    const error = await stranger.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('invalid_api_key');
  });

  it('answers a scripted rate limit with 429 and retry-after as RateLimitError', async () => {
    fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 3 });
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers.get('retry-after')).toBe('3');
    expect((error as RateLimitError).code).toBe('rate_limit_exceeded');
  });

  it('answers a context overflow as BadRequestError with its code', async () => {
    fake.enqueue({ kind: 'error', error: 'context_length_exceeded' });
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe('context_length_exceeded');
    expect((error as BadRequestError).param).toBe('messages');
  });

  it('refuses empty messages with 400 like the real service', async () => {
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe('empty_array');
  });

  it('answers server errors and overload as InternalServerError', async () => {
    fake.enqueue({ kind: 'error', error: 'server_error' });
    const serverError = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(serverError).toBeInstanceOf(InternalServerError);
    expect((serverError as InternalServerError).status).toBe(500);
    fake.enqueue({ kind: 'error', error: 'overloaded' });
    const overloaded = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(overloaded).toBeInstanceOf(InternalServerError);
    expect((overloaded as InternalServerError).status).toBe(503);
  });

  it('makes the SDK throw on a mid-stream error event, after the text before it', async () => {
    fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer' });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe('server_error');
    expect(text).toBe('Partial answer');
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['gpt-4o-mini', 'gpt-4o']);
    expect(fake.received[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
  });

  it('echoes the last user message when nothing is queued', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] });
    expect(completion.choices[0]?.message.content).toBe('You said: ping');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });
});

describe('the OpenAI-compatible fakes, read by the official openai SDK', () => {
  const key = 'compat-test-key';
  for (const flavor of Object.keys(compatibleFlavors) as CompatibleFlavorName[]) {
    it(`${flavor}: a completion and a stream parse, with usage`, async () => {
      const fake = await startFakeOpenAICompatible(flavor, { apiKey: key });
      try {
        const client = new OpenAI({ apiKey: key, baseURL: fake.url, maxRetries: 0 });
        fake.enqueue({ kind: 'text', text: 'Plain answer', promptTokens: 7, completionTokens: 2 });
        const completion = await client.chat.completions.create({ model: 'some-model', messages: [{ role: 'user', content: 'Hi' }] });
        expect(completion.choices[0]?.message.content).toBe('Plain answer');
        expect(completion.usage?.prompt_tokens).toBe(7);

        fake.enqueue({ kind: 'tool-call', id: 'call_c1', name: 'lookup', arguments: '{"q":"x"}', promptTokens: 7, completionTokens: 4 });
        const stream = await client.chat.completions.create({ model: 'some-model', messages: [{ role: 'user', content: 'Hi' }], stream: true });
        let args = '';
        let name: string | undefined;
        for await (const chunk of stream) {
          for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
            name ??= call.function?.name;
            args += call.function?.arguments ?? '';
          }
        }
        expect(name).toBe('lookup');
        expect(JSON.parse(args)).toEqual({ q: 'x' });
      } finally {
        await fake.close();
      }
    });
  }
});
