/**
 * The fake Anthropic upstream, checked against the official SDK: if the SDK parses what the fake sends the way
 * it parses the real API, the adapter's tests against the fake mean something.
 */
import Anthropic, { APIError, AuthenticationError, BadRequestError, InternalServerError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';

const model = 'claude-sonnet-4-6';
const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('fake Anthropic upstream, read by @anthropic-ai/sdk', () => {
  let fake: FakeUpstream;
  let client: Anthropic;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('answers messages.create with a text message and its usage', async () => {
    fake.enqueue({ kind: 'text', text: 'Hello there!', promptTokens: 30, completionTokens: 4, cachedPromptTokens: 20 });
    const message = await client.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Say hello' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello there!' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.model).toBe(model);
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 20, output_tokens: 4 });
    expect(message._request_id).toMatch(/^req_/);
    const received = fake.received[0]!;
    expect(received.path).toBe('/v1/messages');
    // SDK 1.x sends the key as a bearer token and its own newer API version; the fake accepts both forms.
    expect(received.headers['authorization']).toBe(`Bearer ${FAKE_ANTHROPIC_KEY}`);
    expect(received.headers['anthropic-version']).toBeTruthy();
  });

  it('answers with a tool_use block and stop_reason tool_use', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'toolu_01Xy', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 40, completionTokens: 12 });
    const message = await client.messages.create({ model, max_tokens: 64, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ type: 'tool_use', id: 'toolu_01Xy', name: 'get_weather', input: { city: 'Paris' } });
    // Left to choose, the model says something first; the tool block then follows at index 1.
    expect(message.content[0]?.type).toBe('text');
  });

  it('streams text that messages.stream assembles, with final usage and stop reason', async () => {
    fake.enqueue({ kind: 'text', text: 'One two three four', promptTokens: 9, completionTokens: 4 });
    const stream = client.messages.stream({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Count' }] });
    const pieces: string[] = [];
    stream.on('text', (text) => pieces.push(text));
    const final = await stream.finalMessage();
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('One two three four');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 9, output_tokens: 4 });
    expect(fake.received[0]?.body).toMatchObject({ stream: true });
  });

  it('streams raw events in the documented order, without pings, and tool input assembled from input_json_delta', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'toolu_02', name: 'get_weather', arguments: '{"city":"Rome"}', promptTokens: 30, completionTokens: 10 });
    const stream = await client.messages.create({ model, max_tokens: 64, tools: [weatherTool], messages: [{ role: 'user', content: 'Rome?' }], stream: true });
    const types: string[] = [];
    const fragments: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta') fragments.push(event.delta.partial_json);
    }
    expect(types[0]).toBe('message_start');
    expect(types.at(-2)).toBe('message_delta');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).not.toContain('ping');
    expect(fragments[0]).toBe('');
    expect(fragments.length).toBeGreaterThan(2);
    expect(JSON.parse(fragments.join(''))).toEqual({ city: 'Rome' });

    fake.enqueue({ kind: 'tool-call', id: 'toolu_03', name: 'get_weather', arguments: '{"city":"Oslo"}', promptTokens: 30, completionTokens: 10 });
    const final = await client.messages.stream({ model, max_tokens: 64, tools: [weatherTool], messages: [{ role: 'user', content: 'Oslo?' }] }).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.output_tokens).toBe(10);
    expect(final.content.find((block) => block.type === 'tool_use')).toMatchObject({ id: 'toolu_03', input: { city: 'Oslo' } });
  });

  it('surfaces a wrong key as AuthenticationError', async () => {
    const stranger = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 });
    const error = await stranger.messages.create({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).type).toBe('authentication_error');
  });

  it('surfaces scripted errors as the SDK typed errors', async () => {
    const request = { model, max_tokens: 8, messages: [{ role: 'user' as const, content: 'hi' }] };
    const attempt = (): Promise<unknown> => client.messages.create(request).catch((caught: unknown) => caught);

    fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 7 });
    const rateLimited = await attempt();
    expect(rateLimited).toBeInstanceOf(RateLimitError);
    expect((rateLimited as RateLimitError).headers.get('retry-after')).toBe('7');
    expect((rateLimited as RateLimitError).type).toBe('rate_limit_error');

    fake.enqueue({ kind: 'error', error: 'context_length_exceeded' });
    const tooLong = await attempt();
    expect(tooLong).toBeInstanceOf(BadRequestError);
    expect((tooLong as BadRequestError).apiMessage).toMatch(/^prompt is too long/);

    fake.enqueue({ kind: 'error', error: 'server_error' });
    const server = await attempt();
    expect(server).toBeInstanceOf(InternalServerError);
    expect((server as InternalServerError).status).toBe(500);
    expect((server as InternalServerError).type).toBe('api_error');

    fake.enqueue({ kind: 'error', error: 'overloaded' });
    const overloaded = await attempt();
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect((overloaded as OverloadedError).status).toBe(529);
    expect((overloaded as OverloadedError).type).toBe('overloaded_error');
    expect((overloaded as OverloadedError).requestID).toMatch(/^req_/);
  });

  it('makes the SDK throw on a mid-stream error event, after the text before it', async () => {
    const overloadedFake = await startFakeAnthropic({ midStreamError: 'overloaded_error' });
    try {
      const overloadedClient = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: overloadedFake.url, maxRetries: 0 });
      overloadedFake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer' });
      const stream = await overloadedClient.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], stream: true });
      let text = '';
      const error = await (async () => {
        for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      })().catch((caught: unknown) => caught);
      expect(text).toBe('Partial answer');
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).type).toBe('overloaded_error');
    } finally {
      await overloadedFake.close();
    }
  });

  it('lists models, following pagination', async () => {
    const all: Array<{ id: string; display_name: string }> = [];
    for await (const info of client.models.list({ limit: 2 })) all.push({ id: info.id, display_name: info.display_name });
    expect(all.map((info) => info.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6']);
    expect(all[0]?.display_name).toBe('Claude Sonnet 4.6');
    expect(fake.received.map((request) => request.path)).toEqual(['/v1/models?limit=2', '/v1/models?limit=2&after_id=claude-haiku-4-5']);
  });

  it('answers with a default echo reply when nothing is queued', async () => {
    const message = await client.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'text', text: 'ping me' }] }] });
    expect(message.content).toEqual([{ type: 'text', text: 'You said: ping me' }]);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });
});

describe('fake Anthropic upstream, request checks the real API makes', () => {
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake.close();
  });

  async function post(body: unknown, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  }
  const valid = { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
  const auth = { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

  it('rejects a request without anthropic-version', async () => {
    const reply = await post(valid, { 'x-api-key': FAKE_ANTHROPIC_KEY });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('anthropic-version') } });
  });

  it('rejects missing required fields and system as a message role', async () => {
    for (const field of ['model', 'max_tokens', 'messages'] as const) {
      const { [field]: _omitted, ...rest } = valid;
      const reply = await post(rest, auth);
      expect(reply.status).toBe(400);
      expect(reply.body).toMatchObject({ error: { type: 'invalid_request_error', message: `${field}: Field required` } });
    }
    const systemRole = await post({ ...valid, messages: [{ role: 'system', content: 'x' }, ...valid.messages] }, auth);
    expect(systemRole.status).toBe(400);
  });
});
