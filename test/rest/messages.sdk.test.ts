import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FakeUpstream, ReceivedRequest } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOpenAICompatible } from '../fakes/openai-compatible.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * POST /v1/messages and /v1/messages/count_tokens through the official @anthropic-ai/sdk, as a Claude-native client
 * calls them, against the gateway served by the Anthropic fake (Messages upstream) and by the OpenAI fake (Chat
 * Completions upstream), so the facade is checked on both sides of the normalized types.
 */
const ADMIN_KEY = 'sk-admin-messages-test';
let server: TestServer;
let anthropicFake: FakeUpstream;
let openaiFake: FakeUpstream;
let openrouterFake: FakeUpstream;
let client: Anthropic;

const BACKENDS = [
  { name: 'the Anthropic fake', model: 'anthropic/claude-sonnet-4-6', fake: () => anthropicFake, wire: 'anthropic' },
  { name: 'the OpenAI fake', model: 'openai/gpt-4o-mini', fake: () => openaiFake, wire: 'openai' },
] as const;

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** A 1×1 transparent PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

function sdk(options: { apiKey?: string | null; authToken?: string | null } = {}): Anthropic {
  return new Anthropic({ apiKey: ADMIN_KEY, baseURL: server.url, maxRetries: 0, ...options });
}

/** The error body the SDK kept from the response. */
function bodyOf(error: unknown): unknown {
  if (!(error instanceof Anthropic.APIError)) throw new Error(`not an APIError: ${String(error)}`);
  return error.error;
}

function lastBody(fake: FakeUpstream): Record<string, unknown> {
  const request: ReceivedRequest | undefined = fake.received.at(-1);
  if (!request) throw new Error('the fake received nothing');
  return request.body as Record<string, unknown>;
}

async function createKey(name: string, scopes: string[]): Promise<string> {
  const body = await server.graphql<{ createApiKey: { secret: string } }>(
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { name, scopes } },
    { authorization: `Bearer ${ADMIN_KEY}` },
  );
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.createApiKey.secret;
}

beforeAll(async () => {
  anthropicFake = await startFakeAnthropic();
  openaiFake = await startFakeOpenAI();
  openrouterFake = await startFakeOpenAICompatible('openrouter', { apiKey: FAKE_OPENAI_KEY });
  server = await startTestServer({
    SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
    ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropicFake.url,
    OPENAI_API_KEY: FAKE_OPENAI_KEY,
    OPENAI_BASE_URL: openaiFake.url,
    OPENROUTER_API_KEY: FAKE_OPENAI_KEY,
    OPENROUTER_BASE_URL: openrouterFake.url,
  });
  client = sdk();
});

afterAll(async () => {
  await server.stop();
  await Promise.all([anthropicFake.close(), openaiFake.close(), openrouterFake.close()]);
});

beforeEach(() => {
  for (const fake of [anthropicFake, openaiFake, openrouterFake]) fake.received.length = 0;
});

describe.each(BACKENDS)('messages.create served by $name', ({ model, fake, wire }) => {
  it('answers a plain request with a message, its usage and cost', async () => {
    fake().enqueue({ kind: 'text', text: 'Bonjour !', promptTokens: 12, completionTokens: 3 });
    const { data: message, response } = await client.messages
      .create({ model, max_tokens: 100, system: 'Answer in French.', messages: [{ role: 'user', content: 'Hello' }] })
      .withResponse();
    expect(message.id).toMatch(/^msg_/);
    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(model);
    expect(message.content).toEqual([{ type: 'text', text: 'Bonjour !' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBe(12);
    expect(message.usage.output_tokens).toBe(3);
    expect(response.headers.get('x-switchboard-generation-id')).toBe(message.id.slice('msg_'.length));
    const sent = lastBody(fake());
    if (wire === 'anthropic') {
      expect(sent['system']).toBe('Answer in French.');
      expect(sent['max_tokens']).toBe(100);
    } else {
      expect(sent['messages']).toEqual([
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello' },
      ]);
    }
  });

  it('streams text as Anthropic events, which the SDK assembles into the same message', async () => {
    fake().enqueue({ kind: 'text', text: 'One, two, three.', promptTokens: 9, completionTokens: 5 });
    const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Count' }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'One, two, three.' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(5);
    expect(message.usage.input_tokens).toBe(9);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(types.filter((type) => type === 'content_block_start')).toHaveLength(1);
    expect(types.filter((type) => type === 'content_block_delta').length).toBeGreaterThan(1);
    expect(lastBody(fake())['stream']).toBe(true);
  });

  it('makes a tool-use round trip: the call, then its result sent back in a user turn', async () => {
    fake().enqueue({ kind: 'tool-call', id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 20, completionTokens: 8 });
    const first = await client.messages.create({ model, max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(call).toMatchObject({ id: 'call_weather_1', name: 'get_weather', input: { city: 'Paris' } });

    fake().enqueue({ kind: 'text', text: 'It is sunny in Paris.', promptTokens: 30, completionTokens: 6 });
    const second = await client.messages.create({
      model,
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_weather_1', content: 'Sunny, 21°C' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'It is sunny in Paris.' }]);
    const sent = lastBody(fake());
    if (wire === 'anthropic') {
      expect(sent['messages']).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
        { role: 'assistant', content: first.content.map((block) => (block.type === 'tool_use' ? { type: 'tool_use', id: block.id, name: block.name, input: block.input } : block)) },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_weather_1', content: 'Sunny, 21°C' }] },
      ]);
      expect(sent['tools']).toEqual([weatherTool]);
    } else {
      const messages = sent['messages'] as Array<Record<string, unknown>>;
      expect(messages[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_weather_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] });
      expect(messages[2]).toEqual({ role: 'tool', tool_call_id: 'call_weather_1', content: 'Sunny, 21°C' });
    }
  });

  it('streams a tool call as input_json_delta fragments the SDK parses back into the input', async () => {
    fake().enqueue({ kind: 'tool-call', id: 'call_weather_2', name: 'get_weather', arguments: '{"city":"Lyon"}', promptTokens: 20, completionTokens: 8 });
    const stream = client.messages.stream({ model, max_tokens: 200, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Lyon?' }] });
    const deltas: string[] = [];
    stream.on('inputJson', (partial) => deltas.push(partial));
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.at(-1)).toEqual({ type: 'tool_use', id: 'call_weather_2', name: 'get_weather', input: { city: 'Lyon' } });
    expect(deltas.join('')).toBe('{"city":"Lyon"}');
  });

  it('passes an image on, as a base64 block or a data URL', async () => {
    fake().enqueue({ kind: 'text', text: 'A pixel.', promptTokens: 90, completionTokens: 2 });
    const message = await client.messages.create({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }] }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'A pixel.' }]);
    const sent = lastBody(fake());
    const user = (sent['messages'] as Array<{ content: unknown }>)[0]!;
    if (wire === 'anthropic') {
      expect(user.content).toEqual([{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }]);
    } else {
      expect(user.content).toEqual([{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } }]);
    }
  });
});

describe('thinking', () => {
  it('is asked of Anthropic with its budget, and comes back signed, whole and streamed, and is taken back signed', async () => {
    const thinking = { type: 'enabled', budget_tokens: 1024 } as const;
    anthropicFake.enqueue({ kind: 'text', text: 'Forty-two.', promptTokens: 10, completionTokens: 30, reasoningTokens: 20 });
    const message = await client.messages.create({ model: 'anthropic/claude-sonnet-4-6', max_tokens: 2048, thinking, messages: [{ role: 'user', content: 'Meaning of life?' }] });
    expect(lastBody(anthropicFake)['thinking']).toEqual(thinking);
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Considering the question.', signature: 'c2lnbmF0dXJl' },
      { type: 'text', text: 'Forty-two.' },
    ]);

    anthropicFake.enqueue({ kind: 'text', text: 'Forty-two.', promptTokens: 10, completionTokens: 30, reasoningTokens: 20 });
    const stream = client.messages.stream({ model: 'anthropic/claude-sonnet-4-6', max_tokens: 2048, thinking, messages: [{ role: 'user', content: 'Meaning of life?' }] });
    const streamed = await stream.finalMessage();
    expect(streamed.content).toEqual(message.content);

    // The next turn carries the signed thinking back, before the text, as the API requires.
    anthropicFake.enqueue({ kind: 'text', text: 'Still 42.', promptTokens: 40, completionTokens: 4 });
    await client.messages.create({
      model: 'anthropic/claude-sonnet-4-6',
      max_tokens: 2048,
      thinking,
      messages: [
        { role: 'user', content: 'Meaning of life?' },
        { role: 'assistant', content: streamed.content },
        { role: 'user', content: 'Sure?' },
      ],
    });
    expect((lastBody(anthropicFake)['messages'] as unknown[])[1]).toEqual({ role: 'assistant', content: message.content });
  });

  it('comes back as a thinking block from a Chat Completions backend that shows its reasoning, unsigned', async () => {
    openrouterFake.enqueue({ kind: 'text', text: 'Forty-two.', promptTokens: 10, completionTokens: 30, reasoningTokens: 20 });
    const request: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'openrouter/openai/gpt-4o',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Meaning of life?' }],
    };
    const { data: message, response } = await client.messages.create(request).withResponse();
    expect(message.content[0]).toMatchObject({ type: 'thinking', signature: '' });
    expect((message.content[0] as Anthropic.ThinkingBlock).thinking.length).toBeGreaterThan(0);
    expect(message.content[1]).toEqual({ type: 'text', text: 'Forty-two.' });
    // No thinking budget exists in Chat Completions: said, not silently dropped.
    expect(response.headers.get('x-switchboard-warnings')).toContain('thinking budget');

    openrouterFake.enqueue({ kind: 'text', text: 'Forty-two.', promptTokens: 10, completionTokens: 30, reasoningTokens: 20 });
    const streamed = await client.messages.stream(request).finalMessage();
    expect(streamed.content).toEqual(message.content);
  });
});

describe('Claude-native clients', () => {
  it('a bare Anthropic model id (as Claude Code sends it) resolves through the catalog’s aliases; ?beta=true is ignored', async () => {
    anthropicFake.enqueue({ kind: 'text', text: 'Hi.', promptTokens: 3, completionTokens: 2 });
    const response = await fetch(`${server.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'claude-code-20250219' },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 32_000, messages: [{ role: 'user', content: 'Hi' }], context_management: { edits: [] } }),
    });
    expect(response.status).toBe(200);
    const message = (await response.json()) as Anthropic.Message;
    expect(message.model).toBe('anthropic/claude-sonnet-4-6');
    expect(message.content).toEqual([{ type: 'text', text: 'Hi.' }]);
    expect(lastBody(anthropicFake)['model']).toBe('claude-sonnet-4-6');
  });
});

describe('countTokens', () => {
  it('counts the prompt, more for a longer one, tools included', async () => {
    const short = await client.messages.countTokens({ model: 'anthropic/claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi' }] });
    const long = await client.messages.countTokens({ model: 'anthropic/claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi '.repeat(500) }] });
    const withTools = await client.messages.countTokens({ model: 'openai/gpt-4o-mini', tools: [weatherTool], messages: [{ role: 'user', content: 'Hi' }] });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens + 400);
    expect(withTools.input_tokens).toBeGreaterThan(short.input_tokens);
    // Counting calls no upstream.
    expect(anthropicFake.received).toHaveLength(0);
  });
});

describe('errors map onto the SDK’s typed exceptions, in Anthropic’s shape', () => {
  it('401 AuthenticationError for a wrong key, by x-api-key and by Authorization: Bearer', async () => {
    for (const wrong of [sdk({ apiKey: 'sk-wrong' }), sdk({ apiKey: null, authToken: 'sk-wrong' })]) {
      const error = await wrong.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(bodyOf(error)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
  });

  it('a gateway key works as x-api-key and as a bearer token', async () => {
    const key = await createKey('messages-both-headers', ['COMPLETIONS']);
    for (const caller of [sdk({ apiKey: key }), sdk({ apiKey: null, authToken: key })]) {
      openaiFake.enqueue({ kind: 'text', text: 'ok', promptTokens: 1, completionTokens: 1 });
      const message = await caller.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    }
  });

  it('403 PermissionDeniedError for a key without COMPLETIONS', async () => {
    const key = await createKey('messages-read-only', ['READ']);
    const error = await sdk({ apiKey: key }).messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(bodyOf(error)).toMatchObject({ error: { type: 'permission_error' } });
  });

  it('400 BadRequestError naming the field in Anthropic’s terms', async () => {
    const error = await client.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 0, messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bodyOf(error)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(String(error)).toContain('max_tokens');
    const missing = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  it('404 NotFoundError for a model the gateway does not serve', async () => {
    const error = await client.messages.create({ model: 'nobody/no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(bodyOf(error)).toMatchObject({ error: { type: 'not_found_error' } });
    // Streamed, a failure before the first token is still an HTTP error, not an event.
    const streamed = await client.messages.stream({ model: 'nobody/no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage().catch((caught: unknown) => caught);
    expect(streamed).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('429 RateLimitError and a 5xx InternalServerError from the upstream, before and inside a stream', async () => {
    // The catalog model is served by Anthropic and, through OpenRouter, as a fallback: both refuse.
    anthropicFake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 7 });
    openrouterFake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 7 });
    const limited = await client.messages
      .create({ model: 'anthropic/claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], metadata: { user_id: 'u1' } })
      .catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect(bodyOf(limited)).toMatchObject({ error: { type: 'rate_limit_error' } });

    anthropicFake.received.length = 0;
    openrouterFake.received.length = 0;
    // An upstream 500 the gateway does not retry (its body says the request is at fault) reaches the caller as a 5xx.
    anthropicFake.enqueue({ kind: 'error', error: 'bad_request', status: 500 });
    const failed = await client.messages.create({ model: 'anthropic/claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(failed).toBeInstanceOf(Anthropic.InternalServerError);
    expect(bodyOf(failed)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect([anthropicFake.received.length, openrouterFake.received.length]).toEqual([1, 0]);

    anthropicFake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial' });
    const stream = client.messages.stream({ model: 'anthropic/claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    const inBand = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(inBand).toBeInstanceOf(Anthropic.APIError);
    expect(String(inBand)).toMatch(/api_error|error/);
  });

  it('a cross-site form post is refused before anything runs, in Anthropic’s shape', async () => {
    const response = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(openaiFake.received).toHaveLength(0);
  });

  it('413 for a body over the limit, and 405 for another method', async () => {
    const huge = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN_KEY },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    const get = await fetch(`${server.url}/v1/messages`, { headers: { 'x-api-key': ADMIN_KEY } });
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});

describe('nothing lost: every Messages request has its ledger row', () => {
  async function generation(id: string): Promise<{ status: string; streamed: boolean; requestedModel: string; errorCode: string | null } | null> {
    const body = await server.graphql<{ generation: { status: string; streamed: boolean; requestedModel: string; errorCode: string | null } | null }>(
      'query ($id: ID!) { generation(id: $id) { status streamed requestedModel errorCode } }',
      { id },
      { authorization: `Bearer ${ADMIN_KEY}` },
    );
    return body.data?.generation ?? null;
  }

  it('a stream the SDK aborts is cancelled upstream and recorded CANCELLED', async () => {
    anthropicFake.enqueue({ kind: 'hang', textBefore: 'a partial answer' });
    const stream = client.messages.stream({ model: 'anthropic/claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'A long story' }] });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
      if (text === 'a partial answer') stream.abort();
    });
    const outcome = await stream.done().catch((caught: unknown) => caught);
    expect(outcome).toBeInstanceOf(Anthropic.APIUserAbortError);
    const { response } = await stream.withResponse();
    const id = response.headers.get('x-switchboard-generation-id') ?? '';
    expect(id).not.toBe('');
    await vi.waitFor(() => expect(anthropicFake.activeResponses()).toBe(0), { timeout: 5000, interval: 20 });
    await vi.waitFor(async () => expect(await generation(id)).toMatchObject({ status: 'CANCELLED', streamed: true }), { timeout: 5000, interval: 20 });
  });

  it('a body refused as invalid by an authenticated key is a FAILED row under the model it named', async () => {
    // READ lets the key list its own generations, and only those.
    const key = await createKey('messages-refused', ['COMPLETIONS', 'READ']);
    const response = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining("'document'") } });
    const body = await server.graphql<{ generations: { edges: Array<{ node: { status: string; requestedModel: string; errorCode: string | null } }> } }>(
      'query ($filter: GenerationFilter) { generations(filter: $filter, first: 5) { edges { node { status requestedModel errorCode } } } }',
      { filter: {} },
      { authorization: `Bearer ${key}` },
    );
    expect(body.data?.generations.edges.map((edge) => edge.node)).toEqual([{ status: 'FAILED', requestedModel: 'openai/gpt-4o-mini', errorCode: 'BAD_REQUEST' }]);
    expect(openaiFake.received).toHaveLength(0);
  });
});
