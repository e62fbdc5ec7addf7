import { estimateTokensWithoutTables } from './token-bound.js';
import { createTokenEstimator } from './tokenizer.js';
import type { CompletionRequest, FinishReason, Message, Usage } from './types.js';

/** Per-message framing tokens, as OpenAI's chat format counts them; close enough for the other vendors' estimates. */
const TOKENS_PER_MESSAGE = 3;

/** The text a message carries, tool calls included: what its tokens are counted from. */
export function messageText(message: Message): string {
  switch (message.role) {
    case 'system':
    case 'tool':
      return message.content;
    case 'user':
      return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    case 'assistant':
      return (message.content ?? '') + message.toolCalls.map((call) => call.name + call.arguments).join('');
  }
}

/**
 * The prompt's size by our tokenizer: used before a call (limits, budgets) and when a provider reports no usage.
 * Synchronous, so bounded: one estimator for the whole request tokenizes for a few milliseconds and samples the rest
 * (src/providers/tokenizer.ts); no prompt, however long or repetitive, holds the event loop for longer.
 */
export function estimatePromptTokens(request: Pick<CompletionRequest, 'messages' | 'tools'>): number {
  const estimator = createTokenEstimator();
  let total = 3;
  for (const message of request.messages) total += TOKENS_PER_MESSAGE + estimator.count(messageText(message));
  for (const tool of request.tools ?? []) total += estimator.count(tool.name + (tool.description ?? '') + JSON.stringify(tool.parameters));
  return total;
}

/**
 * The prompt's size for reservations (tokens per minute, budget) that are settled against the reported usage once the
 * answer is in: without the tokenizer's tables (src/providers/token-bound.ts), so admitting a request neither loads
 * ~70 MB nor spends a BPE pass. Framing counted as estimatePromptTokens counts it.
 */
export function reservePromptTokens(request: Pick<CompletionRequest, 'messages' | 'tools'>): number {
  let total = 3;
  for (const message of request.messages) total += TOKENS_PER_MESSAGE + estimateTokensWithoutTables(messageText(message));
  for (const tool of request.tools ?? []) total += estimateTokensWithoutTables(tool.name + (tool.description ?? '') + JSON.stringify(tool.parameters));
  return total;
}

/** Usage counted by our tokenizer (bounded, see estimatePromptTokens), marked estimated. */
export function estimateUsage(request: Pick<CompletionRequest, 'messages' | 'tools'>, completionText: string): Usage {
  const promptTokens = estimatePromptTokens(request);
  const completionTokens = createTokenEstimator().count(completionText);
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    estimated: true,
  };
}

/** Builds a reported Usage, deriving the total so that it is always the sum of its parts. */
export function reportedUsage(parts: {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens?: number;
  cacheWriteTokens?: number;
  cacheWrite1hTokens?: number;
  reasoningTokens?: number;
}): Usage {
  const usage: Usage = {
    promptTokens: parts.promptTokens,
    completionTokens: parts.completionTokens,
    totalTokens: parts.promptTokens + parts.completionTokens,
    cachedPromptTokens: parts.cachedPromptTokens ?? 0,
    reasoningTokens: parts.reasoningTokens ?? 0,
    estimated: false,
  };
  // Absent rather than 0 when nothing was written, as most providers never write (Usage's fields say so).
  if (parts.cacheWriteTokens !== undefined && parts.cacheWriteTokens > 0) {
    usage.cacheWriteTokens = parts.cacheWriteTokens;
    if (parts.cacheWrite1hTokens !== undefined && parts.cacheWrite1hTokens > 0) usage.cacheWrite1hTokens = parts.cacheWrite1hTokens;
  }
  return usage;
}

/**
 * The rule every adapter applies first: a message that carries tool calls finished to call them, whatever
 * the provider said (OpenAI says `stop` when tool_choice names a function; Gemini and Ollama always do).
 */
export function withToolCallRule(reason: FinishReason, hasToolCalls: boolean): FinishReason {
  return hasToolCalls && reason === 'stop' ? 'tool_calls' : reason;
}
