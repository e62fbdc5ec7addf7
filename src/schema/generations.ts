import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { findGeneration, listGenerations } from '../db/generations.js';
import { generationStatuses, type AttemptRecord, type GenerationRow } from '../db/schema.js';
import { FinishReasonEnum, UsageRef } from './completions.js';
import { ModelRef } from './models.js';
import { ProviderRef } from './providers.js';

const GenerationStatusEnum = builder.enumType('GenerationStatus', { values: generationStatuses });

const AttemptRef = builder.objectRef<AttemptRecord>('Attempt').implement({
  description: 'One call to one provider endpoint while serving a generation',
  fields: (t) => ({
    provider: t.exposeString('providerId'),
    providerModelId: t.exposeString('providerModelId'),
    status: t.exposeString('status'),
    errorCode: t.string({ nullable: true, resolve: (attempt) => attempt.errorCode ?? null }),
    errorMessage: t.string({ nullable: true, resolve: (attempt) => attempt.errorMessage ?? null }),
    latencyMs: t.exposeInt('latencyMs'),
  }),
});

const GenerationRef = builder.objectRef<GenerationRow>('Generation').implement({
  description: 'One recorded request',
  fields: (t) => ({
    id: t.exposeID('id'),
    requestId: t.string({ nullable: true, resolve: (row) => row.requestId }),
    requestedModel: t.exposeString('requestedModel'),
    model: t.field({ type: ModelRef, nullable: true, resolve: async (row, _args, context) => (row.modelId ? ((await context.loaders.model.load(row.modelId)) ?? null) : null) }),
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
      resolve: (row) => ({
        promptTokens: row.promptTokens,
        completionTokens: row.completionTokens,
        totalTokens: row.totalTokens,
        cachedPromptTokens: row.cachedPromptTokens,
        reasoningTokens: row.reasoningTokens,
        estimated: row.usageEstimated,
        costPicos: row.costPicos,
      }),
    }),
    latencyMs: t.int({ nullable: true, resolve: (row) => row.latencyMs }),
    timeToFirstTokenMs: t.int({ nullable: true, resolve: (row) => row.timeToFirstTokenMs }),
    streamed: t.exposeBoolean('streamed'),
    errorCode: t.string({ nullable: true, resolve: (row) => row.errorCode }),
    errorMessage: t.string({ nullable: true, resolve: (row) => row.errorMessage }),
    warnings: t.stringList({ resolve: (row) => row.warnings ?? [] }),
    attempts: t.field({ type: [AttemptRef], resolve: (row) => row.attempts ?? [] }),
    metadata: t.field({ type: 'JSON', nullable: true, resolve: (row) => row.metadata }),
    createdAt: t.field({ type: 'DateTime', resolve: (row) => row.createdAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (row) => row.finishedAt }),
  }),
});

const GenerationFilterInput = builder.inputType('GenerationFilter', {
  fields: (t) => ({
    model: t.string({ description: 'Catalog model id' }),
    provider: t.string(),
    status: t.field({ type: GenerationStatusEnum }),
    from: t.field({ type: 'DateTime' }),
    to: t.field({ type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  generation: t.field({
    type: GenerationRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => findGeneration(context.services.db, String(args.id)) ?? null,
  }),
  generations: t.connection({
    type: GenerationRef,
    description: 'Recorded requests, newest first',
    args: { filter: t.arg({ type: GenerationFilterInput }) },
    resolve: (_root, args, context) =>
      resolveCursorConnection({ args, toCursor: (row: GenerationRow) => row.id, defaultSize: 50, maxSize: 500 }, ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) =>
        listGenerations(
          context.services.db,
          {
            ...(args.filter?.model ? { modelId: args.filter.model } : {}),
            ...(args.filter?.provider ? { providerId: args.filter.provider } : {}),
            ...(args.filter?.status ? { status: args.filter.status } : {}),
            ...(args.filter?.from ? { from: args.filter.from.getTime() } : {}),
            ...(args.filter?.to ? { to: args.filter.to.getTime() } : {}),
          },
          { limit, oldestFirst: inverted, ...(after ? { olderThan: after } : {}), ...(before ? { newerThan: before } : {}) },
        ),
      ),
  }, { name: 'GenerationConnection' }, { name: 'GenerationEdge' }),
}));
