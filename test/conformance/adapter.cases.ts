import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import type { CompletionRequest, ProviderAdapter, StreamEvent } from '../../src/providers/types.js';
import type { ConformanceTarget, FakeUpstream, ScriptedError } from './harness.js';
import { collect } from '../helpers/collect.js';

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function signal(): AbortSignal {
  return new AbortController().signal;
}

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** The same cases for every adapter, each against its provider's fake upstream. */
export function runConformance(target: ConformanceTarget): void {
  describe(`adapter conformance: ${target.name}`, () => {
    let fake: FakeUpstream;
    let adapter: ProviderAdapter;
    const base = (): CompletionRequest => ({
      model: target.model,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Say hello' }] },
      ],
      maxTokens: 64,
      temperature: 0.2,
    });

    beforeAll(async () => {
      fake = await target.startFake();
      adapter = target.createAdapter(fake.url);
    });
    afterAll(async () => {
      await fake.close();
    });
    beforeEach(() => {
      fake.received.length = 0;
    });

    it('maps a plain text request and response', async () => {
      fake.enqueue({ kind: 'text', text: 'Hello there!', promptTokens: 12, completionTokens: 4 });
      const response = await adapter.complete(base(), { signal: signal() });
      expect(response.content).toBe('Hello there!');
      expect(response.finishReason).toBe('stop');
      expect(response.rawFinishReason).not.toBeNull();
      expect(response.usage).toMatchObject({ promptTokens: 12, completionTokens: 4, totalTokens: 16, estimated: false });
      expect(fake.received).toHaveLength(1);
      const received = fake.received[0]!;
      expect(target.authorized(received)).toBe(true);
      const inspected = target.inspect(received);
      expect(inspected).toMatchObject({ model: target.model, stream: false, systemPrompt: 'You are terse.', userTexts: ['Say hello'], maxTokens: 64, temperature: 0.2 });
    });

    it('streams text deltas, start first and finish last with usage', async () => {
      fake.enqueue({ kind: 'text', text: 'One two three four', promptTokens: 9, completionTokens: 4 });
      const events = await collect(adapter.stream(base(), { signal: signal() }));
      expect(events[0]?.type).toBe('start');
      const last = events.at(-1);
      expect(last?.type).toBe('finish');
      const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
      expect(text).toBe('One two three four');
      expect(events.filter((event) => event.type === 'text-delta').length).toBeGreaterThan(1);
      if (last?.type !== 'finish') throw new Error('no finish');
      expect(last.finishReason).toBe('stop');
      expect(last.usage).toMatchObject({ promptTokens: 9, completionTokens: 4, totalTokens: 13 });
      expect(target.inspect(fake.received[0]!).stream).toBe(true);
    });

    it('reports a length finish', async () => {
      fake.enqueue({ kind: 'length', text: 'One two', promptTokens: 5, completionTokens: 2 });
      const response = await adapter.complete({ ...base(), maxTokens: 2 }, { signal: signal() });
      expect(response.finishReason).toBe('length');
      expect(response.content).toBe('One two');
    });

    it('maps tools and returns tool calls', async () => {
      fake.enqueue({ kind: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 30, completionTokens: 10 });
      const response = await adapter.complete({ ...base(), tools: [weatherTool], toolChoice: { type: 'auto' } }, { signal: signal() });
      expect(response.finishReason).toBe('tool_calls');
      expect(response.toolCalls).toHaveLength(1);
      expect(response.toolCalls[0]?.name).toBe('get_weather');
      expect(JSON.parse(response.toolCalls[0]!.arguments)).toEqual({ city: 'Paris' });
      expect(response.toolCalls[0]?.id).toBeTruthy();
      expect(target.inspect(fake.received[0]!).toolNames).toEqual(['get_weather']);
    });

    it('streams tool call deltas that assemble into the call', async () => {
      fake.enqueue({ kind: 'tool-call', id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}', promptTokens: 30, completionTokens: 10 });
      const events = await collect(adapter.stream({ ...base(), tools: [weatherTool] }, { signal: signal() }));
      const deltas = events.filter((event) => event.type === 'tool-call-delta');
      expect(deltas.length).toBeGreaterThan(0);
      const first = deltas[0];
      if (first?.type !== 'tool-call-delta') throw new Error('no delta');
      expect(first.name).toBe('get_weather');
      expect(first.id).toBeTruthy();
      const args = deltas.map((event) => (event.type === 'tool-call-delta' ? event.argumentsDelta : '')).join('');
      expect(JSON.parse(args)).toEqual({ city: 'Rome' });
      const last = events.at(-1);
      expect(last?.type === 'finish' && last.finishReason).toBe('tool_calls');
    });

    it('sends a JSON response format', async () => {
      fake.enqueue({ kind: 'text', text: '{"ok":true}', promptTokens: 10, completionTokens: 4 });
      await adapter.complete({ ...base(), responseFormat: { type: 'json_object' } }, { signal: signal() });
      const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
      fake.enqueue({ kind: 'text', text: '{"ok":true}', promptTokens: 10, completionTokens: 4 });
      const response = await adapter.complete({ ...base(), responseFormat: { type: 'json_schema', name: 'result', schema } }, { signal: signal() });
      expect(JSON.parse(response.content ?? '')).toEqual({ ok: true });
      expect(target.inspect(fake.received[0]!).responseFormat).toBe('json_object');
      if (target.supports.jsonSchema) expect(target.inspect(fake.received[1]!).responseFormat).toBe('json_schema');
      else expect(response.warnings.length).toBeGreaterThan(0);
    });

    it('sends image inputs', async () => {
      fake.enqueue({ kind: 'text', text: 'A red dot.', promptTokens: 100, completionTokens: 3 });
      const pixel = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
      const response = await adapter.complete(
        { ...base(), messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', url: pixel }] }] },
        { signal: signal() },
      );
      if (target.supports.images) expect(target.inspect(fake.received[0]!).imageCount).toBe(1);
      else expect(response.warnings.length).toBeGreaterThan(0);
    });

    if (target.supports.contentFilter) {
      it('maps a content filter finish', async () => {
        fake.enqueue({ kind: 'content-filter', promptTokens: 10 });
        const response = await adapter.complete(base(), { signal: signal() });
        expect(response.finishReason).toBe('content_filter');
      });
    }

    const errorCases: Array<{ error: ScriptedError; kind: ProviderError['kind']; status: number; retryable: boolean }> = [
      { error: 'bad_request', kind: 'bad_request', status: 400, retryable: false },
      { error: 'context_length_exceeded', kind: 'context_length_exceeded', status: 400, retryable: false },
      { error: 'authentication', kind: 'authentication', status: 401, retryable: false },
      { error: 'not_found', kind: 'not_found', status: 404, retryable: false },
      { error: 'rate_limited', kind: 'rate_limited', status: 429, retryable: true },
      { error: 'server_error', kind: 'server_error', status: 500, retryable: true },
    ];
    for (const errorCase of errorCases) {
      it(`maps a ${errorCase.error} error to a typed ProviderError`, async () => {
        fake.enqueue({ kind: 'error', error: errorCase.error, retryAfterSeconds: errorCase.error === 'rate_limited' ? 7 : undefined });
        const error = await adapter.complete(base(), { signal: signal() }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(ProviderError);
        const providerError = error as ProviderError;
        expect(providerError.status).toBe(target.errorStatus?.[errorCase.error] ?? errorCase.status);
        expect(providerError.kind).toBe(errorCase.kind);
        expect(providerError.isRetryable).toBe(errorCase.retryable);
        expect(providerError.provider).toBe(adapter.id);
        if (errorCase.error === 'rate_limited') expect(providerError.retryAfterMs).toBe(7000);
        expect(providerError.message).not.toContain(target.apiKey);
      });
    }

    it('maps an overloaded error as retryable', async () => {
      fake.enqueue({ kind: 'error', error: 'overloaded' });
      const error = await adapter.complete(base(), { signal: signal() }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('overloaded');
      expect((error as ProviderError).isRetryable).toBe(true);
    });

    it('rejects a malformed body as a malformed_response error', async () => {
      fake.enqueue({ kind: 'malformed' });
      const error = await adapter.complete(base(), { signal: signal() }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('malformed_response');
    });

    it('maps an unreachable upstream to a retryable network error', async () => {
      const unreachable = target.createAdapter('http://127.0.0.1:9');
      const error = await unreachable.complete(base(), { signal: signal() }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('network');
      expect((error as ProviderError).isRetryable).toBe(true);
    });

    it('throws a stream_error for an in-band error event mid-stream, after the text before it', async () => {
      fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer' });
      const seen: StreamEvent[] = [];
      const error = await (async () => {
        for await (const event of adapter.stream(base(), { signal: signal() })) seen.push(event);
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('stream_error');
      expect(seen.map((event) => (event.type === 'text-delta' ? event.text : '')).join('')).toBe('Partial answer');
      expect(seen.some((event) => event.type === 'finish')).toBe(false);
    });

    it('throws a network error when the stream connection breaks', async () => {
      fake.enqueue({ kind: 'break', textBefore: 'Cut' });
      const error = await collect(adapter.stream(base(), { signal: signal() })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('network');
    });

    it('closes the upstream connection when the caller aborts a stream', async () => {
      fake.enqueue({ kind: 'hang', textBefore: 'Waiting' });
      const controller = new AbortController();
      const iterator = adapter.stream(base(), { signal: controller.signal })[Symbol.asyncIterator]();
      let first = await iterator.next();
      while (!first.done && first.value.type !== 'text-delta') first = await iterator.next();
      expect(first.done).toBe(false);
      expect(fake.activeResponses()).toBeGreaterThan(0);
      controller.abort();
      await iterator.next().catch(() => undefined);
      await waitFor(() => fake.activeResponses() === 0);
      expect(fake.activeResponses()).toBe(0);
    });
  });
}
