import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { periodEnd } from '../auth/budget.js';
import { createApiKey, revokeApiKey, type CreatedApiKey, type KeyServiceDeps } from '../auth/keys.js';
import type { Context } from '../context.js';
import { budgetPeriods, scopes, type ApiKeyRow } from '../db/schema.js';
import { picosToUsd } from '../money.js';

const ScopeEnum = builder.enumType('Scope', { values: scopes });
const BudgetPeriodEnum = builder.enumType('BudgetPeriod', { values: budgetPeriods });

interface RateLimitShape {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentStreams: number | null;
}

const RateLimitRef = builder.objectRef<RateLimitShape>('RateLimit').implement({
  fields: (t) => ({
    requestsPerMinute: t.int({ nullable: true, resolve: (limit) => limit.requestsPerMinute }),
    tokensPerMinute: t.int({ nullable: true, resolve: (limit) => limit.tokensPerMinute }),
    concurrentStreams: t.int({ nullable: true, resolve: (limit) => limit.concurrentStreams }),
  }),
});

const BudgetRef = builder.objectRef<ApiKeyRow>('Budget').implement({
  description: 'A spend limit per period; requests stop with BUDGET_EXCEEDED once it is spent',
  fields: (t) => ({
    limitUsd: t.float({ resolve: (key) => picosToUsd(key.budgetLimitPicos ?? 0) }),
    period: t.field({ type: BudgetPeriodEnum, nullable: true, description: 'Null for a lifetime budget', resolve: (key) => key.budgetPeriod }),
    spentUsd: t.float({ description: 'Recorded spend in the current period', resolve: async (key, _args, context) => picosToUsd(await context.services.budgets.spentPicos(key.id, key.budgetPeriod)) }),
    remainingUsd: t.float({
      resolve: async (key, _args, context) => picosToUsd(Math.max(0, (key.budgetLimitPicos ?? 0) - (await context.services.budgets.spentPicos(key.id, key.budgetPeriod)))),
    }),
    resetsAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => periodEnd(key.budgetPeriod, Date.now()) }),
  }),
});

export const ApiKeyRef = builder.objectRef<ApiKeyRow>('ApiKey').implement({
  description: 'A gateway API key; its secret is shown once, at creation',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, to tell keys apart' }),
    scopes: t.field({ type: [ScopeEnum], resolve: (key) => key.scopes }),
    allowedModels: t.stringList({ nullable: true, description: 'Model ids, aliases or vendor wildcards; null allows every model', resolve: (key) => key.allowedModels }),
    rateLimit: t.field({
      type: RateLimitRef,
      nullable: true,
      resolve: (key) =>
        key.requestsPerMinute === null && key.tokensPerMinute === null && key.concurrentStreams === null
          ? null
          : { requestsPerMinute: key.requestsPerMinute, tokensPerMinute: key.tokensPerMinute, concurrentStreams: key.concurrentStreams },
    }),
    budget: t.field({ type: BudgetRef, nullable: true, resolve: (key) => (key.budgetLimitPicos === null ? null : key) }),
    spentUsd: t.float({
      // A Float is a double: a dollar sum cannot overflow it the way a 32-bit Int counter could.
      description: 'Spend in the budget period (lifetime when there is no budget), in US dollars',
      resolve: async (key, _args, context) => picosToUsd(await context.services.budgets.spentPicos(key.id, key.budgetPeriod)),
    }),
    metadata: t.field({ type: 'JSON', nullable: true, resolve: (key) => key.metadata }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.expiresAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.revokedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => key.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.lastUsedAt }),
    cacheTtlSeconds: t.int({ nullable: true, description: 'The response cache TTL of this key’s requests that set none; null: they are not cached', resolve: (key) => key.cacheTtlSeconds }),
  }),
});

const CreatedApiKeyRef = builder.objectRef<CreatedApiKey>('CreatedApiKey').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (created) => created.key }),
    secret: t.string({ description: 'The key itself. It is not stored and cannot be shown again.', resolve: (created) => created.secret }),
  }),
});

const RateLimitInput = builder.inputType('RateLimitInput', {
  fields: (t) => ({
    requestsPerMinute: t.int(),
    tokensPerMinute: t.int(),
    concurrentStreams: t.int(),
  }),
});

const BudgetInput = builder.inputType('BudgetInput', {
  fields: (t) => ({
    limitUsd: t.float({ required: true }),
    period: t.field({ type: BudgetPeriodEnum, description: 'Null for a lifetime budget' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    scopes: t.field({ type: [ScopeEnum], required: true }),
    allowedModels: t.stringList(),
    rateLimit: t.field({ type: RateLimitInput }),
    budget: t.field({ type: BudgetInput }),
    expiresAt: t.field({ type: 'DateTime' }),
    metadata: t.field({ type: 'JSON' }),
    cacheTtlSeconds: t.int({ description: 'Cache this key’s answers for this many seconds unless a request says otherwise (the response cache)' }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: ApiKeyRef,
    nullable: true,
    description: 'The calling key; null for the bootstrap admin key and in open local mode',
    resolve: async (_root, _args, context) => (context.viewer.apiKeyId ? ((await context.services.storage.keys.find(context.viewer.apiKeyId)) ?? null) : null),
  }),
  apiKeys: t.connection(
    {
      type: ApiKeyRef,
      description: 'Every gateway key, revoked and expired ones included, newest first (admin)',
      authScopes: { admin: true },
      resolve: async (_root, args, context) => {
        const connection = await resolveCursorConnection({ args, toCursor: (key: ApiKeyRow) => key.id, defaultSize: 50, maxSize: 500 }, ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) =>
          context.services.storage.keys.list({ limit, oldestFirst: inverted, ...(after ? { olderThan: after } : {}), ...(before ? { newerThan: before } : {}) }),
        );
        return { ...connection, totalCount: () => context.services.storage.keys.count() };
      },
    },
    {
      name: 'ApiKeyConnection',
      fields: (t) => ({ totalCount: t.int({ description: 'Keys across all pages', resolve: (connection) => connection.totalCount() }) }),
    },
    { name: 'ApiKeyEdge' },
  ),
}));

/** The key service's dependencies, from the request's services. */
function keyService(context: Context): KeyServiceDeps {
  const { services } = context;
  return {
    keys: services.storage.keys,
    audit: services.audit,
    changed: async () => {
      services.feed.publish('keys');
      await services.keys.refresh();
    },
  };
}

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, context) => createApiKey(keyService(context), input, context.viewer.apiKeyId),
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    authScopes: { admin: true },
    description: 'Takes effect on the next request, including operations on WebSockets that are already open',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => revokeApiKey(keyService(context), String(args.id), context.viewer.apiKeyId),
  }),
}));
