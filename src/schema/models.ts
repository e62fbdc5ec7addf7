import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { findModel, listModels } from '../db/catalog.js';
import type { ModelEndpointRow, ModelRow } from '../db/schema.js';
import { microsToDollarsPerMillion } from '../usage/cost.js';
import { ProviderRef } from './providers.js';

export const ModalityEnum = builder.enumType('Modality', { values: ['TEXT', 'IMAGE', 'AUDIO', 'FILE'] as const });
export const EndpointStatusEnum = builder.enumType('EndpointStatus', { values: ['ACTIVE', 'DISABLED', 'DEPRECATED'] as const });

interface PricingShape {
  promptPriceMicros: number | null;
  completionPriceMicros: number | null;
  cachedPromptPriceMicros: number | null;
}

export const PricingRef = builder.objectRef<PricingShape>('Pricing').implement({
  description: 'Prices in US dollars per million tokens',
  fields: (t) => ({
    promptPerMillion: t.float({ resolve: (pricing) => microsToDollarsPerMillion(pricing.promptPriceMicros ?? 0) }),
    completionPerMillion: t.float({ resolve: (pricing) => microsToDollarsPerMillion(pricing.completionPriceMicros ?? 0) }),
    cachedPromptPerMillion: t.float({
      nullable: true,
      resolve: (pricing) => (pricing.cachedPromptPriceMicros === null ? null : microsToDollarsPerMillion(pricing.cachedPromptPriceMicros)),
    }),
    known: t.boolean({
      description: 'False when the price is not known; the figures above are then 0 and costs are flagged as unknown',
      resolve: (pricing) => pricing.promptPriceMicros !== null && pricing.completionPriceMicros !== null,
    }),
  }),
});

export const ModelEndpointRef = builder.objectRef<ModelEndpointRow>('ModelEndpoint');
ModelEndpointRef.implement({
  description: 'A model as served by one provider, at that provider’s price',
  fields: (t) => ({
    id: t.exposeID('id'),
    provider: t.field({
      type: ProviderRef,
      resolve: async (endpoint, _args, context) => {
        const provider = await context.loaders.provider.load(endpoint.providerId);
        if (!provider) throw new Error(`endpoint ${endpoint.id} names a missing provider`);
        return provider;
      },
    }),
    model: t.field({
      type: ModelRef,
      resolve: async (endpoint, _args, context) => {
        const model = await context.loaders.model.load(endpoint.modelId);
        if (!model) throw new Error(`endpoint ${endpoint.id} names a missing model`);
        return model;
      },
    }),
    providerModelId: t.exposeString('providerModelId'),
    pricing: t.field({ type: PricingRef, resolve: (endpoint) => endpoint }),
    contextLength: t.int({ nullable: true, resolve: (endpoint) => endpoint.contextLength }),
    status: t.field({ type: EndpointStatusEnum, resolve: (endpoint) => endpoint.status }),
    priceSource: t.string({ nullable: true, resolve: (endpoint) => endpoint.priceSource }),
    priceDate: t.string({ nullable: true, resolve: (endpoint) => endpoint.priceDate }),
  }),
});

function modalities(values: string[]): Array<'TEXT' | 'IMAGE' | 'AUDIO' | 'FILE'> {
  return values.filter((value): value is 'TEXT' | 'IMAGE' | 'AUDIO' | 'FILE' => ['TEXT', 'IMAGE', 'AUDIO', 'FILE'].includes(value));
}

export const ModelRef = builder.objectRef<ModelRow>('Model');
ModelRef.implement({
  description: 'A model in the catalog, with its limits, capabilities and the endpoints that serve it',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Canonical id, `vendor/name`' }),
    name: t.exposeString('name'),
    vendor: t.exposeString('vendor'),
    description: t.string({ nullable: true, resolve: (model) => model.description }),
    aliases: t.field({ type: ['String'], resolve: (model, _args, context) => context.loaders.aliasesByModel.load(model.id) }),
    contextLength: t.exposeInt('contextLength'),
    maxOutputTokens: t.int({ nullable: true, resolve: (model) => model.maxOutputTokens }),
    inputModalities: t.field({ type: [ModalityEnum], resolve: (model) => modalities(model.inputModalities) }),
    outputModalities: t.field({ type: [ModalityEnum], resolve: (model) => modalities(model.outputModalities) }),
    supportedParameters: t.exposeStringList('supportedParameters'),
    releasedAt: t.string({ nullable: true, resolve: (model) => model.releasedAt }),
    pricing: t.field({
      type: PricingRef,
      description: 'The lowest-priced active endpoint’s prices',
      resolve: async (model, _args, context) => {
        const endpoints = (await context.loaders.endpointsByModel.load(model.id)).filter((endpoint) => endpoint.status === 'ACTIVE');
        const priced = endpoints.filter((endpoint) => endpoint.promptPriceMicros !== null && endpoint.completionPriceMicros !== null);
        const cheapest = priced.sort((a, b) => (a.promptPriceMicros ?? 0) + (a.completionPriceMicros ?? 0) - ((b.promptPriceMicros ?? 0) + (b.completionPriceMicros ?? 0)))[0];
        return cheapest ?? { promptPriceMicros: null, completionPriceMicros: null, cachedPromptPriceMicros: null };
      },
    }),
    endpoints: t.field({ type: [ModelEndpointRef], resolve: (model, _args, context) => context.loaders.endpointsByModel.load(model.id) }),
  }),
});

builder.queryFields((t) => ({
  models: t.connection({
    type: ModelRef,
    args: { search: t.arg.string({ description: 'Matches id or name, case-insensitively' }) },
    resolve: (_root, args, context) =>
      resolveCursorConnection(
        { args, toCursor: (model: ModelRow) => model.id, defaultSize: 50, maxSize: 200 },
        ({ after, limit }: ResolveCursorConnectionArgs) => {
          const page = listModels(context.services.db, { first: limit, after: after ?? undefined, search: args.search ?? undefined });
          return page.rows;
        },
      ),
  }),
  model: t.field({
    type: ModelRef,
    nullable: true,
    description: 'A model by canonical id or alias',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => findModel(context.services.db, String(args.id)) ?? null,
  }),
}));
