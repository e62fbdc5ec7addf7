import { ApiError, FinishReason, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeGemini } from '../fakes/gemini.js';

/** The official SDK must read the fake's replies exactly as it reads Google's: proof the fake speaks the real wire format. */
describe('Gemini fake, read by the official @google/genai SDK', () => {
  const apiKey = 'sdk-test-key';
  let fake: FakeUpstream;
  let ai: GoogleGenAI;

  beforeAll(async () => {
    fake = await startFakeGemini({ apiKey });
    ai = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.url } });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('parses generateContent text, finish reason and usage', async () => {
    fake.enqueue({ kind: 'text', text: 'Hello there!', promptTokens: 12, completionTokens: 9, reasoningTokens: 5, cachedPromptTokens: 4 });
    const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Say hello', config: { systemInstruction: 'Be terse.' } });
    expect(response.text).toBe('Hello there!');
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: 12, candidatesTokenCount: 4, thoughtsTokenCount: 5, cachedContentTokenCount: 4, totalTokenCount: 21 });
    expect(response.modelVersion).toBe('gemini-2.5-flash');
    expect(fake.received[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(fake.received[0]?.headers['x-goog-api-key']).toBe(apiKey);
  });

  it('parses a generateContentStream, joining the text and reading usage from the last chunk', async () => {
    fake.enqueue({ kind: 'text', text: 'One two three four', promptTokens: 9, completionTokens: 4 });
    const chunks = [];
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Count' })) chunks.push(chunk);
    expect(chunks.length).toBe(4);
    expect(chunks.map((chunk) => chunk.text ?? '').join('')).toBe('One two three four');
    expect(chunks.at(-1)?.usageMetadata).toMatchObject({ promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 });
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
    expect(fake.received[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('parses function calls', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'ignored', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 30, completionTokens: 10 });
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Weather in Paris?',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }] },
    });
    expect(response.functionCalls).toHaveLength(1);
    expect(response.functionCalls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } });
  });

  it('parses a prompt blocked by the safety filter', async () => {
    fake.enqueue({ kind: 'content-filter', promptTokens: 10 });
    const response = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Something bad' });
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.SAFETY);
    expect(response.text).toBeUndefined();
  });

  it('raises an ApiError with the status for an error response', async () => {
    fake.enqueue({ kind: 'error', error: 'not_found' });
    const error = await ai.models.generateContent({ model: 'gemini-9-nonexistent', contents: 'Hi' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).message).toContain('NOT_FOUND');
  });

  it('raises an ApiError for a bad key, with the status Google really uses (400 API_KEY_INVALID)', async () => {
    const wrongKey = new GoogleGenAI({ apiKey: 'wrong-key', httpOptions: { baseUrl: fake.url } });
    const error = await wrongKey.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hi' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toContain('API_KEY_INVALID');
  });

  it('raises an ApiError for an error event in the middle of a stream', async () => {
    fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer' });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'Hi' })) texts.push(chunk.text ?? '');
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(500);
    expect(texts.join('')).toBe('Partial answer');
  });

  it('lists models', async () => {
    const names: string[] = [];
    for await (const model of await ai.models.list()) names.push(model.name ?? '');
    expect(names).toEqual(['models/gemini-2.5-flash', 'models/gemini-2.5-pro', 'models/gemini-embedding-001']);
  });
});
