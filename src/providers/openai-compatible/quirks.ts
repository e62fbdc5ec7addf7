import { openAIQuirks, type ChatCompletionsQuirks } from '../openai/quirks.js';

/** What each OpenAI-compatible provider needs sent differently (wire-formats.md section 5). */

/** Mistral refuses fields it does not know (422), so only its own names go out. */
export const mistralQuirks: ChatCompletionsQuirks = {
  ...openAIQuirks,
  maxTokensField: 'max_tokens',
  seedField: 'random_seed',
  acceptsUser: false,
  unsupported: new Set(['logitBias', 'logprobs', 'topLogprobs', 'reasoningEffort', 'serviceTier', 'store']),
  // Usage always comes on the final chunk.
  streamUsageOption: false,
  requestIdHeader: null,
};

/** Groq streams usage in x_groq.usage on its own; stream_options is not in its API. */
export const groqQuirks: ChatCompletionsQuirks = {
  ...openAIQuirks,
  // Groq documents n as 1 only and refuses logprobs and logit_bias.
  unsupported: new Set(['n', 'logitBias', 'logprobs', 'topLogprobs', 'store']),
  streamUsageOption: false,
  requestIdHeader: null,
};

/** DeepSeek's chat API is text-only and has no seed, user id or json_schema. */
export const deepseekQuirks: ChatCompletionsQuirks = {
  ...openAIQuirks,
  maxTokensField: 'max_tokens',
  seedField: null,
  acceptsUser: false,
  jsonSchema: false,
  images: false,
  requestIdHeader: null,
  unsupported: new Set(['n', 'logitBias', 'parallelToolCalls', 'reasoningEffort', 'serviceTier', 'store']),
};

/** Together sends usage on the final chunk without being asked and has no user id. */
export const togetherQuirks: ChatCompletionsQuirks = {
  ...openAIQuirks,
  maxTokensField: 'max_tokens',
  acceptsUser: false,
  streamUsageOption: false,
  requestIdHeader: null,
  unsupported: new Set(['serviceTier', 'store']),
};

/** OpenRouter always streams usage; X-Title attributes the traffic (HTTP-Referer and an own title go in the configured headers). */
export const openRouterQuirks: ChatCompletionsQuirks = {
  ...openAIQuirks,
  maxTokensField: 'max_tokens',
  streamUsageOption: false,
  defaultHeaders: { 'X-Title': 'Switchboard' },
  requestIdHeader: null,
  cacheControl: true,
  // OpenRouter routes to many upstreams and has no single choice count or tier.
  unsupported: new Set(['n', 'serviceTier', 'store']),
};

/**
 * Self-hosted servers (vLLM, LM Studio, llama.cpp, Ollama's /v1): all know `max_tokens`, not all know
 * `max_completion_tokens`; unknown fields such as stream_options are ignored by those that lack them.
 */
export const genericQuirks: ChatCompletionsQuirks = {
  ...openAIQuirks,
  maxTokensField: 'max_tokens',
  requestIdHeader: null,
};

const QUIRKS_BY_PROVIDER: Record<string, ChatCompletionsQuirks> = {
  mistral: mistralQuirks,
  groq: groqQuirks,
  deepseek: deepseekQuirks,
  together: togetherQuirks,
  openrouter: openRouterQuirks,
};

/** The quirks for a provider id; any id not listed is a generic (self-hosted) server. */
export function quirksForProvider(providerId: string): ChatCompletionsQuirks {
  return QUIRKS_BY_PROVIDER[providerId.toLowerCase()] ?? genericQuirks;
}
