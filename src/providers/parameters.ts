import { BadRequestError } from '../errors.js';
import type { CompletionRequest, ReasoningEffort } from './types.js';

/**
 * The Chat Completions parameters each adapter passes, maps or cannot honour, and what happens to one it cannot:
 * a warning (the request goes on without it) or, when the caller asked to be strict, a 400 that names it. One
 * helper for every adapter, so the wording and the strict rule are the same everywhere.
 */

/** The normalized field a warning or refusal is about; its REST name comes from src/rest/param-names.ts. */
export type ParameterField =
  | 'presencePenalty'
  | 'frequencyPenalty'
  | 'logitBias'
  | 'parallelToolCalls'
  | 'reasoningEffort'
  | 'serviceTier'
  | 'store'
  | 'seed'
  | 'n'
  | 'logprobs'
  | 'topLogprobs';

/**
 * Drops `field` with a warning, or refuses the request when it is strict. `warn` adds to the adapter's warnings
 * (already prefixed or deduplicated as the adapter does it).
 */
export function refuseOrWarn(request: CompletionRequest, provider: string, field: ParameterField, why: string, warn: (text: string) => void): void {
  if (request.strict === true) {
    throw BadRequestError.atField([field], (name) => `${provider} cannot honour '${name([field])}': ${why} (sent without x-switchboard-strict it is dropped with a warning)`);
  }
  warn(`${field} (${CHAT_COMPLETIONS_NAMES[field]}) ${why}; it was not sent`);
}

/** The Chat Completions name of each field, so a warning reads in the caller's terms on either transport. */
const CHAT_COMPLETIONS_NAMES: Readonly<Record<ParameterField, string>> = {
  presencePenalty: 'presence_penalty',
  frequencyPenalty: 'frequency_penalty',
  logitBias: 'logit_bias',
  parallelToolCalls: 'parallel_tool_calls',
  reasoningEffort: 'reasoning_effort',
  serviceTier: 'service_tier',
  store: 'store',
  seed: 'seed',
  n: 'n',
  logprobs: 'logprobs',
  topLogprobs: 'top_logprobs',
};

/**
 * The thinking budget in tokens an effort stands for, for providers whose knob is a budget (Anthropic, Gemini).
 * Anthropic's minimum budget is 1024; the steps follow OpenRouter's published mapping for a 32k output limit.
 * `none` is no thinking (undefined budget).
 */
export const EFFORT_BUDGET_TOKENS: Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>> = {
  minimal: 1024,
  low: 4096,
  medium: 8192,
  high: 24576,
};

/**
 * What the request's thinking comes to for a budget provider: `thinking` when the caller set it (it is the more
 * precise of the two), otherwise the effort's budget, `disabled` for `none`, or nothing.
 */
export function thinkingFromEffort(request: CompletionRequest): CompletionRequest['thinking'] {
  if (request.thinking !== undefined) return request.thinking;
  const effort = request.reasoningEffort;
  if (effort === undefined) return undefined;
  if (effort === 'none') return { type: 'disabled' };
  return { type: 'enabled', budgetTokens: EFFORT_BUDGET_TOKENS[effort] };
}

/** Parameters that ask nothing of a provider (their default) need no warning when it cannot honour them. */
export function asksForSomething(request: CompletionRequest, field: ParameterField): boolean {
  switch (field) {
    case 'presencePenalty':
      return request.presencePenalty !== undefined && request.presencePenalty !== 0;
    case 'frequencyPenalty':
      return request.frequencyPenalty !== undefined && request.frequencyPenalty !== 0;
    case 'logitBias':
      return request.logitBias !== undefined && Object.keys(request.logitBias).length > 0;
    case 'parallelToolCalls':
      return request.parallelToolCalls === false && (request.tools?.length ?? 0) > 0;
    case 'reasoningEffort':
      return request.reasoningEffort !== undefined;
    case 'serviceTier':
      return request.serviceTier !== undefined && request.serviceTier !== 'auto' && request.serviceTier !== 'default';
    case 'store':
      return request.store === true;
    case 'seed':
      return request.seed !== undefined;
    case 'n':
      return request.n !== undefined && request.n > 1;
    case 'logprobs':
      return request.logprobs === true;
    case 'topLogprobs':
      return request.topLogprobs !== undefined && request.topLogprobs > 0;
  }
}
