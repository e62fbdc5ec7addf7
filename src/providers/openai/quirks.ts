import type { ParameterField } from '../parameters.js';

/**
 * What differs between servers that speak OpenAI Chat Completions, as far as the request goes. Responses are
 * read tolerantly for every server (reasoning_content or reasoning, usage or x_groq.usage, whole or fragmented
 * tool calls), so only what we must *send* differently is a quirk.
 */
export interface ChatCompletionsQuirks {
  /** OpenAI deprecated `max_tokens` (o-series models reject it); most compatible servers know only `max_tokens`. */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** Where the seed goes, or null when the provider has none (it then becomes a warning). */
  seedField: 'seed' | 'random_seed' | null;
  /** Whether the provider takes the `user` end-user id. */
  acceptsUser: boolean;
  /** Whether `response_format: json_schema` is honoured; otherwise we fall back to json_object and warn. */
  jsonSchema: boolean;
  /** Whether image parts are accepted; otherwise they are left out and a warning says so. */
  images: boolean;
  /** Ask for streamed usage with `stream_options`; off where usage always comes or the field is refused. */
  streamUsageOption: boolean;
  /** Sent on every call beneath the configured headers (e.g. OpenRouter's attribution). */
  defaultHeaders: Record<string, string>;
  /** The header that carries our request id, where the provider accepts one. */
  requestIdHeader: string | null;
  /**
   * Whether `cache_control` breakpoints go out on content parts (OpenRouter's convention, which it hands on to
   * Anthropic and Gemini). Elsewhere caching is automatic and a breakpoint has nothing to say, so it is left out.
   */
  cacheControl: boolean;
  /**
   * Chat Completions parameters the provider rejects (a 400/422 for an unknown field) or ignores: they are not sent,
   * and the caller is warned (or refused, when strict) if the value asked for anything. Every other one goes out.
   */
  unsupported: ReadonlySet<ParameterField>;
}

export const openAIQuirks: ChatCompletionsQuirks = {
  maxTokensField: 'max_completion_tokens',
  seedField: 'seed',
  acceptsUser: true,
  jsonSchema: true,
  images: true,
  streamUsageOption: true,
  defaultHeaders: {},
  requestIdHeader: 'x-client-request-id',
  cacheControl: false,
  unsupported: new Set(),
};
