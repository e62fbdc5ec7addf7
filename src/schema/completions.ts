import { builder } from '../builder.js';
import type { Caller, CompletionEvent, CompletionInput, CompletionResult, PricedUsage, ProviderPreferences, ToolCallDelta } from '../completions/types.js';
import type { Context } from '../context.js';
import type { ModelRow, ProviderRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';
import type { CacheControl, ContentPart, FinishReason, Message, ResponseFormat, TokenLogprob, ToolCall, ToolChoice } from '../providers/types.js';
import { asCallerError } from '../providers/caller-error.js';
import { picosToUsd } from '../money.js';
import { ErrorCodeEnum } from './error-codes.js';
import { ModelRef } from './models.js';
import { ProviderRef } from './providers.js';

// ---- Enums ----

export const RoleEnum = builder.enumType('Role', {
  values: {
    SYSTEM: { value: 'system' },
    // OpenAI's newer name for system instructions. Providers know one instruction role, so DEVELOPER becomes the
    // normalized 'system' message here, at the schema edge (see toMessage).
    DEVELOPER: { value: 'developer', description: 'Instructions, as OpenAI’s newer models name them; sent as SYSTEM' },
    USER: { value: 'user' },
    ASSISTANT: { value: 'assistant' },
    TOOL: { value: 'tool' },
  } as const,
});

export const FinishReasonEnum = builder.enumType('FinishReason', {
  values: {
    STOP: { value: 'stop' },
    LENGTH: { value: 'length' },
    TOOL_CALLS: { value: 'tool_calls' },
    CONTENT_FILTER: { value: 'content_filter' },
    ERROR: { value: 'error' },
    CANCELLED: { value: 'cancelled' },
  } as const,
});

const ContentPartTypeEnum = builder.enumType('ContentPartType', { values: ['TEXT', 'IMAGE_URL'] as const });
const ImageDetailEnum = builder.enumType('ImageDetail', { values: { AUTO: { value: 'auto' }, LOW: { value: 'low' }, HIGH: { value: 'high' } } as const });
export const ResponseFormatTypeEnum = builder.enumType('ResponseFormatType', { values: ['TEXT', 'JSON_OBJECT', 'JSON_SCHEMA'] as const });

export const ToolChoiceModeEnum = builder.enumType('ToolChoiceMode', {
  values: {
    AUTO: { description: 'The model decides whether to call a tool' },
    NONE: { description: 'The model must not call a tool' },
    REQUIRED: { description: 'The model must call a tool (the one named by `tool`, when given)' },
  } as const,
});

// ---- Inputs ----

const CacheTtlEnum = builder.enumType('CacheTtl', {
  values: {
    FIVE_MINUTES: { value: '5m', description: 'The default; a write costs Pricing.cacheWritePerMillion' },
    ONE_HOUR: { value: '1h', description: 'A write costs twice the prompt price' },
  } as const,
});

const CacheControlInput = builder.inputType('CacheControlInput', {
  description:
    'A prompt-cache breakpoint: the prompt up to and including what carries it may be cached by providers that cache explicitly (Anthropic, and others through OpenRouter); others cache on their own and ignore it',
  fields: (t) => ({ ttl: t.field({ type: CacheTtlEnum, description: 'Default FIVE_MINUTES' }) }),
});

type CacheControlShape = { ttl?: '5m' | '1h' | null } | null | undefined;

function toCacheControl(cache: CacheControlShape): { cacheControl?: CacheControl } {
  if (cache === null || cache === undefined) return {};
  return { cacheControl: cache.ttl ? { type: 'ephemeral', ttl: cache.ttl } : { type: 'ephemeral' } };
}

const ContentPartInput = builder.inputType('ContentPartInput', {
  fields: (t) => ({
    type: t.field({ type: ContentPartTypeEnum, required: true }),
    text: t.string(),
    imageUrl: t.string({ description: 'An https URL or a data:image/…;base64 URL' }),
    detail: t.field({ type: ImageDetailEnum }),
    cacheControl: t.field({ type: CacheControlInput }),
  }),
});

const ToolCallInput = builder.inputType('ToolCallInput', {
  fields: (t) => ({
    id: t.string({ required: true }),
    name: t.string({ required: true }),
    arguments: t.string({ required: true, description: 'The arguments as a JSON text' }),
  }),
});

const MessageInput = builder.inputType('MessageInput', {
  fields: (t) => ({
    role: t.field({ type: RoleEnum, required: true }),
    content: t.string(),
    parts: t.field({ type: [ContentPartInput], description: 'Text and image parts (user messages)' }),
    toolCallId: t.string({ description: 'For TOOL messages: the call this answers' }),
    toolCalls: t.field({ type: [ToolCallInput], description: 'For ASSISTANT messages: the calls it made' }),
    cacheControl: t.field({ type: CacheControlInput, description: 'A cache breakpoint after `content` (SYSTEM, DEVELOPER, TOOL and USER messages; a USER message’s parts carry their own)' }),
  }),
});

const ToolChoiceInput = builder.inputType('ToolChoiceInput', {
  description: 'Whether and which tool the model must call: a mode, or a tool by name (which implies REQUIRED)',
  fields: (t) => ({
    mode: t.field({ type: ToolChoiceModeEnum, description: 'Omitted with `tool` set: REQUIRED' }),
    tool: t.string({ description: 'The name of one of `tools`, which the model must call' }),
  }),
});

const ToolInput = builder.inputType('ToolInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    parameters: t.field({ type: 'JSON', description: 'A JSON Schema object for the arguments' }),
    strict: t.boolean(),
    cacheControl: t.field({ type: CacheControlInput, description: 'A cache breakpoint after the tools up to this one' }),
  }),
});

const ResponseFormatInput = builder.inputType('ResponseFormatInput', {
  fields: (t) => ({
    type: t.field({ type: ResponseFormatTypeEnum, required: true }),
    name: t.string(),
    schema: t.field({ type: 'JSON' }),
    strict: t.boolean(),
  }),
});

const ProviderSortEnum = builder.enumType('ProviderSort', {
  description: 'What to rank a model’s endpoints by, instead of the configured strategy',
  values: {
    PRICE: { value: 'price', description: 'Cheapest first, for the prompt and the expected completion (maxTokens, else 256 tokens)' },
    LATENCY: { value: 'latency', description: 'Fastest first by a moving average of recent latency (time to first token for streams)' },
    THROUGHPUT: { value: 'throughput', description: 'Most completion tokens per second first' },
  } as const,
});

const HedgeInput = builder.inputType('HedgeInput', {
  description: 'Start a second attempt on the next endpoint when the first has produced no token after a delay; the first token wins, the other is aborted',
  fields: (t) => ({
    enabled: t.boolean({ description: 'False turns hedging off for this request when the gateway hedges by default' }),
    delayMs: t.int({ description: 'Omitted: the first endpoint’s recent p95 time to first token' }),
  }),
});

const ProviderPreferencesInput = builder.inputType('ProviderPreferences', {
  description: 'How to choose among the endpoints (providers) that serve the model',
  fields: (t) => ({
    order: t.stringList({ description: 'Provider ids to try first, in this order' }),
    allowFallbacks: t.boolean({ description: 'False: only the providers in `order` (or the first choice) are tried. Default true' }),
    sort: t.field({ type: ProviderSortEnum }),
    only: t.stringList({ description: 'Use only these provider ids' }),
    ignore: t.stringList({ description: 'Never use these provider ids' }),
    hedge: t.field({ type: HedgeInput }),
  }),
});

const CacheInput = builder.inputType('CacheInput', {
  description: 'The exact-match response cache: identical requests that opted in are answered without calling a provider',
  fields: (t) => ({
    ttlSeconds: t.int({ description: 'Keep the answer this many seconds for identical requests; 0 does not store it (over the key’s default)' }),
    bypass: t.boolean({ description: 'Skip the lookup and ask a provider; with a TTL the fresh answer replaces the cached one' }),
  }),
});

const CacheStatusEnum = builder.enumType('CacheStatus', {
  description: 'What the response cache did for a request that opted in',
  values: {
    HIT: { description: 'Answered from the cache; no provider was called' },
    MISS: { description: 'Not in the cache: a provider answered (and the answer was stored)' },
    BYPASS: { description: 'The lookup was skipped (bypass: true)' },
  } as const,
});

const ReasoningEffortEnum = builder.enumType('ReasoningEffort', {
  values: { NONE: { value: 'none' }, MINIMAL: { value: 'minimal' }, LOW: { value: 'low' }, MEDIUM: { value: 'medium' }, HIGH: { value: 'high' } } as const,
});

export const CompletionInputRef = builder.inputType('CompletionInput', {
  fields: (t) => ({
    model: t.string({ required: true, description: 'A catalog id, an alias, or `<provider>/<provider model id>`' }),
    models: t.stringList({ description: 'Fallback models, tried in order after `model`' }),
    messages: t.field({ type: [MessageInput], required: true }),
    maxTokens: t.int(),
    temperature: t.float(),
    topP: t.float(),
    stop: t.stringList(),
    seed: t.int(),
    tools: t.field({ type: [ToolInput] }),
    toolChoice: t.field({ type: ToolChoiceInput }),
    responseFormat: t.field({ type: ResponseFormatInput }),
    provider: t.field({ type: ProviderPreferencesInput, description: 'Routing preferences: order, allowFallbacks, sort, only, ignore, hedge' }),
    metadata: t.field({ type: 'JSON', description: 'Your own data, kept on the generation' }),
    user: t.string({ description: 'Your end user’s id: kept on the generation (generations(filter: {user}), usage groupBy USER) and passed to providers that take one' }),
    reasoningEffort: t.field({ type: ReasoningEffortEnum, description: 'OpenAI’s reasoning effort; a thinking budget for Anthropic and Gemini (README: Parameters)' }),
    presencePenalty: t.float(),
    frequencyPenalty: t.float(),
    logitBias: t.field({ type: 'JSON', description: 'Token id → bias from -100 to 100' }),
    parallelToolCalls: t.boolean({ description: 'False: at most one tool call per turn' }),
    serviceTier: t.string({ description: 'OpenAI’s processing tier (auto, default, flex, priority); only the default tier is priced' }),
    store: t.boolean({ description: 'OpenAI’s store: the provider keeps the completion' }),
    n: t.int({ description: 'How many choices, where the provider supports it: Completion.choices lists them all, Completion.message is the first' }),
    logprobs: t.boolean({ description: 'Return token log probabilities (Completion.choices[].logprobs)' }),
    topLogprobs: t.int({ description: '0–20 alternatives per token' }),
    strict: t.boolean({ description: 'Refuse (BAD_REQUEST naming the field) a parameter the provider cannot honour, instead of dropping it with a warning' }),
    cache: t.field({ type: CacheInput, description: 'Response cache: a TTL opts the request in; omitted, the key’s default TTL applies' }),
  }),
});

type CompletionInputShape = typeof CompletionInputRef.$inferInput;
type MessageShape = CompletionInputShape['messages'][number];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toContentParts(message: MessageShape, field: string): ContentPart[] {
  const parts: ContentPart[] = [];
  if (message.content) parts.push({ type: 'text', text: message.content, ...toCacheControl(message.cacheControl) });
  for (const [index, part] of (message.parts ?? []).entries()) {
    if (part.type === 'TEXT') {
      if (typeof part.text !== 'string') throw new BadRequestError(`${field}.parts[${index}].text is required for a TEXT part`, `${field}.parts[${index}].text`);
      parts.push({ type: 'text', text: part.text, ...toCacheControl(part.cacheControl) });
    } else {
      if (!part.imageUrl) throw new BadRequestError(`${field}.parts[${index}].imageUrl is required for an IMAGE_URL part`, `${field}.parts[${index}].imageUrl`);
      parts.push({ type: 'image', url: part.imageUrl, ...(part.detail ? { detail: part.detail } : {}), ...toCacheControl(part.cacheControl) });
    }
  }
  return parts;
}

function toMessage(message: MessageShape, index: number): Message {
  const field = `messages[${index}]`;
  switch (message.role) {
    case 'system':
    case 'developer':
      if (!message.content) throw new BadRequestError(`${field}.content is required for a ${message.role === 'system' ? 'SYSTEM' : 'DEVELOPER'} message`, `${field}.content`);
      return { role: 'system', content: message.content, ...toCacheControl(message.cacheControl) };
    case 'user':
      return { role: 'user', content: toContentParts(message, field) };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content ?? null,
        toolCalls: (message.toolCalls ?? []).map((call): ToolCall => ({ id: call.id, name: call.name, arguments: call.arguments })),
      };
    case 'tool':
      return { role: 'tool', toolCallId: message.toolCallId ?? '', content: message.content ?? '', ...toCacheControl(message.cacheControl) };
  }
}

function toToolChoice(choice: NonNullable<CompletionInputShape['toolChoice']>): ToolChoice {
  const { mode, tool } = choice;
  if (tool !== null && tool !== undefined) {
    if (mode && mode !== 'REQUIRED') throw new BadRequestError(`toolChoice.tool cannot be combined with mode ${mode}`, 'toolChoice.mode');
    return { type: 'tool', name: tool };
  }
  if (!mode) throw new BadRequestError('toolChoice needs a mode or a tool', 'toolChoice');
  return { type: mode === 'AUTO' ? 'auto' : mode === 'NONE' ? 'none' : 'required' };
}

function toResponseFormat(format: NonNullable<CompletionInputShape['responseFormat']>): ResponseFormat {
  if (format.type === 'TEXT') return { type: 'text' };
  if (format.type === 'JSON_OBJECT') return { type: 'json_object' };
  if (!isObject(format.schema)) throw new BadRequestError('responseFormat.schema must be a JSON Schema object for JSON_SCHEMA', 'responseFormat.schema');
  return { type: 'json_schema', name: format.name ?? 'response', schema: format.schema, ...(format.strict != null ? { strict: format.strict } : {}) };
}

function toProviderPreferences(provider: NonNullable<CompletionInputShape['provider']>): ProviderPreferences {
  const preferences: ProviderPreferences = {};
  if (provider.order) preferences.order = provider.order;
  if (provider.allowFallbacks != null) preferences.allowFallbacks = provider.allowFallbacks;
  if (provider.sort) preferences.sort = provider.sort;
  if (provider.only) preferences.only = provider.only;
  if (provider.ignore) preferences.ignore = provider.ignore;
  if (provider.hedge) {
    const { enabled, delayMs } = provider.hedge;
    if (delayMs != null && (delayMs < 0 || delayMs > 600_000)) throw new BadRequestError('provider.hedge.delayMs must be between 0 and 600000', 'provider.hedge.delayMs');
    preferences.hedge = { ...(enabled != null ? { enabled } : {}), ...(delayMs != null ? { delayMs } : {}) };
  }
  return preferences;
}

/** The GraphQL input in the service's terms; null GraphQL values become absent. */
export function toCompletionInput(input: CompletionInputShape): CompletionInput {
  const result: CompletionInput = { model: input.model, messages: input.messages.map(toMessage) };
  if (input.models) result.models = input.models;
  if (input.maxTokens != null) result.maxTokens = input.maxTokens;
  if (input.temperature != null) result.temperature = input.temperature;
  if (input.topP != null) result.topP = input.topP;
  if (input.stop) result.stop = input.stop;
  if (input.seed != null) result.seed = input.seed;
  if (input.tools) {
    result.tools = input.tools.map((tool, index) => {
      const parameters = tool.parameters ?? { type: 'object', properties: {} };
      if (!isObject(parameters)) throw new BadRequestError(`tools[${index}].parameters must be a JSON Schema object`, `tools[${index}].parameters`);
      return {
        name: tool.name,
        parameters,
        ...(tool.description ? { description: tool.description } : {}),
        ...(tool.strict != null ? { strict: tool.strict } : {}),
        ...toCacheControl(tool.cacheControl),
      };
    });
  }
  if (input.toolChoice) result.toolChoice = toToolChoice(input.toolChoice);
  if (input.responseFormat) result.responseFormat = toResponseFormat(input.responseFormat);
  if (input.metadata != null) {
    if (!isObject(input.metadata)) throw new BadRequestError('metadata must be a JSON object', 'metadata');
    result.metadata = input.metadata;
  }
  if (input.provider) result.provider = toProviderPreferences(input.provider);
  if (input.user != null) result.user = input.user;
  if (input.reasoningEffort != null) result.reasoningEffort = input.reasoningEffort;
  if (input.presencePenalty != null) result.presencePenalty = input.presencePenalty;
  if (input.frequencyPenalty != null) result.frequencyPenalty = input.frequencyPenalty;
  if (input.logitBias != null) {
    const bias = input.logitBias;
    if (!isObject(bias) || Object.values(bias).some((value) => typeof value !== 'number')) throw new BadRequestError('logitBias must be an object of token ids to numbers', 'logitBias');
    result.logitBias = Object.fromEntries(Object.entries(bias).map(([token, value]) => [token, Number(value)]));
  }
  if (input.parallelToolCalls != null) result.parallelToolCalls = input.parallelToolCalls;
  if (input.serviceTier != null) result.serviceTier = input.serviceTier;
  if (input.store != null) result.store = input.store;
  if (input.n != null) result.n = input.n;
  if (input.logprobs != null) result.logprobs = input.logprobs;
  if (input.topLogprobs != null) result.topLogprobs = input.topLogprobs;
  if (input.strict != null) result.strict = input.strict;
  if (input.cache) {
    const { ttlSeconds, bypass } = input.cache;
    result.cache = { ...(ttlSeconds != null ? { ttlSeconds } : {}), ...(bypass != null ? { bypass } : {}) };
  }
  return result;
}

export function callerOf(context: Context): Caller {
  return { apiKeyId: context.viewer.apiKeyId, requestId: context.requestId, key: context.viewer.key, ...(context.trace ? { trace: context.trace } : {}) };
}

// ---- Outputs ----

export const UsageRef = builder.objectRef<PricedUsage>('Usage').implement({
  fields: (t) => ({
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    totalTokens: t.exposeInt('totalTokens'),
    cachedPromptTokens: t.exposeInt('cachedPromptTokens', { description: 'Prompt tokens read from the provider’s cache (part of promptTokens)' }),
    cacheWriteTokens: t.int({ description: 'Prompt tokens written to the provider’s cache, at any lifetime (part of promptTokens)', resolve: (usage) => usage.cacheWriteTokens ?? 0 }),
    cacheWrite1hTokens: t.int({ description: 'The part of cacheWriteTokens written for one hour', resolve: (usage) => usage.cacheWrite1hTokens ?? 0 }),
    reasoningTokens: t.exposeInt('reasoningTokens'),
    costUsd: t.float({ nullable: true, description: 'Exact cost in US dollars; null when a price is unknown', resolve: (usage) => (usage.costPicos === null ? null : picosToUsd(usage.costPicos)) }),
    costKnown: t.boolean({ description: 'Whether costUsd is known: the same as `costUsd != null`, kept for clients that test a flag', resolve: (usage) => usage.costPicos !== null }),
    estimated: t.exposeBoolean('estimated', { description: 'Counted by the gateway’s tokenizer because the provider reported no usage' }),
  }),
});

const ToolCallRef = builder.objectRef<ToolCall>('ToolCall').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    name: t.exposeString('name'),
    arguments: t.exposeString('arguments', { description: 'The arguments as a JSON text' }),
  }),
});

interface MessageShapeOut {
  content: string | null;
  reasoning: string | null;
  toolCalls: ToolCall[];
}

const MessageRef = builder.objectRef<MessageShapeOut>('Message').implement({
  fields: (t) => ({
    role: t.field({ type: RoleEnum, resolve: () => 'assistant' as const }),
    content: t.string({ nullable: true, resolve: (message) => message.content }),
    reasoning: t.string({ nullable: true, resolve: (message) => message.reasoning }),
    toolCalls: t.field({ type: [ToolCallRef], resolve: (message) => message.toolCalls }),
  }),
});

/** What an answer says served it: the service's served model, with its catalog row when it has one. */
interface Served {
  servedModel: string;
  model: ModelRow | null;
  providerId: string;
  providerModelId: string;
}

/**
 * The model that served, as a Model. A model addressed directly (`provider/model`) that the catalog does not list
 * still needs a Model to show; its id is the service's `servedModel`, so GraphQL and REST name it alike.
 */
function servingModel({ servedModel, model, providerId, providerModelId }: Served): ModelRow {
  if (model) return model;
  return {
    id: servedModel,
    vendor: providerId,
    name: providerModelId,
    description: 'Not in the catalog: addressed directly on its provider',
    contextLength: 0,
    maxOutputTokens: null,
    inputModalities: ['TEXT'],
    outputModalities: ['TEXT'],
    supportedParameters: [],
    releasedAt: null,
    editedByAdmin: false,
    createdAt: 0,
    updatedAt: 0,
  };
}

async function loadProvider(context: Context, id: string): Promise<ProviderRow> {
  const provider = await context.loaders.provider.load(id);
  if (!provider) throw new Error(`provider ${id} is missing from the catalog`);
  return provider;
}

const SERVING_MODEL_DESCRIPTION = 'The model that served: after a fallback, the fallback model. The model asked for is the generation’s requestedModel';

const TopLogprobRef = builder.objectRef<TokenLogprob['topLogprobs'][number]>('TopLogprob').implement({
  fields: (t) => ({
    token: t.exposeString('token'),
    logprob: t.exposeFloat('logprob'),
    bytes: t.intList({ nullable: true, resolve: (entry) => entry.bytes }),
  }),
});

const TokenLogprobRef = builder.objectRef<TokenLogprob>('TokenLogprob').implement({
  fields: (t) => ({
    token: t.exposeString('token'),
    logprob: t.exposeFloat('logprob'),
    bytes: t.intList({ nullable: true, resolve: (entry) => entry.bytes }),
    topLogprobs: t.field({ type: [TopLogprobRef], resolve: (entry) => entry.topLogprobs }),
  }),
});

interface ChoiceOut {
  index: number;
  message: MessageShapeOut;
  finishReason: FinishReason;
  logprobs: TokenLogprob[] | null;
}

const CompletionChoiceRef = builder.objectRef<ChoiceOut>('CompletionChoice').implement({
  description: 'One of the choices `n` asked for; the first is the completion’s own message',
  fields: (t) => ({
    index: t.exposeInt('index'),
    message: t.field({ type: MessageRef, resolve: (choice) => choice.message }),
    finishReason: t.field({ type: FinishReasonEnum, resolve: (choice) => choice.finishReason }),
    logprobs: t.field({ type: [TokenLogprobRef], nullable: true, description: 'Null unless logprobs were asked for and the provider gave them', resolve: (choice) => choice.logprobs }),
  }),
});

function choicesOf(result: CompletionResult): ChoiceOut[] {
  const first: ChoiceOut = { index: 0, message: result, finishReason: result.finishReason, logprobs: result.logprobs ?? null };
  return [first, ...(result.choices ?? []).map((choice, offset) => ({ index: offset + 1, message: { ...choice, reasoning: null }, finishReason: choice.finishReason, logprobs: choice.logprobs ?? null }))];
}

const CompletionRef = builder.objectRef<CompletionResult>('Completion').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The generation id, for generation(id)' }),
    model: t.field({ type: ModelRef, description: SERVING_MODEL_DESCRIPTION, resolve: servingModel }),
    provider: t.field({ type: ProviderRef, resolve: (result, _args, context) => loadProvider(context, result.providerId) }),
    providerModelId: t.exposeString('providerModelId'),
    message: t.field({ type: MessageRef, resolve: (result) => result }),
    finishReason: t.field({ type: FinishReasonEnum, resolve: (result): FinishReason => result.finishReason }),
    rawFinishReason: t.string({ nullable: true, resolve: (result) => result.rawFinishReason }),
    usage: t.field({ type: UsageRef, resolve: (result) => result.usage }),
    latencyMs: t.exposeInt('latencyMs'),
    warnings: t.exposeStringList('warnings', { description: 'Request settings the provider could not honour' }),
    cache: t.field({ type: CacheStatusEnum, nullable: true, description: 'What the response cache did; null when the request did not opt in', resolve: (result) => result.cacheStatus }),
    logprobs: t.field({
      type: [TokenLogprobRef],
      nullable: true,
      description: 'The first choice’s token log probabilities (choices[0].logprobs), one list level shallower so topLogprobs fits the query cost limit; null unless asked for and given',
      resolve: (result) => result.logprobs ?? null,
    }),
    choices: t.field({ type: [CompletionChoiceRef], description: 'Every choice, the first being `message`: more than one when `n` > 1 was honoured', resolve: choicesOf }),
    serviceTier: t.string({ nullable: true, description: 'The service tier that served and priced the request, where one was sent', resolve: (result) => result.serviceTier ?? null }),
  }),
});

type Started = Extract<CompletionEvent, { type: 'started' }>;
type Delta = Extract<CompletionEvent, { type: 'delta' }>;
type Done = Extract<CompletionEvent, { type: 'done' }>;
type Failed = Extract<CompletionEvent, { type: 'error' }>;

const CompletionStartedRef = builder.objectRef<Started>('CompletionStarted').implement({
  isTypeOf: (value) => (value as CompletionEvent).type === 'started',
  fields: (t) => ({
    id: t.exposeID('id'),
    model: t.field({ type: ModelRef, description: SERVING_MODEL_DESCRIPTION, resolve: servingModel }),
    provider: t.field({ type: ProviderRef, resolve: (event, _args, context) => loadProvider(context, event.providerId) }),
    warnings: t.exposeStringList('warnings'),
    cache: t.field({ type: CacheStatusEnum, nullable: true, description: 'What the response cache did; null when the request did not opt in', resolve: (event) => event.cacheStatus }),
  }),
});

const ToolCallDeltaRef = builder.objectRef<ToolCallDelta>('ToolCallDelta').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    id: t.string({ nullable: true, resolve: (delta) => delta.id ?? null }),
    name: t.string({ nullable: true, resolve: (delta) => delta.name ?? null }),
    argumentsDelta: t.exposeString('argumentsDelta'),
  }),
});

const CompletionDeltaRef = builder.objectRef<Delta>('CompletionDelta').implement({
  isTypeOf: (value) => (value as CompletionEvent).type === 'delta',
  fields: (t) => ({
    id: t.exposeID('id'),
    text: t.exposeString('text'),
    reasoning: t.exposeString('reasoning'),
    reasoningSignature: t.string({
      nullable: true,
      description: 'Closes the reasoning streamed so far: the provider’s proof that it is unaltered (Anthropic’s thinking signature), needed to hand it back in a later turn',
      resolve: (event) => event.reasoningSignature ?? null,
    }),
    redactedReasoning: t.string({ nullable: true, description: 'A block of reasoning the provider sent encrypted, to be handed back as it came', resolve: (event) => event.redactedReasoning ?? null }),
    toolCalls: t.field({ type: [ToolCallDeltaRef], resolve: (event) => event.toolCalls }),
    logprobs: t.field({ type: [TokenLogprobRef], nullable: true, description: 'The log probabilities of this text’s tokens, when asked for (CompletionInput.logprobs) and given', resolve: (event) => event.logprobs ?? null }),
  }),
});

const CompletionDoneRef = builder.objectRef<Done>('CompletionDone').implement({
  isTypeOf: (value) => (value as CompletionEvent).type === 'done',
  fields: (t) => ({
    id: t.exposeID('id'),
    finishReason: t.field({ type: FinishReasonEnum, resolve: (event): FinishReason => event.finishReason }),
    rawFinishReason: t.string({ nullable: true, resolve: (event) => event.rawFinishReason }),
    usage: t.field({ type: UsageRef, resolve: (event) => event.usage }),
    latencyMs: t.exposeInt('latencyMs'),
  }),
});

const CompletionErrorRef = builder.objectRef<Failed>('CompletionError').implement({
  description: 'The stream failed after it started; always the last event. The generation is recorded with the usage so far.',
  isTypeOf: (value) => (value as CompletionEvent).type === 'error',
  fields: (t) => ({
    id: t.exposeID('id'),
    // Read as a caller sees it, like extensions.code: a stream whose every attempt was rate limited is RATE_LIMITED.
    code: t.field({ type: ErrorCodeEnum, description: 'The error code, as in extensions.code', resolve: (event) => asCallerError(event.error).code }),
    retryAfterMs: t.int({
      nullable: true,
      description: 'With RATE_LIMITED: how long to wait before trying again, when known (the provider’s Retry-After)',
      resolve: (event) => {
        const extensions = asCallerError(event.error).extensions();
        return typeof extensions['retryAfterMs'] === 'number' ? extensions['retryAfterMs'] : null;
      },
    }),
    message: t.string({ resolve: (event) => event.error.message }),
    usage: t.field({ type: UsageRef, resolve: (event) => event.usage }),
  }),
});

const EVENT_TYPE_NAMES = { started: 'CompletionStarted', delta: 'CompletionDelta', done: 'CompletionDone', error: 'CompletionError' } as const;

const CompletionEventRef = builder.unionType('CompletionEvent', {
  types: [CompletionStartedRef, CompletionDeltaRef, CompletionDoneRef, CompletionErrorRef],
  // The compiled executor (graphql-jit) resolves a union's member by resolveType, not by each member's isTypeOf;
  // one lookup per event is also cheaper than trying the members in turn.
  resolveType: (event) => EVENT_TYPE_NAMES[event.type],
});

builder.mutationFields((t) => ({
  createCompletion: t.field({
    type: CompletionRef,
    authScopes: { completions: true },
    args: { input: t.arg({ type: CompletionInputRef, required: true }) },
    resolve: (_root, args, context) => context.services.completions.complete(toCompletionInput(args.input), callerOf(context), context.signal),
  }),
}));

builder.subscriptionFields((t) => ({
  completionStream: t.field({
    type: CompletionEventRef,
    authScopes: { completions: true },
    description: 'Streams a completion: CompletionStarted, CompletionDelta…, then CompletionDone (or CompletionError). Unsubscribing cancels it upstream.',
    args: { input: t.arg({ type: CompletionInputRef, required: true }) },
    subscribe: (_root, args, context) => context.services.completions.openStream(toCompletionInput(args.input), callerOf(context), context.signal),
    resolve: (event: CompletionEvent) => event,
  }),
}));
