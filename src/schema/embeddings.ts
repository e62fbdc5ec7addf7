import { builder } from '../builder.js';
import type { EmbeddingResult, EmbeddingServiceInput } from '../completions/embedding-types.js';
import type { PricedUsage } from '../completions/types.js';
import { BadRequestError } from '../errors.js';
import { callerOf, UsageRef } from './completions.js';
import { ModelRef } from './models.js';
import { ProviderRef } from './providers.js';

const CreateEmbeddingInputRef = builder.inputType('CreateEmbeddingInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: 'An embedding model: a catalog id, an alias, or `<provider>/<provider model id>`' }),
    input: t.stringList({ required: true, description: 'The texts to embed; one vector each, in this order' }),
    dimensions: t.int({ description: 'Shorten each vector to this many numbers, where the model can (OpenAI v3, Gemini, local/embed)' }),
    user: t.string({ description: 'Your end user’s id, forwarded to providers that accept one' }),
    metadata: t.field({ type: 'JSON', description: 'Your own data, kept on the generation' }),
  }),
});

type CreateEmbeddingArgs = { model: string; input: string[]; dimensions?: number | null; user?: string | null; metadata?: unknown };

function toEmbeddingInput(args: CreateEmbeddingArgs): EmbeddingServiceInput {
  const input: EmbeddingServiceInput = { model: args.model, input: args.input.map((text) => ({ type: 'text', text })) };
  if (args.dimensions != null) input.dimensions = args.dimensions;
  if (args.user != null) input.user = args.user;
  if (args.metadata != null) {
    if (typeof args.metadata !== 'object' || Array.isArray(args.metadata)) throw new BadRequestError('metadata must be a JSON object', 'metadata');
    input.metadata = args.metadata as Record<string, unknown>;
  }
  return input;
}

/** The Usage type completions show, for an embedding: prompt tokens only. */
function asUsage(result: EmbeddingResult): PricedUsage {
  const { promptTokens, totalTokens, estimated, costPicos } = result.usage;
  return { promptTokens, completionTokens: 0, totalTokens, cachedPromptTokens: 0, reasoningTokens: 0, estimated, costPicos };
}

const EmbeddingVectorRef = builder.objectRef<{ index: number; values: number[] }>('EmbeddingVector').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'The position of its input' }),
    values: t.exposeFloatList('values'),
  }),
});

const EmbeddingRef = builder.objectRef<EmbeddingResult>('Embedding').implement({
  description: 'Vectors for the inputs of createEmbedding, and what they cost',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The generation id, for generation(id)' }),
    servedModel: t.exposeString('servedModel', { description: 'The id of the model that served (after a fallback, the fallback model)' }),
    model: t.field({ type: ModelRef, nullable: true, description: 'The catalog entry of the model that served; null for a model addressed directly that the catalog does not list', resolve: (result) => result.model }),
    provider: t.field({
      type: ProviderRef,
      resolve: async (result, _args, context) => {
        const provider = await context.loaders.provider.load(result.providerId);
        if (!provider) throw new Error(`provider ${result.providerId} is missing from the catalog`);
        return provider;
      },
    }),
    providerModelId: t.exposeString('providerModelId'),
    vectors: t.field({ type: [EmbeddingVectorRef], description: 'One vector per input, in the order of the inputs', resolve: (result) => result.embeddings.map((values, index) => ({ index, values })) }),
    dimensions: t.int({ description: 'The length of each vector', resolve: (result) => result.embeddings[0]?.length ?? 0 }),
    usage: t.field({ type: UsageRef, description: 'Prompt tokens and their exact cost; an embedding has no completion tokens', resolve: asUsage }),
    latencyMs: t.exposeInt('latencyMs'),
    warnings: t.exposeStringList('warnings', { description: 'Request settings the provider could not honour' }),
  }),
});

builder.mutationFields((t) => ({
  createEmbedding: t.field({
    type: EmbeddingRef,
    authScopes: { completions: true },
    description: 'Embeds texts with an embedding model (the catalog’s models whose output is EMBEDDING); recorded in the ledger like a completion',
    args: { input: t.arg({ type: CreateEmbeddingInputRef, required: true }) },
    resolve: (_root, args, context) => context.services.embeddings.embed(toEmbeddingInput(args.input), callerOf(context), context.signal),
  }),
}));
