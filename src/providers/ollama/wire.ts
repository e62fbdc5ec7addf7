import { z } from 'zod';

/** Minimal schemas for what Ollama's native API sends back: only the fields the adapter reads. */

const messageSchema = z.object({
  content: z.string().optional(),
  thinking: z.string().optional(),
  tool_calls: z
    .array(
      z.object({
        // Newer builds send an id; older ones (and the documented transcript) do not.
        id: z.string().optional(),
        function: z.object({ name: z.string(), arguments: z.record(z.unknown()).optional() }),
      }),
    )
    .optional(),
});

/** One ChatResponse: the whole non-streamed reply, or one NDJSON line of a stream (the last has done:true). */
export const chatResponseSchema = z.object({
  model: z.string().optional(),
  created_at: z.string().optional(),
  message: messageSchema.optional(),
  done: z.boolean(),
  done_reason: z.string().optional(),
  prompt_eval_count: z.number().optional(),
  eval_count: z.number().optional(),
  /** With `logprobs: true`: each token of this reply (or line) and, with top_logprobs, its alternatives. */
  logprobs: z
    .array(z.object({ token: z.string(), logprob: z.number(), top_logprobs: z.array(z.object({ token: z.string(), logprob: z.number() })).nullish() }))
    .nullish(),
});

export type OllamaChatResponse = z.infer<typeof chatResponseSchema>;

/** Ollama's error body and mid-stream error line: a bare string. */
export const ollamaErrorSchema = z.object({ error: z.string() });

export const tagsResponseSchema = z.object({
  models: z.array(z.object({ name: z.string(), model: z.string().optional() })).optional(),
});
