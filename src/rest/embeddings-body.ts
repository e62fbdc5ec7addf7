import { z, type ZodIssue } from 'zod';
import type { EmbeddingResult, EmbeddingServiceInput } from '../completions/embedding-types.js';
import { BadRequestError, fieldPathText } from '../errors.js';
import type { EmbeddingInput } from '../providers/embeddings.js';
import { mostSpecific } from './zod-issues.js';

const tokenIds = z.array(z.number().int().nonnegative());

/** OpenAI's POST /v1/embeddings body (what `embeddings.create` sends); unknown fields are ignored, as OpenAI's SDKs add some. */
const embeddingRequestSchema = z.object({
  model: z.string().min(1),
  // A string, a list of strings, one list of token ids, or a list of them, as OpenAI takes them.
  input: z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)]),
  dimensions: z.number().int().positive().nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.unknown()).nullish(),
});

export interface ParsedEmbeddingRequest {
  input: EmbeddingServiceInput;
  encoding: 'float' | 'base64';
}

function invalid(issue: ZodIssue): BadRequestError {
  const specific = mostSpecific(issue);
  const param = fieldPathText(specific.path);
  return new BadRequestError(param === '' ? `Invalid request body: ${specific.message}` : `Invalid value for '${param}': ${specific.message}`, specific.path);
}

function inputsOf(input: z.infer<typeof embeddingRequestSchema>['input']): EmbeddingInput[] {
  if (typeof input === 'string') return [{ type: 'text', text: input }];
  // An empty list is neither texts nor tokens; the service refuses it by name.
  if (input.length === 0) return [];
  const [first] = input;
  if (typeof first === 'string') return (input as string[]).map((text) => ({ type: 'text', text }));
  if (typeof first === 'number') return [{ type: 'tokens', tokens: input as number[] }];
  return (input as number[][]).map((tokens) => ({ type: 'tokens', tokens }));
}

export function parseEmbeddingRequest(raw: unknown): ParsedEmbeddingRequest {
  const parsed = embeddingRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw issue ? invalid(issue) : new BadRequestError('Invalid request body');
  }
  const body = parsed.data;
  const input: EmbeddingServiceInput = { model: body.model, input: inputsOf(body.input) };
  if (body.dimensions != null) input.dimensions = body.dimensions;
  if (body.user != null) input.user = body.user;
  if (body.metadata != null) input.metadata = body.metadata;
  return { input, encoding: body.encoding_format ?? 'float' };
}

/** A vector as OpenAI sends `encoding_format: base64`: its float32 values, little-endian, base64-encoded. */
export function base64Vector(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

/** OpenAI's CreateEmbeddingResponse. */
export function embeddingListBody(result: EmbeddingResult, encoding: 'float' | 'base64'): string {
  return JSON.stringify({
    object: 'list',
    data: result.embeddings.map((vector, index) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? base64Vector(vector) : vector })),
    model: result.servedModel,
    usage: { prompt_tokens: result.usage.promptTokens, total_tokens: result.usage.totalTokens },
  });
}
