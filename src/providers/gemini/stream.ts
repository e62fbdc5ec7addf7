import { ProviderError } from '../errors.js';
import { parseJsonChunk } from '../http.js';
import { synthesizedToolCallId } from '../tool-call-ids.js';
import type { StreamEvent } from '../types.js';
import { geminiInBandError } from './errors.js';
import { mapGeminiFinishReason } from './finish-reason.js';
import { mapGeminiLogprobs, mapGeminiUsage } from './response.js';
import { generateContentResponseSchema, type GeminiUsageMetadata, type GenerateContentResponse } from './wire.js';

/** One SSE payload as a validated fragment; an error event in the stream is thrown as the ProviderError it reports. */
export function parseGeminiStreamChunk(provider: string, data: string): GenerateContentResponse {
  const json = parseJsonChunk(provider, data);
  const inBand = geminiInBandError(provider, json);
  if (inBand) throw inBand;
  const parsed = generateContentResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(`${provider} sent a stream chunk that does not match the Gemini API`, { provider, kind: 'malformed_response', cause: parsed.error });
  }
  return parsed.data;
}

type FinishEvent = Extract<StreamEvent, { type: 'finish' }>;

/**
 * Turns streamed GenerateContentResponse fragments into stream events. Each fragment carries only new parts;
 * a functionCall arrives whole, so it becomes one tool-call delta with the complete arguments.
 */
export class GeminiStreamMapper {
  private toolCallCount = 0;
  private finishReason: string | undefined;
  private blockReason: string | undefined;
  /** usageMetadata may come on several fragments with growing counts; the last one is the total. */
  private usage: GeminiUsageMetadata | undefined;

  map(response: GenerateContentResponse): StreamEvent[] {
    const events: StreamEvent[] = [];
    if (response.usageMetadata !== undefined) this.usage = response.usageMetadata;
    const candidate = response.candidates?.[0];
    if (candidate === undefined && response.promptFeedback?.blockReason !== undefined) {
      this.blockReason = response.promptFeedback.blockReason;
    }
    for (const part of candidate?.content?.parts ?? []) {
      if (part.functionCall !== undefined) {
        const index = this.toolCallCount++;
        events.push({
          type: 'tool-call-delta',
          index,
          id: part.functionCall.id ?? synthesizedToolCallId(index),
          name: part.functionCall.name,
          argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
        });
      } else if (part.text !== undefined && part.text !== '') {
        if (part.thought === true) events.push({ type: 'reasoning-delta', text: part.text });
        else {
          // A chunk's logprobsResult covers the tokens of its text.
          const logprobs = mapGeminiLogprobs(candidate?.logprobsResult);
          events.push({ type: 'text-delta', text: part.text, ...(logprobs !== undefined ? { logprobs } : {}) });
        }
      }
    }
    if (candidate?.finishReason !== undefined) this.finishReason = candidate.finishReason;
    return events;
  }

  /** The closing event, or undefined when the stream ended without a finish reason (it was cut short). */
  end(): FinishEvent | undefined {
    const usage = mapGeminiUsage(this.usage);
    if (this.blockReason !== undefined && this.finishReason === undefined) {
      return { type: 'finish', finishReason: 'content_filter', rawFinishReason: this.blockReason, usage };
    }
    if (this.finishReason === undefined) return undefined;
    return {
      type: 'finish',
      finishReason: mapGeminiFinishReason(this.finishReason, this.toolCallCount > 0),
      rawFinishReason: this.finishReason,
      usage,
    };
  }
}
