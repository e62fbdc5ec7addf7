import { z, type ZodIssue } from 'zod';
import type { CompletionInput, ProviderPreferences } from '../completions/types.js';
import { BadRequestError, fieldPathText } from '../errors.js';
import type { CacheControl, ContentPart, Message, ResponseFormat, ToolCall, ToolChoice, ToolDefinition } from '../providers/types.js';
import type { MaxTokensParam } from './param-names.js';
import { mostSpecific } from './zod-issues.js';

/**
 * The OpenAI Chat Completions request, only as far as Switchboard uses it: unknown fields are dropped, and the
 * fields that would change the answer in a way we cannot honour are declared so they can be refused by name.
 */

/** OpenRouter's convention (Anthropic's breakpoint on a content part), which its SDK users already send. */
const cacheControl = z.object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).nullish() });
const textPart = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControl.nullish() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).nullish() }),
  cache_control: cacheControl.nullish(),
});
// Declared only to be refused with a clear message rather than a generic "invalid discriminator".
const audioPart = z.object({ type: z.literal('input_audio') });
const filePart = z.object({ type: z.literal('file') });
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

const textContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textContent }),
  z.object({ role: z.literal('developer'), content: textContent }),
  z.object({ role: z.literal('user'), content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imagePart, audioPart, filePart]))]) }),
  z.object({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, refusalPart]))]).nullish(),
    tool_calls: z.array(toolCall).nullish(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string(), content: textContent }),
  z.object({ role: z.literal('function') }),
]);

const tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({ name: z.string(), schema: z.record(z.unknown()).nullish(), strict: z.boolean().nullish(), description: z.string().nullish() }),
  }),
]);

const maxTokens = z.number().int().positive().nullish();

const providerIds = z.array(z.string().min(1));

const providerPreferences = z.object({
  order: providerIds.nullish(),
  allow_fallbacks: z.boolean().nullish(),
  sort: z.enum(['price', 'latency', 'throughput']).nullish(),
  only: providerIds.nullish(),
  ignore: providerIds.nullish(),
  /** Switchboard's own: hedge after `delay_ms` without a first token (absent: the endpoint's recent p95). */
  hedge: z.union([z.boolean(), z.object({ delay_ms: z.number().int().min(0).max(600_000).nullish(), enabled: z.boolean().nullish() })]).nullish(),
});

export const chatCompletionRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(message),
  /** Switchboard: fallback models, tried in order after `model`. */
  models: z.array(z.string().min(1)).nullish(),
  /** Switchboard: provider preferences, OpenRouter's shape; fields we do not act on (data_collection…) are dropped. */
  provider: providerPreferences.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  max_tokens: maxTokens,
  max_completion_tokens: maxTokens,
  seed: z.number().int().nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  response_format: responseFormat.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().nullish(),
  metadata: z.record(z.unknown()).nullish(),
  // Passed to providers that take them; the others warn, or refuse under x-switchboard-strict (README's parameter table).
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logit_bias: z.record(z.number()).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']).nullish(),
  service_tier: z.string().nullish(),
  store: z.boolean().nullish(),
  n: z.number().int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().nullish(),
  // Refused when they ask for something we would silently not do.
  audio: z.unknown(),
  modalities: z.array(z.string()).nullish(),
  functions: z.unknown(),
  function_call: z.unknown(),
  web_search_options: z.unknown(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export interface ParsedChatRequest {
  input: CompletionInput;
  stream: boolean;
  includeUsage: boolean;
  /** Which of OpenAI's two names for maxTokens the caller sent, so an error about it names that one. */
  maxTokensParam: MaxTokensParam;
}

/** When no branch of a union got further than the union itself, the types it would have taken say the most. */
function describe(issue: ZodIssue): string {
  if (issue.code !== 'invalid_union') return issue.message;
  const expected = new Set<string>();
  let received: string | undefined;
  for (const branch of issue.unionErrors) {
    for (const inner of branch.issues) {
      if (inner.code === 'invalid_type' && inner.path.length === issue.path.length) {
        expected.add(inner.expected);
        received = inner.received;
      }
    }
  }
  if (expected.size === 0) return issue.message;
  return `Expected ${[...expected].join(' or ')}${received ? `, received ${received}` : ''}`;
}

function invalid(issue: ZodIssue): BadRequestError {
  const specific = mostSpecific(issue);
  // zod's path is the body's, so it is already in OpenAI's names.
  const param = fieldPathText(specific.path);
  const message = describe(specific);
  return new BadRequestError(param === '' ? `Invalid request body: ${message}` : `Invalid value for '${param}': ${message}`, specific.path);
}

function unsupported(param: string, message: string): BadRequestError {
  return new BadRequestError(message, param);
}

function refuseUnsupported(body: ChatCompletionRequest): void {
  if (body.audio != null) throw unsupported('audio', "'audio' output is not supported");
  if (body.modalities?.some((modality) => modality !== 'text')) throw unsupported('modalities', "Only the 'text' output modality is supported");
  if (body.functions != null) throw unsupported('functions', "'functions' is not supported; use 'tools'");
  if (body.function_call != null) throw unsupported('function_call', "'function_call' is not supported; use 'tool_choice'");
  if (body.web_search_options != null) throw unsupported('web_search_options', "'web_search_options' is not supported");
}

type RequestMessage = ChatCompletionRequest['messages'][number];

function cacheOf(wire: z.infer<typeof cacheControl> | null | undefined): { cacheControl?: CacheControl } {
  if (wire === null || wire === undefined) return {};
  return { cacheControl: wire.ttl ? { type: 'ephemeral', ttl: wire.ttl } : { type: 'ephemeral' } };
}

/** A system or tool message is one text: a breakpoint on any of its parts marks the end of it. */
function textCache(content: string | Array<z.infer<typeof textPart>>): { cacheControl?: CacheControl } {
  if (typeof content === 'string') return {};
  const marked = content.filter((part) => part.cache_control != null).at(-1);
  return cacheOf(marked?.cache_control);
}

function joinText(content: string | Array<{ text: string }>): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) text += part.text;
  return text;
}

function toMessage(source: RequestMessage, index: number): Message {
  switch (source.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinText(source.content), ...textCache(source.content) };
    case 'user': {
      if (typeof source.content === 'string') return { role: 'user', content: [{ type: 'text', text: source.content }] };
      const parts: ContentPart[] = [];
      for (const [partIndex, part] of source.content.entries()) {
        if (part.type === 'text') parts.push({ type: 'text', text: part.text, ...cacheOf(part.cache_control) });
        else if (part.type === 'image_url') {
          const detail = part.image_url.detail ? { detail: part.image_url.detail } : {};
          parts.push({ type: 'image', url: part.image_url.url, ...detail, ...cacheOf(part.cache_control) });
        }
        else throw unsupported(`messages[${index}].content[${partIndex}].type`, `Content parts of type '${part.type}' are not supported; send text and image_url parts`);
      }
      return { role: 'user', content: parts };
    }
    case 'assistant': {
      let content: string | null = null;
      if (typeof source.content === 'string') content = source.content;
      else if (source.content) content = source.content.map((part) => (part.type === 'text' ? part.text : part.refusal)).join('');
      const toolCalls: ToolCall[] = (source.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
      return { role: 'assistant', content, toolCalls };
    }
    case 'tool':
      return { role: 'tool', toolCallId: source.tool_call_id, content: joinText(source.content), ...textCache(source.content) };
    case 'function':
      throw unsupported(`messages[${index}].role`, "Messages with role 'function' are not supported; use 'tool'");
  }
}

function toTools(tools: NonNullable<ChatCompletionRequest['tools']>): ToolDefinition[] {
  return tools.map(({ function: definition }) => {
    const result: ToolDefinition = { name: definition.name, parameters: definition.parameters ?? { type: 'object', properties: {} } };
    if (definition.description != null) result.description = definition.description;
    if (definition.strict != null) result.strict = definition.strict;
    return result;
  });
}

function toToolChoice(choice: NonNullable<ChatCompletionRequest['tool_choice']>): ToolChoice {
  return typeof choice === 'string' ? { type: choice } : { type: 'tool', name: choice.function.name };
}

function toResponseFormat(format: NonNullable<ChatCompletionRequest['response_format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const { name, schema, strict } = format.json_schema;
  if (schema == null) throw new BadRequestError("response_format.json_schema.schema is required for type 'json_schema'", 'response_format.json_schema.schema');
  return strict != null ? { type: 'json_schema', name, schema, strict } : { type: 'json_schema', name, schema };
}

function toProviderPreferences(provider: NonNullable<ChatCompletionRequest['provider']>): ProviderPreferences {
  const preferences: ProviderPreferences = {};
  if (provider.order != null) preferences.order = provider.order;
  if (provider.allow_fallbacks != null) preferences.allowFallbacks = provider.allow_fallbacks;
  if (provider.sort != null) preferences.sort = provider.sort;
  if (provider.only != null) preferences.only = provider.only;
  if (provider.ignore != null) preferences.ignore = provider.ignore;
  const hedge = provider.hedge;
  if (typeof hedge === 'boolean') preferences.hedge = { enabled: hedge };
  else if (hedge != null) preferences.hedge = { ...(hedge.enabled != null ? { enabled: hedge.enabled } : {}), ...(hedge.delay_ms != null ? { delayMs: hedge.delay_ms } : {}) };
  return preferences;
}

/** The top-level fields parsePlainChatRequest accepts; any other sends the body through the schema. */
const PLAIN_FIELDS: ReadonlySet<string> = new Set(['model', 'messages', 'stream', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'seed', 'user']);

function inRange(value: unknown, min: number, max: number): value is number | null {
  return value === null || (typeof value === 'number' && value >= min && value <= max);
}

function isCount(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isInteger(value) && value > 0);
}

/**
 * The common request (text messages, a few sampling settings) checked by hand, for what zod's parse allocated per
 * field of the schema (thirty-odd optional ones, each through its own parse context), about 3% of a REST request's
 * CPU. Accepts only bodies the schema accepts and returns what the schema returns for them (the test compares the
 * two on generated bodies); anything else — another field, a message with parts or tool calls, a value out of
 * range — returns undefined and goes through the schema, which also words the error.
 */
export function parsePlainChatRequest(raw: unknown): ChatCompletionRequest | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  for (const field of Object.keys(raw)) if (!PLAIN_FIELDS.has(field)) return undefined;
  const fields = raw as Record<string, unknown>;
  const { model, messages } = fields;
  if (typeof model !== 'string' || model.length === 0 || !Array.isArray(messages)) return undefined;
  const parsed: ChatCompletionRequest['messages'] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || Array.isArray(message) || Object.keys(message).length !== 2) return undefined;
    const { role, content } = message as Record<string, unknown>;
    if (typeof content !== 'string') return undefined;
    switch (role) {
      case 'system':
        parsed.push({ role, content });
        break;
      case 'developer':
        parsed.push({ role, content });
        break;
      case 'user':
        parsed.push({ role, content });
        break;
      case 'assistant':
        parsed.push({ role, content });
        break;
      default:
        return undefined;
    }
  }
  const body: ChatCompletionRequest = { model, messages: parsed };
  const { stream, temperature, top_p: topP, max_tokens: maxTokens, max_completion_tokens: maxCompletionTokens, seed, user } = fields;
  if (stream !== undefined) {
    if (stream !== null && typeof stream !== 'boolean') return undefined;
    body.stream = stream;
  }
  if (temperature !== undefined) {
    if (!inRange(temperature, 0, 2)) return undefined;
    body.temperature = temperature;
  }
  if (topP !== undefined) {
    if (!inRange(topP, 0, 1)) return undefined;
    body.top_p = topP;
  }
  if (maxTokens !== undefined) {
    if (!isCount(maxTokens)) return undefined;
    body.max_tokens = maxTokens;
  }
  if (maxCompletionTokens !== undefined) {
    if (!isCount(maxCompletionTokens)) return undefined;
    body.max_completion_tokens = maxCompletionTokens;
  }
  if (seed !== undefined) {
    if (seed !== null && !(typeof seed === 'number' && Number.isInteger(seed))) return undefined;
    body.seed = seed;
  }
  if (user !== undefined) {
    if (user !== null && typeof user !== 'string') return undefined;
    body.user = user;
  }
  return body;
}

/** Validates an OpenAI request body and maps it onto the service's input; throws BadRequestError naming the param. */
export function parseChatCompletionRequest(raw: unknown): ParsedChatRequest {
  let body = parsePlainChatRequest(raw);
  if (body === undefined) {
    const parsed = chatCompletionRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw issue ? invalid(issue) : new BadRequestError('Invalid request body');
    }
    body = parsed.data;
  }
  refuseUnsupported(body);

  const input: CompletionInput = { model: body.model, messages: body.messages.map(toMessage) };
  if (body.models != null && body.models.length > 0) input.models = body.models;
  const maxTokensValue = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokensValue != null) input.maxTokens = maxTokensValue;
  if (body.temperature != null) input.temperature = body.temperature;
  if (body.top_p != null) input.topP = body.top_p;
  if (body.stop != null) input.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.seed != null) input.seed = body.seed;
  if (body.tools != null && body.tools.length > 0) input.tools = toTools(body.tools);
  if (body.tool_choice != null) input.toolChoice = toToolChoice(body.tool_choice);
  if (body.response_format != null) input.responseFormat = toResponseFormat(body.response_format);
  if (body.user != null) input.user = body.user;
  if (body.metadata != null) input.metadata = body.metadata;
  if (body.presence_penalty != null) input.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) input.frequencyPenalty = body.frequency_penalty;
  if (body.logit_bias != null) input.logitBias = body.logit_bias;
  if (body.parallel_tool_calls != null) input.parallelToolCalls = body.parallel_tool_calls;
  if (body.reasoning_effort != null) input.reasoningEffort = body.reasoning_effort;
  if (body.service_tier != null) input.serviceTier = body.service_tier;
  if (body.store != null) input.store = body.store;
  if (body.n != null) input.n = body.n;
  if (body.logprobs != null) input.logprobs = body.logprobs;
  if (body.top_logprobs != null) input.topLogprobs = body.top_logprobs;
  if (body.provider != null) {
    const preferences = toProviderPreferences(body.provider);
    if (Object.keys(preferences).length > 0) input.provider = preferences;
  }
  return {
    input,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    maxTokensParam: body.max_completion_tokens == null && body.max_tokens != null ? 'max_tokens' : 'max_completion_tokens',
  };
}
