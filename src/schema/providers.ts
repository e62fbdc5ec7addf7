import { builder } from '../builder.js';
import { providerHasApiKey, upsertProvider } from '../catalog/providers.js';
import { listProviders } from '../db/catalog.js';
import type { EndpointSnapshot, HealthSnapshot } from '../routing/health.js';
import { auditChange } from './audit.js';
import { ErrorCodeEnum, toErrorCode } from './error-codes.js';
import { ModelEndpointRef, ModelRef, ProviderRef } from './refs.js';

export { ProviderRef } from './refs.js';

export const ProviderKindEnum = builder.enumType('ProviderKind', {
  values: { OPENAI: { value: 'openai' }, ANTHROPIC: { value: 'anthropic' }, GEMINI: { value: 'gemini' }, OLLAMA: { value: 'ollama' }, OPENAI_COMPATIBLE: { value: 'openai_compatible' }, LOCAL: { value: 'local' } } as const,
});

const CircuitStateEnum = builder.enumType('CircuitState', {
  description: 'A circuit breaker: CLOSED lets requests through; OPEN skips the endpoint; HALF_OPEN lets one probe through',
  values: ['CLOSED', 'OPEN', 'HALF_OPEN'] as const,
});

const HealthFiguresRef = builder.interfaceRef<HealthSnapshot>('HealthFigures').implement({
  description: 'Recent figures of this gateway’s calls (the last 5 minutes), kept in memory since the process started',
  fields: (t) => ({
    state: t.field({ type: CircuitStateEnum, resolve: (health) => health.state }),
    latencyP50Ms: t.int({ nullable: true, description: 'Whole latency of successful attempts', resolve: (health) => health.latencyP50Ms }),
    latencyP95Ms: t.int({ nullable: true, resolve: (health) => health.latencyP95Ms }),
    timeToFirstTokenP50Ms: t.int({ nullable: true, description: 'Streamed attempts only', resolve: (health) => health.timeToFirstTokenP50Ms }),
    timeToFirstTokenP95Ms: t.int({ nullable: true, resolve: (health) => health.timeToFirstTokenP95Ms }),
    errorRate: t.float({
      nullable: true,
      description: 'Failed attempts over attempts; failures the request caused (a 400) do not count. Null with no attempts in the window: no rate is known',
      resolve: (health) => (health.requests === 0 ? null : health.errorRate),
    }),
    requests: t.int({ description: 'Attempts that ended', resolve: (health) => health.requests }),
    failures: t.int({ resolve: (health) => health.failures }),
    lastError: t.string({
      nullable: true,
      description: 'Admins only (null for other keys): it quotes what the upstream said',
      resolve: (health, _args, context) => (context.viewer.isAdmin ? health.lastError : null),
    }),
    lastErrorCode: t.field({ type: ErrorCodeEnum, nullable: true, resolve: (health) => toErrorCode(health.lastErrorCode) }),
    lastErrorAt: t.field({ type: 'DateTime', nullable: true, resolve: (health) => health.lastErrorAt }),
  }),
});

const EndpointHealthRef = builder.objectRef<EndpointSnapshot>('EndpointHealth').implement({
  description: 'One endpoint (a provider’s model) as routing sees it',
  interfaces: [HealthFiguresRef],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'providerModelId' in value,
  fields: (t) => ({
    providerModelId: t.exposeString('providerModelId'),
    model: t.field({ type: ModelRef, nullable: true, resolve: async (endpoint, _args, context) => (endpoint.modelId ? ((await context.loaders.model.load(endpoint.modelId)) ?? null) : null) }),
    consecutiveFailures: t.exposeInt('consecutiveFailures'),
    retryAt: t.field({ type: 'DateTime', nullable: true, description: 'When an open circuit lets its probe through', resolve: (endpoint) => endpoint.retryAt }),
  }),
});

type ProviderHealthShape = HealthSnapshot & { endpoints: EndpointSnapshot[] };

const ProviderHealthRef = builder.objectRef<ProviderHealthShape>('ProviderHealth').implement({
  description: 'A provider’s endpoints together: pooled figures, the worst circuit state and the latest error; each endpoint under `endpoints`',
  interfaces: [HealthFiguresRef],
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'endpoints' in value,
  fields: (t) => ({
    openEndpoints: t.int({ description: 'Endpoints whose circuit is not closed', resolve: (health) => health.endpoints.filter((endpoint) => endpoint.state !== 'CLOSED').length }),
    endpoints: t.field({ type: [EndpointHealthRef], resolve: (health) => health.endpoints }),
  }),
});

ProviderRef.implement({
  description: 'An upstream service that serves models',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.field({ type: ProviderKindEnum, resolve: (provider) => provider.kind }),
    hasApiKey: t.boolean({
      description:
        'Whether calls carry a key: one stored sealed, or the environment’s while the provider is at its configured base URL (a base URL changed through the API leaves it behind); the key itself is never readable',
      resolve: (provider, _args, context) => providerHasApiKey(provider, context.services.config.providers),
    }),
    enabled: t.boolean({
      description: 'Configured with credentials on this gateway, so requests can reach it',
      resolve: (provider, _args, context) => provider.enabled && context.services.registry.has(provider.id),
    }),
    health: t.field({
      type: ProviderHealthRef,
      description: 'Circuit breaker state and recent latency and errors of the calls this gateway made to it',
      resolve: (provider, _args, context) => context.services.router.state.providerHealth(provider.id),
    }),
    models: t.field({
      type: [ModelEndpointRef],
      description: 'The catalog endpoints this provider serves',
      resolve: (provider, _args, context) => context.loaders.endpointsByProvider.load(provider.id),
    }),
  }),
});

builder.queryFields((t) => ({
  providers: t.field({
    type: [ProviderRef],
    resolve: (_root, _args, context) => (context.services.storage.sqlite ? listProviders(context.services.storage.sqlite) : [...context.services.catalog.providers]),
  }),
  provider: t.field({
    type: ProviderRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => (await context.loaders.provider.load(String(args.id))) ?? null,
  }),
}));

const ProviderInput = builder.inputType('ProviderInput', {
  description: 'A provider to add (an OpenAI-compatible server) or edit. Omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Lowercase letters, digits, _ and -' }),
    name: t.string(),
    kind: t.field({ type: ProviderKindEnum, description: 'Only OPENAI_COMPATIBLE can be added; an existing provider’s kind cannot change' }),
    baseUrl: t.string({
      description:
        'Required to add a provider; the API root, e.g. http://127.0.0.1:8000/v1. Loopback is allowed; link-local and cloud metadata addresses never are, other private addresses only with SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS=true (checked again on every connection, after DNS). Changing it drops the stored key unless apiKey is given too, and an environment key is never sent to a base URL set here.',
    }),
    enabled: t.boolean({ description: 'Disabling a running provider is not supported yet' }),
    apiKey: t.string({
      description:
        'Write-only. Sets the provider’s API key, sealed with SWITCHBOARD_MASTER_KEY before it is stored; null clears it. Providers configured in the environment take their key from there, unless their baseUrl was changed through the API (then give the key in the same call, or later).',
    }),
  }),
});

builder.mutationFields((t) => ({
  upsertProvider: t.field({
    type: ProviderRef,
    description:
      'Admin: adds an OpenAI-compatible provider or edits one, including its API key (write-only). A key belongs to its host: changing baseUrl drops the stored key unless the same call gives apiKey, and a provider configured in the environment stops sending its environment key (and headers) until it is back at its configured baseUrl, so the result then has hasApiKey false. The audit entry records the change (baseUrlChange, apiKeyChange "dropped", environmentKey "withheld").',
    authScopes: { admin: true },
    args: { input: t.arg({ type: ProviderInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const before = context.services.catalog.index.provider(String(input.id)) ?? null;
      const outcome = await upsertProvider(context.services, { ...input, id: String(input.id) });
      const provider = outcome.row;
      // The trail says whether a key was set, cleared or dropped with a base URL change, never what it was.
      const apiKeyChange = input.apiKey !== undefined ? (input.apiKey === null ? 'cleared' : 'set') : outcome.storedKeyDropped ? 'dropped' : undefined;
      context.services.feed.publish('providers');
      await context.services.catalog.refresh();
      await auditChange(context, before ? 'provider.update' : 'provider.create', 'provider', provider.id, before, {
        ...provider,
        ...(apiKeyChange !== undefined ? { apiKeyChange } : {}),
        ...(outcome.baseUrlChanged ? { baseUrlChange: { from: before?.baseUrl ?? null, to: provider.baseUrl } } : {}),
        ...(outcome.environmentKey !== undefined ? { environmentKey: outcome.environmentKey } : {}),
        ...(outcome.notices.length > 0 ? { notices: outcome.notices } : {}),
      });
      return provider;
    },
  }),
}));
