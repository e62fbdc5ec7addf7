import type { Dispatcher } from 'undici';
import type { EmbeddingRequest, EmbeddingResponse } from './embeddings.js';
import type { UpstreamObserver } from './http.js';

/**
 * The normalized request, response and stream-event types: the spine of Switchboard.
 * Every adapter maps to and from these; nothing outside src/providers/<name> knows a provider's wire format.
 *
 * One layout per provider folder (after the Vercel AI SDK's provider packages), so a reader finds the same thing
 * in the same place in every adapter: `wire.ts` holds the zod schemas of what the provider sends back (only the
 * fields read); `request.ts` exports `to<Provider>RequestBody(request, …)` returning `{ body, warnings }`;
 * `response.ts` exports `from<Provider>Response(…)` and `map<Provider>Usage(…)`; `stream.ts` exports
 * `parse<Provider>StreamChunk(provider, data, …)` (one SSE payload or NDJSON line, validated; an in-band error is
 * thrown as a ProviderError, by the mapper where it is an event type of its own, as Anthropic's `error` is) and the
 * `<Provider>StreamMapper` class (`map(chunk)` per chunk, `end()` for the closing event, undefined when the stream
 * was cut short); `finish-reason.ts` exports `map<Provider>FinishReason(raw, …)`; `errors.ts` exports `describe<Provider>Error`
 * (an HTTP error body) and `<provider>InBandError` (an error inside a 2xx body or stream); `models.ts` exports
 * `from<Provider>ModelList(…)`; `adapter.ts` exports `create<Provider>Adapter(config)`, the only part that does
 * I/O (URLs, headers, calls). The mappers are pure. The OpenAI-compatible family reuses openai/'s mappers and adds
 * only `quirks.ts`, what each server needs sent differently.
 */

export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'ollama' | 'openai_compatible' | 'local';

/**
 * A prompt-cache breakpoint: the prompt up to and including the part that carries it may be cached. `ttl` absent is
 * the provider's default (five minutes); '1h' asks for a one-hour entry, whose write costs more (see Usage).
 * Providers without explicit caching ignore it.
 */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export type ContentPart =
  | { type: 'text'; text: string; cacheControl?: CacheControl }
  /** `url` is an https URL or a `data:<mediaType>;base64,<data>` URL. */
  | { type: 'image'; url: string; detail?: 'auto' | 'low' | 'high'; cacheControl?: CacheControl };

/**
 * One block of an assistant turn, in the order the model wrote them. Only providers that take a turn back block by
 * block (Anthropic: thinking must precede the tool calls it led to, with its signature) read these; every other
 * adapter reads the flattened `content` and `toolCalls`, which say the same without order or signatures.
 */
export type AssistantPart =
  | { type: 'text'; text: string; cacheControl?: CacheControl }
  /** The message's tool call with this id (its name and arguments live in `toolCalls`). */
  | { type: 'tool-call'; id: string; cacheControl?: CacheControl }
  /** The model's reasoning; `signature` proves it unaltered to the provider that wrote it ('' when none was given). */
  | { type: 'thinking'; text: string; signature: string }
  /** Reasoning the provider sends encrypted; handed back as it came. */
  | { type: 'redacted-thinking'; data: string };

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as a JSON text, exactly as the model produced them. */
  arguments: string;
}

export type Message =
  | { role: 'system'; content: string; cacheControl?: CacheControl }
  | { role: 'user'; content: ContentPart[] }
  /** `parts`, when present, is the same turn block by block (see AssistantPart); `content` is its text joined. */
  | { role: 'assistant'; content: string | null; toolCalls: ToolCall[]; parts?: AssistantPart[] }
  | { role: 'tool'; toolCallId: string; content: string; isError?: boolean; cacheControl?: CacheControl };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** A JSON Schema object describing the arguments. */
  parameters: Record<string, unknown>;
  strict?: boolean;
  cacheControl?: CacheControl;
}

export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean };

export interface CompletionRequest {
  /** The provider's own model id (already resolved from the catalog). */
  model: string;
  messages: Message[];
  maxTokens?: number;
  /** The model's maximum output from the catalog, for providers that require a max tokens value (Anthropic) when the caller set none. */
  defaultMaxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  /** An opaque end-user id some providers accept for abuse monitoring. */
  user?: string;
  /**
   * Extended thinking (Anthropic's `thinking`): with a token budget, left to the model (`adaptive`), or off.
   * Providers with a budget knob (Gemini's thinkingBudget) take it; those without one warn.
   */
  thinking?: { type: 'enabled'; budgetTokens: number } | { type: 'adaptive' } | { type: 'disabled' };
  /**
   * OpenAI's reasoning effort. OpenAI-style providers take it as it is; providers with a thinking budget map it onto
   * one (src/providers/parameters.ts, `effortBudgetTokens`) unless `thinking` already says what to do.
   */
  reasoningEffort?: ReasoningEffort;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Token id (as a string, OpenAI's tokenizer) → bias from -100 to 100. */
  logitBias?: Record<string, number>;
  /** False asks for at most one tool call per turn. */
  parallelToolCalls?: boolean;
  /** OpenAI's processing tier ('auto', 'default', 'flex', 'priority'); priced only for the default tier (see Usage). */
  serviceTier?: string;
  /** OpenAI's `store` (keep the completion for distillation and evals on the provider's side). */
  store?: boolean;
  /** How many choices to generate; the first is `content`, the rest `CompletionResponse.choices`. */
  n?: number;
  logprobs?: boolean;
  /** 0–20 alternatives per token; implies logprobs. */
  topLogprobs?: number;
  /**
   * The caller asked to be told rather than warned: a parameter this provider cannot honour is refused (a
   * BadRequestError naming it, `refuseOrWarn` in src/providers/parameters.ts) instead of dropped with a warning.
   */
  strict?: boolean;
}

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high';

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  topLogprobs: Array<{ token: string; logprob: number; bytes: number[] | null }>;
}

/** A choice after the first, when `n` asked for several (the first is the response itself). */
export interface CompletionChoice {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  rawFinishReason: string | null;
  logprobs?: TokenLogprob[];
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'cancelled';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt tokens served from the provider's cache (cache reads); a subset of promptTokens. */
  cachedPromptTokens: number;
  /** Prompt tokens written to the provider's cache, at any lifetime; a subset of promptTokens. Absent: none. */
  cacheWriteTokens?: number;
  /** The part of cacheWriteTokens written for one hour (charged more than the default five minutes). Absent: none. */
  cacheWrite1hTokens?: number;
  /** Reasoning tokens; a subset of completionTokens. */
  reasoningTokens: number;
  /** True when counted by our tokenizer because the provider did not report usage. */
  estimated: boolean;
}

export interface CompletionResponse {
  /** The provider's id for the response, when it gives one. */
  upstreamId?: string;
  /** The model the provider says served the request. */
  model?: string;
  content: string | null;
  reasoning?: string;
  toolCalls: ToolCall[];
  /** The answer block by block, when the provider's order or thinking signatures matter (see AssistantPart). */
  parts?: AssistantPart[];
  finishReason: FinishReason;
  /** The provider's own finish/stop reason, kept for the ledger. */
  rawFinishReason: string | null;
  /** Null when the provider reported none; the caller then estimates. */
  usage: Usage | null;
  /** Request settings the provider could not honour. */
  warnings: string[];
  /** The first choice's token log probabilities, when asked for and given. */
  logprobs?: TokenLogprob[];
  /** The choices after the first, when `n` > 1 was honoured; usage covers all of them. */
  choices?: CompletionChoice[];
  /** The tier that served (OpenAI's `service_tier`): what the provider reports, else the tier sent; absent when none was sent. */
  serviceTier?: string;
}

export type StreamEvent =
  | { type: 'start'; upstreamId?: string; model?: string; warnings: string[] }
  /** `logprobs`: the log probabilities of this text's tokens, when asked for and given. */
  | { type: 'text-delta'; text: string; logprobs?: TokenLogprob[] }
  | { type: 'reasoning-delta'; text: string }
  /** The signature closing the reasoning streamed since the last one (Anthropic's signature_delta). */
  | { type: 'reasoning-signature'; signature: string }
  /** A block of reasoning the provider sent encrypted (Anthropic's redacted_thinking), to be handed back as it came. */
  | { type: 'redacted-reasoning'; data: string }
  /** The first delta of a call carries id and name; later ones only argument fragments. */
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  /** Always the last event of a stream that ended normally. */
  /** `serviceTier`: the tier that served, where the provider has tiers and one was sent or reported (CompletionResponse's). */
  | { type: 'finish'; finishReason: FinishReason; rawFinishReason: string | null; usage: Usage | null; serviceTier?: string };

export interface CallOptions {
  /** Aborting it must close the upstream connection. */
  signal: AbortSignal;
  /** Our request id, forwarded where a provider accepts one. */
  requestId?: string;
  /** Hands each upstream call the headers to forward (x-request-id, traceparent); given by the completion service. */
  upstream?: UpstreamObserver;
}

export interface ProviderModelInfo {
  /** The provider's model id. */
  id: string;
  displayName?: string;
  contextLength?: number;
  maxOutputTokens?: number;
}

/**
 * One provider behind one interface. `stream` yields `start` first and `finish` last;
 * any failure (HTTP error, in-band error event, broken connection, malformed chunk) is thrown as a ProviderError.
 */
export interface ProviderAdapter {
  readonly id: string;
  readonly kind: ProviderKind;
  complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse>;
  stream(request: CompletionRequest, options: CallOptions): AsyncIterable<StreamEvent>;
  listModels?(options: CallOptions): Promise<ProviderModelInfo[]>;
  /** Embeddings (src/providers/embeddings.ts); absent for providers that have no embedding API. */
  embed?(request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResponse>;
}

export interface ProviderConfig {
  id: string;
  kind: ProviderKind;
  name: string;
  baseUrl: string;
  apiKey?: string;
  /** Extra headers sent on every call (e.g. OpenRouter's HTTP-Referer). */
  headers?: Record<string, string>;
  /**
   * The connection pool to call through; the shared one when absent. A base URL set through the admin API gets a
   * pool that checks every address it connects to (src/catalog/upstream-guard.ts), chosen by the catalog.
   */
  dispatcher?: Dispatcher;
}
