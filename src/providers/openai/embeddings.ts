import { z } from 'zod';
import { ProviderError } from '../errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../embeddings.js';

/**
 * POST /embeddings, as the `openai` package's `embeddings.create` sends it. Vectors are asked for as float: the
 * compatible servers (vLLM, llama.cpp, Together, Mistral) do not all speak base64, and the facade encodes base64
 * itself for callers that want it.
 */
export function toOpenAIEmbeddingBody(request: EmbeddingRequest): Record<string, unknown> {
  const single = request.input.length === 1 ? request.input[0] : undefined;
  // One text goes as a string and one token list as a flat array, which every compatible server takes; several as a list.
  const input = single !== undefined ? (single.type === 'text' ? single.text : single.tokens) : request.input.map((item) => (item.type === 'text' ? item.text : item.tokens));
  return {
    model: request.model,
    input,
    encoding_format: 'float',
    ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
    ...(request.user !== undefined ? { user: request.user } : {}),
  };
}

const embeddingListSchema = z.object({
  model: z.string().nullish(),
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
  usage: z.object({ prompt_tokens: z.number().int().nonnegative().nullish() }).nullish(),
});

/** The vectors in request order (the API numbers them by `index`, and says nothing about the array's order). */
export function fromOpenAIEmbeddingResponse(provider: string, json: unknown, expected: number): EmbeddingResponse {
  const parsed = embeddingListSchema.safeParse(json);
  if (!parsed.success) throw new ProviderError(`${provider} sent an embedding list that does not match the OpenAI API`, { provider, kind: 'malformed_response', cause: parsed.error });
  const embeddings: Array<number[] | undefined> = new Array<number[] | undefined>(expected).fill(undefined);
  for (const item of parsed.data.data) {
    if (item.index >= expected || embeddings[item.index] !== undefined) throw new ProviderError(`${provider} sent embedding index ${item.index} for ${expected} inputs`, { provider, kind: 'malformed_response' });
    embeddings[item.index] = item.embedding;
  }
  const complete = embeddings.filter((vector): vector is number[] => vector !== undefined);
  if (complete.length !== expected) throw new ProviderError(`${provider} sent ${complete.length} embeddings for ${expected} inputs`, { provider, kind: 'malformed_response' });
  const promptTokens = parsed.data.usage?.prompt_tokens;
  return {
    ...(parsed.data.model ? { model: parsed.data.model } : {}),
    embeddings: complete,
    usage: promptTokens === null || promptTokens === undefined ? null : { promptTokens, estimated: false },
    warnings: [],
  };
}
