import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { updateModelEndpoint, upsertModel } from '../catalog/admin.js';
import { decodeModelCursor, encodeModelCursor } from '../catalog/cursor.js';
import { modelPrices } from '../catalog/pricing.js';
import { findEndpoint, findModel, modelSortFields, type ListedModel, type ModelListFilter, type ModelListOrder, type ModelUsageSummary } from '../db/catalog.js';
import { BadRequestError } from '../errors.js';
import { dollarsPerMillionToMicros, microsToDollarsPerMillion, picosToUsd } from '../money.js';
import { auditChange } from './audit.js';
import { ModelEndpointRef, ModelRef, ProviderRef } from './refs.js';

export { ModelEndpointRef, ModelRef } from './refs.js';

export const ModalityEnum = builder.enumType('Modality', {
  values: { TEXT: {}, IMAGE: {}, AUDIO: {}, FILE: {}, EMBEDDING: { description: 'A vector of numbers (an output only): the model embeds, it does not chat' } } as const,
});
export const EndpointStatusEnum = builder.enumType('EndpointStatus', { values: ['ACTIVE', 'DISABLED', 'DEPRECATED'] as const });

interface PricingShape {
  promptPriceMicros: number | null;
  completionPriceMicros: number | null;
  cachedPromptPriceMicros: number | null;
  cacheWritePriceMicros?: number | null;
}

function perMillion(micros: number | null): number | null {
  return micros === null ? null : microsToDollarsPerMillion(micros);
}

export const PricingRef = builder.objectRef<PricingShape>('Pricing').implement({
  description: 'Prices in US dollars per million tokens; a figure nobody knows is null, never 0 (0 means free)',
  fields: (t) => ({
    promptPerMillion: t.float({ nullable: true, resolve: (pricing) => perMillion(pricing.promptPriceMicros) }),
    completionPerMillion: t.float({ nullable: true, resolve: (pricing) => perMillion(pricing.completionPriceMicros) }),
    cachedPromptPerMillion: t.float({
      nullable: true,
      description: 'Null when cached prompt tokens are charged at the prompt price (or the price is unknown)',
      resolve: (pricing) => perMillion(pricing.cachedPromptPriceMicros),
    }),
    cacheWritePerMillion: t.float({
      nullable: true,
      description:
        'US dollars per million prompt tokens written to the provider’s cache for five minutes; null: charged at the prompt price. One-hour writes cost twice the prompt price',
      resolve: (pricing) => perMillion(pricing.cacheWritePriceMicros ?? null),
    }),
    known: t.boolean({
      description: 'True when both the prompt and the completion price are known, so costs can be computed',
      resolve: (pricing) => pricing.promptPriceMicros !== null && pricing.completionPriceMicros !== null,
    }),
  }),
});

ModelEndpointRef.implement({
  description: 'A model as served by one provider, at that provider’s price',
  fields: (t) => ({
    id: t.exposeID('id', { description: '`<provider>:<provider model id>`' }),
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
    pricing: t.field({ type: PricingRef, description: 'What new requests through this endpoint are charged; recorded generations keep the prices they ran at', resolve: (endpoint) => endpoint }),
    contextLength: t.int({ nullable: true, description: 'Only when this endpoint’s limit differs from the model’s', resolve: (endpoint) => endpoint.contextLength }),
    status: t.field({ type: EndpointStatusEnum, description: 'Only ACTIVE endpoints are routed to', resolve: (endpoint) => endpoint.status }),
    priceSource: t.string({ nullable: true, resolve: (endpoint) => endpoint.priceSource }),
    priceDate: t.field({ type: 'DateTime', nullable: true, description: 'The day the price was read (00:00 UTC)', resolve: (endpoint) => calendarDate(endpoint.priceDate) }),
    editedByAdmin: t.boolean({ description: 'Edited through the API, so seeding at start-up leaves it alone', resolve: (endpoint) => endpoint.editedByAdmin }),
  }),
});

/** Catalog dates are stored as YYYY-MM-DD; clients get the instant that day starts (UTC). */
function calendarDate(value: string | null): number | null {
  if (value === null) return null;
  const instant = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(instant) ? null : instant;
}

type Modality = 'TEXT' | 'IMAGE' | 'AUDIO' | 'FILE' | 'EMBEDDING';

function modalities(values: string[]): Modality[] {
  return values.filter((value): value is Modality => ['TEXT', 'IMAGE', 'AUDIO', 'FILE', 'EMBEDDING'].includes(value));
}

const ModelUsageRef = builder.objectRef<ModelUsageSummary>('ModelUsage').implement({
  description: 'What recorded generations of one model add up to over a time window',
  fields: (t) => ({
    requests: t.field({ type: 'SafeInt', description: 'Finished requests; ones still in flight are left out', resolve: (usage) => usage.requests }),
    errors: t.field({ type: 'SafeInt', description: 'Requests that FAILED or were INTERRUPTED (cancellations are not errors)', resolve: (usage) => usage.errors }),
    promptTokens: t.field({ type: 'SafeInt', resolve: (usage) => usage.promptTokens }),
    completionTokens: t.field({ type: 'SafeInt', resolve: (usage) => usage.completionTokens }),
    costUsd: t.float({ description: 'The sum of the known costs, each at the prices in force when it ran', resolve: (usage) => picosToUsd(usage.costPicos) }),
    costKnown: t.boolean({ description: 'False when some requests used tokens at an unknown price, so costUsd is a lower bound', resolve: (usage) => usage.unpricedRequests === 0 }),
    unpricedRequests: t.field({ type: 'SafeInt', description: 'Requests whose cost is unknown (and missing from costUsd)', resolve: (usage) => usage.unpricedRequests }),
    latencyP50Ms: t.int({ nullable: true, description: 'Median latency of successful requests', resolve: (usage) => usage.latencyP50Ms }),
    latencyP95Ms: t.int({ nullable: true, description: '95th percentile latency of successful requests', resolve: (usage) => usage.latencyP95Ms }),
  }),
});

ModelRef.implement({
  description: 'A model in the catalog, with its limits, capabilities and the endpoints that serve it',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Canonical id, `vendor/name` (`<provider>/<provider model id>` for models added by catalog sync)' }),
    name: t.exposeString('name'),
    vendor: t.exposeString('vendor'),
    description: t.string({ nullable: true, resolve: (model) => model.description }),
    aliases: t.field({ type: ['String'], resolve: (model, _args, context) => context.loaders.aliasesByModel.load(model.id) }),
    contextLength: t.int({
      nullable: true,
      description: 'In tokens; null when unknown (a model added by catalog sync from a listing that gives no limit)',
      // The catalog stores an unknown limit as 0 (the column is NOT NULL and the seed and sync code write 0).
      resolve: (model) => (model.contextLength > 0 ? model.contextLength : null),
    }),
    maxOutputTokens: t.int({ nullable: true, resolve: (model) => model.maxOutputTokens }),
    inputModalities: t.field({ type: [ModalityEnum], resolve: (model) => modalities(model.inputModalities) }),
    outputModalities: t.field({ type: [ModalityEnum], resolve: (model) => modalities(model.outputModalities) }),
    supportedParameters: t.exposeStringList('supportedParameters'),
    releasedAt: t.field({ type: 'DateTime', nullable: true, description: 'The release day (00:00 UTC)', resolve: (model) => calendarDate(model.releasedAt) }),
    editedByAdmin: t.boolean({ description: 'Edited through the API, so seeding at start-up leaves it alone', resolve: (model) => model.editedByAdmin }),
    pricing: t.field({
      type: PricingRef,
      description: 'The prices of the cheapest ACTIVE endpoint with known prices (lowest prompt + completion price); unknown when there is none',
      resolve: async (model, _args, context) => modelPrices(await context.loaders.endpointsByModel.load(model.id)),
    }),
    endpoints: t.field({ type: [ModelEndpointRef], resolve: (model, _args, context) => context.loaders.endpointsByModel.load(model.id) }),
    usage: t.field({
      type: ModelUsageRef,
      description: 'Admin: the recorded generations of this model between `from` (inclusive) and `to` (exclusive); open-ended when omitted',
      authScopes: { admin: true },
      args: { from: t.arg({ type: 'DateTime' }), to: t.arg({ type: 'DateTime' }) },
      resolve: (model, args, context) => context.loaders.modelUsage.load({ modelId: model.id, from: args.from?.getTime() ?? null, to: args.to?.getTime() ?? null }),
    }),
  }),
});

const ModelOrderFieldEnum = builder.enumType('ModelOrderField', {
  description: 'What `models` can be ordered by. Models whose key is unknown (no priced endpoint, no release date, unknown context length) come last in either direction.',
  values: {
    ID: { description: 'Canonical id' },
    NAME: { description: 'Display name, case-insensitively' },
    PRICE: { description: 'Prompt + completion price per million tokens of the cheapest ACTIVE priced endpoint (on the filtered provider, within the price caps)' },
    PROMPT_PRICE: { description: 'The lowest prompt price among the same endpoints' },
    COMPLETION_PRICE: { description: 'The lowest completion price among the same endpoints' },
    CONTEXT_LENGTH: { description: 'Context window in tokens' },
    RELEASED_AT: { description: 'Release date; DESC for newest first' },
  } satisfies Record<(typeof modelSortFields)[number], { description: string }>,
});

export const OrderDirectionEnum = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });

const ModelOrderInput = builder.inputType('ModelOrder', {
  fields: (t) => ({
    field: t.field({ type: ModelOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: 'ASC' }),
  }),
});

const ModelFilterInput = builder.inputType('ModelFilter', {
  description: 'Conditions a model must all meet',
  fields: (t) => ({
    provider: t.id({ description: 'A provider id: has an ACTIVE endpoint on it; price conditions and price ordering then consider this provider’s endpoints only' }),
    vendor: t.string({ description: 'The vendor part of the id, e.g. `openai`' }),
    inputModalities: t.field({ type: [ModalityEnum], description: 'Accepts every one of these' }),
    outputModalities: t.field({ type: [ModalityEnum], description: 'Produces every one of these' }),
    supportedParameters: t.stringList({ description: 'Supports every one of these request parameters (e.g. `tools`, `response_format`)' }),
    minContextLength: t.int({ description: 'Context window of at least this many tokens' }),
    maxPromptPricePerMillion: t.float({
      description: 'Has an ACTIVE endpoint with known prices whose prompt price (US dollars per million tokens) is at most this; with maxCompletionPricePerMillion, the same endpoint must meet both',
    }),
    maxCompletionPricePerMillion: t.float({ description: 'Like maxPromptPricePerMillion, for the completion price' }),
    search: t.string({ description: 'Case-insensitive substring of the id, name, description or an alias' }),
    servable: t.boolean({ description: 'True: only models an enabled provider serves (an ACTIVE endpoint) and the calling key’s allowlist lets it use — what REST /v1/models lists by default' }),
  }),
});

type ModelFilterArgs = typeof ModelFilterInput.$inferInput;

function priceCap(dollars: number | null | undefined, field: string): number | undefined {
  if (dollars === null || dollars === undefined) return undefined;
  if (!Number.isFinite(dollars) || dollars < 0) throw new BadRequestError(`${field} must be a non-negative number`, field);
  return dollarsPerMillionToMicros(dollars);
}

export function toModelListFilter(input: ModelFilterArgs | null | undefined): ModelListFilter {
  if (!input) return {};
  if (input.minContextLength !== null && input.minContextLength !== undefined && input.minContextLength < 0) {
    throw new BadRequestError('minContextLength must not be negative', 'minContextLength');
  }
  const filter: ModelListFilter = {};
  if (input.provider) filter.providerId = input.provider;
  if (input.vendor) filter.vendor = input.vendor;
  if (input.inputModalities?.length) filter.inputModalities = input.inputModalities;
  if (input.outputModalities?.length) filter.outputModalities = input.outputModalities;
  if (input.supportedParameters?.length) filter.supportedParameters = input.supportedParameters;
  if (input.minContextLength !== null && input.minContextLength !== undefined) filter.minContextLength = input.minContextLength;
  const maxPrompt = priceCap(input.maxPromptPricePerMillion, 'maxPromptPricePerMillion');
  if (maxPrompt !== undefined) filter.maxPromptPriceMicros = maxPrompt;
  const maxCompletion = priceCap(input.maxCompletionPricePerMillion, 'maxCompletionPricePerMillion');
  if (maxCompletion !== undefined) filter.maxCompletionPriceMicros = maxCompletion;
  if (input.search) filter.search = input.search;
  return filter;
}

builder.queryFields((t) => ({
  models: t.connection(
    {
      type: ModelRef,
      description: 'The catalog, filtered and ordered in the database, with keyset (cursor) pagination stable under every ordering',
      args: {
        filter: t.arg({ type: ModelFilterInput }),
        orderBy: t.arg({ type: ModelOrderInput, description: 'Defaults to ID ASC; ties are broken by id' }),
      },
      resolve: async (_root, args, context) => {
        for (const name of ['first', 'last'] as const) {
          const size = args[name];
          if (size !== null && size !== undefined && size < 0) throw new BadRequestError(`'${name}' must not be negative`, name);
        }
        const catalog = context.services.storage.catalog;
        const filter = toModelListFilter(args.filter);
        if (args.filter?.servable === true) {
          filter.servable = { providerIds: context.services.registry.ids(), allowed: context.viewer.key?.allowedModels ?? null };
        }
        const order: ModelListOrder = { field: args.orderBy?.field ?? 'ID', direction: args.orderBy?.direction ?? 'ASC' };
        // Decoded before querying so a bad cursor is a BAD_REQUEST, not a page of wrong rows.
        const after = args.after ? decodeModelCursor(args.after, order, 'after') : undefined;
        const before = args.before ? decodeModelCursor(args.before, order, 'before') : undefined;
        const connection = await resolveCursorConnection(
          { args, toCursor: (model: ListedModel) => encodeModelCursor(order, model.sortKey, model.id), defaultSize: 50, maxSize: 200 },
          ({ limit, inverted }: ResolveCursorConnectionArgs) => catalog.listModels({ filter, order, limit, after, before, inverted }),
        );
        return { ...connection, totalCount: () => catalog.countModels(filter) };
      },
    },
    {
      name: 'ModelConnection',
      fields: (t) => ({
        totalCount: t.int({ description: 'Models matching the filter, across all pages', resolve: (connection) => connection.totalCount() }),
      }),
    },
    { name: 'ModelEdge' },
  ),
  model: t.field({
    type: ModelRef,
    nullable: true,
    description: 'A model by canonical id or alias',
    args: { id: t.arg.id({ required: true }) },
    // On PostgreSQL from the instance's snapshot (at most as old as it is); on SQLite from the file, as ever.
    resolve: (_root, args, context) => {
      const { sqlite } = context.services.storage;
      return (sqlite ? findModel(sqlite, String(args.id)) : context.services.catalog.findModel(String(args.id))) ?? null;
    },
  }),
}));

// ---- Admin ----

const ModelEndpointInput = builder.inputType('ModelEndpointInput', {
  description: 'One endpoint, named by provider and provider model id. Omitted fields stay as they are; a price set to null becomes unknown.',
  fields: (t) => ({
    provider: t.id({ required: true }),
    providerModelId: t.string({ required: true }),
    promptPerMillion: t.float({ description: 'US dollars per million prompt tokens' }),
    completionPerMillion: t.float({ description: 'US dollars per million completion tokens' }),
    cachedPromptPerMillion: t.float({ description: 'US dollars per million cached prompt tokens; null: charged at the prompt price' }),
    cacheWritePerMillion: t.float({ description: 'US dollars per million prompt tokens written to the cache for five minutes; null: charged at the prompt price' }),
    contextLength: t.int({ description: 'Only when this endpoint’s limit differs from the model’s' }),
    status: t.field({ type: EndpointStatusEnum }),
  }),
});

const ModelInput = builder.inputType('ModelInput', {
  description: 'A catalog model to create or edit. Omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Canonical id; a new one is `vendor/name`' }),
    name: t.string({ description: 'Defaults to the part of the id after the slash for a new model' }),
    description: t.string(),
    contextLength: t.int({ description: 'In tokens; required for a new model; null: unknown' }),
    maxOutputTokens: t.int(),
    inputModalities: t.field({ type: [ModalityEnum], description: 'TEXT for a new model unless given' }),
    outputModalities: t.field({ type: [ModalityEnum], description: 'TEXT for a new model unless given' }),
    supportedParameters: t.stringList(),
    releasedAt: t.string({ description: 'The release day, YYYY-MM-DD (read back as a DateTime at 00:00 UTC); null: unknown' }),
    aliases: t.stringList({ description: 'Aliases to point at this model, moved from another model if they named one; existing aliases are kept' }),
    endpoints: t.field({ type: [ModelEndpointInput], description: 'Endpoints to create or edit' }),
  }),
});

builder.mutationFields((t) => ({
  upsertModel: t.field({
    type: ModelRef,
    description: 'Admin: creates or edits a catalog model, its aliases and endpoints. Edited rows are marked so that seeding at start-up leaves them alone.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: ModelInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      // The snapshot this instance holds: a writer reloads it after each change, so it is this instance's last word.
      const before = context.services.catalog.findModel(String(input.id)) ?? null;
      const model = await upsertModel(context.services, {
        ...input,
        id: String(input.id),
        // The catalog stores an unknown context length as 0; the schema speaks of it as null.
        ...(input.contextLength === null ? { contextLength: 0 } : {}),
        endpoints: input.endpoints?.map((endpoint) => ({ ...endpoint, provider: String(endpoint.provider) })) ?? null,
      });
      // Every instance's routing snapshot drops what it held; this one's reloads before the answer.
      context.services.feed.publish('catalog');
      await context.services.catalog.refresh();
      await auditChange(context, before ? 'model.update' : 'model.create', 'model', model.id, before, model);
      return model;
    },
  }),
  updateModelEndpoint: t.field({
    type: ModelEndpointRef,
    description: 'Admin: changes an existing endpoint’s prices, status or context length. New prices apply to new requests only; recorded generations keep the prices they ran at.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: ModelEndpointInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      const { sqlite } = context.services.storage;
      const before = (sqlite ? findEndpoint(sqlite, String(input.provider), input.providerModelId) : context.services.catalog.findEndpoint(String(input.provider), input.providerModelId)) ?? null;
      const endpoint = await updateModelEndpoint(context.services, { ...input, provider: String(input.provider) });
      context.services.feed.publish('catalog');
      await context.services.catalog.refresh();
      await auditChange(context, 'model_endpoint.update', 'model_endpoint', endpoint.id, before, endpoint);
      return endpoint;
    },
  }),
}));
