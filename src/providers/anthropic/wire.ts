/** Minimal schemas for what Anthropic sends back: only the fields the adapter reads. Unknown keys pass untouched. */

import { z } from 'zod';

export const usageSchema = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  /** The writes split by lifetime; absent from older responses, whose writes are all five-minute ones. */
  cache_creation: z.object({ ephemeral_5m_input_tokens: z.number().nullish(), ephemeral_1h_input_tokens: z.number().nullish() }).nullish(),
  output_tokens_details: z.object({ thinking_tokens: z.number().nullish() }).nullish(),
});
export type AnthropicUsage = z.infer<typeof usageSchema>;

/** message_delta repeats counts cumulatively; which ones it carries depends on the API's age. */
export const deltaUsageSchema = usageSchema.partial();
export type AnthropicDeltaUsage = z.infer<typeof deltaUsageSchema>;

const KNOWN_BLOCK_TYPES = ['text', 'tool_use', 'thinking', 'redacted_thinking'];

const textBlock = z.object({ type: z.literal('text'), text: z.string() });
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() });
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() });
const redactedThinkingBlock = z.object({ type: z.literal('redacted_thinking'), data: z.string() });
/** Server tool results, redacted thinking and whatever comes next: carried along, not mapped. */
const otherBlock = z
  .object({ type: z.string().refine((type) => !KNOWN_BLOCK_TYPES.includes(type)) })
  .transform((block) => ({ type: 'other' as const, wireType: block.type }));

export const contentBlockSchema = z.union([textBlock, toolUseBlock, thinkingBlock, redactedThinkingBlock, otherBlock]);
export type AnthropicContentBlockOut = z.infer<typeof contentBlockSchema>;

export const messageSchema = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullable(),
  usage: usageSchema.optional(),
});
export type AnthropicMessageOut = z.infer<typeof messageSchema>;

/** The `error` object of an error body and of an in-band `error` event. */
export const errorObjectSchema = z.object({ type: z.string(), message: z.string().optional() });
export const errorBodySchema = z.object({ type: z.literal('error'), error: errorObjectSchema });

const deltaSchema = z.union([
  z.object({ type: z.literal('text_delta'), text: z.string() }),
  z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
  z.object({ type: z.literal('thinking_delta'), thinking: z.string() }),
  z.object({ type: z.literal('signature_delta'), signature: z.string() }),
  // citations_delta and later additions carry nothing the normalized stream has room for.
  z
    .object({ type: z.string().refine((type) => !['text_delta', 'input_json_delta', 'thinking_delta', 'signature_delta'].includes(type)) })
    .transform(() => ({ type: 'other' as const })),
]);

export const streamEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message_start'),
    message: z.object({ id: z.string().optional(), model: z.string().optional(), usage: usageSchema.optional() }),
  }),
  z.object({ type: z.literal('content_block_start'), index: z.number(), content_block: contentBlockSchema }),
  z.object({ type: z.literal('content_block_delta'), index: z.number(), delta: deltaSchema }),
  z.object({ type: z.literal('content_block_stop'), index: z.number() }),
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: z.string().nullish() }),
    usage: deltaUsageSchema.nullish(),
  }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('error'), error: errorObjectSchema }),
]);
export type AnthropicStreamEvent = z.infer<typeof streamEventSchema>;

export const STREAM_EVENT_TYPES: ReadonlySet<string> = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
  'ping',
  'error',
]);

export const modelsPageSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      display_name: z.string().nullish(),
      max_input_tokens: z.number().nullish(),
      max_tokens: z.number().nullish(),
    }),
  ),
  has_more: z.boolean().optional(),
  last_id: z.string().nullish(),
});
