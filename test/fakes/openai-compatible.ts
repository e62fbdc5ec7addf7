import type { FakeUpstream } from '../conformance/harness.js';
import { openAIFlavor, startFakeChatCompletions, type ChatWireFlavor, type ErrorReply, type ErrorSpec, type FakeChatOptions, type FakeErrorCase } from './openai.js';

/** The OpenAI-compatible fakes: the same server as the OpenAI fake, with each provider's deviations (wire-formats.md section 5). */

function envelopeError(spec: ErrorSpec): ErrorReply {
  return { status: spec.status, body: { error: { message: spec.message, type: spec.type, param: spec.param, code: spec.code } } };
}

const basicUsage = (counts: { promptTokens: number; completionTokens: number }): Record<string, unknown> => ({
  prompt_tokens: counts.promptTokens,
  completion_tokens: counts.completionTokens,
  total_tokens: counts.promptTokens + counts.completionTokens,
});

/** Mistral: no error wrapper, 422 for unknown fields, usage and whole tool calls on the finish chunk. */
export const mistralFlavor: ChatWireFlavor = {
  ...openAIFlavor,
  name: 'mistral',
  // Mistral's API forbids extra fields; these are the Chat Completions ones it does not have.
  rejectedFields: ['max_completion_tokens', 'seed', 'stream_options', 'user', 'logit_bias', 'logprobs', 'top_logprobs', 'reasoning_effort', 'service_tier', 'store'],
  rejectField: (field) => ({
    status: 422,
    body: { detail: [{ type: 'extra_forbidden', loc: ['body', field], msg: 'Extra inputs are not permitted', input: null }] },
  }),
  error: (error: FakeErrorCase, spec: ErrorSpec) => {
    if (error === 'authentication') return { status: 401, body: { message: 'Unauthorized', request_id: 'b1c2d3e4f5' } };
    const message =
      error === 'context_length_exceeded' ? 'Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length' : spec.message;
    const code = error === 'rate_limited' ? '1300' : null;
    return { status: spec.status, body: { object: 'error', message, type: error === 'rate_limited' ? 'rate_limited' : spec.type, param: null, code } };
  },
  usage: basicUsage,
  streamUsage: 'on-finish-chunk',
  wholeToolCalls: true,
  envelope: () => ({}),
  messageExtras: {},
  responseHeaders: () => ({}),
  models: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_735_689_600, owned_by: 'mistralai', name: id, max_context_length: 32768 })) }),
};

/** Groq: usage and failures in x_groq, 498 when the flex tier is full, context overflow told only in the message. */
export const groqFlavor: ChatWireFlavor = {
  ...openAIFlavor,
  name: 'groq',
  pathPrefix: '/openai/v1',
  error: (error, spec) => {
    if (error === 'overloaded') return { status: 498, body: { error: { message: 'Capacity exceeded for the flex tier. Please try again later.', type: 'capacity_exceeded', code: 'capacity_exceeded' } } };
    if (error === 'context_length_exceeded') {
      return { status: 400, body: { error: { message: 'Please reduce the length of the messages or completion.', type: 'invalid_request_error', param: 'messages' } } };
    }
    const type = error === 'rate_limited' ? 'tokens' : spec.type;
    return { status: spec.status, body: { error: { message: spec.message, type, ...(spec.code !== null ? { code: spec.code } : {}) } } };
  },
  usage: (counts) => ({
    queue_time: 0.01,
    prompt_tokens: counts.promptTokens,
    prompt_time: 0.002,
    completion_tokens: counts.completionTokens,
    completion_time: 0.01,
    total_tokens: counts.promptTokens + counts.completionTokens,
    total_time: 0.012,
  }),
  streamUsage: 'x_groq',
  envelope: () => ({ system_fingerprint: 'fp_groq01' }),
  messageExtras: {},
  responseHeaders: () => ({ 'x-ratelimit-limit-requests': '14400', 'x-ratelimit-limit-tokens': '6000' }),
  midStreamError: (envelope) => ({ payload: { ...envelope, choices: [], x_groq: { id: 'req_failed', error: 'Service unavailable: the model stopped responding.' } }, thenDone: false }),
  models: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_735_689_600, owned_by: 'Meta', active: true, context_window: 131072, max_completion_tokens: 32768 })) }),
};

/** DeepSeek: reasoning_content, cache hit counts, keep-alives, context overflow with a generic code. */
export const deepseekFlavor: ChatWireFlavor = {
  ...openAIFlavor,
  name: 'deepseek',
  error: (error, spec) => {
    if (error === 'context_length_exceeded') {
      return envelopeError({
        ...spec,
        message: "This model's maximum context length is 65536 tokens. However, you requested 70000 tokens (69936 in the messages, 64 in the completion). Please reduce the length of the messages or completion.",
        param: null,
        code: 'invalid_request_error',
      });
    }
    return envelopeError({ ...spec, param: null });
  },
  usage: (counts) => ({
    prompt_tokens: counts.promptTokens,
    completion_tokens: counts.completionTokens,
    total_tokens: counts.promptTokens + counts.completionTokens,
    prompt_cache_hit_tokens: counts.cachedPromptTokens,
    prompt_cache_miss_tokens: counts.promptTokens - counts.cachedPromptTokens,
    ...(counts.reasoningTokens > 0 ? { completion_tokens_details: { reasoning_tokens: counts.reasoningTokens } } : {}),
  }),
  streamUsage: 'on-finish-chunk',
  reasoningField: 'reasoning_content',
  keepAlive: 'keep-alive',
  jsonPreamble: '\n\n',
  envelope: () => ({ system_fingerprint: 'fp_deepseek_v3' }),
  messageExtras: {},
  responseHeaders: () => ({}),
  models: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', owned_by: 'deepseek' })) }),
};

/** Together: `eos` for a normal stop, usage on the finish chunk unasked, TGI's context-overflow wording, a bare model array. */
export const togetherFlavor: ChatWireFlavor = {
  ...openAIFlavor,
  name: 'together',
  idPrefix: 'o',
  error: (error, spec) =>
    error === 'context_length_exceeded'
      ? envelopeError({
          ...spec,
          message: 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8193. Given: 9000 `inputs` tokens and 64 `max_new_tokens`',
          code: null,
        })
      : envelopeError(spec),
  usage: basicUsage,
  streamUsage: 'on-finish-chunk',
  finishReason: (reason) => (reason === 'stop' ? 'eos' : reason),
  reasoningField: 'reasoning',
  envelope: () => ({}),
  messageExtras: {},
  responseHeaders: () => ({}),
  models: (ids) => ids.map((id) => ({ id, object: 'model', created: 1_735_689_600, type: 'chat', display_name: id, context_length: 8192 })),
};

/** OpenRouter: numeric error codes with metadata, a processing comment, usage in a trailing chunk, errors inside a 200 stream. */
export const openRouterFlavor: ChatWireFlavor = {
  ...openAIFlavor,
  name: 'openrouter',
  pathPrefix: '/api/v1',
  idPrefix: 'gen-',
  error: (error, spec) => {
    const message =
      error === 'context_length_exceeded'
        ? "This endpoint's maximum context length is 128000 tokens. However, you requested about 131072 tokens (131008 of text input, 64 in the output). Please reduce the length of either one."
        : spec.message;
    return { status: spec.status, body: { error: { code: spec.status, message, metadata: { provider_name: 'OpenAI', raw: spec.message } } } };
  },
  usage: (counts) => ({
    ...basicUsage(counts),
    cost: 0.000042,
    prompt_tokens_details: { cached_tokens: counts.cachedPromptTokens },
    completion_tokens_details: { reasoning_tokens: counts.reasoningTokens },
  }),
  streamUsage: 'trailing-chunk',
  reasoningField: 'reasoning',
  keepAlive: 'OPENROUTER PROCESSING',
  envelope: () => ({ provider: 'OpenAI' }),
  messageExtras: {},
  responseHeaders: () => ({ 'x-generation-id': 'gen-fake' }),
  midStreamError: (envelope) => ({
    payload: { ...envelope, error: { code: 'server_error', message: 'Provider disconnected unexpectedly' }, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }] },
    thenDone: true,
  }),
  models: (ids) => ({ data: ids.map((id) => ({ id, name: `OpenAI: ${id}`, context_length: 128000, top_provider: { context_length: 128000, max_completion_tokens: 16384 } })) }),
};

/** A self-hosted server in vLLM's manner: flat errors with numeric codes, `{"error":"Unauthorized"}` for a wrong key, reasoning_content. */
export const selfHostedFlavor: ChatWireFlavor = {
  ...openAIFlavor,
  name: 'self-hosted',
  idPrefix: 'chatcmpl-',
  error: (error, spec) => {
    if (error === 'authentication') return { status: 401, body: { error: 'Unauthorized' } };
    const type = spec.status === 404 ? 'NotFoundError' : spec.status === 429 ? 'RateLimitError' : spec.status >= 500 ? 'InternalServerError' : 'BadRequestError';
    const message =
      error === 'context_length_exceeded'
        ? "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4936 in the messages, 64 in the completion). Please reduce the length of the messages or completion."
        : spec.message;
    return { status: spec.status, body: { object: 'error', message, type, param: null, code: spec.status } };
  },
  usage: basicUsage,
  reasoningField: 'reasoning_content',
  envelope: () => ({}),
  messageExtras: {},
  responseHeaders: () => ({}),
  models: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_735_689_600, owned_by: 'vllm', max_model_len: 4096 })) }),
};

export type CompatibleFlavorName = 'mistral' | 'groq' | 'deepseek' | 'together' | 'openrouter' | 'self-hosted';

export const compatibleFlavors: Record<CompatibleFlavorName, ChatWireFlavor> = {
  mistral: mistralFlavor,
  groq: groqFlavor,
  deepseek: deepseekFlavor,
  together: togetherFlavor,
  openrouter: openRouterFlavor,
  'self-hosted': selfHostedFlavor,
};

/** A fake of one OpenAI-compatible provider; `url` is its base URL (e.g. `…/openai/v1` for Groq). */
export function startFakeOpenAICompatible(provider: CompatibleFlavorName, options: Omit<FakeChatOptions, 'flavor'> = {}): Promise<FakeUpstream> {
  return startFakeChatCompletions({ ...options, flavor: compatibleFlavors[provider] });
}
