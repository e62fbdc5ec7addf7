import { reportedUsage } from '../normalize.js';
import type { CompletionResponse, ToolCall, Usage } from '../types.js';
import { mapAnthropicFinishReason } from './finish-reason.js';
import { droppedTextWarning } from './request.js';
import type { AnthropicMessageOut, AnthropicUsage } from './wire.js';

/** `input_tokens` counts only uncached input: the whole prompt also includes what was written to and read from the cache. */
export function mapAnthropicUsage(usage: AnthropicUsage): Usage {
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

/**
 * Maps a Messages API reply onto the normalized response. The JSON-output tool's input is the whole content: text
 * the model wrote beside it would make the content invalid JSON, so it becomes a warning. Without that tool call
 * (the model answered in words only) the text is all there is, and is the content.
 */
export function fromAnthropicResponse(message: AnthropicMessageOut, options: { warnings: string[]; jsonToolName?: string }): CompletionResponse {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  let jsonAnswer: string | undefined;
  for (const block of message.content) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'thinking') thoughts.push(block.thinking);
    else if (block.type === 'tool_use') {
      // One answer: were the tool called twice, joining the inputs would not be JSON either.
      if (block.name === options.jsonToolName) jsonAnswer ??= argumentsText(block.input);
      else toolCalls.push({ id: block.id, name: block.name, arguments: argumentsText(block.input) });
    }
  }
  const text = texts.join('');
  const warnings = jsonAnswer !== undefined && text.trim() !== '' ? [...options.warnings, droppedTextWarning(text)] : options.warnings;
  const response: CompletionResponse = {
    content: jsonAnswer ?? (texts.length > 0 ? text : null),
    toolCalls,
    finishReason: mapAnthropicFinishReason(message.stop_reason, toolCalls.length > 0),
    rawFinishReason: message.stop_reason,
    usage: message.usage === undefined ? null : mapAnthropicUsage(message.usage),
    warnings,
  };
  if (message.id !== undefined) response.upstreamId = message.id;
  if (message.model !== undefined) response.model = message.model;
  if (thoughts.length > 0) response.reasoning = thoughts.join('');
  return response;
}
