import { z } from 'zod';
import { builder } from '../builder.js';
import { ResponseFormatTypeEnum, ToolChoiceModeEnum } from './completions.js';

type ToolChoiceMode = 'AUTO' | 'NONE' | 'REQUIRED';
type ResponseFormatType = 'TEXT' | 'JSON_OBJECT' | 'JSON_SCHEMA';

/** What Generation.requestSummary shows: the stored summary (completions/summary.ts), read into our own shape. */
export interface RequestSummary {
  messages: number | null;
  images: number | null;
  fallbackModels: string[] | null;
  tools: string[] | null;
  toolChoice: { mode: ToolChoiceMode; tool: string | null } | null;
  responseFormat: ResponseFormatType | null;
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  seed: number | null;
  stopSequences: number | null;
  /** Set only on an embedding's row (embedding-service.ts writes `operation: 'embedding'`). */
  embeddingInputs: number | null;
  dimensions: number | null;
  choices: number | null;
  reasoningEffort: string | null;
  serviceTier: string | null;
}

/**
 * The stored summary is JSON written by summarizeRequest, possibly by an older version: each field is read on its
 * own, and one that is missing or malformed is null instead of failing the generation it belongs to.
 */
const lenient = <T extends z.ZodTypeAny>(schema: T) => schema.nullable().optional().catch(null);
const storedSummary = z.object({
  messages: lenient(z.number().int()),
  images: lenient(z.number().int()),
  fallbackModels: lenient(z.array(z.string())),
  tools: lenient(z.array(z.string())),
  toolChoice: lenient(z.string()),
  responseFormat: lenient(z.enum(['text', 'json_object', 'json_schema'])),
  maxTokens: lenient(z.number().int()),
  temperature: lenient(z.number()),
  topP: lenient(z.number()),
  seed: lenient(z.number().int()),
  stop: lenient(z.number().int()),
  operation: lenient(z.string()),
  inputs: lenient(z.number().int()),
  dimensions: lenient(z.number().int()),
  n: lenient(z.number().int()),
  reasoningEffort: lenient(z.string()),
  serviceTier: lenient(z.string()),
});

const RESPONSE_FORMATS = { text: 'TEXT', json_object: 'JSON_OBJECT', json_schema: 'JSON_SCHEMA' } as const;

/** summarizeRequest writes `auto`, `none`, `required` or the forced tool's name. */
function readToolChoice(value: string): RequestSummary['toolChoice'] {
  if (value === 'auto' || value === 'none' || value === 'required') return { mode: value === 'auto' ? 'AUTO' : value === 'none' ? 'NONE' : 'REQUIRED', tool: null };
  return { mode: 'REQUIRED', tool: value };
}

export function readRequestSummary(stored: Record<string, unknown>): RequestSummary {
  const parsed = storedSummary.safeParse(stored);
  const summary = parsed.success ? parsed.data : {};
  return {
    messages: summary.messages ?? null,
    images: summary.images ?? null,
    fallbackModels: summary.fallbackModels ?? null,
    tools: summary.tools ?? null,
    toolChoice: summary.toolChoice ? readToolChoice(summary.toolChoice) : null,
    responseFormat: summary.responseFormat ? RESPONSE_FORMATS[summary.responseFormat] : null,
    maxTokens: summary.maxTokens ?? null,
    temperature: summary.temperature ?? null,
    topP: summary.topP ?? null,
    seed: summary.seed ?? null,
    stopSequences: summary.stop ?? null,
    embeddingInputs: summary.operation === 'embedding' ? (summary.inputs ?? null) : null,
    dimensions: summary.dimensions ?? null,
    choices: summary.n ?? null,
    reasoningEffort: summary.reasoningEffort ?? null,
    serviceTier: summary.serviceTier ?? null,
  };
}

const ToolChoiceRef = builder.objectRef<NonNullable<RequestSummary['toolChoice']>>('ToolChoice').implement({
  description: 'Whether and which tool the request made the model call',
  fields: (t) => ({
    mode: t.field({ type: ToolChoiceModeEnum, resolve: (choice) => choice.mode }),
    tool: t.string({ nullable: true, description: 'The tool the model had to call (mode REQUIRED)', resolve: (choice) => choice.tool }),
  }),
});

export const RequestSummaryRef = builder.objectRef<RequestSummary>('RequestSummary').implement({
  description: 'What a request asked for, without its text (which is the caller’s business): enough to tell why two requests to one model cost differently. A field the request did not set is null.',
  fields: (t) => ({
    messages: t.int({ nullable: true, description: 'Messages sent', resolve: (summary) => summary.messages }),
    images: t.int({ nullable: true, description: 'Image parts in user messages', resolve: (summary) => summary.images }),
    fallbackModels: t.stringList({ nullable: true, description: 'The `models` fallbacks, as asked', resolve: (summary) => summary.fallbackModels }),
    tools: t.stringList({ nullable: true, description: 'The names of the tools offered', resolve: (summary) => summary.tools }),
    toolChoice: t.field({ type: ToolChoiceRef, nullable: true, resolve: (summary) => summary.toolChoice }),
    responseFormat: t.field({ type: ResponseFormatTypeEnum, nullable: true, resolve: (summary) => summary.responseFormat }),
    maxTokens: t.int({ nullable: true, resolve: (summary) => summary.maxTokens }),
    temperature: t.float({ nullable: true, resolve: (summary) => summary.temperature }),
    topP: t.float({ nullable: true, resolve: (summary) => summary.topP }),
    seed: t.int({ nullable: true, resolve: (summary) => summary.seed }),
    stopSequences: t.int({ nullable: true, description: 'How many stop sequences were given', resolve: (summary) => summary.stopSequences }),
    embeddingInputs: t.int({ nullable: true, description: 'For an embedding (createEmbedding, /v1/embeddings): how many inputs were embedded; null for a completion', resolve: (summary) => summary.embeddingInputs }),
    dimensions: t.int({ nullable: true, description: 'For an embedding: the vector length asked for', resolve: (summary) => summary.dimensions }),
    choices: t.int({ nullable: true, description: 'The `n` asked for (choices to generate)', resolve: (summary) => summary.choices }),
    reasoningEffort: t.string({ nullable: true, description: 'The reasoning effort asked for (none, minimal, low, medium, high)', resolve: (summary) => summary.reasoningEffort }),
    serviceTier: t.string({ nullable: true, description: 'The service tier asked for', resolve: (summary) => summary.serviceTier }),
  }),
});
