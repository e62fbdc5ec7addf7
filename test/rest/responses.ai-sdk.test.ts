import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * The Vercel AI SDK's default OpenAI provider, `createOpenAI({ baseURL })(id)`, calls POST /v1/responses: used
 * exactly as its docs show, against two providers behind their fakes. Content is not stored, as by default: the
 * SDK resends the items of earlier steps itself.
 */
let server: TestServer;
let openaiFake: FakeUpstream;
let anthropicFake: FakeUpstream;

const PROVIDERS = [
  { name: 'openai', model: 'openai/gpt-4o-mini', fake: () => openaiFake },
  { name: 'anthropic', model: 'anthropic/claude-sonnet-4-6', fake: () => anthropicFake },
] as const;

beforeAll(async () => {
  openaiFake = await startFakeOpenAI();
  anthropicFake = await startFakeAnthropic();
  server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: openaiFake.url, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: anthropicFake.url });
});
afterAll(async () => {
  await server.stop();
  await openaiFake.close();
  await anthropicFake.close();
});

describe.each(PROVIDERS)('the AI SDK’s default OpenAI provider, served by $name', ({ model, fake }) => {
  // Open local mode takes any key; the SDK insists on one. maxRetries 0: each test sees the gateway's answer.
  const provider = (): ReturnType<typeof createOpenAI> => createOpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-anything' });

  beforeEach(() => {
    fake().received.length = 0;
  });

  it('generateText', async () => {
    fake().enqueue({ kind: 'text', text: 'Hello from upstream.', promptTokens: 100, completionTokens: 5 });
    const result = await generateText({ model: provider()(model), system: 'Be brief.', prompt: 'Hi', maxRetries: 0 });
    expect(result.text).toBe('Hello from upstream.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 100, outputTokens: 5, totalTokens: 105 });
    expect(result.response.modelId).toBe(model);
    expect(JSON.stringify(fake().received[0]?.body)).toContain('Be brief.');
  });

  it('streamText', async () => {
    fake().enqueue({ kind: 'text', text: 'One two three four.', promptTokens: 30, completionTokens: 8 });
    const result = streamText({ model: provider()(model), prompt: 'Count', maxRetries: 0 });
    const pieces: string[] = [];
    for await (const piece of result.textStream) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('One two three four.');
    expect(await result.text).toBe('One two three four.');
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toMatchObject({ inputTokens: 30, outputTokens: 8 });
  });

  it('generateObject with a zod schema', async () => {
    fake().enqueue({ kind: 'text', text: '{"city":"Rome","celsius":24}', promptTokens: 30, completionTokens: 10 });
    const result = await generateObject({
      model: provider()(model),
      schema: z.object({ city: z.string(), celsius: z.number() }),
      prompt: 'Weather in Rome',
      maxRetries: 0,
    });
    expect(result.object).toEqual({ city: 'Rome', celsius: 24 });
    expect(JSON.stringify(fake().received[0]?.body)).toContain('celsius');
  });

  it('runs a multi-step tool call: the SDK executes the tool and sends its result back', async () => {
    fake().enqueue({ kind: 'tool-call', id: 'call_sdk_1', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 20, completionTokens: 9 });
    fake().enqueue({ kind: 'text', text: 'It is sunny in Paris.', promptTokens: 40, completionTokens: 6 });
    const executed: string[] = [];
    const result = await generateText({
      model: provider()(model),
      prompt: 'Weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'Weather for a city',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => {
            executed.push(city);
            return { city, sky: 'sunny-and-21C' };
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    expect(executed).toEqual(['Paris']);
    expect(result.steps).toHaveLength(2);
    expect(result.text).toBe('It is sunny in Paris.');
    // The second upstream request carried the call and the tool's result.
    const sent = JSON.stringify(fake().received[1]?.body);
    expect(sent).toContain('call_sdk_1');
    expect(sent).toContain('sunny-and-21C');
  });
});

describe('the AI SDK’s item_reference with SWITCHBOARD_STORE_CONTENT on', () => {
  let stored: TestServer;
  let fake: FakeUpstream;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    stored = await startTestServer({ SWITCHBOARD_STORE_CONTENT: 'true', ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await stored.stop();
    await fake.close();
  });

  it('resolves the reference to an earlier step’s text, so the provider sees the whole turn', async () => {
    // Claude says something before its call; the SDK then refers to that text by its item id instead of resending it.
    fake.enqueue({ kind: 'tool-call', id: 'toolu_ref_1', name: 'get_weather', arguments: '{"city":"Lima"}', promptTokens: 20, completionTokens: 9 });
    fake.enqueue({ kind: 'text', text: 'Mild in Lima.', promptTokens: 40, completionTokens: 4 });
    const result = await generateText({
      model: createOpenAI({ baseURL: `${stored.url}/v1`, apiKey: 'sk-anything' })('anthropic/claude-sonnet-4-6'),
      prompt: 'Weather in Lima?',
      tools: { get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => ({ city, sky: 'mild-18C' }) }) },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
    });
    expect(result.text).toBe('Mild in Lima.');
    const sent = JSON.stringify(fake.received[1]?.body);
    expect(sent).toContain('Let me check that.');
    expect(sent).toContain('toolu_ref_1');
    expect(sent).toContain('mild-18C');
  });
});
