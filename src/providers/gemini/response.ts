import { reportedUsage, withToolCallRule } from '../normalize.js';
import { synthesizedToolCallId } from '../tool-call-ids.js';
import type { CompletionResponse, FinishReason, ToolCall, Usage } from '../types.js';
import type { GeminiUsageMetadata, GenerateContentResponse } from './wire.js';

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini's finish reason in normalized terms. Gemini has no tool-call reason: a call ends with STOP, so the
 * tool-call rule decides. Reasons we do not know (the list keeps growing) count as errors, keeping the raw value.
 */
export function geminiFinishReason(raw: string | undefined, hasToolCalls: boolean): FinishReason {
  if (raw === undefined || raw === 'STOP') return withToolCallRule('stop', hasToolCalls);
  if (raw === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(raw)) return 'content_filter';
  return 'error';
}

/** Thought tokens are not part of candidatesTokenCount in Gemini's counts, but are output we pay for. */
export function geminiUsage(metadata: GeminiUsageMetadata | undefined): Usage | null {
  if (metadata === undefined) return null;
  const thoughts = metadata.thoughtsTokenCount ?? 0;
  return reportedUsage({
    promptTokens: metadata.promptTokenCount ?? 0,
    completionTokens: (metadata.candidatesTokenCount ?? 0) + thoughts,
    cachedPromptTokens: metadata.cachedContentTokenCount ?? 0,
    reasoningTokens: thoughts,
  });
}

/** Maps a whole generateContent reply. Only the first candidate is read: we never ask for more. */
export function fromGeminiResponse(response: GenerateContentResponse, warnings: string[]): CompletionResponse {
  const candidate = response.candidates?.[0];
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    if (part.functionCall !== undefined) {
      toolCalls.push({
        id: part.functionCall.id ?? synthesizedToolCallId(toolCalls.length),
        name: part.functionCall.name,
        arguments: JSON.stringify(part.functionCall.args ?? {}),
      });
    } else if (part.text !== undefined) {
      (part.thought === true ? thoughts : texts).push(part.text);
    }
  }

  const blockReason = response.promptFeedback?.blockReason;
  const blocked = candidate === undefined && blockReason !== undefined;
  const rawFinishReason = blocked ? blockReason : (candidate?.finishReason ?? null);
  return {
    ...(response.responseId !== undefined ? { upstreamId: response.responseId } : {}),
    ...(response.modelVersion !== undefined ? { model: response.modelVersion } : {}),
    content: texts.length > 0 ? texts.join('') : null,
    ...(thoughts.length > 0 ? { reasoning: thoughts.join('') } : {}),
    toolCalls,
    finishReason: blocked ? 'content_filter' : geminiFinishReason(candidate?.finishReason, toolCalls.length > 0),
    rawFinishReason,
    usage: geminiUsage(response.usageMetadata),
    warnings,
  };
}
