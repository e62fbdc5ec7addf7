import { ProviderError } from '../errors.js';
import { parseJsonChunk } from '../http.js';
import type { StreamEvent, Usage } from '../types.js';
import { openAIInBandError } from './errors.js';
import { mapOpenAIFinishReason } from './finish-reason.js';
import { argumentsText, mapOpenAILogprobs, mapOpenAIUsage, splitContent } from './response.js';
import { chatChunkSchema, type ChatChunk, type WireDeltaToolCall, type WireError } from './wire.js';

interface ToolSlot {
  index: number;
  id: string;
}

/** The error a chunk reports in band: OpenAI's top-level `error` (OpenRouter too) or Groq's `x_groq.error`. */
function inBandErrorOf(chunk: ChatChunk): WireError | undefined {
  if (chunk.error !== null && chunk.error !== undefined) return typeof chunk.error === 'string' ? { message: chunk.error } : chunk.error;
  const groq = chunk.x_groq?.error;
  return groq !== null && groq !== undefined ? { message: groq } : undefined;
}

/**
 * One SSE payload as a validated chunk. A chunk we cannot read is a malformed response, not a crash; a chunk that
 * reports an error is thrown as the ProviderError it reports.
 */
export function parseOpenAIStreamChunk(provider: string, data: string): ChatChunk {
  const parsed = chatChunkSchema.safeParse(parseJsonChunk(provider, data));
  if (!parsed.success) {
    throw new ProviderError(`${provider} sent a stream chunk in an unexpected shape`, { provider, kind: 'malformed_response', cause: parsed.error });
  }
  const error = inBandErrorOf(parsed.data);
  if (error !== undefined) throw openAIInBandError(provider, error, 'stream_error');
  return parsed.data;
}

/**
 * Turns Chat Completions chunks into normalized events. Pure apart from what a stream's finish event depends on:
 * the tool calls seen (keyed by wire index, or by id where the server sends no index, as Mistral does), whether
 * the model refused, the finish reason and the usage.
 */
export class OpenAIStreamMapper {
  private readonly toolSlots = new Map<string, ToolSlot>();
  private toolCount = 0;
  private refused = false;
  /** Undefined until a chunk carries a finish_reason. */
  private rawFinishReason: string | undefined;
  private usage: Usage | null = null;
  private serviceTier: string | undefined;

  /** `sentServiceTier`: what the request asked for, kept unless a chunk says which tier served (OpenAI's do). */
  constructor(sentServiceTier?: string) {
    this.serviceTier = sentServiceTier;
  }

  /** True once a chunk carried a finish reason: a body that ends after it (without [DONE]) still finished. */
  get hasFinishReason(): boolean {
    return this.rawFinishReason !== undefined;
  }

  /** The text, reasoning and tool-call events one chunk carries. */
  map(chunk: ChatChunk): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta;
      if (delta !== null && delta !== undefined) {
        const split = splitContent(delta.content);
        const reasoning = delta.reasoning_content || delta.reasoning || split.reasoning;
        if (reasoning !== '') events.push({ type: 'reasoning-delta', text: reasoning });
        const logprobs = mapOpenAILogprobs(choice.logprobs);
        if (split.text !== null && split.text !== '') events.push({ type: 'text-delta', text: split.text, ...(logprobs !== undefined ? { logprobs } : {}) });
        if (delta.refusal !== null && delta.refusal !== undefined && delta.refusal !== '') {
          this.refused = true;
          events.push({ type: 'text-delta', text: delta.refusal });
        }
        for (const call of delta.tool_calls ?? []) {
          const event = this.toolCallEvent(call);
          if (event !== undefined) events.push(event);
        }
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.rawFinishReason = choice.finish_reason;
    }
    const usage = mapOpenAIUsage(chunk.usage ?? chunk.x_groq?.usage);
    if (usage !== null) this.usage = usage;
    if (chunk.service_tier) this.serviceTier = chunk.service_tier;
    return events;
  }

  /** The closing event, from what the chunks said. */
  end(): StreamEvent {
    return {
      type: 'finish',
      finishReason: mapOpenAIFinishReason(this.rawFinishReason, { hasToolCalls: this.toolCount > 0, refused: this.refused }),
      rawFinishReason: this.rawFinishReason ?? null,
      usage: this.usage,
      ...(this.serviceTier !== undefined ? { serviceTier: this.serviceTier } : {}),
    };
  }

  private toolCallEvent(call: WireDeltaToolCall): StreamEvent | undefined {
    const key = call.index !== null && call.index !== undefined ? `index:${call.index}` : `id:${call.id ?? this.toolCount}`;
    let slot = this.toolSlots.get(key);
    // Servers that send each call whole may reuse index 0 for every call; a new id is a new call.
    if (slot !== undefined && call.id && call.id !== slot.id) slot = undefined;
    const argumentsDelta = argumentsText(call.function?.arguments);
    if (slot === undefined) {
      slot = { index: this.toolCount, id: call.id ?? `call_${this.toolCount}` };
      this.toolCount++;
      this.toolSlots.set(key, slot);
      return { type: 'tool-call-delta', index: slot.index, id: slot.id, name: call.function?.name ?? '', argumentsDelta };
    }
    return argumentsDelta === '' ? undefined : { type: 'tool-call-delta', index: slot.index, argumentsDelta };
  }
}
