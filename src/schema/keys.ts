import { builder } from '../builder.js';
import { periodEnd } from '../auth/budget.js';
import { generateApiKey } from '../auth/secrets.js';
import { newId } from '../ids.js';
import type { Context } from '../context.js';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../db/api-keys.js';
import { budgetPeriods, scopes, type ApiKeyRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';
import { picosToUsd, usdToPicos } from '../money.js';

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
    spentUsd: t.float({ description: 'Recorded spend in the current period', resolve: (key, _args, context) => picosToUsd(context.services.budgets.spentPicos(key.id, key.budgetPeriod)) }),
    remainingUsd: t.float({
      resolve: (key, _args, context) => picosToUsd(Math.max(0, (key.budgetLimitPicos ?? 0) - context.services.budgets.spentPicos(key.id, key.budgetPeriod))),
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
      description: 'Spend in the budget period (lifetime when there is no budget)',
      resolve: (key, _args, context) => picosToUsd(context.services.budgets.spentPicos(key.id, key.budgetPeriod)),
    }),
    metadata: t.field({ type: 'JSON', nullable: true, resolve: (key) => key.metadata }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.expiresAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.revokedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => key.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (key) => key.lastUsedAt }),
  }),
});

interface CreatedShape {
  key: ApiKeyRow;
  secret: string;
}

const CreatedApiKeyRef = builder.objectRef<CreatedShape>('CreatedApiKey').implement({
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
  }),
});

function positive(value: number | null | undefined, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw new BadRequestError(`${field} must be a positive integer`, field);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

builder.queryFields((t) => ({
  me: t.field({
    type: ApiKeyRef,
    nullable: true,
    description: 'The calling key; null for the bootstrap admin key and in open local mode',
    resolve: (_root, _args, context) => (context.viewer.apiKeyId ? (findApiKey(context.services.db, context.viewer.apiKeyId) ?? null) : null),
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    authScopes: { admin: true },
    resolve: (_root, _args, context) => listApiKeys(context.services.db),
  }),
}));

function recordKeyAudit(context: Context, action: string, key: ApiKeyRow, before: ApiKeyRow | null): void {
  context.services.audit?.({ actorKeyId: context.viewer.apiKeyId, action, targetType: 'api_key', targetId: key.id, before: before ? redactKey(before) : null, after: redactKey(key) });
}

/** What the audit trail keeps of a key: everything but the hash of its secret. */
function redactKey(key: ApiKeyRow): Record<string, unknown> {
  const { secretHash: _secretHash, ...rest } = key;
  return rest;
}

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKeyRef,
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, context) => {
      if (input.name.trim() === '') throw new BadRequestError('name must not be empty', 'name');
      if (input.scopes.length === 0) throw new BadRequestError('scopes must name at least one scope', 'scopes');
      if (input.budget && !(input.budget.limitUsd >= 0)) throw new BadRequestError('budget.limitUsd must be zero or more', 'budget.limitUsd');
      if (input.metadata != null && !isObject(input.metadata)) throw new BadRequestError('metadata must be a JSON object', 'metadata');
      const now = Date.now();
      if (input.expiresAt && input.expiresAt.getTime() <= now) throw new BadRequestError('expiresAt must be in the future', 'expiresAt');
      const generated = generateApiKey();
      const key: ApiKeyRow = {
        id: newId('key', now),
        name: input.name.trim(),
        prefix: generated.prefix,
        secretHash: generated.hash,
        scopes: [...new Set(input.scopes)],
        allowedModels: input.allowedModels ?? null,
        requestsPerMinute: positive(input.rateLimit?.requestsPerMinute, 'rateLimit.requestsPerMinute'),
        tokensPerMinute: positive(input.rateLimit?.tokensPerMinute, 'rateLimit.tokensPerMinute'),
        concurrentStreams: positive(input.rateLimit?.concurrentStreams, 'rateLimit.concurrentStreams'),
        // Dollars to pico-dollars through the same exact conversion prices use (dollars per million = micros).
        budgetLimitPicos: input.budget ? usdToPicos(input.budget.limitUsd) : null,
        budgetPeriod: input.budget?.period ?? null,
        metadata: isObject(input.metadata) ? input.metadata : null,
        expiresAt: input.expiresAt ? input.expiresAt.getTime() : null,
        revokedAt: null,
        createdAt: now,
        lastUsedAt: null,
      };
      insertApiKey(context.services.db, key);
      recordKeyAudit(context, 'api_key.create', key, null);
      return { key, secret: generated.secret };
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    authScopes: { admin: true },
    description: 'Takes effect on the next request, including operations on WebSockets that are already open',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => {
      const before = findApiKey(context.services.db, String(args.id));
      if (!before) throw new BadRequestError(`No API key '${String(args.id)}'`, 'id');
      const key = before.revokedAt === null ? revokeApiKey(context.services.db, before.id, Date.now()) : before;
      if (!key) throw new BadRequestError(`No API key '${String(args.id)}'`, 'id');
      recordKeyAudit(context, 'api_key.revoke', key, before);
      return key;
    },
  }),
}));
