/**
 * Minimal schemas for the Chat Completions wire data we read: only the fields used, each lenient enough for
 * every compatible server (Mistral's content arrays, DeepSeek's reasoning_content and cache counts, Groq's
 * x_groq, OpenRouter's numeric error codes, self-hosted servers that leave fields out).
 */
import { z } from 'zod';

const count = z.number().nullish();

export const wireUsageSchema = z.object({
  prompt_tokens: count,
  completion_tokens: count,
  prompt_tokens_details: z.object({ cached_tokens: count }).nullish(),
  completion_tokens_details: z.object({ reasoning_tokens: count }).nullish(),
  /** DeepSeek's cache hits, a subset of prompt_tokens. */
  prompt_cache_hit_tokens: count,
});
export type WireUsage = z.infer<typeof wireUsageSchema>;

export const wireErrorSchema = z.object({
  message: z.string().nullish(),
  type: z.string().nullish(),
  code: z.union([z.string(), z.number()]).nullish(),
});
export type WireError = z.infer<typeof wireErrorSchema>;

/** Some servers put a bare string where OpenAI puts the error object. */
const inBandErrorSchema = z.union([z.string(), wireErrorSchema]).nullish();

/** Mistral reasoning models send content as an array of text and thinking chunks. */
const contentChunkSchema = z.object({
  type: z.string(),
  text: z.string().nullish(),
  thinking: z.array(z.object({ text: z.string().nullish() })).nullish(),
});
export const wireContentSchema = z.union([z.string(), z.array(contentChunkSchema)]).nullish();
export type WireContent = z.infer<typeof wireContentSchema>;

/** Reasoning text: `reasoning_content` (DeepSeek, vLLM, llama.cpp) or `reasoning` (Groq, OpenRouter, Ollama, Together). */
const reasoningFields = {
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
};

const topLogprobSchema = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number()).nullish() });
/** A choice's `logprobs`: the content tokens (refusal tokens are not read). */
export const wireLogprobsSchema = z.object({ content: z.array(topLogprobSchema.extend({ top_logprobs: z.array(topLogprobSchema).nullish() })).nullish() }).nullish();
export type WireLogprobs = z.infer<typeof wireLogprobsSchema>;

const argumentsSchema = z.union([z.string(), z.record(z.unknown())]);

const messageToolCallSchema = z.object({
  id: z.string().nullish(),
  function: z.object({ name: z.string(), arguments: argumentsSchema.nullish() }),
});

export const chatCompletionSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: wireContentSchema,
          ...reasoningFields,
          refusal: z.string().nullish(),
          tool_calls: z.array(messageToolCallSchema).nullish(),
        }),
        finish_reason: z.string().nullish(),
        index: z.number().nullish(),
        logprobs: wireLogprobsSchema,
      }),
    )
    .min(1),
  service_tier: z.string().nullish(),
  usage: wireUsageSchema.nullish(),
  x_groq: z.object({ usage: wireUsageSchema.nullish() }).nullish(),
});

/** A 200 body that is an error instead of a completion (OpenRouter, once generation had begun). */
export const errorEnvelopeSchema = z.object({ error: z.union([z.string(), wireErrorSchema]) });

const deltaToolCallSchema = z.object({
  /** Absent or null on Mistral, which sends each call whole and is keyed by id. */
  index: z.number().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: argumentsSchema.nullish() }).nullish(),
});
export type WireDeltaToolCall = z.infer<typeof deltaToolCallSchema>;

export const chatChunkSchema = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: wireContentSchema,
            ...reasoningFields,
            refusal: z.string().nullish(),
            tool_calls: z.array(deltaToolCallSchema).nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
        index: z.number().nullish(),
        logprobs: wireLogprobsSchema,
      }),
    )
    .nullish(),
  usage: wireUsageSchema.nullish(),
  service_tier: z.string().nullish(),
  /** Groq streams usage and failures here instead of at the top level. */
  x_groq: z.object({ usage: wireUsageSchema.nullish(), error: z.string().nullish() }).nullish(),
  error: inBandErrorSchema,
});
export type ChatChunk = z.infer<typeof chatChunkSchema>;

const modelSchema = z.object({
  id: z.string(),
  name: z.string().nullish(),
  display_name: z.string().nullish(),
  /** The context window goes by a different name on nearly every server. */
  context_length: count,
  context_window: count,
  max_context_length: count,
  max_model_len: count,
  max_completion_tokens: count,
  top_provider: z.object({ max_completion_tokens: count }).nullish(),
});
/** OpenAI wraps the list in `data`; Together returns a bare array. */
export const modelListSchema = z.union([z.object({ data: z.array(modelSchema) }), z.array(modelSchema)]);
