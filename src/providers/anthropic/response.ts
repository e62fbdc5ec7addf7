import { reportedUsage, withToolCallRule } from '../normalize.js';
import type { CompletionResponse, FinishReason, ToolCall, Usage } from '../types.js';
import type { AnthropicMessageOut, AnthropicUsage } from './wire.js';

/** Section 6 of the wire-format notes; a reason we do not know yet still ended the message normally. */
export function mapStopReason(raw: string | null, hasToolCalls: boolean): FinishReason {
  let reason: FinishReason;
  switch (raw) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      reason = 'length';
      break;
    case 'tool_use':
      // Only the JSON-output tool was called, so from the caller's side the answer is complete.
      reason = hasToolCalls ? 'tool_calls' : 'stop';
      break;
    case 'refusal':
      reason = 'content_filter';
      break;
    default:
      // end_turn, stop_sequence, pause_turn (a server tool loop paused; the turn's output so far stands).
      reason = 'stop';
  }
  return withToolCallRule(reason, hasToolCalls);
}

/** `input_tokens` counts only uncached input: the whole prompt also includes what was written to and read from the cache. */
export function mapUsage(usage: AnthropicUsage): Usage {
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  return reportedUsage({
    promptTokens: usage.input_tokens + cacheWrite + cacheRead,
    completionTokens: usage.output_tokens,
    cachedPromptTokens: cacheRead,
    reasoningTokens: usage.output_tokens_details?.thinking_tokens ?? 0,
  });
}

/** The arguments text of a tool_use block: its input re-serialized, since Anthropic sends an object, not text. */
function argumentsText(input: unknown): string {
  return JSON.stringify(input ?? {});
}

export function mapMessage(message: AnthropicMessageOut, options: { warnings: string[]; jsonToolName?: string }): CompletionResponse {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'thinking') thoughts.push(block.thinking);
    else if (block.type === 'tool_use') {
      if (block.name === options.jsonToolName) texts.push(argumentsText(block.input));
      else toolCalls.push({ id: block.id, name: block.name, arguments: argumentsText(block.input) });
    }
  }
  const response: CompletionResponse = {
    content: texts.length > 0 ? texts.join('') : null,
    toolCalls,
    finishReason: mapStopReason(message.stop_reason, toolCalls.length > 0),
    rawFinishReason: message.stop_reason,
    usage: message.usage === undefined ? null : mapUsage(message.usage),
    warnings: options.warnings,
  };
  if (message.id !== undefined) response.upstreamId = message.id;
  if (message.model !== undefined) response.model = message.model;
  if (thoughts.length > 0) response.reasoning = thoughts.join('');
  return response;
}
