import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { picosToUsd } from '../money.js';
import { generationUsage, type GenerationFilter as GenerationListFilter } from '../db/generations.js';
import { generationStatuses, type AttemptRecord, type GenerationRow } from '../db/schema.js';
import { canSee, ledgerErrorMessage, ledgerScope, scopedKeyFilter } from '../usage/access.js';
import { FinishReasonEnum, UsageRef } from './completions.js';
import { ErrorCodeEnum, toErrorCode } from './error-codes.js';
import { readRequestSummary, RequestSummaryRef } from './request-summary.js';
import { ModelRef, PricingRef } from './models.js';
import { ProviderRef } from './providers.js';

const GenerationStatusEnum = builder.enumType('GenerationStatus', { values: generationStatuses });

const AttemptStatusEnum = builder.enumType('AttemptStatus', {
  values: {
    SUCCEEDED: { description: 'The attempt answered' },
    FAILED: { description: 'The provider failed, refused or timed out; see errorCode' },
    CANCELLED: { description: 'Aborted: the caller went away (errorCode CANCELLED) or another hedged attempt won (HEDGE_LOST)' },
  } satisfies Record<AttemptRecord['status'], { description: string }>,
});

const AttemptRef = builder.objectRef<AttemptRecord>('Attempt').implement({
  description: 'One call to one provider endpoint while serving a generation',
  fields: (t) => ({
    provider: t.field({
      type: ProviderRef,
      nullable: true,
      description: 'Null only when the provider has since left the catalog; providerId still names it',
      resolve: async (attempt, _args, context) => (await context.loaders.provider.load(attempt.providerId)) ?? null,
    }),
    providerId: t.exposeString('providerId'),
    providerModelId: t.exposeString('providerModelId'),
    status: t.field({ type: AttemptStatusEnum, resolve: (attempt) => attempt.status }),
    errorCode: t.field({ type: ErrorCodeEnum, nullable: true, resolve: (attempt) => toErrorCode(attempt.errorCode) }),
    errorMessage: t.string({
      nullable: true,
      description: 'The upstream’s own words for admins; other keys read a generic message for provider failures',
      resolve: (attempt, _args, context) => ledgerErrorMessage(context.viewer, attempt),
    }),
    httpStatus: t.int({ nullable: true, description: 'The upstream HTTP status of a failed attempt', resolve: (attempt) => attempt.httpStatus ?? null }),
    latencyMs: t.exposeInt('latencyMs'),
    timeToFirstTokenMs: t.int({ nullable: true, resolve: (attempt) => attempt.timeToFirstTokenMs ?? null }),
    startedAfterMs: t.int({ nullable: true, description: 'When the attempt started, after the request did', resolve: (attempt) => attempt.startedAfterMs ?? null }),
    retry: t.int({ description: "0 for an endpoint's first try, then 1, 2… for its retries", resolve: (attempt) => attempt.retry ?? 0 }),
    hedged: t.boolean({ description: 'Started as a hedge while an earlier attempt waited for its first token', resolve: (attempt) => attempt.hedged ?? false }),
    costUsd: t.float({
      nullable: true,
      description: 'What this attempt cost, when its provider reported usage (a losing hedge may have)',
      resolve: (attempt) => (attempt.costPicos === undefined ? null : picosToUsd(attempt.costPicos)),
    }),
  }),
});

export const GenerationRef = builder.objectRef<GenerationRow>('Generation').implement({
  description: 'One recorded request',
  fields: (t) => ({
    id: t.exposeID('id'),
    requestId: t.string({ nullable: true, resolve: (row) => row.requestId }),
    apiKeyId: t.string({ nullable: true, description: 'The gateway key that made the request; null for the admin key and open local mode', resolve: (row) => row.apiKeyId }),
    user: t.string({ nullable: true, description: 'The end user the caller named (OpenAI’s `user`, CompletionInput.user, Anthropic’s metadata.user_id); null when none', resolve: (row) => row.endUser }),
    requestedModel: t.exposeString('requestedModel', { description: 'The model asked for, as the caller wrote it (an alias stays an alias); `model` is the one that served' }),
    model: t.field({ type: ModelRef, nullable: true, description: 'The model that served (after a fallback, the fallback model); null when it is not in the catalog', resolve: async (row, _args, context) => (row.modelId ? ((await context.loaders.model.load(row.modelId)) ?? null) : null) }),
    provider: t.field({ type: ProviderRef, nullable: true, resolve: async (row, _args, context) => (row.providerId ? ((await context.loaders.provider.load(row.providerId)) ?? null) : null) }),
    providerModelId: t.string({ nullable: true, resolve: (row) => row.providerModelId }),
    status: t.field({ type: GenerationStatusEnum, resolve: (row) => row.status }),
    finishReason: t.field({
      type: FinishReasonEnum,
      nullable: true,
      resolve: (row) => {
        const reason = row.finishReason;
        return reason === 'stop' || reason === 'length' || reason === 'tool_calls' || reason === 'content_filter' || reason === 'error' || reason === 'cancelled' ? reason : null;
      },
    }),
    rawFinishReason: t.string({ nullable: true, resolve: (row) => row.rawFinishReason }),
    usage: t.field({
      type: UsageRef,
      resolve: (row) => generationUsage(row),
    }),
    pricing: t.field({
      type: PricingRef,
      description: 'The prices in force when it ran, which its cost was computed from',
      resolve: (row) => ({ promptPriceMicros: row.promptPriceMicros, completionPriceMicros: row.completionPriceMicros, cachedPromptPriceMicros: row.cachedPromptPriceMicros, cacheWritePriceMicros: row.cacheWritePriceMicros }),
    }),
    latencyMs: t.int({ nullable: true, resolve: (row) => row.latencyMs }),
    timeToFirstTokenMs: t.int({ nullable: true, resolve: (row) => row.timeToFirstTokenMs }),
    streamed: t.exposeBoolean('streamed'),
    errorCode: t.field({ type: ErrorCodeEnum, nullable: true, resolve: (row) => toErrorCode(row.errorCode) }),
    errorMessage: t.string({
      nullable: true,
      description: 'The upstream’s own words for admins; other keys read a generic message for provider failures',
      resolve: (row, _args, context) => ledgerErrorMessage(context.viewer, { ...row, httpStatus: row.attempts?.findLast((attempt) => attempt.status === 'FAILED')?.httpStatus }),
    }),
    warnings: t.stringList({ resolve: (row) => row.warnings ?? [] }),
    attempts: t.field({ type: [AttemptRef], resolve: (row) => row.attempts ?? [] }),
    requestSummary: t.field({
      type: RequestSummaryRef,
      nullable: true,
      description: 'What was asked, without the prompt text: message and image counts, tools, parameters, response format, fallback models',
      resolve: (row) => (row.requestSummary ? readRequestSummary(row.requestSummary) : null),
    }),
    metadata: t.field({ type: 'JSON', nullable: true, resolve: (row) => row.metadata }),
    cacheHit: t.exposeBoolean('cacheHit', { description: 'Answered from the response cache: no provider was called and it cost nothing' }),
    savedUsd: t.float({
      nullable: true,
      description: 'On a cache hit, what the cached answer cost when a provider produced it; null otherwise, or when its price was unknown',
      resolve: (row) => (row.savedPicos === null ? null : picosToUsd(row.savedPicos)),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (row) => row.createdAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (row) => row.finishedAt }),
  }),
});

const GenerationFilterInput = builder.inputType('GenerationFilter', {
  fields: (t) => ({
    apiKeyId: t.string({ description: 'The gateway key that made the requests' }),
    model: t.string({ description: 'Catalog model id' }),
    provider: t.id({ description: 'A provider id' }),
    status: t.field({ type: GenerationStatusEnum }),
    user: t.string({ description: 'The end user the caller named' }),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  generation: t.field({
    type: GenerationRef,
    nullable: true,
    // READ (or ADMIN) reads the ledger; ledgerScope then narrows a key to its own rows.
    authScopes: { read: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const scope = ledgerScope(context.viewer);
      const row = await context.services.storage.ledger.findGeneration(String(args.id));
      // Another key's generation reads as absent rather than forbidden, so ids cannot be probed.
      return row && canSee(scope, row) ? row : null;
    },
  }),
  generations: t.connection({
    type: GenerationRef,
    authScopes: { read: true },
    description: 'Recorded requests, newest first',
    args: { filter: t.arg({ type: GenerationFilterInput }) },
    resolve: async (_root, args, context) => {
      const apiKeyId = scopedKeyFilter(ledgerScope(context.viewer), args.filter?.apiKeyId ?? undefined);
      const filter: GenerationListFilter = {
        ...(apiKeyId !== undefined ? { apiKeyId } : {}),
        ...(args.filter?.model ? { modelId: args.filter.model } : {}),
        ...(args.filter?.provider ? { providerId: args.filter.provider } : {}),
        ...(args.filter?.status ? { status: args.filter.status } : {}),
        ...(args.filter?.user != null ? { user: args.filter.user } : {}),
        ...(args.filter?.from ? { from: args.filter.from.getTime() } : {}),
        ...(args.filter?.to ? { to: args.filter.to.getTime() } : {}),
      };
      const connection = await resolveCursorConnection({ args, toCursor: (row: GenerationRow) => row.id, defaultSize: 50, maxSize: 500 }, ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) =>
        context.services.storage.ledger.listGenerations(filter, { limit, oldestFirst: inverted, ...(after ? { olderThan: after } : {}), ...(before ? { newerThan: before } : {}) }),
      );
      return { ...connection, totalCount: () => context.services.storage.ledger.countGenerations(filter) };
    },
  }, {
    name: 'GenerationConnection',
    fields: (t) => ({
      // SafeInt: the ledger only grows (until retention), and can pass the 2^31 an Int holds.
      totalCount: t.field({ type: 'SafeInt', description: 'Generations matching the filter, across all pages', resolve: (connection) => connection.totalCount() }),
    }),
  }, { name: 'GenerationEdge' }),
}));

builder.subscriptionFields((t) => ({
  usageEvents: t.field({
    type: GenerationRef,
    authScopes: { read: true },
    description:
      'Every generation as it is recorded (finished, failed, cancelled or interrupted), in commit order. Admin: all of them; a key: its own. ' +
      'A subscriber that falls too far behind is closed with an error rather than silently missing events.',
    subscribe: (_root, _args, context) => {
      const scope = ledgerScope(context.viewer);
      return context.services.recorder.finished.subscribe(scope.kind === 'all' ? {} : { filter: (row) => canSee(scope, row) });
    },
    resolve: (row: GenerationRow) => row,
  }),
}));
