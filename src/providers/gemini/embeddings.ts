import { z } from 'zod';
import { BadRequestError } from '../../errors.js';
import { ProviderError } from '../errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../embeddings.js';

/** The most requests batchEmbedContents takes in one call; a longer input list is sent as several calls. */
export const GEMINI_EMBED_BATCH = 100;

/** `models/x`, as batchEmbedContents wants each request's model named. */
function modelName(model: string): string {
  return model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
}

function texts(request: EmbeddingRequest): string[] {
  return request.input.map((item, index) => {
    // Token ids of OpenAI's tokenizer mean nothing to Gemini's: refused rather than decoded into something else.
    if (item.type === 'tokens') throw new BadRequestError('Gemini embeds text only; token arrays are not accepted', ['input', index]);
    return item.text;
  });
}

/**
 * One input goes to `:embedContent`, several to `:batchEmbedContents` (what @google/genai's `embedContent` sends for
 * the Developer API), each request naming its model and output dimensionality.
 */
export function toGeminiEmbeddingCall(request: EmbeddingRequest): { method: 'embedContent' | 'batchEmbedContents'; body: Record<string, unknown> } {
  const dimensions = request.dimensions !== undefined ? { outputDimensionality: request.dimensions } : {};
  const contents = texts(request).map((text) => ({ parts: [{ text }] }));
  if (contents.length === 1) return { method: 'embedContent', body: { content: contents[0], ...dimensions } };
  return { method: 'batchEmbedContents', body: { requests: contents.map((content) => ({ model: modelName(request.model), content, ...dimensions })) } };
}

const vectorSchema = z.object({ values: z.array(z.number()) });
const singleSchema = z.object({ embedding: vectorSchema });
const batchSchema = z.object({ embeddings: z.array(vectorSchema) });

/** Gemini reports no token counts for embeddings: usage is null, and the service estimates it. */
export function fromGeminiEmbeddingResponse(provider: string, json: unknown, expected: number): EmbeddingResponse {
  const single = singleSchema.safeParse(json);
  const batch = single.success ? undefined : batchSchema.safeParse(json);
  const embeddings = single.success ? [single.data.embedding.values] : batch?.success ? batch.data.embeddings.map((vector) => vector.values) : undefined;
  if (embeddings === undefined) throw new ProviderError(`${provider} sent an embedding response that does not match the Gemini API`, { provider, kind: 'malformed_response', cause: batch?.error });
  if (embeddings.length !== expected) throw new ProviderError(`${provider} sent ${embeddings.length} embeddings for ${expected} inputs`, { provider, kind: 'malformed_response' });
  return { embeddings, usage: null, warnings: [] };
}
