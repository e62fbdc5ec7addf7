import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { ProviderError } from '../../src/providers/errors.js';
import { fromGeminiEmbeddingResponse, toGeminiEmbeddingCall } from '../../src/providers/gemini/embeddings.js';
import { localEmbed, LOCAL_EMBED_MAX_DIMENSIONS } from '../../src/providers/local-embed.js';
import { fromOllamaEmbeddingResponse, toOllamaEmbeddingBody } from '../../src/providers/ollama/embeddings.js';
import { fromOpenAIEmbeddingResponse, toOpenAIEmbeddingBody } from '../../src/providers/openai/embeddings.js';
import type { EmbeddingRequest } from '../../src/providers/embeddings.js';

const text = (value: string) => ({ type: 'text' as const, text: value });
const malformed = (run: () => unknown): ProviderError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('malformed_response');
    return error as ProviderError;
  }
  throw new Error('expected a malformed_response ProviderError');
};

describe('OpenAI embeddings mapping', () => {
  it('sends one input as a string, several as a list, always asking for float', () => {
    expect(toOpenAIEmbeddingBody({ model: 'm', input: [text('a')] })).toEqual({ model: 'm', input: 'a', encoding_format: 'float' });
    expect(toOpenAIEmbeddingBody({ model: 'm', input: [text('a'), { type: 'tokens', tokens: [1, 2] }], dimensions: 3, user: 'u' })).toEqual({ model: 'm', input: ['a', [1, 2]], encoding_format: 'float', dimensions: 3, user: 'u' });
  });

  it('orders by index and refuses missing, duplicate or out-of-range indexes', () => {
    const response = fromOpenAIEmbeddingResponse('openai', { data: [{ index: 1, embedding: [2] }, { index: 0, embedding: [1] }], model: 'x', usage: { prompt_tokens: 4 } }, 2);
    expect(response).toEqual({ model: 'x', embeddings: [[1], [2]], usage: { promptTokens: 4, estimated: false }, warnings: [] });
    malformed(() => fromOpenAIEmbeddingResponse('openai', { data: [{ index: 0, embedding: [1] }] }, 2));
    malformed(() => fromOpenAIEmbeddingResponse('openai', { data: [{ index: 0, embedding: [1] }, { index: 0, embedding: [1] }] }, 2));
    malformed(() => fromOpenAIEmbeddingResponse('openai', { data: [{ index: 5, embedding: [1] }] }, 1));
    malformed(() => fromOpenAIEmbeddingResponse('openai', { data: [{ index: 0, embedding: 'AAAA' }] }, 1));
    // A server that reports no usage leaves it to the service to count.
    expect(fromOpenAIEmbeddingResponse('vllm', { data: [{ index: 0, embedding: [1] }] }, 1).usage).toBeNull();
  });
});

describe('Gemini embeddings mapping', () => {
  it('uses embedContent for one input and batchEmbedContents for several', () => {
    expect(toGeminiEmbeddingCall({ model: 'gemini-embedding-001', input: [text('a')], dimensions: 8 })).toEqual({ method: 'embedContent', body: { content: { parts: [{ text: 'a' }] }, outputDimensionality: 8 } });
    expect(toGeminiEmbeddingCall({ model: 'gemini-embedding-001', input: [text('a'), text('b')] }).body).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] } },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] } },
      ],
    });
    expect(() => toGeminiEmbeddingCall({ model: 'g', input: [{ type: 'tokens', tokens: [1] }] })).toThrow(BadRequestError);
  });

  it('reads both answers and refuses a count that does not match', () => {
    expect(fromGeminiEmbeddingResponse('gemini', { embedding: { values: [1, 2] } }, 1).embeddings).toEqual([[1, 2]]);
    expect(fromGeminiEmbeddingResponse('gemini', { embeddings: [{ values: [1] }, { values: [2] }] }, 2)).toEqual({ embeddings: [[1], [2]], usage: null, warnings: [] });
    malformed(() => fromGeminiEmbeddingResponse('gemini', { embeddings: [{ values: [1] }] }, 2));
    malformed(() => fromGeminiEmbeddingResponse('gemini', { candidates: [] }, 1));
  });
});

describe('Ollama embeddings mapping', () => {
  const request: EmbeddingRequest = { model: 'nomic-embed-text', input: [text('a'), text('b')], dimensions: 2 };
  it('sends /api/embed’s body and warns when the vectors were not shortened', () => {
    expect(toOllamaEmbeddingBody(request)).toEqual({ model: 'nomic-embed-text', input: ['a', 'b'], dimensions: 2 });
    expect(fromOllamaEmbeddingResponse('ollama', { model: 'nomic-embed-text', embeddings: [[1, 0], [0, 1]], prompt_eval_count: 2 }, request)).toEqual({ model: 'nomic-embed-text', embeddings: [[1, 0], [0, 1]], usage: { promptTokens: 2, estimated: false }, warnings: [] });
    expect(fromOllamaEmbeddingResponse('ollama', { embeddings: [[1, 0, 0], [0, 1, 0]] }, request).warnings).toHaveLength(1);
    malformed(() => fromOllamaEmbeddingResponse('ollama', { embeddings: [[1, 0]] }, request));
  });
});

describe('local/embed', () => {
  const signal = new AbortController().signal;
  it('is the same vector for the same text, of unit length, and zero for nothing to embed', async () => {
    const [a, b] = (await localEmbed({ model: 'embed', input: [text('same words'), text('same words')] }, signal)).embeddings;
    expect(a).toEqual(b);
    expect(Math.abs(Math.hypot(...a!) - 1)).toBeLessThan(1e-6);
    const empty = await localEmbed({ model: 'embed', input: [{ type: 'tokens', tokens: [] }], dimensions: 4 }, signal);
    expect(empty.embeddings).toEqual([[0, 0, 0, 0]]);
  });

  it('bounds dimensions on both sides', async () => {
    for (const dimensions of [0, -1, 1.5, LOCAL_EMBED_MAX_DIMENSIONS + 1]) await expect(localEmbed({ model: 'embed', input: [text('x')], dimensions }, signal)).rejects.toBeInstanceOf(BadRequestError);
    expect((await localEmbed({ model: 'embed', input: [text('x')], dimensions: LOCAL_EMBED_MAX_DIMENSIONS }, signal)).embeddings[0]).toHaveLength(LOCAL_EMBED_MAX_DIMENSIONS);
    const [single] = (await localEmbed({ model: 'embed', input: [text('x')], dimensions: 1 }, signal)).embeddings;
    expect(Math.abs(single![0]!)).toBe(1);
  });

  it('embeds a long text with exact usage, and stops when aborted', async () => {
    const long = 'word '.repeat(50_000);
    const result = await localEmbed({ model: 'embed', input: [text(long)] }, signal);
    expect(result.usage?.promptTokens).toBeGreaterThanOrEqual(50_000);
    const controller = new AbortController();
    controller.abort();
    await expect(localEmbed({ model: 'embed', input: [text(long)] }, controller.signal)).rejects.toThrow();
  });
});
