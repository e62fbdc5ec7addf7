/**
 * The normalized embedding request and response: what every adapter that embeds maps to and from, as
 * CompletionRequest and CompletionResponse are for completions (types.ts). Kept apart from types.ts so the two
 * evolve without touching each other; `ProviderAdapter.embed` ties them together.
 */

/** One input to embed: text, or token ids of OpenAI's tokenizer (passed as they are only to the OpenAI family). */
export type EmbeddingInput = { type: 'text'; text: string } | { type: 'tokens'; tokens: number[] };

export interface EmbeddingRequest {
  /** The provider's own model id (already resolved from the catalog). */
  model: string;
  /** At least one; the response has one vector per input, in this order. */
  input: EmbeddingInput[];
  /** The length each vector should have, for models that can shorten theirs (OpenAI v3, Gemini, recent Ollama). */
  dimensions?: number;
  /** An opaque end-user id some providers accept for abuse monitoring. */
  user?: string;
}

export interface EmbeddingUsage {
  promptTokens: number;
  /** True when counted by our tokenizer because the provider did not report usage (Gemini never does). */
  estimated: boolean;
}

export interface EmbeddingResponse {
  /** The model the provider says served the request. */
  model?: string;
  /** One vector per input, in the order of the request's inputs. */
  embeddings: number[][];
  /** Null when the provider reported none; the caller then estimates. */
  usage: EmbeddingUsage | null;
  /** Request settings the provider could not honour. */
  warnings: string[];
}

/** The text of an input, for providers that take only text and for our estimates. */
export function inputText(input: EmbeddingInput, decode: (tokens: number[]) => string): string {
  return input.type === 'text' ? input.text : decode(input.tokens);
}
