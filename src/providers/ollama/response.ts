import { reportedUsage } from '../normalize.js';
import { synthesizedToolCallId } from '../tool-call-ids.js';
import type { CompletionResponse, TokenLogprob, ToolCall, Usage } from '../types.js';
import { mapOllamaFinishReason } from './finish-reason.js';
import type { OllamaChatResponse } from './wire.js';

/** The counts are Go `omitempty`: a missing count is a zero (a fully cached prompt has no prompt_eval_count). */
export function mapOllamaUsage(response: OllamaChatResponse): Usage {
  return reportedUsage({ promptTokens: response.prompt_eval_count ?? 0, completionTokens: response.eval_count ?? 0 });
}

export function ollamaToolCalls(response: OllamaChatResponse, firstIndex: number): ToolCall[] {
  return (response.message?.tool_calls ?? []).map((call, offset) => ({
    id: call.id ?? synthesizedToolCallId(firstIndex + offset),
    name: call.function.name,
    arguments: JSON.stringify(call.function.arguments ?? {}),
  }));
}

/** Ollama's token log probabilities in OpenAI's shape (Ollama gives no bytes); undefined when it gave none. */
export function mapOllamaLogprobs(response: OllamaChatResponse): TokenLogprob[] | undefined {
  if (response.logprobs == null) return undefined;
  return response.logprobs.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    bytes: null,
    topLogprobs: (entry.top_logprobs ?? []).map((top) => ({ token: top.token, logprob: top.logprob, bytes: null })),
  }));
}

/** Maps a non-streamed /api/chat reply. */
export function fromOllamaResponse(response: OllamaChatResponse, warnings: string[]): CompletionResponse {
  const toolCalls = ollamaToolCalls(response, 0);
  const content = response.message?.content ?? '';
  const thinking = response.message?.thinking ?? '';
  const logprobs = mapOllamaLogprobs(response);
  return {
    ...(response.model !== undefined ? { model: response.model } : {}),
    content: content === '' && toolCalls.length > 0 ? null : content,
    ...(thinking !== '' ? { reasoning: thinking } : {}),
    toolCalls,
    finishReason: mapOllamaFinishReason(response.done_reason, toolCalls.length > 0),
    rawFinishReason: response.done_reason ?? null,
    usage: mapOllamaUsage(response),
    warnings,
    ...(logprobs !== undefined ? { logprobs } : {}),
  };
}
