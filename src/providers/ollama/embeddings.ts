import { z } from 'zod';
import { BadRequestError } from '../../errors.js';
import { ProviderError } from '../errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../embeddings.js';

/** POST /api/embed, as the `ollama` package's `embed` sends it: a string or a list of strings. */
export function toOllamaEmbeddingBody(request: EmbeddingRequest): Record<string, unknown> {
  const inputs = request.input.map((item, index) => {
    // The model's own tokenizer is not OpenAI's: token ids would embed something else than the caller meant.
    if (item.type === 'tokens') throw new BadRequestError('Ollama embeds text only; token arrays are not accepted', ['input', index]);
    return item.text;
  });
  return {
    model: request.model,
    input: inputs.length === 1 ? inputs[0] : inputs,
    ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}),
  };
}

const embedResponseSchema = z.object({
  model: z.string().nullish(),
  embeddings: z.array(z.array(z.number())),
  prompt_eval_count: z.number().int().nonnegative().nullish(),
});

export function fromOllamaEmbeddingResponse(provider: string, json: unknown, request: EmbeddingRequest): EmbeddingResponse {
  const parsed = embedResponseSchema.safeParse(json);
  if (!parsed.success) throw new ProviderError(`${provider} sent an embedding response that does not match the Ollama API`, { provider, kind: 'malformed_response', cause: parsed.error });
  const { embeddings } = parsed.data;
  if (embeddings.length !== request.input.length) throw new ProviderError(`${provider} sent ${embeddings.length} embeddings for ${request.input.length} inputs`, { provider, kind: 'malformed_response' });
  // Ollama versions before `dimensions` existed ignore it and send the model's full length.
  const warnings = request.dimensions !== undefined && embeddings.some((vector) => vector.length !== request.dimensions) ? [`${provider} did not shorten the vectors to ${request.dimensions} dimensions`] : [];
  const promptTokens = parsed.data.prompt_eval_count;
  return {
    ...(parsed.data.model ? { model: parsed.data.model } : {}),
    embeddings,
    usage: promptTokens === null || promptTokens === undefined ? null : { promptTokens, estimated: false },
    warnings,
  };
}
