import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { fakeTokenCount, fakeVector } from '../fakes/embedding-vectors.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';

/**
 * The fakes' embedding endpoints, read by each provider's official client straight (no gateway): proof they speak
 * the real wire format, so what the gateway's adapters are tested against is what the providers send.
 */
let openaiFake: FakeUpstream;
let geminiFake: FakeUpstream;
let ollamaFake: FakeUpstream;

beforeAll(async () => {
  [openaiFake, geminiFake, ollamaFake] = await Promise.all([startFakeOpenAI(), startFakeGemini({ apiKey: 'sdk-key' }), startFakeOllama()]);
});
afterAll(async () => {
  await Promise.all([openaiFake.close(), geminiFake.close(), ollamaFake.close()]);
});

describe('embedding fakes, read by the official clients', () => {
  it('openai: embeddings.create with its default base64 and with float', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: openaiFake.url, maxRetries: 0 });
    const base64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 8 });
    expect(openaiFake.received.at(-1)!.body).toMatchObject({ encoding_format: 'base64' });
    // The fake, like OpenAI, numbers entries by index without promising their order.
    expect([...base64.data].sort((x, y) => x.index - y.index).map((item) => item.embedding)).toEqual([fakeVector('a', 8), fakeVector('b', 8)]);
    const float = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a', dimensions: 8, encoding_format: 'float' });
    expect(float.data[0]!.embedding).toEqual(fakeVector('a', 8));
    expect(float.usage).toEqual({ prompt_tokens: fakeTokenCount('a'), total_tokens: fakeTokenCount('a') });
  });

  it('@google/genai: embedContent (which the Developer API sends as batchEmbedContents)', async () => {
    const ai = new GoogleGenAI({ apiKey: 'sdk-key', httpOptions: { baseUrl: geminiFake.url } });
    const response = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['first', 'second'], config: { outputDimensionality: 16 } });
    expect(geminiFake.received.at(-1)!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(response.embeddings?.map((embedding) => embedding.values)).toEqual([fakeVector('first', 16), fakeVector('second', 16)]);
  });

  it('ollama: embed', async () => {
    const ollama = new Ollama({ host: ollamaFake.url });
    const response = await ollama.embed({ model: 'nomic-embed-text', input: ['x', 'y'] });
    expect(response.embeddings).toEqual([fakeVector('x', 768), fakeVector('y', 768)]);
    expect(response.prompt_eval_count).toBe(fakeTokenCount('x') + fakeTokenCount('y'));
  });
});
