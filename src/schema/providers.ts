import { builder } from '../builder.js';
import { upsertProvider } from '../catalog/admin.js';
import type { ProviderRow } from '../db/schema.js';
import { listProviders } from '../db/catalog.js';
import { requireAdmin } from './guards.js';
import { ModelEndpointRef } from './models.js';

export const ProviderKindEnum = builder.enumType('ProviderKind', {
  values: { OPENAI: { value: 'openai' }, ANTHROPIC: { value: 'anthropic' }, GEMINI: { value: 'gemini' }, OLLAMA: { value: 'ollama' }, OPENAI_COMPATIBLE: { value: 'openai_compatible' }, LOCAL: { value: 'local' } } as const,
});

export const ProviderRef = builder.objectRef<ProviderRow>('Provider');
ProviderRef.implement({
  description: 'An upstream service that serves models',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    kind: t.field({ type: ProviderKindEnum, resolve: (provider) => provider.kind }),
    enabled: t.boolean({
      description: 'Configured with credentials on this gateway, so requests can reach it',
      resolve: (provider, _args, context) => provider.enabled && context.services.registry.has(provider.id),
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
    resolve: (_root, _args, context) => listProviders(context.services.db),
  }),
  provider: t.field({
    type: ProviderRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => (await context.loaders.provider.load(String(args.id))) ?? null,
  }),
}));

const ProviderInput = builder.inputType('ProviderInput', {
  description: 'A provider to add (a keyless self-hosted OpenAI-compatible server) or edit. Omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Lowercase letters, digits, _ and -' }),
    name: t.string(),
    kind: t.field({ type: ProviderKindEnum, description: 'Only OPENAI_COMPATIBLE can be added; an existing provider’s kind cannot change' }),
    baseUrl: t.string({ description: 'Required to add a provider; the API root, e.g. http://127.0.0.1:8000/v1' }),
    enabled: t.boolean({ description: 'Providers with a key are enabled through the environment; disabling a running provider is not supported yet' }),
  }),
});

builder.mutationFields((t) => ({
  upsertProvider: t.field({
    type: ProviderRef,
    description: 'Admin: adds an OpenAI-compatible provider or edits one. API keys are not accepted here.',
    args: { input: t.arg({ type: ProviderInput, required: true }) },
    resolve: (_root, { input }, context) => {
      requireAdmin(context);
      return upsertProvider(context.services, { ...input, id: String(input.id) });
    },
  }),
}));
