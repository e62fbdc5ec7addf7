import { z } from 'zod';
import type { CompletionResult, PricedUsage } from '../completions/types.js';
import { picosToUsd } from '../money.js';
import type { AssistantPart, FinishReason, ToolCall } from '../providers/types.js';
import { promptParts } from '../usage/cost.js';

/** The answer of POST /v1/messages in Anthropic's shape (API version 2023-06-01), from the service's result. */

export type MessagesContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface MessagesUsage {
  /** Anthropic's convention: only the uncached input; reads and writes are counted beside it. */
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  /** Not Anthropic's: what the request cost, in US dollars; null when a price was unknown. */
  cost_usd: number | null;
}

/** Anthropic's stop reasons, which an Anthropic endpoint's raw reason already is and is passed on as. */
const ANTHROPIC_STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']);

export function messagesStopReason(finishReason: FinishReason, raw: string | null): string {
  if (raw !== null && ANTHROPIC_STOP_REASONS.has(raw)) return raw;
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function messagesUsage(usage: PricedUsage): MessagesUsage {
  const parts = promptParts(usage);
  return {
    input_tokens: parts.uncached,
    cache_creation_input_tokens: parts.write5m + parts.write1h,
    cache_read_input_tokens: parts.read,
    cache_creation: { ephemeral_5m_input_tokens: parts.write5m, ephemeral_1h_input_tokens: parts.write1h },
    output_tokens: usage.completionTokens,
    cost_usd: usage.costPicos === null ? null : picosToUsd(usage.costPicos),
  };
}

/** The message id of a generation: the SDK and Claude clients expect `msg_…`; the generation id is recoverable. */
export function messageId(generationId: string): string {
  return `msg_${generationId}`;
}

/** A tool call's input as the object Anthropic's blocks carry; arguments another model left unparsable become {} and a warning. */
const toolInputSchema = z.record(z.string(), z.unknown());

export function toolInput(call: ToolCall, warnings: string[]): Record<string, unknown> {
  try {
    const parsed = toolInputSchema.safeParse(JSON.parse(call.arguments === '' ? '{}' : call.arguments));
    if (parsed.success) return parsed.data;
  } catch {
    // Told below.
  }
  warnings.push(`tool call ${call.id} had arguments that are not a JSON object; its input is {}`);
  return {};
}

function blockOf(part: AssistantPart, calls: Map<string, ToolCall>, warnings: string[]): MessagesContentBlock | undefined {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'thinking':
      return { type: 'thinking', thinking: part.text, signature: part.signature };
    case 'redacted-thinking':
      return { type: 'redacted_thinking', data: part.data };
    case 'tool-call': {
      const call = calls.get(part.id);
      if (call === undefined) return undefined;
      calls.delete(part.id);
      return { type: 'tool_use', id: call.id, name: call.name, input: toolInput(call, warnings) };
    }
  }
}

/**
 * The answer's blocks: in the provider's order, with thinking signatures, when it gave them; otherwise reasoning,
 * then text, then tool calls, the order Claude writes them in. Reasoning from another provider has no signature ('').
 */
export function contentBlocks(result: Pick<CompletionResult, 'content' | 'reasoning' | 'toolCalls' | 'parts'>, warnings: string[]): MessagesContentBlock[] {
  const calls = new Map(result.toolCalls.map((call) => [call.id, call]));
  const blocks: MessagesContentBlock[] = [];
  if (result.parts !== undefined) {
    for (const part of result.parts) {
      const block = blockOf(part, calls, warnings);
      if (block !== undefined) blocks.push(block);
    }
  } else {
    if (result.reasoning !== null && result.reasoning !== '') blocks.push({ type: 'thinking', thinking: result.reasoning, signature: '' });
    if (result.content !== null && result.content !== '') blocks.push({ type: 'text', text: result.content });
  }
  for (const call of calls.values()) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call, warnings) });
  return blocks;
}

export function messageObject(result: CompletionResult, warnings: string[]): Record<string, unknown> {
  return {
    id: messageId(result.id),
    type: 'message',
    role: 'assistant',
    model: result.servedModel,
    content: contentBlocks(result, warnings),
    stop_reason: messagesStopReason(result.finishReason, result.rawFinishReason),
    stop_sequence: null,
    usage: messagesUsage(result.usage),
  };
}
