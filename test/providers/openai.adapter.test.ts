import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import { createAdapter } from '../../src/providers/registry.js';
import { createOpenAIAdapter } from '../../src/providers/openai/adapter.js';
import { openAIQuirks } from '../../src/providers/openai/quirks.js';
import { toOpenAIRequestBody } from '../../src/providers/openai/request.js';
import { createOpenAICompatibleAdapter } from '../../src/providers/openai-compatible/adapter.js';
import { deepseekQuirks, genericQuirks, mistralQuirks, quirksForProvider } from '../../src/providers/openai-compatible/quirks.js';
import type { CompletionRequest, ProviderAdapter, StreamEvent } from '../../src/providers/types.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startFakeOpenAICompatible } from '../fakes/openai-compatible.js';
import { startFakeServer, type FakeServer } from '../fakes/server.js';
import { collect } from '../helpers/collect.js';
import { expectEchoedSecretRedacted } from '../helpers/echoed-secrets.js';

const signal = (): AbortSignal => new AbortController().signal;

function textOf(events: StreamEvent[], type: 'text-delta' | 'reasoning-delta'): string {
  return events.map((event) => (event.type === type ? event.text : '')).join('');
}

const ask = (text: string): CompletionRequest => ({ model: 'any-model', messages: [{ role: 'user', content: [{ type: 'text', text }] }] });

const servers: Array<FakeServer | FakeUpstream> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server that answers every request with the same raw bytes: a transcript replayed verbatim. */
async function replay(body: string, options: { status?: number; contentType?: string; headers?: Record<string, string> } = {}): Promise<FakeServer> {
  const server = await startFakeServer(({ res }) => {
    res.writeHead(options.status ?? 200, { 'content-type': options.contentType ?? 'text/event-stream', ...options.headers });
    res.end(body);
  });
  servers.push(server);
  return server;
}

async function track<T extends FakeUpstream>(fake: Promise<T>): Promise<T> {
  const started = await fake;
  servers.push(started);
  return started;
}

function openai(baseUrl: string, apiKey = 'sk-unit'): ProviderAdapter {
  return createOpenAIAdapter({ id: 'openai', kind: 'openai', name: 'OpenAI', baseUrl, apiKey });
}

function compatible(id: string, baseUrl: string, extra: { apiKey?: string; headers?: Record<string, string> } = {}): ProviderAdapter {
  return createOpenAICompatibleAdapter({ id, kind: 'openai_compatible', name: id, baseUrl, apiKey: 'unit-key', ...extra });
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const caught = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(caught instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(caught)}`);
  return caught;
}

const envelope = '"id":"chatcmpl-9xA1","object":"chat.completion.chunk","created":1735689600,"model":"gpt-4o-mini"';
const openAITranscript = [
  `data: {${envelope},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`,
  `data: {${envelope},"choices":[{"index":0,"delta":{"content":"Let me check."},"logprobs":null,"finish_reason":null}],"usage":null}`,
  `data: {${envelope},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_7Qe","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
  `data: {${envelope},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
  `data: {${envelope},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`,
  `data: {${envelope},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}`,
  `data: {${envelope},"choices":[],"usage":{"prompt_tokens":61,"completion_tokens":17,"total_tokens":78,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`,
  'data: [DONE]',
  '',
].join('\n\n');

describe('OpenAI stream replay', () => {
  it('maps the reference transcript: text, a fragmented tool call, the finish and trailing usage', async () => {
    const server = await replay(openAITranscript);
    const events = await collect(openai(server.url).stream(ask('Weather?'), { signal: signal() }));
    expect(events[0]).toEqual({ type: 'start', upstreamId: 'chatcmpl-9xA1', model: 'gpt-4o-mini', warnings: [] });
    expect(textOf(events, 'text-delta')).toBe('Let me check.');
    const calls = events.filter((event) => event.type === 'tool-call-delta');
    expect(calls).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'call_7Qe', name: 'get_weather', argumentsDelta: '' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '"Paris"}' },
    ]);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'tool_calls',
      rawFinishReason: 'tool_calls',
      usage: { promptTokens: 61, completionTokens: 17, totalTokens: 78, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
    });
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1);
  });

  it('sends stream and stream_options.include_usage', async () => {
    const fake = await track(startFakeOpenAI());
    await collect(openai(fake.url, FAKE_OPENAI_KEY).stream(ask('Hi'), { signal: signal() }));
    expect(fake.received[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('finishes with null usage when the provider sent none', async () => {
    const server = await replay(
      [`data: {${envelope},"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`, `data: {${envelope},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, 'data: [DONE]', ''].join('\n\n'),
    );
    const events = await collect(openai(server.url).stream(ask('Hi'), { signal: signal() }));
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', rawFinishReason: 'stop', usage: null });
  });

  it('accepts a clean end without [DONE] once the finish reason came', async () => {
    const server = await replay(`data: {${envelope},"choices":[{"index":0,"delta":{"content":"Done"},"finish_reason":"length"}]}\n\n`);
    const events = await collect(openai(server.url).stream(ask('Hi'), { signal: signal() }));
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'length' });
  });

  it('treats a clean end before any finish reason as a cut-off network error', async () => {
    const server = await replay(`data: {${envelope},"choices":[{"index":0,"delta":{"content":"Trunc"},"finish_reason":null}]}\n\n`);
    const seen: StreamEvent[] = [];
    const error = await failure(
      (async () => {
        for await (const event of openai(server.url).stream(ask('Hi'), { signal: signal() })) seen.push(event);
      })(),
    );
    expect(error.kind).toBe('network');
    expect(error.isRetryable).toBe(true);
    expect(textOf(seen, 'text-delta')).toBe('Trunc');
  });

  it('turns a chunk that is not JSON into malformed_response', async () => {
    const fake = await track(startFakeOpenAI());
    fake.enqueue({ kind: 'malformed' });
    const error = await failure(collect(openai(fake.url, FAKE_OPENAI_KEY).stream(ask('Hi'), { signal: signal() })));
    expect(error.kind).toBe('malformed_response');
  });

  it('stops at an in-band error even when it comes first', async () => {
    const server = await replay('data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n');
    const error = await failure(collect(openai(server.url).stream(ask('Hi'), { signal: signal() })));
    expect(error.kind).toBe('stream_error');
    expect(error.upstreamCode).toBe('server_error');
  });
});

describe('OpenAI response details', () => {
  it('reports cached and reasoning tokens, streamed and not', async () => {
    const fake = await track(startFakeOpenAI());
    const adapter = openai(fake.url, FAKE_OPENAI_KEY);
    fake.enqueue({ kind: 'text', text: 'Cached answer', promptTokens: 100, completionTokens: 20, cachedPromptTokens: 64, reasoningTokens: 12 });
    const response = await adapter.complete(ask('Hi'), { signal: signal() });
    expect(response.usage).toEqual({ promptTokens: 100, completionTokens: 20, totalTokens: 120, cachedPromptTokens: 64, reasoningTokens: 12, estimated: false });
    fake.enqueue({ kind: 'text', text: 'Cached answer', promptTokens: 100, completionTokens: 20, cachedPromptTokens: 64, reasoningTokens: 12 });
    const events = await collect(adapter.stream(ask('Hi'), { signal: signal() }));
    expect(events.at(-1)).toMatchObject({ usage: { cachedPromptTokens: 64, reasoningTokens: 12 } });
  });

  it('reports tool_calls when tool_choice named a function and OpenAI said stop', async () => {
    const server = await replay(
      JSON.stringify({
        id: 'chatcmpl-named',
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_n', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
          },
        ],
        usage: { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 },
      }),
      { contentType: 'application/json' },
    );
    const response = await openai(server.url).complete(
      { ...ask('Weather?'), tools: [{ name: 'get_weather', parameters: { type: 'object' } }], toolChoice: { type: 'tool', name: 'get_weather' } },
      { signal: signal() },
    );
    expect(response.finishReason).toBe('tool_calls');
    expect(response.rawFinishReason).toBe('stop');
    expect(response.toolCalls).toEqual([{ id: 'call_n', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
  });

  it('applies the same rule to a stream', async () => {
    const server = await replay(
      [
        `data: {${envelope},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_s","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}`,
        `data: {${envelope},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const events = await collect(openai(server.url).stream(ask('Go'), { signal: signal() }));
    expect(events.at(-1)).toMatchObject({ finishReason: 'tool_calls', rawFinishReason: 'stop' });
  });

  it('surfaces a refusal as the content, finished as content_filter', async () => {
    const server = await replay(
      JSON.stringify({
        id: 'chatcmpl-r',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: null, refusal: "I'm sorry, I can't help with that." } }],
        usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 },
      }),
      { contentType: 'application/json' },
    );
    const response = await openai(server.url).complete(ask('Something bad'), { signal: signal() });
    expect(response.content).toBe("I'm sorry, I can't help with that.");
    expect(response.finishReason).toBe('content_filter');
    expect(response.rawFinishReason).toBe('stop');
  });

  it('rejects a JSON body that is not a completion as malformed_response', async () => {
    const server = await replay(JSON.stringify({ id: 'x', choices: [] }), { contentType: 'application/json' });
    const error = await failure(openai(server.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('malformed_response');
  });
});

describe('OpenAI errors', () => {
  it('maps insufficient_quota to quota_exhausted, not retryable, despite the 429', async () => {
    const server = await replay(
      JSON.stringify({ error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }),
      { status: 429, contentType: 'application/json' },
    );
    const error = await failure(openai(server.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('quota_exhausted');
    expect(error.isRetryable).toBe(false);
    expect(error.status).toBe(429);
    expect(error.upstreamCode).toBe('insufficient_quota');
  });

  it('takes retry-after-ms over retry-after', async () => {
    const server = await replay(JSON.stringify({ error: { message: 'Slow down', type: 'requests', param: null, code: 'rate_limit_exceeded' } }), {
      status: 429,
      contentType: 'application/json',
      headers: { 'retry-after-ms': '1500', 'retry-after': '2' },
    });
    const error = await failure(openai(server.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(1500);
  });

  it('never repeats the API key, even when the upstream echoes it (redacted by the registry’s adapter)', async () => {
    const key = 'sk-live-secret-abcdef123456';
    const server = await replay(JSON.stringify({ error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }), {
      status: 401,
      contentType: 'application/json',
    });
    const adapter = createAdapter({ id: 'openai', kind: 'openai', name: 'OpenAI', baseUrl: server.url, apiKey: key }, { localDelayMs: 0 });
    const error = await failure(adapter.complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('authentication');
    expect(error.message).not.toContain(key);
    expect(error.message).toContain('Incorrect API key provided');
  });
});

describe('OpenAI request mapping', () => {
  it('maps the whole conversation, tools, tool choice and json_schema', () => {
    const { body, warnings } = toOpenAIRequestBody(
      {
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image', url: 'https://example.com/cat.png', detail: 'low' }] },
          { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"cat"}' }] },
          { role: 'tool', toolCallId: 'call_1', content: 'a cat' },
          { role: 'assistant', content: 'It is a cat.', toolCalls: [] },
        ],
        maxTokens: 100,
        topP: 0.9,
        stop: ['END'],
        seed: 7,
        user: 'user-42',
        tools: [{ name: 'lookup', description: 'Search', parameters: { type: 'object' }, strict: true }],
        toolChoice: { type: 'tool', name: 'lookup' },
        responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
      },
      { stream: false, quirks: openAIQuirks, providerName: 'OpenAI' },
    );
    expect(warnings).toEqual([]);
    expect(body).toEqual({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
        { role: 'assistant', content: 'It is a cat.' },
      ],
      max_completion_tokens: 100,
      top_p: 0.9,
      stop: ['END'],
      seed: 7,
      user: 'user-42',
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Search', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    });
  });

  it('warns about a tool choice given without tools instead of sending it', () => {
    const { body, warnings } = toOpenAIRequestBody({ ...ask('Hi'), toolChoice: { type: 'required' } }, { stream: false, quirks: openAIQuirks, providerName: 'OpenAI' });
    expect(body.tool_choice).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('forwards our request id and configured headers', async () => {
    const fake = await track(startFakeOpenAI());
    const adapter = createOpenAIAdapter({ id: 'openai', kind: 'openai', name: 'OpenAI', baseUrl: fake.url, apiKey: FAKE_OPENAI_KEY, headers: { 'OpenAI-Project': 'proj_1' } });
    await adapter.complete(ask('Hi'), { signal: signal(), requestId: 'req-abc' });
    expect(fake.received[0]?.headers).toMatchObject({ 'x-client-request-id': 'req-abc', 'openai-project': 'proj_1', authorization: `Bearer ${FAKE_OPENAI_KEY}` });
  });

  it('lists models from GET {base}/models', async () => {
    const fake = await track(startFakeOpenAI({ models: ['gpt-4o-mini', 'o3'] }));
    const models = await openai(fake.url, FAKE_OPENAI_KEY).listModels?.({ signal: signal() });
    expect(models).toEqual([{ id: 'gpt-4o-mini' }, { id: 'o3' }]);
    expect(fake.received[0]?.path).toBe('/v1/models');
  });
});

describe('OpenAI-compatible quirks', () => {
  it('chooses quirks by provider id, anything unknown being a generic server', () => {
    expect(quirksForProvider('mistral')).toBe(mistralQuirks);
    expect(quirksForProvider('DeepSeek')).toBe(deepseekQuirks);
    expect(quirksForProvider('my-vllm')).toBe(genericQuirks);
  });

  it('DeepSeek: streams reasoning_content as reasoning deltas and reads cache hits (transcript replay)', async () => {
    const server = await replay(
      [
        'data: {"id":"d1","object":"chat.completion.chunk","created":1735689600,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}',
        ': keep-alive',
        'data: {"id":"d1","object":"chat.completion.chunk","created":1735689600,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"User wants 2+2."},"logprobs":null,"finish_reason":null}]}',
        'data: {"id":"d1","object":"chat.completion.chunk","created":1735689600,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"4","reasoning_content":null},"logprobs":null,"finish_reason":null}]}',
        'data: {"id":"d1","object":"chat.completion.chunk","created":1735689600,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"prompt_cache_hit_tokens":4,"prompt_cache_miss_tokens":8,"completion_tokens_details":{"reasoning_tokens":7}}}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const events = await collect(compatible('deepseek', server.url).stream(ask('2+2?'), { signal: signal() }));
    expect(textOf(events, 'reasoning-delta')).toBe('User wants 2+2.');
    expect(textOf(events, 'text-delta')).toBe('4');
    const reasoningAt = events.findIndex((event) => event.type === 'reasoning-delta');
    const textAt = events.findIndex((event) => event.type === 'text-delta');
    expect(reasoningAt).toBeLessThan(textAt);
    expect(events.at(-1)).toMatchObject({ finishReason: 'stop', usage: { promptTokens: 12, completionTokens: 9, cachedPromptTokens: 4, reasoningTokens: 7 } });
  });

  it('DeepSeek: returns reasoning and cache hits without streaming, past the blank lines before the body', async () => {
    const fake = await track(startFakeOpenAICompatible('deepseek', { apiKey: 'unit-key' }));
    fake.enqueue({ kind: 'text', text: '4', promptTokens: 12, completionTokens: 9, cachedPromptTokens: 5, reasoningTokens: 7 });
    const response = await compatible('deepseek', fake.url).complete(ask('2+2?'), { signal: signal() });
    expect(response.content).toBe('4');
    expect(response.reasoning).toBeTruthy();
    expect(response.usage).toMatchObject({ cachedPromptTokens: 5, reasoningTokens: 7 });
  });

  it('DeepSeek: what it cannot honour becomes warnings, in the response and on start', async () => {
    const fake = await track(startFakeOpenAICompatible('deepseek', { apiKey: 'unit-key' }));
    const adapter = compatible('deepseek', fake.url);
    const request: CompletionRequest = {
      model: 'deepseek-chat',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', url: 'data:image/png;base64,AAAA' }] }],
      seed: 1,
      user: 'u1',
      maxTokens: 50,
      responseFormat: { type: 'json_schema', name: 'x', schema: { type: 'object' } },
    };
    const response = await adapter.complete(request, { signal: signal() });
    expect(response.warnings).toHaveLength(4);
    expect(response.warnings.join(' ')).toMatch(/seed/);
    expect(response.warnings.join(' ')).toMatch(/image/);
    expect(response.warnings.join(' ')).toMatch(/json_schema/);
    expect(fake.received[0]?.body).toMatchObject({ max_tokens: 50, response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'What is this?' }] });
    expect(fake.received[0]?.body).not.toHaveProperty('seed');
    expect(fake.received[0]?.body).not.toHaveProperty('user');
    const events = await collect(adapter.stream(request, { signal: signal() }));
    expect(events[0]).toMatchObject({ type: 'start', warnings: response.warnings });
  });

  it('DeepSeek: 402 insufficient balance is quota_exhausted', async () => {
    const server = await replay(JSON.stringify({ error: { message: 'Insufficient Balance', type: 'unknown_error', param: null, code: 'invalid_request_error' } }), {
      status: 402,
      contentType: 'application/json',
    });
    const error = await failure(compatible('deepseek', server.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('quota_exhausted');
  });

  it('Groq: reads streamed usage from x_groq (transcript replay)', async () => {
    const server = await replay(
      [
        'data: {"id":"chatcmpl-g1","object":"chat.completion.chunk","created":1735689600,"model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"x_groq":{"id":"req_01j"}}',
        'data: {"id":"chatcmpl-g1","object":"chat.completion.chunk","created":1735689600,"model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{"content":"Hi!"},"logprobs":null,"finish_reason":null}]}',
        'data: {"id":"chatcmpl-g1","object":"chat.completion.chunk","created":1735689600,"model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"x_groq":{"id":"req_01j","usage":{"queue_time":0.01,"prompt_tokens":9,"prompt_time":0.002,"completion_tokens":3,"completion_time":0.01,"total_tokens":12,"total_time":0.012}}}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const events = await collect(compatible('groq', server.url).stream(ask('Hi'), { signal: signal() }));
    expect(textOf(events, 'text-delta')).toBe('Hi!');
    expect(events.at(-1)).toMatchObject({ finishReason: 'stop', usage: { promptTokens: 9, completionTokens: 3, totalTokens: 12 } });
  });

  it('Groq: an x_groq.error chunk is a stream_error', async () => {
    const fake = await track(startFakeOpenAICompatible('groq', { apiKey: 'unit-key' }));
    fake.enqueue({ kind: 'mid-stream-error', textBefore: 'So far' });
    const error = await failure(collect(compatible('groq', fake.url).stream(ask('Hi'), { signal: signal() })));
    expect(error.kind).toBe('stream_error');
    expect(error.message).toContain('model stopped responding');
  });

  it('Groq: does not send stream_options, which its API lacks', async () => {
    const fake = await track(startFakeOpenAICompatible('groq', { apiKey: 'unit-key' }));
    await collect(compatible('groq', fake.url).stream({ ...ask('Hi'), maxTokens: 10 }, { signal: signal() }));
    expect(fake.received[0]?.body).not.toHaveProperty('stream_options');
    expect(fake.received[0]?.body).toMatchObject({ max_completion_tokens: 10 });
    expect(fake.received[0]?.path).toBe('/openai/v1/chat/completions');
  });

  it('Mistral: whole tool calls with finish and usage on one chunk (transcript replay)', async () => {
    const server = await replay(
      [
        'data: {"id":"m1","object":"chat.completion.chunk","created":1735689600,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
        'data: {"id":"m1","object":"chat.completion.chunk","created":1735689600,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":"","tool_calls":[{"id":"Ab3dE9xYz","function":{"name":"get_weather","arguments":"{\\"city\\": \\"Paris\\"}"},"index":0}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":70,"total_tokens":90,"completion_tokens":20}}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const events = await collect(compatible('mistral', server.url).stream(ask('Weather?'), { signal: signal() }));
    expect(events.filter((event) => event.type === 'tool-call-delta')).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'Ab3dE9xYz', name: 'get_weather', argumentsDelta: '{"city": "Paris"}' },
    ]);
    expect(events.at(-1)).toMatchObject({ finishReason: 'tool_calls', usage: { promptTokens: 70, completionTokens: 20 } });
  });

  it('Mistral: whole calls keyed by id, whether the index is missing or repeated', async () => {
    const chunk = (calls: string): string =>
      `data: {"id":"m2","object":"chat.completion.chunk","model":"mistral-large-latest","choices":[{"index":0,"delta":{"tool_calls":${calls}},"finish_reason":null}]}`;
    const server = await replay(
      [
        chunk('[{"id":"a1","function":{"name":"f","arguments":"{}"}}]'),
        chunk('[{"id":"b2","function":{"name":"g","arguments":"{\\"x\\":1}"},"index":0}]'),
        chunk('[{"id":"c3","function":{"name":"h","arguments":"{}"},"index":0}]'),
        'data: {"id":"m2","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const events = await collect(compatible('mistral', server.url).stream(ask('Go'), { signal: signal() }));
    expect(events.filter((event) => event.type === 'tool-call-delta')).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'a1', name: 'f', argumentsDelta: '{}' },
      { type: 'tool-call-delta', index: 1, id: 'b2', name: 'g', argumentsDelta: '{"x":1}' },
      { type: 'tool-call-delta', index: 2, id: 'c3', name: 'h', argumentsDelta: '{}' },
    ]);
  });

  it('Mistral: content as text and thinking chunks, model_length as length', async () => {
    const server = await replay(
      JSON.stringify({
        id: 'm3',
        model: 'magistral-medium-latest',
        choices: [
          {
            index: 0,
            finish_reason: 'model_length',
            message: {
              role: 'assistant',
              content: [
                { type: 'thinking', thinking: [{ type: 'text', text: 'Considering.' }] },
                { type: 'text', text: 'Answer.' },
              ],
            },
          },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
      }),
      { contentType: 'application/json' },
    );
    const response = await compatible('mistral', server.url).complete(ask('Hi'), { signal: signal() });
    expect(response.content).toBe('Answer.');
    expect(response.reasoning).toBe('Considering.');
    expect(response.finishReason).toBe('length');
    expect(response.rawFinishReason).toBe('model_length');
  });

  it('Mistral: sends max_tokens and random_seed and warns about the user id', async () => {
    const fake = await track(startFakeOpenAICompatible('mistral', { apiKey: 'unit-key' }));
    const response = await compatible('mistral', fake.url).complete({ ...ask('Hi'), maxTokens: 20, seed: 42, user: 'u1' }, { signal: signal() });
    expect(fake.received[0]?.body).toMatchObject({ max_tokens: 20, random_seed: 42 });
    expect(response.warnings).toEqual([expect.stringMatching(/end-user id/)]);
  });

  it('Mistral: an unwrapped context-overflow body is context_length_exceeded', async () => {
    const fake = await track(startFakeOpenAICompatible('mistral', { apiKey: 'unit-key' }));
    fake.enqueue({ kind: 'error', error: 'context_length_exceeded' });
    const error = await failure(compatible('mistral', fake.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('context_length_exceeded');
    expect(error.message).toContain('too large for model');
  });

  it('Together: eos is a normal stop', async () => {
    const fake = await track(startFakeOpenAICompatible('together', { apiKey: 'unit-key' }));
    fake.enqueue({ kind: 'text', text: 'Done.', promptTokens: 3, completionTokens: 2 });
    const response = await compatible('together', fake.url).complete(ask('Hi'), { signal: signal() });
    expect(response.finishReason).toBe('stop');
    expect(response.rawFinishReason).toBe('eos');
  });

  it('OpenRouter: an error chunk inside a 200 stream is a stream_error (transcript replay)', async () => {
    const server = await replay(
      [
        ': OPENROUTER PROCESSING',
        'data: {"id":"gen-1","object":"chat.completion.chunk","created":1735689600,"model":"openai/gpt-4o","provider":"OpenAI","choices":[{"index":0,"delta":{"role":"assistant","content":"Half an"},"finish_reason":null}]}',
        'data: {"id":"gen-1","object":"chat.completion.chunk","created":1735689600,"model":"openai/gpt-4o","provider":"OpenAI","error":{"code":"server_error","message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}',
        'data: [DONE]',
        '',
      ].join('\n\n'),
    );
    const seen: StreamEvent[] = [];
    const error = await failure(
      (async () => {
        for await (const event of compatible('openrouter', server.url).stream(ask('Hi'), { signal: signal() })) seen.push(event);
      })(),
    );
    expect(error.kind).toBe('stream_error');
    expect(error.upstreamCode).toBe('server_error');
    expect(textOf(seen, 'text-delta')).toBe('Half an');
  });

  it('OpenRouter: an error body with HTTP 200 is thrown with the kind its code names', async () => {
    const server = await replay(JSON.stringify({ error: { code: 502, message: 'Upstream provider is down', metadata: { provider_name: 'X' } } }), {
      contentType: 'application/json',
    });
    const error = await failure(compatible('openrouter', server.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('server_error');
    expect(error.upstreamCode).toBe('502');
  });

  it('OpenRouter: sends its attribution header, which configured headers override', async () => {
    const fake = await track(startFakeOpenAICompatible('openrouter', { apiKey: 'unit-key' }));
    await compatible('openrouter', fake.url).complete(ask('Hi'), { signal: signal() });
    await compatible('openrouter', fake.url, { headers: { 'X-Title': 'My App', 'HTTP-Referer': 'https://example.com' } }).complete(ask('Hi'), { signal: signal() });
    expect(fake.received[0]?.headers['x-title']).toBe('Switchboard');
    expect(fake.received[1]?.headers).toMatchObject({ 'x-title': 'My App', 'http-referer': 'https://example.com' });
  });

  it('lists models with context windows under each server’s field name', async () => {
    const openRouter = await track(startFakeOpenAICompatible('openrouter', { apiKey: 'unit-key', models: ['openai/gpt-4o'] }));
    expect(await compatible('openrouter', openRouter.url).listModels?.({ signal: signal() })).toEqual([
      { id: 'openai/gpt-4o', displayName: 'OpenAI: openai/gpt-4o', contextLength: 128000, maxOutputTokens: 16384 },
    ]);
    const together = await track(startFakeOpenAICompatible('together', { apiKey: 'unit-key', models: ['meta-llama/Llama-3.3-70B'] }));
    expect(await compatible('together', together.url).listModels?.({ signal: signal() })).toEqual([
      { id: 'meta-llama/Llama-3.3-70B', displayName: 'meta-llama/Llama-3.3-70B', contextLength: 8192 },
    ]);
    const groq = await track(startFakeOpenAICompatible('groq', { apiKey: 'unit-key', models: ['llama-3.3-70b-versatile'] }));
    expect(await compatible('groq', groq.url).listModels?.({ signal: signal() })).toEqual([
      { id: 'llama-3.3-70b-versatile', contextLength: 131072, maxOutputTokens: 32768 },
    ]);
  });

  it('self-hosted: no Authorization header without a key, and a string error body is read', async () => {
    const fake = await track(startFakeOpenAICompatible('self-hosted', { apiKey: null }));
    const keyless = createOpenAICompatibleAdapter({ id: 'llamacpp', kind: 'openai_compatible', name: 'llama.cpp', baseUrl: fake.url });
    const response = await keyless.complete(ask('ping'), { signal: signal() });
    expect(response.content).toBe('You said: ping');
    expect(fake.received[0]?.headers.authorization).toBeUndefined();

    const guarded = await track(startFakeOpenAICompatible('self-hosted', { apiKey: 'server-key' }));
    const error = await failure(compatible('vllm', guarded.url, { apiKey: 'wrong-key' }).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('authentication');
    expect(error.message).toContain('Unauthorized');
  });

  it('self-hosted: llama.cpp’s exceed_context_size_error is context_length_exceeded', async () => {
    const server = await replay(
      JSON.stringify({ error: { code: 400, message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 5000, n_ctx: 4096 } }),
      { status: 400, contentType: 'application/json' },
    );
    const error = await failure(compatible('llamacpp', server.url).complete(ask('Hi'), { signal: signal() }));
    expect(error.kind).toBe('context_length_exceeded');
  });
});

describe('OpenAI-family keys echoed by the upstream', () => {
  it('are redacted from every error the registry’s adapter throws (OpenAI key)', async () => {
    const key = 'sk-proj-echo/Key"0123456789abcdef';
    const fake = await startFakeOpenAI({ apiKey: key });
    try {
      await expectEchoedSecretRedacted(createAdapter({ id: 'openai', kind: 'openai', name: 'OpenAI', baseUrl: fake.url, apiKey: key }, { localDelayMs: 0 }), fake, key, ask('Hi'));
    } finally {
      await fake.close();
    }
  });

  it('are redacted from every error the registry’s adapter throws (an OpenAI-compatible server’s custom header secret)', async () => {
    const secret = 'gw-token/Header"Secret0123456789';
    const fake = await startFakeOpenAI({ apiKey: null });
    try {
      const adapter = createAdapter({ id: 'acme', kind: 'openai_compatible', name: 'Acme', baseUrl: fake.url, headers: { 'x-gateway-token': secret } }, { localDelayMs: 0 });
      await expectEchoedSecretRedacted(adapter, fake, secret, ask('Hi'));
    } finally {
      await fake.close();
    }
  });
});
