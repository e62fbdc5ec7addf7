import type { CatalogLookup } from '../db/storage.js';
import { estimatePromptTokens, messageText } from '../providers/normalize.js';
import type { AdapterRegistry } from '../providers/registry.js';
import { countTokensExact } from '../providers/tokenizer.js';
import { resolveModel, type Candidate } from '../routing/resolve.js';
import type { Router } from '../routing/router.js';
import { expectedCostPicos } from '../usage/cost.js';
import type { CompletionInput } from './types.js';
import { validateCompletionInput } from './validate.js';

/** One endpoint's price for the estimated request. */
export interface CandidateCost {
  candidate: Candidate;
  requested: string;
  /** Prompt tokens plus the fewest completion tokens (none); null when a price is unknown. */
  minCostPicos: number | null;
  /** Prompt tokens plus the most completion tokens the request allows. */
  maxCostPicos: number | null;
}

export interface CostEstimate {
  promptTokens: number;
  /** False only when the prompt was counted with the model's own tokenizer, the way its provider counts it. */
  promptTokensEstimated: boolean;
  /** The tokenizer counted with: `o200k_base` for OpenAI models, else the gateway's estimate. */
  tokenizer: string;
  completionTokensMin: number;
  /** From `maxTokens`, else the model's output limit, else what is left of its context. */
  completionTokensMax: number;
  candidates: CandidateCost[];
}

/** OpenAI's chat framing: every message costs 3 tokens plus its role's and its content's; the reply is primed with 3. */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_ROLE = 1;
const REPLY_PRIMING = 3;
const FALLBACK_COMPLETION_TOKENS = 4096;

/** Whose tokenizer is known exactly: OpenAI's models (o200k_base), reached through the OpenAI adapter. */
function countsWithO200k(candidate: Candidate | undefined): boolean {
  return candidate?.adapter.kind === 'openai';
}

/**
 * The prompt counted as OpenAI does for chat: exact for text messages. Tools and tool calls are framed in a way
 * OpenAI does not publish, so a prompt with them stays an estimate.
 */
async function openAIPromptTokens(input: CompletionInput, signal?: AbortSignal): Promise<{ tokens: number; exact: boolean }> {
  let tokens = REPLY_PRIMING;
  let exact = (input.tools?.length ?? 0) === 0;
  for (const message of input.messages) {
    if (message.role === 'assistant' && message.toolCalls.length > 0) exact = false;
    if (message.role === 'user' && message.content.some((part) => part.type === 'image')) exact = false;
    tokens += TOKENS_PER_MESSAGE + TOKENS_PER_ROLE + (await countTokensExact(messageText(message), signal));
  }
  return { tokens, exact };
}

/** What a request would cost on each endpoint it could go to, before sending it. Nothing is admitted or recorded. */
export async function estimateCost(deps: { catalog: CatalogLookup; registry: AdapterRegistry; router: Router }, input: CompletionInput, signal?: AbortSignal): Promise<CostEstimate> {
  validateCompletionInput(input);
  const fallbacks = input.models ?? deps.router.fallbacksFor(input.model) ?? [];
  const groups: Array<{ requested: string; candidates: Candidate[] }> = [];
  for (const requested of [input.model, ...fallbacks]) groups.push({ requested, candidates: resolveModel(deps.catalog, deps.registry, requested).candidates });

  const primary = groups[0]?.candidates[0];
  let promptTokens: number;
  let estimated = true;
  let tokenizer = 'estimate';
  if (countsWithO200k(primary)) {
    const counted = await openAIPromptTokens(input, signal);
    promptTokens = counted.tokens;
    estimated = !counted.exact;
    tokenizer = 'o200k_base';
  } else {
    promptTokens = estimatePromptTokens(input);
  }

  const model = primary?.model ?? null;
  const contextLeft = model && model.contextLength > 0 ? Math.max(0, model.contextLength - promptTokens) : null;
  const completionTokensMax = input.maxTokens ?? model?.maxOutputTokens ?? contextLeft ?? FALLBACK_COMPLETION_TOKENS;

  const candidates = groups.flatMap((group) =>
    group.candidates.map((candidate) => ({
      candidate,
      requested: group.requested,
      minCostPicos: expectedCostPicos(candidate.prices, promptTokens, 0),
      maxCostPicos: expectedCostPicos(candidate.prices, promptTokens, completionTokensMax),
    })),
  );
  return { promptTokens, promptTokensEstimated: estimated, tokenizer, completionTokensMin: 0, completionTokensMax, candidates };
}
