import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicAdapter } from '../../src/providers/anthropic/adapter.js';
import { ProviderError } from '../../src/providers/errors.js';
import { createGeminiAdapter } from '../../src/providers/gemini/adapter.js';
import { createOllamaAdapter } from '../../src/providers/ollama/adapter.js';
import { createOpenAICompatibleAdapter } from '../../src/providers/openai-compatible/adapter.js';
import { createOpenAIAdapter } from '../../src/providers/openai/adapter.js';
import type { CompletionRequest, ProviderAdapter, ProviderConfig, StreamEvent, Usage } from '../../src/providers/types.js';
import { FRAMINGS, readFixture, startReplayServer, type ReplayServer } from '../fakes/replay.js';

/**
 * Each provider's stream mapping, fed the exchanges of wire-formats.md as recorded files (test/fixtures/<provider>),
 * replayed byte for byte by a fake upstream: whole, one byte per write, in odd-sized slices and with CRLF line
 * endings. Whatever the framing, the adapter must produce the same normalized events. The scripted fakes test
 * behaviour; these pin the exact bytes each provider documents.
 */

interface Fixture {
  file: string;
  contentType: string;
  adapter: (config: Pick<ProviderConfig, 'baseUrl'>) => ProviderAdapter;
  model: string;
  /** Every event the stream yields, in order. */
  events: StreamEvent[];
  /** The error the stream ends with, when it does not finish. */
  error?: { kind: ProviderError['kind']; message: RegExp; upstreamCode?: string };
}

const SSE = 'text/event-stream';
const NDJSON = 'application/x-ndjson';

function usage(promptTokens: number, completionTokens: number, extra: Partial<Usage> = {}): Usage {
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false, ...extra };
}

const openai = (config: Pick<ProviderConfig, 'baseUrl'>): ProviderAdapter => createOpenAIAdapter({ id: 'openai', kind: 'openai', name: 'OpenAI', apiKey: 'sk-test', ...config });
const compatible =
  (id: string) =>
  (config: Pick<ProviderConfig, 'baseUrl'>): ProviderAdapter =>
    createOpenAICompatibleAdapter({ id, kind: 'openai_compatible', name: id, apiKey: 'sk-test', ...config });
const anthropic = (config: Pick<ProviderConfig, 'baseUrl'>): ProviderAdapter =>
  createAnthropicAdapter({ id: 'anthropic', kind: 'anthropic', name: 'Anthropic', apiKey: 'sk-ant-test', ...config });
const gemini = (config: Pick<ProviderConfig, 'baseUrl'>): ProviderAdapter => createGeminiAdapter({ id: 'gemini', kind: 'gemini', name: 'Gemini', apiKey: 'g-test', ...config });
const ollama = (config: Pick<ProviderConfig, 'baseUrl'>): ProviderAdapter => createOllamaAdapter({ id: 'ollama', kind: 'ollama', name: 'Ollama', ...config });

const FIXTURES: Record<string, Fixture[]> = {
  openai: [
    {
      file: 'openai/text-and-tool-call.chunks.txt',
      contentType: SSE,
      adapter: openai,
      model: 'gpt-4o-mini',
      events: [
        { type: 'start', upstreamId: 'chatcmpl-9xA1', model: 'gpt-4o-mini', warnings: [] },
        { type: 'text-delta', text: 'Let me check.' },
        { type: 'tool-call-delta', index: 0, id: 'call_7Qe', name: 'get_weather', argumentsDelta: '' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '"Paris"}' },
        // The usage arrives on its own choices:[] chunk after the finish reason, and still lands on the finish event.
        { type: 'finish', finishReason: 'tool_calls', rawFinishReason: 'tool_calls', usage: usage(61, 17) },
      ],
    },
    {
      file: 'openai/text-with-usage.chunks.txt',
      contentType: SSE,
      adapter: openai,
      model: 'gpt-4o-mini',
      events: [
        { type: 'start', upstreamId: 'chatcmpl-9xA1', model: 'gpt-4o-mini', warnings: [] },
        { type: 'text-delta', text: 'Il fait 18 °C à Paris' },
        { type: 'text-delta', text: ' ☀️.' },
        { type: 'finish', finishReason: 'stop', rawFinishReason: 'stop', usage: usage(20, 9) },
      ],
    },
    {
      file: 'openai/mid-stream-error.chunks.txt',
      contentType: SSE,
      adapter: openai,
      model: 'gpt-4o-mini',
      events: [
        { type: 'start', upstreamId: 'chatcmpl-9xA1', model: 'gpt-4o-mini', warnings: [] },
        { type: 'text-delta', text: 'Half an' },
      ],
      error: { kind: 'stream_error', message: /The server had an error/, upstreamCode: 'server_error' },
    },
  ],
  anthropic: [
    {
      file: 'anthropic/text-and-tool-use.chunks.txt',
      contentType: SSE,
      adapter: anthropic,
      model: 'claude-sonnet-4-5',
      events: [
        { type: 'start', upstreamId: 'msg_01AbC', model: 'claude-sonnet-4-5', warnings: [] },
        { type: 'text-delta', text: 'Checking.' },
        { type: 'tool-call-delta', index: 0, id: 'toolu_01Xy', name: 'get_weather', argumentsDelta: '' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city": "Pa' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: 'ris"}' },
        // input_tokens from message_start, output_tokens from message_delta (cumulative); the ping in between is nothing.
        { type: 'finish', finishReason: 'tool_calls', rawFinishReason: 'tool_use', usage: usage(412, 58) },
      ],
    },
    {
      file: 'anthropic/overloaded-error.chunks.txt',
      contentType: SSE,
      adapter: anthropic,
      model: 'claude-sonnet-4-5',
      events: [
        { type: 'start', upstreamId: 'msg_01Err', model: 'claude-sonnet-4-5', warnings: [] },
        { type: 'text-delta', text: 'Half an' },
      ],
      error: { kind: 'overloaded', message: /Overloaded/, upstreamCode: 'overloaded_error' },
    },
  ],
  gemini: [
    {
      file: 'gemini/text-and-function-call.chunks.txt',
      contentType: SSE,
      adapter: gemini,
      model: 'gemini-2.5-flash',
      events: [
        { type: 'start', upstreamId: 'k3xaZ', model: 'gemini-2.5-flash', warnings: [] },
        { type: 'text-delta', text: 'Let me check' },
        { type: 'text-delta', text: ' the weather.' },
        // Gemini gives a call no id and no tool-call finish reason: both are ours to supply.
        { type: 'tool-call-delta', index: 0, id: 'call_0', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
        { type: 'finish', finishReason: 'tool_calls', rawFinishReason: 'STOP', usage: usage(40, 14) },
      ],
    },
    {
      file: 'gemini/mid-stream-error.chunks.txt',
      contentType: SSE,
      adapter: gemini,
      model: 'gemini-2.5-flash',
      events: [
        { type: 'start', upstreamId: 'k3xaE', model: 'gemini-2.5-flash', warnings: [] },
        { type: 'text-delta', text: 'Half an' },
      ],
      error: { kind: 'stream_error', message: /overloaded/, upstreamCode: 'UNAVAILABLE' },
    },
  ],
  ollama: [
    {
      file: 'ollama/text-and-tool-call.ndjson',
      contentType: NDJSON,
      adapter: ollama,
      model: 'llama3.2',
      events: [
        { type: 'start', model: 'llama3.2', warnings: [] },
        { type: 'text-delta', text: 'Hel' },
        { type: 'text-delta', text: 'lo!' },
        { type: 'tool-call-delta', index: 0, id: 'call_0', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
        // done_reason stays `stop` when tools were called.
        { type: 'finish', finishReason: 'tool_calls', rawFinishReason: 'stop', usage: usage(26, 14) },
      ],
    },
    {
      file: 'ollama/mid-stream-error.ndjson',
      contentType: NDJSON,
      adapter: ollama,
      model: 'llama3.2',
      events: [
        { type: 'start', model: 'llama3.2', warnings: [] },
        { type: 'text-delta', text: 'Half an' },
      ],
      error: { kind: 'stream_error', message: /unexpected EOF/ },
    },
  ],
  'openai-compatible': [
    {
      file: 'openai-compatible/deepseek-reasoning-content.chunks.txt',
      contentType: SSE,
      adapter: compatible('deepseek'),
      model: 'deepseek-reasoner',
      events: [
        { type: 'start', upstreamId: 'd1', model: 'deepseek-reasoner', warnings: [] },
        // The `: keep-alive` comment between chunks is skipped; reasoning_content becomes reasoning, before the text.
        { type: 'reasoning-delta', text: 'User wants 2+2.' },
        { type: 'text-delta', text: '4' },
        { type: 'finish', finishReason: 'stop', rawFinishReason: 'stop', usage: usage(12, 9, { reasoningTokens: 7 }) },
      ],
    },
    {
      file: 'openai-compatible/groq-x-groq-usage.chunks.txt',
      contentType: SSE,
      adapter: compatible('groq'),
      model: 'llama-3.3-70b-versatile',
      events: [
        { type: 'start', upstreamId: 'chatcmpl-g1', model: 'llama-3.3-70b-versatile', warnings: [] },
        { type: 'text-delta', text: 'Hi!' },
        // Groq streams its usage in x_groq.usage, not at the top level.
        { type: 'finish', finishReason: 'stop', rawFinishReason: 'stop', usage: usage(9, 3) },
      ],
    },
    {
      file: 'openai-compatible/mistral-whole-tool-call.chunks.txt',
      contentType: SSE,
      adapter: compatible('mistral'),
      model: 'mistral-small-latest',
      events: [
        { type: 'start', upstreamId: 'm1', model: 'mistral-small-latest', warnings: [] },
        { type: 'tool-call-delta', index: 0, id: 'Ab3dE9xYz', name: 'get_weather', argumentsDelta: '{"city": "Paris"}' },
        { type: 'finish', finishReason: 'tool_calls', rawFinishReason: 'tool_calls', usage: usage(70, 20) },
      ],
    },
    {
      file: 'openai-compatible/openrouter-in-band-error.chunks.txt',
      contentType: SSE,
      adapter: compatible('openrouter'),
      model: 'openai/gpt-4o',
      events: [
        { type: 'start', upstreamId: 'gen-1', model: 'openai/gpt-4o', warnings: [] },
        { type: 'text-delta', text: 'Half an' },
      ],
      error: { kind: 'stream_error', message: /Provider disconnected unexpectedly/, upstreamCode: 'server_error' },
    },
  ],
};

/** The events a stream yielded, and the error it ended with, if any. */
async function drain(stream: AsyncIterable<StreamEvent>): Promise<{ events: StreamEvent[]; error: unknown }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

function request(model: string): CompletionRequest {
  return { model, messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] }] };
}

let server: ReplayServer;
beforeAll(async () => {
  server = await startReplayServer();
});
afterAll(async () => {
  await server.close();
});

for (const [provider, fixtures] of Object.entries(FIXTURES)) {
  describe(`${provider} stream fixtures`, () => {
    for (const fixture of fixtures) {
      it.each(FRAMINGS)(`${fixture.file}, $name`, async ({ framing }) => {
        server.replay(readFixture(fixture.file), fixture.contentType, framing);
        const adapter = fixture.adapter({ baseUrl: server.url });
        const { events, error } = await drain(adapter.stream(request(fixture.model), { signal: new AbortController().signal }));
        expect(events).toEqual(fixture.events);
        if (fixture.error === undefined) {
          expect(error).toBeUndefined();
          return;
        }
        expect(error).toBeInstanceOf(ProviderError);
        expect(error).toMatchObject({ kind: fixture.error.kind, provider: adapter.id, ...(fixture.error.upstreamCode !== undefined ? { upstreamCode: fixture.error.upstreamCode } : {}) });
        expect((error as ProviderError).message).toMatch(fixture.error.message);
      });
    }
  });
}

it('keeps a fixture for every provider the issue names', () => {
  expect(Object.keys(FIXTURES).sort()).toEqual(['anthropic', 'gemini', 'ollama', 'openai', 'openai-compatible']);
});
