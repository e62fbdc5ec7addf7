import { builder } from '../builder.js';
import { usageDimensions, type UsageBucket } from '../db/usage.js';
import { ledgerScope, scopedKeyFilter } from '../usage/access.js';
import { ModelRef } from './models.js';
import { ProviderRef } from './providers.js';

const PICOS_PER_DOLLAR = 1_000_000_000_000n;

/** Splitting off whole dollars first keeps nano-dollar precision in sums far beyond 2^53 pico-dollars. */
function bigPicosToUsd(picos: bigint): number {
  return Number(picos / PICOS_PER_DOLLAR) + Number(picos % PICOS_PER_DOLLAR) / Number(PICOS_PER_DOLLAR);
}

const UsageDimensionEnum = builder.enumType('UsageDimension', {
  description: 'What usage buckets are grouped by. DAY and HOUR are UTC; MINUTE is for short windows such as the last hour; USER is the end user the caller named (`user`).',
  values: usageDimensions,
});

const UsageFilterInput = builder.inputType('UsageFilter', {
  fields: (t) => ({
    model: t.string({ description: 'Catalog model id' }),
    provider: t.id({ description: 'A provider id' }),
    apiKeyId: t.string({ description: 'The gateway key that made the requests' }),
    user: t.string({ description: 'The end user the caller named (`user`)' }),
    from: t.field({ type: 'DateTime', description: 'Inclusive' }),
    to: t.field({ type: 'DateTime', description: 'Exclusive' }),
  }),
});

const UsageBucketKeyRef = builder.objectRef<UsageBucket>('UsageBucketKey').implement({
  description: 'What a bucket groups by; the dimensions not grouped by are null',
  fields: (t) => ({
    modelId: t.string({ nullable: true, description: 'Null also for models addressed directly that the catalog does not list', resolve: (bucket) => bucket.modelId }),
    model: t.field({ type: ModelRef, nullable: true, resolve: async (bucket, _args, context) => (bucket.modelId ? ((await context.loaders.model.load(bucket.modelId)) ?? null) : null) }),
    providerId: t.string({ nullable: true, resolve: (bucket) => bucket.providerId }),
    provider: t.field({ type: ProviderRef, nullable: true, resolve: async (bucket, _args, context) => (bucket.providerId ? ((await context.loaders.provider.load(bucket.providerId)) ?? null) : null) }),
    apiKeyId: t.string({ nullable: true, description: 'Null also for requests made with the admin key or in open local mode', resolve: (bucket) => bucket.apiKeyId }),
    user: t.string({ nullable: true, description: 'The end user (grouped by USER); null also for requests that named none', resolve: (bucket) => bucket.user }),
    day: t.field({ type: 'DateTime', nullable: true, description: 'Start of the UTC day', resolve: (bucket) => bucket.day }),
    hour: t.field({ type: 'DateTime', nullable: true, description: 'Start of the UTC hour', resolve: (bucket) => bucket.hour }),
    minute: t.field({ type: 'DateTime', nullable: true, description: 'Start of the minute', resolve: (bucket) => bucket.minute }),
  }),
});

const UsageBucketRef = builder.objectRef<UsageBucket>('UsageBucket').implement({
  description: 'Finished generations of one group (in-flight ones count once they finish). Counts and token sums are SafeInt: a month of traffic can pass the 2^31 of an Int.',
  fields: (t) => ({
    key: t.field({ type: UsageBucketKeyRef, resolve: (bucket) => bucket }),
    requests: t.field({ type: 'SafeInt', resolve: (bucket) => bucket.requests }),
    errors: t.field({ type: 'SafeInt', description: 'FAILED and INTERRUPTED generations; cancellations are not errors', resolve: (bucket) => bucket.errors }),
    cancellations: t.field({ type: 'SafeInt', resolve: (bucket) => bucket.cancellations }),
    promptTokens: t.field({ type: 'SafeInt', resolve: (bucket) => bucket.promptTokens }),
    completionTokens: t.field({ type: 'SafeInt', resolve: (bucket) => bucket.completionTokens }),
    cachedPromptTokens: t.field({ type: 'SafeInt', description: 'Prompt tokens read from a provider’s cache (part of promptTokens)', resolve: (bucket) => bucket.cachedPromptTokens }),
    cacheWriteTokens: t.field({
      type: 'SafeInt',
      description: 'Prompt tokens written to a provider’s cache, at any lifetime (part of promptTokens)',
      resolve: (bucket) => bucket.cacheWrite5mTokens + bucket.cacheWrite1hTokens,
    }),
    cacheWrite1hTokens: t.field({ type: 'SafeInt', description: 'The part of cacheWriteTokens written for one hour', resolve: (bucket) => bucket.cacheWrite1hTokens }),
    cacheSavingUsd: t.float({
      description: 'What prompt caching saved against the same prompts at the plain prompt price: reads’ discount less writes’ surcharge (negative when writes were not read back). Priced generations only',
      resolve: (bucket) => bigPicosToUsd(bucket.cacheSavingPicos),
    }),
    reasoningTokens: t.field({ type: 'SafeInt', resolve: (bucket) => bucket.reasoningTokens }),
    costUsd: t.float({ description: 'Exact sum of the priced generations’ costs', resolve: (bucket) => bigPicosToUsd(bucket.costPicos) }),
    costKnown: t.boolean({ description: 'False when some generations had no known price (see unpricedRequests)', resolve: (bucket) => bucket.unpricedRequests === 0 }),
    unpricedRequests: t.field({ type: 'SafeInt', description: 'Generations whose price was unknown, left out of costUsd', resolve: (bucket) => bucket.unpricedRequests }),
    latencyP50Ms: t.int({ nullable: true, description: 'Median latency, interpolated between the closest ranks', resolve: (bucket) => bucket.latencyP50Ms }),
    latencyP95Ms: t.int({ nullable: true, description: '95th percentile latency, interpolated between the closest ranks', resolve: (bucket) => bucket.latencyP95Ms }),
  }),
});

builder.queryFields((t) => ({
  usage: t.field({
    type: [UsageBucketRef],
    authScopes: { read: true },
    description: 'Usage of finished generations, grouped by the given dimensions (none: one bucket of everything); time buckets ascending',
    args: {
      filter: t.arg({ type: UsageFilterInput }),
      groupBy: t.arg({ type: [UsageDimensionEnum] }),
    },
    resolve: (_root, args, context) => {
      const apiKeyId = scopedKeyFilter(ledgerScope(context.viewer), args.filter?.apiKeyId ?? undefined);
      return context.services.storage.ledger.queryUsage(
        {
          ...(args.filter?.model ? { modelId: args.filter.model } : {}),
          ...(args.filter?.provider ? { providerId: args.filter.provider } : {}),
          ...(apiKeyId !== undefined ? { apiKeyId } : {}),
          ...(args.filter?.user != null ? { user: args.filter.user } : {}),
          ...(args.filter?.from ? { from: args.filter.from.getTime() } : {}),
          ...(args.filter?.to ? { to: args.filter.to.getTime() } : {}),
        },
        args.groupBy ?? [],
      );
    },
  }),
}));
