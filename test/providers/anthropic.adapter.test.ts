import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAnthropicAdapter } from '../../src/providers/anthropic/adapter.js';
import { describeAnthropicError } from '../../src/providers/anthropic/errors.js';
import { mapAnthropicFinishReason } from '../../src/providers/anthropic/finish-reason.js';
import { FALLBACK_MAX_TOKENS, JSON_OBJECT_INSTRUCTION, JSON_TOOL_DESCRIPTION, toAnthropicRequestBody } from '../../src/providers/anthropic/request.js';
import { mapAnthropicUsage } from '../../src/providers/anthropic/response.js';
import { AnthropicStreamMapper } from '../../src/providers/anthropic/stream.js';
import { streamEventSchema } from '../../src/providers/anthropic/wire.js';
import { ProviderError } from '../../src/providers/errors.js';
import type { CompletionRequest, ProviderAdapter, StreamEvent } from '../../src/providers/types.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeServer } from '../fakes/server.js';
import { collect } from '../helpers/collect.js';
import { expectEchoedSecretRedacted } from '../helpers/echoed-secrets.js';
import { createAdapter } from '../../src/providers/registry.js';

const model = 'claude-sonnet-4-6';
const provider = 'anthropic-test';
const weatherTool = { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

function request(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return { model, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], ...overrides };
}

function build(overrides: Partial<CompletionRequest> = {}, stream = false): ReturnType<typeof toAnthropicRequestBody> {
  return toAnthropicRequestBody(request(overrides), { provider, stream });
}

function signal(): AbortSignal {
  return new AbortController().signal;
}

describe('anthropic request mapping', () => {
  it('moves every system message to the top-level system prompt', () => {
    const { body } = build({
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: [{ type: 'text', text: 'Again' }] },
      ],
    });
    expect(body.system).toBe('Be terse.\n\nAnswer in French.');
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'Again' }] }]);
  });

  it('always sends max_tokens: the caller, then the catalog default, then the fallback', () => {
    expect(build({ maxTokens: 100, defaultMaxTokens: 8000 }).body.max_tokens).toBe(100);
    expect(build({ defaultMaxTokens: 8000 }).body.max_tokens).toBe(8000);
    expect(build().body.max_tokens).toBe(FALLBACK_MAX_TOKENS);
    expect(FALLBACK_MAX_TOKENS).toBe(4096);
  });

  it('sends assistant tool calls as tool_use and merges their results with the next user text into one user turn', () => {
    const { body, warnings } = build({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: 'Checking both.',
          toolCalls: [
            { id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'toolu_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_1', content: 'Sunny' },
        { role: 'tool', toolCallId: 'toolu_2', content: 'Rainy' },
        { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
      ],
    });
    expect(warnings).toEqual([]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'Rainy' },
          { type: 'text', text: 'Thanks' },
        ],
      },
    ]);
  });

  it('sends broken tool call arguments as {} with a warning rather than failing the conversation', () => {
    const { body, warnings } = build({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Go' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_9', name: 'get_weather', arguments: '{"city":"Par' }] },
        { role: 'tool', toolCallId: 'toolu_9', content: 'error' },
      ],
    });
    expect(body.messages[1]?.content).toEqual([{ type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: {} }]);
    expect(warnings.some((warning) => warning.includes('toolu_9'))).toBe(true);
  });

  it('maps base64 data URLs and https URLs to image sources, and drops empty text parts', () => {
    const { body } = build({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'Compare' },
            { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
            { type: 'image', url: 'https://example.com/cat.jpg' },
          ],
        },
      ],
    });
    expect(body.messages[0]?.content).toEqual([
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('sends a percent-encoded data URL as base64, as the other adapters do', () => {
    const { body } = build({ messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/svg+xml,%3Csvg%2F%3E' }] }] });
    expect(JSON.stringify(body)).toContain(JSON.stringify({ type: 'base64', media_type: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') }));
  });

  it('rejects a malformed data URL as a bad request', () => {
    const attempt = (): unknown => build({ messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/png;base64' }] }] });
    expect(attempt).toThrow(ProviderError);
    try {
      attempt();
    } catch (error) {
      expect((error as ProviderError).kind).toBe('bad_request');
      expect((error as ProviderError).provider).toBe(provider);
    }
  });

  it('maps tools and every tool choice, and sends no tool_choice without tools', () => {
    const { body } = build({ tools: [weatherTool], toolChoice: { type: 'required' } });
    expect(body.tools).toEqual([{ name: 'get_weather', description: 'Weather', input_schema: weatherTool.parameters }]);
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect(build({ tools: [weatherTool], toolChoice: { type: 'auto' } }).body.tool_choice).toEqual({ type: 'auto' });
    expect(build({ tools: [weatherTool], toolChoice: { type: 'none' } }).body.tool_choice).toEqual({ type: 'none' });
    expect(build({ tools: [weatherTool], toolChoice: { type: 'tool', name: 'get_weather' } }).body.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
    const noTools = build({ toolChoice: { type: 'required' } }).body;
    expect(noTools.tools).toBeUndefined();
    expect(noTools.tool_choice).toBeUndefined();
  });

  it('maps sampling settings, turns seed into a warning, and marks streaming', () => {
    const { body, warnings } = build({ temperature: 0.3, topP: 0.9, stop: ['END'], seed: 42, user: 'user-7' }, true);
    expect(body).toMatchObject({ temperature: 0.3, top_p: 0.9, stop_sequences: ['END'], metadata: { user_id: 'user-7' }, stream: true });
    expect(body).not.toHaveProperty('seed');
    expect(warnings).toEqual([expect.stringContaining('seed')]);
    expect(build().body).not.toHaveProperty('stream');
  });

  it('emulates json_object with a system instruction, and says so', () => {
    const { body, warnings } = build({ messages: [{ role: 'system', content: 'Be terse.' }, ...request().messages], responseFormat: { type: 'json_object' } });
    expect(body.system).toBe(`Be terse.\n\n${JSON_OBJECT_INSTRUCTION}`);
    expect(body.tools).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('json_object')]);
  });

  it('carries a json_schema in a forced tool, or in words when the caller has tools', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const forced = build({ responseFormat: { type: 'json_schema', name: 'my result!', schema } });
    expect(forced.jsonToolName).toBe('my_result_');
    expect(forced.body.tools).toEqual([{ name: 'my_result_', description: JSON_TOOL_DESCRIPTION, input_schema: schema }]);
    expect(forced.body.tool_choice).toEqual({ type: 'tool', name: 'my_result_' });
    expect(forced.warnings).toEqual([]);

    const withTools = build({ tools: [weatherTool], responseFormat: { type: 'json_schema', name: 'result', schema } });
    expect(withTools.jsonToolName).toBeUndefined();
    expect(withTools.body.tools?.map((tool) => tool.name)).toEqual(['get_weather']);
    expect(withTools.body.system).toContain(JSON.stringify(schema));
    expect(withTools.warnings).toHaveLength(1);
  });
});

describe('anthropic response mapping', () => {
  it('counts cache writes and reads into the prompt, reads as cached, thinking as reasoning', () => {
    expect(
      mapAnthropicUsage({ input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 1800, output_tokens: 58, output_tokens_details: { thinking_tokens: 20 } }),
    ).toEqual({ promptTokens: 1912, completionTokens: 58, totalTokens: 1970, cachedPromptTokens: 1800, cacheWriteTokens: 100, reasoningTokens: 20, estimated: false });
    expect(mapAnthropicUsage({ input_tokens: 5, output_tokens: 1 })).toEqual({ promptTokens: 5, completionTokens: 1, totalTokens: 6, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false });
    // The split by lifetime: one-hour writes are kept apart; a split claiming more than was written is clamped.
    expect(
      mapAnthropicUsage({ input_tokens: 3, cache_creation_input_tokens: 300, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 }, output_tokens: 1 }),
    ).toMatchObject({ promptTokens: 303, cacheWriteTokens: 300, cacheWrite1hTokens: 200 });
    expect(mapAnthropicUsage({ input_tokens: 3, cache_creation_input_tokens: 50, cache_creation: { ephemeral_1h_input_tokens: 999 }, output_tokens: 1 })).toMatchObject({ cacheWriteTokens: 50, cacheWrite1hTokens: 50 });
  });

  it('maps every stop reason', () => {
    const cases: Array<[string | null, boolean, string]> = [
      ['end_turn', false, 'stop'],
      ['stop_sequence', false, 'stop'],
      ['pause_turn', false, 'stop'],
      ['max_tokens', false, 'length'],
      ['model_context_window_exceeded', false, 'length'],
      ['tool_use', true, 'tool_calls'],
      ['refusal', false, 'content_filter'],
      ['end_turn', true, 'tool_calls'],
      ['something_new', false, 'stop'],
      [null, false, 'stop'],
    ];
    for (const [raw, hasToolCalls, expected] of cases) expect([raw, mapAnthropicFinishReason(raw, hasToolCalls)]).toEqual([raw, expected]);
  });

  it('maps a stream: block indexes to tool indexes, thinking, pings, repeated usage, and a tool without arguments', () => {
    const mapper = new AnthropicStreamMapper({ provider, warnings: ['w'] });
    const wire = [
      { type: 'message_start', message: { id: 'msg_1', model, usage: { input_tokens: 10, cache_read_input_tokens: 90, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'ping' },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Checking.' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "Pa' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: 'ris"}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'toolu_b', name: 'get_time', input: {} } },
      { type: 'content_block_stop', index: 3 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 10, cache_read_input_tokens: 90, output_tokens: 58 } },
      { type: 'message_stop' },
    ];
    const events = wire.flatMap((event) => mapper.map(streamEventSchema.parse(event)));
    expect(events).toEqual([
      { type: 'start', upstreamId: 'msg_1', model, warnings: ['w'] },
      { type: 'reasoning-delta', text: 'Hmm.' },
      { type: 'reasoning-signature', signature: 'sig' },
      { type: 'text-delta', text: 'Checking.' },
      { type: 'tool-call-delta', index: 0, id: 'toolu_a', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city": "Pa' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: 'ris"}' },
      { type: 'tool-call-delta', index: 1, id: 'toolu_b', name: 'get_time', argumentsDelta: '' },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '{}' },
      {
        type: 'finish',
        finishReason: 'tool_calls',
        rawFinishReason: 'tool_use',
        usage: { promptTokens: 100, completionTokens: 58, totalTokens: 158, cachedPromptTokens: 90, reasoningTokens: 0, estimated: false },
      },
    ]);
    expect(mapper.isFinished).toBe(true);
  });

  it('finishes a stream cut after message_delta, but not one cut before it', () => {
    const complete = new AnthropicStreamMapper({ provider, warnings: [] });
    complete.map(streamEventSchema.parse({ type: 'message_start', message: { usage: { input_tokens: 3, output_tokens: 1 } } }));
    expect(complete.end()).toBeUndefined();
    complete.map(streamEventSchema.parse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 7 } }));
    expect(complete.end()).toEqual([expect.objectContaining({ type: 'finish', finishReason: 'stop', usage: expect.objectContaining({ promptTokens: 3, completionTokens: 7 }) })]);
  });

  it('throws typed errors for in-band error events', () => {
    const mapper = new AnthropicStreamMapper({ provider, warnings: [] });
    const overloaded = (() => {
      try {
        mapper.map(streamEventSchema.parse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
      } catch (error) {
        return error;
      }
    })();
    expect(overloaded).toBeInstanceOf(ProviderError);
    expect((overloaded as ProviderError).kind).toBe('overloaded');
    expect((overloaded as ProviderError).upstreamCode).toBe('overloaded_error');
    expect(() => mapper.map(streamEventSchema.parse({ type: 'error', error: { type: 'api_error', message: 'bad request' } }))).toThrow(/stream failed: bad request/);
  });

  it('maps error bodies by type, telling context overflow apart', () => {
    // Echoed keys are redacted where every adapter's errors pass (the registry; see test/hardening/secret-leaks.test.ts).
    const describeError = describeAnthropicError;
    const body = (type: string, message: string): unknown => ({ type: 'error', error: { type, message } });
    expect(describeError(400, body('invalid_request_error', 'input length and `max_tokens` exceed context limit: 190000 + 20000 > 200000')).kind).toBe('context_length_exceeded');
    expect(describeError(400, body('invalid_request_error', 'messages: field required')).kind).toBe('bad_request');
    expect(describeError(403, body('permission_error', 'no')).kind).toBe('permission');
    expect(describeError(402, body('billing_error', 'no credit')).kind).toBe('quota_exhausted');
    expect(describeError(500, body('api_error', 'oops'))).toEqual({ kind: 'server_error', message: 'oops', upstreamCode: 'api_error' });
    expect(describeError(529, body('overloaded_error', 'Overloaded')).kind).toBe('overloaded');
    expect(describeError(401, body('authentication_error', 'invalid x-api-key')).message).toBe('invalid x-api-key');
    expect(describeError(502, '<html>bad gateway</html>')).toEqual({ message: '<html>bad gateway</html>' });
  });
});

describe('anthropic adapter against the fake upstream', () => {
  let fake: FakeUpstream;
  let adapter: ProviderAdapter;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    adapter = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: `${fake.url}/`, apiKey: FAKE_ANTHROPIC_KEY });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('sends the key, the API version and JSON to /v1/messages, and the key nowhere in the body', async () => {
    const response = await adapter.complete(request(), { signal: signal() });
    expect(response.content).toBe('You said: Hi');
    const received = fake.received[0]!;
    expect(received.method).toBe('POST');
    expect(received.path).toBe('/v1/messages');
    expect(received.headers['x-api-key']).toBe(FAKE_ANTHROPIC_KEY);
    expect(received.headers['anthropic-version']).toBe('2023-06-01');
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.headers['authorization']).toBeUndefined();
    expect(JSON.stringify(received.body)).not.toContain(FAKE_ANTHROPIC_KEY);
    expect(received.body).toMatchObject({ max_tokens: FALLBACK_MAX_TOKENS });
  });

  it('reports cached prompt tokens and reasoning, whole and streamed', async () => {
    const script = { kind: 'text' as const, text: 'Cached answer', promptTokens: 30, completionTokens: 6, cachedPromptTokens: 20, reasoningTokens: 2 };
    fake.enqueue(script);
    const response = await adapter.complete(request(), { signal: signal() });
    expect(response.usage).toEqual({ promptTokens: 30, completionTokens: 6, totalTokens: 36, cachedPromptTokens: 20, reasoningTokens: 2, estimated: false });
    expect(response.reasoning).toBe('Considering the question.');
    expect(response.upstreamId).toMatch(/^msg_/);
    expect(response.model).toBe(model);

    fake.enqueue(script);
    const events = await collect(adapter.stream(request(), { signal: signal() }));
    expect(events.filter((event) => event.type === 'reasoning-delta')).toEqual([{ type: 'reasoning-delta', text: 'Considering the question.' }]);
    const finish = events.at(-1);
    expect(finish).toMatchObject({ type: 'finish', usage: { promptTokens: 30, completionTokens: 6, cachedPromptTokens: 20 } });
  });

  it('hands back a forced json tool call as plain JSON content, whole and streamed', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const asked = request({ responseFormat: { type: 'json_schema', name: 'result', schema } });
    fake.enqueue({ kind: 'text', text: '{"ok":true}', promptTokens: 10, completionTokens: 4 });
    const response = await adapter.complete(asked, { signal: signal() });
    expect(response).toMatchObject({ content: '{"ok":true}', toolCalls: [], finishReason: 'stop', rawFinishReason: 'tool_use' });
    expect(fake.received[0]?.body).toMatchObject({ tool_choice: { type: 'tool', name: 'result' } });

    fake.enqueue({ kind: 'text', text: '{"ok":false}', promptTokens: 10, completionTokens: 4 });
    const events = await collect(adapter.stream(asked, { signal: signal() }));
    expect(events.some((event) => event.type === 'tool-call-delta')).toBe(false);
    expect(events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('')).toBe('{"ok":false}');
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', rawFinishReason: 'tool_use' });
  });

  it('puts warnings on the start event of a stream, with the upstream id and model', async () => {
    const events = await collect(adapter.stream(request({ seed: 1 }), { signal: signal() }));
    expect(events[0]).toMatchObject({ type: 'start', model, upstreamId: expect.stringMatching(/^msg_/), warnings: [expect.stringContaining('seed')] });
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1);
  });

  it('maps a content refusal in a stream', async () => {
    fake.enqueue({ kind: 'content-filter', promptTokens: 10 });
    const events = await collect(adapter.stream(request(), { signal: signal() }));
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'content_filter', rawFinishReason: 'refusal' });
  });

  it('rejects a malformed stream chunk as malformed_response', async () => {
    fake.enqueue({ kind: 'malformed' });
    const error = await collect(adapter.stream(request(), { signal: signal() })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('malformed_response');
  });

  it('keeps a wrong key out of the authentication error', async () => {
    const wrongKey = 'sk-ant-wrong-key-123';
    const stranger = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: fake.url, apiKey: wrongKey });
    const error = await stranger.complete(request(), { signal: signal() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('authentication');
    expect((error as ProviderError).upstreamCode).toBe('authentication_error');
    expect((error as ProviderError).message).not.toContain(wrongKey);
  });

  it('lists models with their limits', async () => {
    const models = await adapter.listModels!({ signal: signal() });
    expect(models.map((info) => info.id)).toEqual(['claude-sonnet-4-6', 'claude-haiku-4-5', 'claude-opus-4-6']);
    expect(models[0]).toEqual({ id: 'claude-sonnet-4-6', displayName: 'Claude Sonnet 4.6', contextLength: 200_000, maxOutputTokens: 64_000 });
    expect(fake.received[0]?.path).toBe('/v1/models?limit=1000');
  });
});

describe('anthropic adapter edge cases', () => {
  it('follows model list pagination past one page', async () => {
    const models = Array.from({ length: 1003 }, (_, index) => ({ id: `claude-test-${index}`, display_name: `Test ${index}` }));
    const fake = await startFakeAnthropic({ models });
    try {
      const adapter = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: fake.url, apiKey: FAKE_ANTHROPIC_KEY });
      const listed = await adapter.listModels!({ signal: signal() });
      expect(listed).toHaveLength(1003);
      expect(fake.received.map((received) => received.path)).toEqual(['/v1/models?limit=1000', '/v1/models?limit=1000&after_id=claude-test-999']);
    } finally {
      await fake.close();
    }
  });

  it('maps a mid-stream overloaded_error event to a retryable overloaded error', async () => {
    const fake = await startFakeAnthropic({ midStreamError: 'overloaded_error' });
    try {
      const adapter = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: fake.url, apiKey: FAKE_ANTHROPIC_KEY });
      fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial' });
      const error = await collect(adapter.stream(request(), { signal: signal() })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('overloaded');
      expect((error as ProviderError).isRetryable).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('answers a json_schema with the forced tool input alone when the model writes text first, the text as a warning, whole and streamed', async () => {
    const fake = await startFakeAnthropic({ textBeforeForcedTool: 'Checking.' });
    try {
      const adapter = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: fake.url, apiKey: FAKE_ANTHROPIC_KEY });
      const schema = { type: 'object', properties: { city: { type: 'string' }, ok: { type: 'boolean' } }, required: ['city', 'ok'] };
      const asked = request({ responseFormat: { type: 'json_schema', name: 'result', schema } });
      const toolInput = { city: 'Paris', ok: true };

      fake.enqueue({ kind: 'text', text: JSON.stringify(toolInput), promptTokens: 10, completionTokens: 8 });
      const response = await adapter.complete(asked, { signal: signal() });
      // The fake really sent a text block before the tool_use block.
      expect(fake.received[0]?.body).toMatchObject({ tool_choice: { type: 'tool', name: 'result' } });
      expect(JSON.parse(response.content ?? '')).toEqual(toolInput);
      expect(response).toMatchObject({ toolCalls: [], finishReason: 'stop', rawFinishReason: 'tool_use' });
      expect(response.warnings).toEqual([expect.stringContaining('"Checking."')]);

      fake.enqueue({ kind: 'text', text: JSON.stringify(toolInput), promptTokens: 10, completionTokens: 8 });
      const events = await collect(adapter.stream(asked, { signal: signal() }));
      expect(events[0]).toMatchObject({ type: 'start', upstreamId: expect.stringMatching(/^msg_/), warnings: [expect.stringContaining('"Checking."')] });
      expect(events.filter((event) => event.type === 'start')).toHaveLength(1);
      const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
      expect(JSON.parse(text)).toEqual(toolInput);
      expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', rawFinishReason: 'tool_use' });

      // A model that answers in words without calling the tool: the words are all there is, whole and streamed.
      fake.enqueue({ kind: 'text', text: 'I cannot answer that.', promptTokens: 10, completionTokens: 5 });
      expect(await adapter.complete(asked, { signal: signal() })).toMatchObject({ content: 'I cannot answer that.', warnings: [] });
      fake.enqueue({ kind: 'text', text: 'I cannot answer that.', promptTokens: 10, completionTokens: 5 });
      const words = await collect(adapter.stream(asked, { signal: signal() }));
      expect(words[0]).toMatchObject({ type: 'start', warnings: [] });
      expect(words.map((event) => (event.type === 'text-delta' ? event.text : '')).join('')).toBe('I cannot answer that.');
      expect(words.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    } finally {
      await fake.close();
    }
  });

  it('replays a raw transcript with CRLF framing and an unknown event type, skipping what it does not know', async () => {
    const transcript = [
      'event: message_start',
      'data: {"type":"message_start","message":{"id":"msg_01AbC","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":412,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}',
      '',
      'event: content_block_start',
      'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
      '',
      ': keep-alive comment',
      'event: some_future_event',
      'data: {"type":"some_future_event","detail":{"x":1}}',
      '',
      'event: content_block_delta',
      'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Done."}}',
      '',
      'event: content_block_delta',
      'data: {"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}',
      '',
      'event: content_block_stop',
      'data: {"type":"content_block_stop","index":0}',
      '',
      'event: message_delta',
      'data: {"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},"usage":{"output_tokens":3}}',
      '',
      'event: message_stop',
      'data: {"type":"message_stop"}',
      '',
      '',
    ].join('\r\n');
    const server = await startFakeServer(({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(transcript);
    });
    try {
      const adapter = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: server.url, apiKey: 'k' });
      const events = await collect(adapter.stream(request(), { signal: signal() }));
      expect(events).toEqual([
        { type: 'start', upstreamId: 'msg_01AbC', model: 'claude-sonnet-4-6', warnings: [] },
        { type: 'text-delta', text: 'Done.' },
        {
          type: 'finish',
          finishReason: 'stop',
          rawFinishReason: 'stop_sequence',
          usage: { promptTokens: 412, completionTokens: 3, totalTokens: 415, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
        },
      ]);
    } finally {
      await server.close();
    }
  });

  it('treats a stream that ends before its stop reason as a broken connection', async () => {
    const server = await startFakeServer(({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":1,"output_tokens":1}}}\n\n');
    });
    try {
      const adapter = createAnthropicAdapter({ id: provider, kind: 'anthropic', name: 'Anthropic', baseUrl: server.url, apiKey: 'k' });
      const seen: StreamEvent[] = [];
      const error = await (async () => {
        for await (const event of adapter.stream(request(), { signal: signal() })) seen.push(event);
      })().catch((caught: unknown) => caught);
      expect(seen.map((event) => event.type)).toEqual(['start']);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('network');
    } finally {
      await server.close();
    }
  });
});

describe('anthropic keys echoed by the upstream', () => {
  it('are redacted from every error the registry’s adapter throws', async () => {
    const key = 'sk-ant-api03-echo/Key"0123456789';
    const fake = await startFakeAnthropic({ apiKey: key });
    try {
      await expectEchoedSecretRedacted(createAdapter({ id: 'anthropic', kind: 'anthropic', name: 'Anthropic', baseUrl: fake.url, apiKey: key }, { localDelayMs: 0 }), fake, key, request());
    } finally {
      await fake.close();
    }
  });
});
