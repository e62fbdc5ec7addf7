import type { ApiKeyRow, ModelRow } from '../db/schema.js';
import type { GatewayError, RateLimitState } from '../errors.js';
import type { AssistantPart, CompletionChoice, CompletionRequest, FinishReason, TokenLogprob, ToolCall, Usage } from '../providers/types.js';
import type { TraceScope } from '../telemetry/tracing.js';

/**
 * A completion request as both transports hand it to the service, before validation: the normalized request
 * every adapter takes, addressed to a model of the catalog instead of a provider's model.
 */
export interface CompletionInput extends Omit<CompletionRequest, 'model' | 'defaultMaxTokens'> {
  /** A catalog id, an alias, or `<provider>/<provider model id>`. */
  model: string;
  /** Fallback models, tried in order after `model`. */
  models?: string[];
  metadata?: Record<string, unknown>;
  /** How to choose among the endpoints that serve the model. */
  provider?: ProviderPreferences;
  /** The response cache: opting in (a TTL) or skipping the lookup; absent: the key's default TTL, if any. */
  cache?: CacheOptions;
}

export interface CacheOptions {
  /** Keep the answer this long for identical requests; 0 does not store (overriding the key's default). */
  ttlSeconds?: number;
  /** Skip the lookup and ask a provider; with a TTL the fresh answer replaces the cached one. */
  bypass?: boolean;
}

/** What the response cache did for a request that opted in. */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

export type ProviderSort = 'price' | 'latency' | 'throughput';

/** The request's say in routing (OpenRouter's `provider` object, in our spelling). */
export interface ProviderPreferences {
  /** Provider ids to try first, in this order; the others follow unless `allowFallbacks` is false. */
  order?: string[];
  /** False: only the providers in `order` (or, without it, only the first choice) are tried. Default true. */
  allowFallbacks?: boolean;
  /** Ranks the endpoints by this instead of the configured strategy. */
  sort?: ProviderSort;
  /** Only these provider ids. */
  only?: string[];
  /** Never these provider ids. */
  ignore?: string[];
  /** Starts a second attempt on the next endpoint when the first has no token after `delayMs` (absent: its recent p95). */
  hedge?: { enabled?: boolean; delayMs?: number };
}

/** Who is asking, from whichever transport. */
export interface Caller {
  /** Null for the bootstrap admin key and in open local mode. */
  apiKeyId: string | null;
  requestId: string;
  /** The calling key, whose limits, budget and allowlist apply; absent or null means none do. */
  key?: ApiKeyRow | null;
  /** The transport's span (HTTP request or WebSocket operation) when traced: admission, attempts and the ledger commit go under it. */
  trace?: TraceScope;
}

export interface PricedUsage extends Usage {
  /** Exact cost in pico-dollars; null when a price was unknown. */
  costPicos: number | null;
}

export interface CompletionResult {
  id: string;
  /** What the caller asked for, as they wrote it (an alias stays an alias); the generation keeps it too. */
  requestedModel: string;
  /**
   * The id of the model that served, which every transport names as the answer's `model`: the catalog id of the
   * serving model, or `<provider>/<provider model id>` for one the catalog does not list (`servedModelId`). After a
   * fallback it is the fallback model; without one, the requested model's canonical id (an alias resolves to it).
   */
  servedModel: string;
  /** The serving model's catalog row; null when it was addressed directly and is not catalogued. */
  model: ModelRow | null;
  providerId: string;
  providerModelId: string;
  content: string | null;
  reasoning: string | null;
  toolCalls: ToolCall[];
  /** The answer block by block, when the provider gave order or thinking signatures (AssistantPart). */
  parts?: AssistantPart[];
  finishReason: FinishReason;
  rawFinishReason: string | null;
  usage: PricedUsage;
  latencyMs: number;
  warnings: string[];
  /** Null when the request did not opt in to the response cache. */
  cacheStatus: CacheStatus | null;
  /** The first choice's token log probabilities, when asked for and the provider gave them. */
  logprobs?: TokenLogprob[];
  /** The choices after the first, when `n` > 1 was honoured (one generation row; usage covers every choice). */
  choices?: CompletionChoice[];
  /** The calling key's per-minute limits after this request was admitted (for REST's x-ratelimit-* headers). */
  rateLimits?: RateLimitState;
  /** The service tier that priced the request (the provider's answer, else what was asked), where one was sent. */
  serviceTier?: string;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  argumentsDelta: string;
}

export type CompletionEvent =
  /** The stream is committed to an endpoint; `servedModel` as on CompletionResult. */
  | { type: 'started'; id: string; requestedModel: string; servedModel: string; model: ModelRow | null; providerId: string; providerModelId: string; warnings: string[]; cacheStatus: CacheStatus | null; rateLimits?: RateLimitState }
  /**
   * `reasoningSignature` closes the reasoning streamed so far (Anthropic's thinking signature); `redactedReasoning`
   * is a whole block of encrypted reasoning. Transports that show neither skip a delta that carries nothing else.
   */
  | { type: 'delta'; id: string; text: string; reasoning: string; toolCalls: ToolCallDelta[]; reasoningSignature?: string; redactedReasoning?: string; logprobs?: TokenLogprob[] }
  | { type: 'done'; id: string; finishReason: FinishReason; rawFinishReason: string | null; usage: PricedUsage; latencyMs: number }
  /** The stream failed after it started; always the last event. */
  | { type: 'error'; id: string; error: GatewayError; usage: PricedUsage };
