import { builder } from '../builder.js';
import { checkProvider, type ProviderCheck, type ProviderCheckStatus } from '../catalog/check.js';
import { estimateCost, type CandidateCost, type CostEstimate } from '../completions/estimate.js';
import type { HistoryBucket } from '../db/endpoint-history.js';
import type { ApiKeyRow, ModelEndpointRow, ProviderRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';
import { microsToDollarsPerMillion, picosToUsd } from '../money.js';
import { explainRoute, type ExplainedEndpoint, type RoutePlanExplained, type SkipReason } from '../routing/explain.js';
import type { Context } from '../context.js';
import { auditChange } from './audit.js';
import { CompletionInputRef, toCompletionInput } from './completions.js';
import { ErrorCodeEnum, toErrorCode } from './error-codes.js';
import { ApiKeyRef } from './keys.js';
import { ModelEndpointRef, ModelRef, ProviderRef } from './refs.js';

// Diagnostics: why a request would go where it goes, what it would cost, whether a provider answers, and how
// endpoints did over the last day. Dry runs only: nothing here is admitted, counted or sent, except checkProvider's
// one model listing.

const RouteSkipReasonEnum = builder.enumType('RouteSkipReason', {
  description: 'Why explainRoute says an endpoint would not be tried',
  values: {
    ALLOWLIST: { value: 'allowlist', description: 'The key may not use this model (admission refuses the whole request while it is a candidate)' },
    CAPABILITY: { value: 'capability', description: 'The catalog says the endpoint lacks tools or image input the request uses' },
    CONTEXT_LENGTH: { value: 'contextLength', description: 'The prompt is longer than the endpoint’s context window' },
    PROVIDER_PREFERENCE: { value: 'providerPreference', description: 'The request’s provider preferences (only, ignore, or order without fallbacks) leave it out' },
    BREAKER_STATE: { value: 'breakerState', description: 'Its circuit breaker is open (or half-open with its probe out), so a run would skip it' },
  } as const satisfies Record<string, { value: SkipReason; description: string }>,
});

const RouteEndpointRef = builder.objectRef<ExplainedEndpoint>('RouteEndpoint').implement({
  description: 'One candidate endpoint of a dry-run route',
  fields: (t) => ({
    position: t.int({ nullable: true, description: '1-based place in the order endpoints would be tried; null when skipped', resolve: (endpoint) => endpoint.position }),
    kept: t.boolean({ resolve: (endpoint) => endpoint.skipReason === null }),
    skipReason: t.field({ type: RouteSkipReasonEnum, nullable: true, resolve: (endpoint) => endpoint.skipReason }),
    detail: t.string({ nullable: true, description: 'The reason in words', resolve: (endpoint) => endpoint.detail }),
    providerId: t.string({ resolve: (endpoint) => endpoint.candidate.providerId }),
    provider: t.field({ type: ProviderRef, nullable: true, resolve: async (endpoint, _args, context) => (await context.loaders.provider.load(endpoint.candidate.providerId)) ?? null }),
    providerModelId: t.string({ resolve: (endpoint) => endpoint.candidate.providerModelId }),
    model: t.field({ type: ModelRef, nullable: true, description: 'Null for a model addressed directly that the catalog does not list', resolve: (endpoint) => endpoint.candidate.model }),
    requestedModel: t.string({ description: 'The model as written that brought this endpoint in', resolve: (endpoint) => endpoint.requested }),
    fallback: t.boolean({ description: 'Brought in by a fallback model', resolve: (endpoint) => endpoint.fallback }),
    strategy: t.string({ description: 'The strategy that ranked its model’s endpoints: ordered, weighted, price, latency or throughput', resolve: (endpoint) => endpoint.strategy }),
    expectedCostUsd: t.float({
      nullable: true,
      description: 'The price strategy’s score: the rough prompt plus the expected completion (maxTokens, else 256) at this endpoint’s prices; null when unpriced',
      resolve: (endpoint) => (endpoint.expectedCostPicos === null ? null : picosToUsd(endpoint.expectedCostPicos)),
    }),
    observedLatencyMs: t.float({ nullable: true, description: 'The latency strategy’s score: a moving average of this process’s calls; null before any', resolve: (endpoint) => endpoint.observedLatencyMs }),
    throughputTokensPerSecond: t.float({ nullable: true, description: 'The throughput strategy’s score; null before any streamed answer', resolve: (endpoint) => endpoint.throughputTokensPerSecond }),
  }),
});

const RoutePlanRef = builder.objectRef<RoutePlanExplained>('RoutePlan').implement({
  description: 'A dry run of routing: every candidate endpoint in the order it would be tried, the skipped ones with their reason',
  fields: (t) => ({
    requestedModel: t.string({ resolve: (plan) => plan.requestedModel }),
    fallbackModels: t.stringList({ description: 'The request’s own `models`, else the ones routing config declares', resolve: (plan) => plan.fallbackModels }),
    endpoints: t.field({ type: [RouteEndpointRef], description: 'Kept endpoints in try order; each model’s skipped ones after its kept ones', resolve: (plan) => plan.endpoints }),
    promptTokensRoughly: t.int({ description: 'The rough prompt size the price strategy ranks with', resolve: (plan) => plan.promptTokensRoughly }),
    expectedCompletionTokens: t.int({ resolve: (plan) => plan.expectedCompletionTokens }),
  }),
});

const CandidateCostRef = builder.objectRef<CandidateCost>('CandidateCost').implement({
  fields: (t) => ({
    providerId: t.string({ resolve: (cost) => cost.candidate.providerId }),
    providerModelId: t.string({ resolve: (cost) => cost.candidate.providerModelId }),
    model: t.field({ type: ModelRef, nullable: true, resolve: (cost) => cost.candidate.model }),
    requestedModel: t.string({ resolve: (cost) => cost.requested }),
    promptPricePerMillionUsd: t.float({ nullable: true, resolve: (cost) => micros(cost.candidate.prices.promptPriceMicros) }),
    completionPricePerMillionUsd: t.float({ nullable: true, resolve: (cost) => micros(cost.candidate.prices.completionPriceMicros) }),
    minCostUsd: t.float({ nullable: true, description: 'The prompt alone; null when a price is unknown', resolve: (cost) => usd(cost.minCostPicos) }),
    maxCostUsd: t.float({ nullable: true, description: 'The prompt and the longest completion the request allows', resolve: (cost) => usd(cost.maxCostPicos) }),
  }),
});

const CostEstimateRef = builder.objectRef<CostEstimate>('CostEstimate').implement({
  description: 'What a request would cost before it is sent',
  fields: (t) => ({
    promptTokens: t.int({ resolve: (estimate) => estimate.promptTokens }),
    promptTokensEstimated: t.boolean({
      description: 'False when counted with the model’s own tokenizer the way its provider counts (OpenAI models, text messages); true otherwise',
      resolve: (estimate) => estimate.promptTokensEstimated,
    }),
    tokenizer: t.string({ description: '`o200k_base`, or `estimate`', resolve: (estimate) => estimate.tokenizer }),
    completionTokensMin: t.int({ resolve: (estimate) => estimate.completionTokensMin }),
    completionTokensMax: t.int({ description: 'maxTokens, else the model’s output limit, else what its context leaves', resolve: (estimate) => estimate.completionTokensMax }),
    candidates: t.field({ type: [CandidateCostRef], description: 'Every endpoint of the model and its fallbacks', resolve: (estimate) => estimate.candidates }),
  }),
});

const ProviderCheckStatusEnum = builder.enumType('ProviderCheckStatus', {
  values: {
    OK: { value: 'ok', description: 'It answered and listed its models' },
    AUTH_FAILED: { value: 'authFailed', description: 'It answered and refused the key (401 or 403)' },
    TIMEOUT: { value: 'timeout', description: 'No answer within the timeout' },
    UNREACHABLE: { value: 'unreachable', description: 'No connection (refused, DNS, TLS)' },
    ERROR: { value: 'error', description: 'It answered with another error' },
    NOT_CONFIGURED: { value: 'notConfigured', description: 'Not enabled on this gateway' },
    UNSUPPORTED: { value: 'unsupported', description: 'It cannot list its models, so a free check is not possible' },
  } as const satisfies Record<string, { value: ProviderCheckStatus; description: string }>,
});

const ProviderCheckRef = builder.objectRef<ProviderCheck>('ProviderCheck').implement({
  description: 'The outcome of one live model listing',
  fields: (t) => ({
    provider: t.field({ type: ProviderRef, nullable: true, resolve: async (check, _args, context) => (await context.loaders.provider.load(check.providerId)) ?? null }),
    status: t.field({ type: ProviderCheckStatusEnum, resolve: (check) => check.status }),
    reachable: t.boolean({ resolve: (check) => check.reachable }),
    authenticated: t.boolean({ nullable: true, description: 'Null when no answer said', resolve: (check) => check.authenticated }),
    latencyMs: t.int({ nullable: true, resolve: (check) => check.latencyMs }),
    models: t.stringList({ description: 'The provider’s model ids as it lists them', resolve: (check) => check.models }),
    error: t.string({ nullable: true, resolve: (check) => check.error }),
    errorCode: t.field({ type: ErrorCodeEnum, nullable: true, resolve: (check) => toErrorCode(check.errorCode) }),
    checkedAt: t.field({ type: 'DateTime', resolve: (check) => check.checkedAt }),
  }),
});

const HealthHistoryBucketRef = builder.objectRef<HistoryBucket>('HealthHistoryBucket').implement({
  description: 'One time bucket of finished generations from the ledger; buckets with no requests are left out',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (bucket) => bucket.start }),
    requests: t.int({ resolve: (bucket) => bucket.requests }),
    failures: t.int({ description: 'FAILED and INTERRUPTED generations', resolve: (bucket) => bucket.failures }),
    uptime: t.float({ description: 'Share of requests that did not fail, 0 to 1', resolve: (bucket) => (bucket.requests === 0 ? 1 : 1 - bucket.failures / bucket.requests) }),
    latencyP50Ms: t.int({ nullable: true, resolve: (bucket) => bucket.latencyP50Ms }),
    latencyP95Ms: t.int({ nullable: true, resolve: (bucket) => bucket.latencyP95Ms }),
  }),
});

interface RateLimitUseShape {
  key: ApiKeyRow;
  windowStart: number;
  requests: number;
  tokens: number;
}

const RateLimitUseRef = builder.objectRef<RateLimitUseShape>('RateLimitUse').implement({
  description: 'What a key used in the current one-minute rate-limit window (the last 60 seconds of the ledger), against its limits',
  fields: (t) => ({
    windowStart: t.field({ type: 'DateTime', resolve: (use) => use.windowStart }),
    requests: t.int({ description: 'Requests started in the window, in flight ones included; those the rate limiter refused took nothing and are left out', resolve: (use) => use.requests }),
    tokens: t.int({ description: 'Prompt and completion tokens of those requests (in-flight ones count when they finish)', resolve: (use) => use.tokens }),
    requestsPerMinute: t.int({ nullable: true, resolve: (use) => use.key.requestsPerMinute }),
    tokensPerMinute: t.int({ nullable: true, resolve: (use) => use.key.tokensPerMinute }),
    requestsUsed: t.float({ nullable: true, description: 'requests / requestsPerMinute; null without a limit', resolve: (use) => share(use.requests, use.key.requestsPerMinute) }),
    tokensUsed: t.float({ nullable: true, description: 'tokens / tokensPerMinute; null without a limit', resolve: (use) => share(use.tokens, use.key.tokensPerMinute) }),
  }),
});

function share(used: number, limit: number | null): number | null {
  return limit === null || limit <= 0 ? null : used / limit;
}

function micros(value: number | null): number | null {
  return value === null ? null : microsToDollarsPerMillion(value);
}

function usd(picos: number | null): number | null {
  return picos === null ? null : picosToUsd(picos);
}

const HOUR_MS = 3_600_000;
const MAX_HISTORY_HOURS = 24 * 7;
const MAX_BUCKETS = 24 * 60;

function historyArgs(hours: number, buckets: number): { hours: number; buckets: number } {
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HISTORY_HOURS) throw new BadRequestError(`hours must be between 1 and ${MAX_HISTORY_HOURS}`, 'hours');
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) throw new BadRequestError(`buckets must be between 1 and ${MAX_BUCKETS}`, 'buckets');
  return { hours, buckets };
}

function history(context: Context, providerId: string, providerModelId: string | undefined, hoursArg: number, bucketsArg: number): Promise<HistoryBucket[]> {
  const { hours, buckets } = historyArgs(hoursArg, bucketsArg);
  const bucketMs = Math.ceil((hours * HOUR_MS) / buckets);
  const now = context.services.router.clock.now();
  // Aligned to whole buckets, so the same instant always falls in the same bucket from one call to the next.
  const to = (Math.floor(now / bucketMs) + 1) * bucketMs;
  return context.services.storage.diagnostics.endpointHistory({ providerId, ...(providerModelId !== undefined ? { providerModelId } : {}), from: to - buckets * bucketMs, to, bucketMs });
}

const historyDescription = 'Uptime and latency over the last `hours` (24 by default) in `buckets` equal buckets, from the ledger: every generation it finally served or failed';

builder.objectField(ModelEndpointRef, 'history', (t) =>
  t.field({
    type: [HealthHistoryBucketRef],
    authScopes: { read: true },
    description: historyDescription,
    args: { hours: t.arg.int({ defaultValue: 24 }), buckets: t.arg.int({ defaultValue: 24 }) },
    resolve: (endpoint: ModelEndpointRow, args, context) => history(context, endpoint.providerId, endpoint.providerModelId, args.hours ?? 24, args.buckets ?? 24),
  }),
);

builder.objectField(ProviderRef, 'history', (t) =>
  t.field({
    type: [HealthHistoryBucketRef],
    authScopes: { read: true },
    description: historyDescription,
    args: { hours: t.arg.int({ defaultValue: 24 }), buckets: t.arg.int({ defaultValue: 24 }) },
    resolve: (provider: ProviderRow, args, context) => history(context, provider.id, undefined, args.hours ?? 24, args.buckets ?? 24),
  }),
);

const RATE_WINDOW_MS = 60_000;

builder.objectField(ApiKeyRef, 'rateLimitUse', (t) =>
  t.field({
    type: RateLimitUseRef,
    description: 'Use in the current one-minute window, against requestsPerMinute and tokensPerMinute',
    resolve: async (key, _args, context) => {
      const windowStart = context.services.router.clock.now() - RATE_WINDOW_MS;
      const use = await context.services.storage.diagnostics.keyWindowUse(key.id, windowStart);
      return { key, windowStart, ...use };
    },
  }),
);

builder.queryFields((t) => ({
  explainRoute: t.field({
    type: RoutePlanRef,
    authScopes: { completions: true },
    description: 'A dry run of routing for the calling key: every candidate endpoint in try order, why each is kept or skipped, its strategy score, and the fallback models. Nothing is sent or counted.',
    args: { input: t.arg({ type: CompletionInputRef, required: true }), stream: t.arg.boolean({ defaultValue: false, description: 'Plan as a stream (latency ranks by time to first token)' }) },
    resolve: (_root, args, context) => {
      const input = toCompletionInput(args.input);
      return explainRoute(context.services, input, context.viewer.key?.allowedModels ?? null, args.stream ?? false);
    },
  }),
  estimateCost: t.field({
    type: CostEstimateRef,
    authScopes: { completions: true },
    description: 'Prompt tokens (the model’s tokenizer where known), each candidate endpoint’s price, and a cost range from no completion to the longest one allowed',
    args: { input: t.arg({ type: CompletionInputRef, required: true }) },
    resolve: (_root, args, context) => estimateCost(context.services, toCompletionInput(args.input), context.signal),
  }),
}));

builder.mutationFields((t) => ({
  checkProvider: t.field({
    type: ProviderCheckRef,
    authScopes: { admin: true },
    description: 'Admin: a tiny live call to a provider (its model listing) reporting reachability, auth, latency, the models it lists and the error; recorded in the audit trail',
    args: { id: t.arg.id({ required: true }), timeoutMs: t.arg.int({ defaultValue: 5000, description: 'Between 100 and 60000' }) },
    resolve: async (_root, args, context) => {
      const timeoutMs = args.timeoutMs ?? 5000;
      if (timeoutMs < 100 || timeoutMs > 60_000) throw new BadRequestError('timeoutMs must be between 100 and 60000', 'timeoutMs');
      const check = await checkProvider({ registry: context.services.registry, clock: context.services.router.clock }, String(args.id), timeoutMs);
      auditChange(context, 'provider.check', 'provider', check.providerId, null, { status: check.status, latencyMs: check.latencyMs, errorCode: check.errorCode, models: check.models.length });
      return check;
    },
  }),
}));
