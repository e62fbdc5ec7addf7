import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import { createGeminiAdapter } from '../../src/providers/gemini/adapter.js';
import type { CompletionRequest, StreamEvent } from '../../src/providers/types.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeServer, type FakeServer } from '../fakes/server.js';
import { collect } from '../helpers/collect.js';
import { expectEchoedSecretRedacted } from '../helpers/echoed-secrets.js';
import { createAdapter } from '../../src/providers/registry.js';

const API_KEY = 'gemini-adapter-key-0d41';
const signal = (): AbortSignal => new AbortController().signal;
const hello: CompletionRequest = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }] };

describe('Gemini adapter against the fake', () => {
  let fake: FakeUpstream;
  const adapter = (overrides: { apiKey?: string } = { apiKey: API_KEY }) =>
    createGeminiAdapter({ id: 'gemini-main', kind: 'gemini', name: 'Gemini', baseUrl: `${fake.url}/`, ...overrides });

  beforeAll(async () => {
    fake = await startFakeGemini({
      apiKey: API_KEY,
      maxPageSize: 2,
      models: [
        { name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', inputTokenLimit: 1_048_576, outputTokenLimit: 65_536, supportedGenerationMethods: ['generateContent', 'countTokens'] },
        { name: 'models/text-embedding-004', displayName: 'Text Embedding 004', inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent'] },
        { name: 'models/gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', inputTokenLimit: 1_048_576, outputTokenLimit: 65_536, supportedGenerationMethods: ['generateContent'] },
      ],
    });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('sends the key only in the x-goog-api-key header, never in the URL', async () => {
    await adapter().complete(hello, { signal: signal() });
    await collect(adapter().stream(hello, { signal: signal() }));
    expect(fake.received.map((request) => request.path)).toEqual([
      '/v1beta/models/gemini-2.5-flash:generateContent',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ]);
    for (const request of fake.received) {
      expect(request.headers['x-goog-api-key']).toBe(API_KEY);
      expect(request.path).not.toContain(API_KEY);
    }
  });

  it('answers the default echo reply when nothing is scripted', async () => {
    const response = await adapter().complete(hello, { signal: signal() });
    expect(response.content).toBe('You said: Say hello');
  });

  it('reports thought and cached tokens in both complete and stream', async () => {
    const script = { kind: 'text', text: 'Deep answer', promptTokens: 50, completionTokens: 30, reasoningTokens: 20, cachedPromptTokens: 40 } as const;
    const expected = { promptTokens: 50, completionTokens: 30, totalTokens: 80, cachedPromptTokens: 40, reasoningTokens: 20, estimated: false };
    fake.enqueue(script);
    expect((await adapter().complete(hello, { signal: signal() })).usage).toEqual(expected);
    fake.enqueue(script);
    const events = await collect(adapter().stream(hello, { signal: signal() }));
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', rawFinishReason: 'STOP', usage: expected });
  });

  it('opens a stream with start carrying the response id, model and warnings', async () => {
    const events = await collect(adapter().stream({ ...hello, user: 'someone' }, { signal: signal() }));
    expect(events[0]).toMatchObject({ type: 'start', model: 'gemini-2.5-flash', upstreamId: expect.stringMatching(/^fake-/) });
    expect(events[0]?.type === 'start' && events[0].warnings).toHaveLength(1);
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1);
  });

  it('maps a bad key to a non-retryable authentication error without leaking it', async () => {
    const wrongKey = 'AIzaWrongKey123';
    const error = await adapter({ apiKey: wrongKey }).complete(hello, { signal: signal() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'authentication', status: 400, upstreamCode: 'API_KEY_INVALID', isRetryable: false, provider: 'gemini-main' });
    expect((error as ProviderError).message).not.toContain(wrongKey);
  });

  it('maps a missing key to an authentication error', async () => {
    const error = await adapter({}).complete(hello, { signal: signal() }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'authentication', status: 403 });
    expect(fake.received[0]?.headers['x-goog-api-key']).toBeUndefined();
  });

  it('lists chat models across pages, leaving out models that cannot generate content', async () => {
    const models = await adapter().listModels!({ signal: signal() });
    expect(models).toEqual([
      { id: 'gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', contextLength: 1_048_576, maxOutputTokens: 65_536 },
      { id: 'gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', contextLength: 1_048_576, maxOutputTokens: 65_536 },
    ]);
    expect(fake.received.map((request) => request.path)).toEqual(['/v1beta/models?pageSize=1000', '/v1beta/models?pageSize=1000&pageToken=2']);
  });

  it('serves the JSON-array stream when alt=sse is left out, as Google does', async () => {
    fake.enqueue({ kind: 'text', text: 'a b', promptTokens: 1, completionTokens: 2 });
    const response = await fetch(`${fake.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }),
    });
    const body: unknown = JSON.parse(await response.text());
    expect(Array.isArray(body) && body.length).toBe(2);
  });

  it('rejects a request without contents the way Gemini does', async () => {
    const error = await adapter().complete({ model: 'gemini-2.5-flash', messages: [{ role: 'system', content: 'Only a system prompt.' }] }, { signal: signal() }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'bad_request', status: 400, upstreamCode: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toContain('contents is not specified');
  });
});

describe('Gemini adapter against odd upstream streams', () => {
  let server: FakeServer;
  let lines: string[] = [];
  beforeAll(async () => {
    server = await startFakeServer(({ res }) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const line of lines) res.write(line);
      res.end();
    });
  });
  afterAll(async () => {
    await server.close();
  });
  const adapter = () => createGeminiAdapter({ id: 'gemini', kind: 'gemini', name: 'Gemini', baseUrl: server.url, apiKey: 'k' });

  it('throws a stream_error when the stream closes before a finish reason', async () => {
    lines = ['data: {"candidates":[{"content":{"parts":[{"text":"Half"}]}}]}\n\n'];
    const events: StreamEvent[] = [];
    const error = await (async () => {
      for await (const event of adapter().stream(hello, { signal: signal() })) events.push(event);
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'stream_error' });
    expect(events.map((event) => event.type)).toEqual(['start', 'text-delta']);
  });

  it('throws malformed_response for a chunk that is JSON but not a GenerateContentResponse', async () => {
    lines = ['data: {"candidates":"nope"}\n\n'];
    const error = await collect(adapter().stream(hello, { signal: signal() })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'malformed_response' });
  });

  it('streams a blocked prompt as content_filter with its usage', async () => {
    lines = ['data: {"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"responseId":"r1"}\n\n'];
    const events = await collect(adapter().stream(hello, { signal: signal() }));
    expect(events).toEqual([
      { type: 'start', upstreamId: 'r1', warnings: [] },
      { type: 'finish', finishReason: 'content_filter', rawFinishReason: 'SAFETY', usage: { promptTokens: 8, completionTokens: 0, totalTokens: 8, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false } },
    ]);
  });
});

describe('gemini keys echoed by the upstream', () => {
  it('are redacted from every error the registry’s adapter throws', async () => {
    const key = 'AIzaSyEcho-Key_0123456789abcdefghij';
    const fake = await startFakeGemini({ apiKey: key });
    try {
      await expectEchoedSecretRedacted(createAdapter({ id: 'gemini', kind: 'gemini', name: 'Gemini', baseUrl: fake.url, apiKey: key }, { localDelayMs: 0 }), fake, key, hello);
    } finally {
      await fake.close();
    }
  });
});
