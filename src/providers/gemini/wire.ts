import { z } from 'zod';

/** Minimal schemas for what Gemini sends back: only the fields the adapter reads. */

const partSchema = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  functionCall: z
    .object({
      id: z.string().optional(),
      name: z.string(),
      args: z.record(z.unknown()).optional(),
    })
    .optional(),
});

const logprobsCandidateSchema = z.object({ token: z.string().optional(), logProbability: z.number().optional() });

/** Per decoding step: the chosen token and the most likely ones (responseLogprobs). */
export const logprobsResultSchema = z.object({
  chosenCandidates: z.array(logprobsCandidateSchema).optional(),
  topCandidates: z.array(z.object({ candidates: z.array(logprobsCandidateSchema).optional() })).optional(),
});
export type GeminiLogprobsResult = z.infer<typeof logprobsResultSchema>;

const candidateSchema = z.object({
  content: z.object({ parts: z.array(partSchema).optional() }).optional(),
  finishReason: z.string().optional(),
  /** Which of candidateCount's candidates this is; absent on the first (proto3 leaves zeros out). */
  index: z.number().optional(),
  logprobsResult: logprobsResultSchema.optional(),
});

export const usageMetadataSchema = z.object({
  promptTokenCount: z.number().optional(),
  candidatesTokenCount: z.number().optional(),
  cachedContentTokenCount: z.number().optional(),
  thoughtsTokenCount: z.number().optional(),
});

/** One GenerateContentResponse: a whole reply, or one fragment of a stream carrying only the new parts. */
export const generateContentResponseSchema = z.object({
  candidates: z.array(candidateSchema).optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  usageMetadata: usageMetadataSchema.optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});

export type GenerateContentResponse = z.infer<typeof generateContentResponseSchema>;
export type GeminiUsageMetadata = z.infer<typeof usageMetadataSchema>;

/** Google's error envelope, as an HTTP error body and as an in-stream event. */
export const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    details: z
      .array(
        z.object({
          '@type': z.string().optional(),
          reason: z.string().optional(),
          retryDelay: z.string().optional(),
        }),
      )
      .optional(),
  }),
});

export type GoogleError = z.infer<typeof googleErrorSchema>['error'];

export const listModelsResponseSchema = z.object({
  models: z
    .array(
      z.object({
        name: z.string(),
        displayName: z.string().optional(),
        inputTokenLimit: z.number().optional(),
        outputTokenLimit: z.number().optional(),
        supportedGenerationMethods: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  nextPageToken: z.string().optional(),
});
