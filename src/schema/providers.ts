import { builder } from '../builder.js';
import type { ProviderRow } from '../db/schema.js';
import { listProviders } from '../db/catalog.js';
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
