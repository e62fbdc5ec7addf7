import type { StreamEvent, Usage } from '../types.js';
import { argumentsText, settleFinishReason, splitContent, usageFromWire } from './response.js';
import type { ChatChunk, WireDeltaToolCall, WireError } from './wire.js';

interface ToolSlot {
  index: number;
  id: string;
}

/** What a stream has shown so far that its finish event depends on. */
export interface ChatStreamState {
  /** Keyed by wire index, or by id where the server sends no index (Mistral). */
  toolSlots: Map<string, ToolSlot>;
  toolCount: number;
  refused: boolean;
  /** Undefined until a chunk carries a finish_reason. */
  rawFinishReason: string | undefined;
  usage: Usage | null;
}

export function createChatStreamState(): ChatStreamState {
  return { toolSlots: new Map(), toolCount: 0, refused: false, rawFinishReason: undefined, usage: null };
}

/** The error a chunk reports in band: OpenAI's top-level `error` (OpenRouter too) or Groq's `x_groq.error`. */
export function chunkError(chunk: ChatChunk): WireError | undefined {
  if (chunk.error !== null && chunk.error !== undefined) return typeof chunk.error === 'string' ? { message: chunk.error } : chunk.error;
  const groq = chunk.x_groq?.error;
  return groq !== null && groq !== undefined ? { message: groq } : undefined;
}

function toolCallEvent(call: WireDeltaToolCall, state: ChatStreamState): StreamEvent | undefined {
  const key = call.index !== null && call.index !== undefined ? `index:${call.index}` : `id:${call.id ?? state.toolCount}`;
  let slot = state.toolSlots.get(key);
  // Servers that send each call whole may reuse index 0 for every call; a new id is a new call.
  if (slot !== undefined && call.id && call.id !== slot.id) slot = undefined;
  const argumentsDelta = argumentsText(call.function?.arguments);
  if (slot === undefined) {
    slot = { index: state.toolCount, id: call.id ?? `call_${state.toolCount}` };
    state.toolCount++;
    state.toolSlots.set(key, slot);
    return { type: 'tool-call-delta', index: slot.index, id: slot.id, name: call.function?.name ?? '', argumentsDelta };
  }
  return argumentsDelta === '' ? undefined : { type: 'tool-call-delta', index: slot.index, argumentsDelta };
}

/** The text, reasoning and tool-call events one chunk carries; records its finish reason and usage in the state. Pure but for the state. */
export function eventsFromChunk(chunk: ChatChunk, state: ChatStreamState): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const choice of chunk.choices ?? []) {
    const delta = choice.delta;
    if (delta !== null && delta !== undefined) {
      const split = splitContent(delta.content);
      const reasoning = delta.reasoning_content || delta.reasoning || split.reasoning;
      if (reasoning !== '') events.push({ type: 'reasoning-delta', text: reasoning });
      if (split.text !== null && split.text !== '') events.push({ type: 'text-delta', text: split.text });
      if (delta.refusal !== null && delta.refusal !== undefined && delta.refusal !== '') {
        state.refused = true;
        events.push({ type: 'text-delta', text: delta.refusal });
      }
      for (const call of delta.tool_calls ?? []) {
        const event = toolCallEvent(call, state);
        if (event !== undefined) events.push(event);
      }
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) state.rawFinishReason = choice.finish_reason;
  }
  const usage = usageFromWire(chunk.usage ?? chunk.x_groq?.usage);
  if (usage !== null) state.usage = usage;
  return events;
}

export function finishEvent(state: ChatStreamState): StreamEvent {
  return {
    type: 'finish',
    finishReason: settleFinishReason(state.rawFinishReason, { hasToolCalls: state.toolCount > 0, refused: state.refused }),
    rawFinishReason: state.rawFinishReason ?? null,
    usage: state.usage,
  };
}
