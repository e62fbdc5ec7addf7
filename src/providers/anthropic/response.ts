import { reportedUsage } from '../normalize.js';
import type { AssistantPart, CompletionResponse, ToolCall, Usage } from '../types.js';
import { mapAnthropicFinishReason } from './finish-reason.js';
import { droppedTextWarning } from './request.js';
import type { AnthropicMessageOut, AnthropicUsage } from './wire.js';

/** `input_tokens` counts only uncached input: the whole prompt also includes what was written to and read from the cache. */
export function mapAnthropicUsage(usage: AnthropicUsage): Usage {
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  // Without the split every write is a five-minute one (the only kind before one-hour entries existed).
  const oneHour = Math.min(usage.cache_creation?.ephemeral_1h_input_tokens ?? 0, cacheWrite);
  return reportedUsage({
    promptTokens: usage.input_tokens + cacheWrite + cacheRead,
    completionTokens: usage.output_tokens,
    cachedPromptTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    cacheWrite1hTokens: oneHour,
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
  const parts: AssistantPart[] = [];
  let jsonAnswer: string | undefined;
  for (const block of message.content) {
    if (block.type === 'text') {
      texts.push(block.text);
      parts.push({ type: 'text', text: block.text });
    } else if (block.type === 'thinking') {
      thoughts.push(block.thinking);
      parts.push({ type: 'thinking', text: block.thinking, signature: block.signature ?? '' });
    } else if (block.type === 'redacted_thinking') {
      parts.push({ type: 'redacted-thinking', data: block.data });
    } else if (block.type === 'tool_use') {
      // One answer: were the tool called twice, joining the inputs would not be JSON either.
      if (block.name === options.jsonToolName) jsonAnswer ??= argumentsText(block.input);
      else {
        toolCalls.push({ id: block.id, name: block.name, arguments: argumentsText(block.input) });
        parts.push({ type: 'tool-call', id: block.id });
      }
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
  // Order and signatures matter only when the answer is more than one text; the JSON answer is one text by design.
  if (jsonAnswer === undefined && parts.some((part) => part.type !== 'text')) response.parts = parts;
  return response;
}
