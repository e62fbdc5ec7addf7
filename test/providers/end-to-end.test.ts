import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { startFakeOpenAICompatible } from '../fakes/openai-compatible.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse, subscribeWs, wsClient } from '../helpers/subscriptions.js';

const GEMINI_KEY = 'gemini-fake-key-0123456789';
const GROQ_KEY = 'gsk-fake-0123456789';

interface Case {
  provider: string;
  /** `<provider>/<provider model id>`: direct addressing, so the test does not depend on catalog entries. */
  model: string;
  start(): Promise<FakeUpstream>;
  env(url: string): Record<string, string>;
}

const cases: Case[] = [
  { provider: 'openai', model: 'openai/gpt-4o-mini', start: () => startFakeOpenAI(), env: (url) => ({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: url }) },
  { provider: 'anthropic', model: 'anthropic/claude-sonnet-4-6', start: () => startFakeAnthropic(), env: (url) => ({ ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: url }) },
  { provider: 'gemini', model: 'gemini/gemini-2.5-flash', start: () => startFakeGemini({ apiKey: GEMINI_KEY }), env: (url) => ({ GEMINI_API_KEY: GEMINI_KEY, GEMINI_BASE_URL: url }) },
  // Ollama takes no key; the fake expects none here, as a local Ollama would.
  { provider: 'ollama', model: 'ollama/llama3.2:latest', start: () => startFakeOllama(), env: (url) => ({ OLLAMA_BASE_URL: url }) },
  { provider: 'groq', model: 'groq/llama-3.3-70b-versatile', start: () => startFakeOpenAICompatible('groq', { apiKey: GROQ_KEY }), env: (url) => ({ GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: url }) },
];

const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { message { content } finishReason usage { promptTokens completionTokens totalTokens estimated } provider { id } } }`;
const STREAM = `subscription($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionStarted { provider { id } } ... on CompletionDelta { text } ... on CompletionDone { finishReason usage { promptTokens completionTokens totalTokens } } } }`;

type StreamEvent = { __typename: string; text?: string; provider?: { id: string }; finishReason?: string; usage?: { promptTokens: number; completionTokens: number; totalTokens: number } };

describe.each(cases)('GraphQL end to end through the $provider adapter', (entry) => {
  let fake: FakeUpstream;
  let server: TestServer;
  const input = { input: { model: entry.model, maxTokens: 100, messages: [{ role: 'USER', content: 'Say something' }] } };

  beforeAll(async () => {
    fake = await entry.start();
    server = await startTestServer(entry.env(fake.url));
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
  });

  it('createCompletion returns the upstream text, usage and finish reason', async () => {
    fake.enqueue({ kind: 'text', text: `Hello from ${entry.provider}`, promptTokens: 17, completionTokens: 5 });
    const body = await server.graphql<{ createCompletion: { message: { content: string }; finishReason: string; usage: Record<string, unknown>; provider: { id: string } } }>(COMPLETE, input);
    expect(body.errors).toBeUndefined();
    expect(body.data!.createCompletion).toEqual({
      message: { content: `Hello from ${entry.provider}` },
      finishReason: 'STOP',
      usage: { promptTokens: 17, completionTokens: 5, totalTokens: 22, estimated: false },
      provider: { id: entry.provider },
    });
    expect(fake.received.at(-1)?.method).toBe('POST');
  });

  it('completionStream over graphql-ws and SSE returns the upstream deltas, usage and finish reason', async () => {
    for (const transport of ['ws', 'sse'] as const) {
      fake.enqueue({ kind: 'text', text: 'one two three four five', promptTokens: 9, completionTokens: 5 });
      const results = transport === 'ws' ? await subscribeWs(wsClient(server.wsUrl), STREAM, input) : await subscribeSse(server.url, STREAM, input);
      const events = results.map((result) => (result.data as { completionStream: StreamEvent }).completionStream);
      expect(events[0]).toEqual({ __typename: 'CompletionStarted', provider: { id: entry.provider } });
      expect(events.filter((event) => event.__typename === 'CompletionDelta').map((event) => event.text).join('')).toBe('one two three four five');
      expect(events.at(-1)).toEqual({ __typename: 'CompletionDone', finishReason: 'STOP', usage: { promptTokens: 9, completionTokens: 5, totalTokens: 14 } });
    }
  });

  it('maps an upstream error to PROVIDER_ERROR naming the provider and status', async () => {
    fake.enqueue({ kind: 'error', error: 'bad_request' });
    const body = await server.graphql(COMPLETE, input);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'PROVIDER_ERROR', provider: entry.provider, status: 400 });
  });
});
