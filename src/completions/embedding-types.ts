import type { ModelRow } from '../db/schema.js';
import type { EmbeddingInput } from '../providers/embeddings.js';
import type { ProviderPreferences } from './types.js';

/** An embedding request as both transports hand it to the service: the normalized request, addressed to a catalog model. */
export interface EmbeddingServiceInput {
  /** A catalog id, an alias, or `<provider>/<provider model id>`. */
  model: string;
  input: EmbeddingInput[];
  dimensions?: number;
  user?: string;
  metadata?: Record<string, unknown>;
  provider?: ProviderPreferences;
}

export interface EmbeddingPricedUsage {
  promptTokens: number;
  totalTokens: number;
  /** Counted by our tokenizer because the provider reported none (Gemini). */
  estimated: boolean;
  /** Exact cost in pico-dollars; null when a price was unknown. */
  costPicos: number | null;
}

export interface EmbeddingResult {
  /** The generation id of the request's ledger row. */
  id: string;
  requestedModel: string;
  /** As CompletionResult.servedModel: the catalog id of the model that served, or `<provider>/<model>`. */
  servedModel: string;
  model: ModelRow | null;
  providerId: string;
  providerModelId: string;
  /** One vector per input, in order. */
  embeddings: number[][];
  usage: EmbeddingPricedUsage;
  latencyMs: number;
  warnings: string[];
}
