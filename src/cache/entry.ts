import { z } from 'zod';

/**
 * What the response cache keeps of one answer: enough to answer the same request again, streamed or not, and to
 * say what it would have cost. Validated when read back (a store may hold rows an older build wrote).
 */

const toolCall = z.object({ id: z.string(), name: z.string(), arguments: z.string() });
const toolCallDelta = z.object({ index: z.number().int(), id: z.string().optional(), name: z.string().optional(), argumentsDelta: z.string() });
const delta = z.object({ text: z.string(), reasoning: z.string(), toolCalls: z.array(toolCallDelta) });
const usage = z.object({
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
  cachedPromptTokens: z.number().int(),
  reasoningTokens: z.number().int(),
  estimated: z.boolean(),
});

export const cachedAnswerSchema = z.object({
  servedModel: z.string(),
  modelId: z.string().nullable(),
  providerId: z.string(),
  providerModelId: z.string(),
  content: z.string().nullable(),
  reasoning: z.string().nullable(),
  toolCalls: z.array(toolCall),
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'error', 'cancelled']),
  rawFinishReason: z.string().nullable(),
  usage,
  /** What producing it cost, in pico-dollars: a hit's saving. Null when its price was unknown. */
  costPicos: z.number().int().nullable(),
  /** The deltas in the order a stream delivered them, replayed as they were; null when the answer was not streamed. */
  deltas: z.array(delta).nullable(),
});

export type CachedAnswer = z.infer<typeof cachedAnswerSchema>;
export type CachedDelta = z.infer<typeof delta>;

export function encodeAnswer(answer: CachedAnswer): string {
  return JSON.stringify(answer);
}

/** Undefined for text that is not a cached answer this build understands: such an entry is a miss, not an error. */
export function decodeAnswer(text: string): CachedAnswer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = cachedAnswerSchema.safeParse(parsed);
  return result.success ? result.data : undefined;
}

/**
 * The deltas a stream of this answer carries: the original ones when it was streamed, otherwise its reasoning, its
 * text and each tool call whole, in the order a stream would have sent them.
 */
export function replayDeltas(answer: CachedAnswer): CachedDelta[] {
  if (answer.deltas !== null) return answer.deltas;
  const deltas: CachedDelta[] = [];
  if (answer.reasoning) deltas.push({ text: '', reasoning: answer.reasoning, toolCalls: [] });
  if (answer.content) deltas.push({ text: answer.content, reasoning: '', toolCalls: [] });
  for (const [index, call] of answer.toolCalls.entries()) deltas.push({ text: '', reasoning: '', toolCalls: [{ index, id: call.id, name: call.name, argumentsDelta: call.arguments }] });
  return deltas;
}
