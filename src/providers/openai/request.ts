import { asksForSomething, refuseOrWarn, type ParameterField } from '../parameters.js';
import type { CacheControl, CompletionRequest, ContentPart, Message, ResponseFormat, ToolChoice, ToolDefinition } from '../types.js';
import type { ChatCompletionsQuirks } from './quirks.js';

/** OpenRouter's spelling of a cache breakpoint on a content part (Anthropic's). */
type WireCacheControl = { type: 'ephemeral'; ttl?: '5m' | '1h' };

type WireContentPart =
  | { type: 'text'; text: string; cache_control?: WireCacheControl }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' }; cache_control?: WireCacheControl };

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

type WireMessage =
  | { role: 'system'; content: string | WireContentPart[] }
  | { role: 'user'; content: string | WireContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string | WireContentPart[] };

interface WireTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
}

type WireToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

type WireResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema: Record<string, unknown>; strict?: boolean } };

/** The Chat Completions request body, limited to the fields we send. */
export interface OpenAIRequestBody {
  model: string;
  messages: WireMessage[];
  stream?: boolean;
  stream_options?: { include_usage: boolean };
  max_completion_tokens?: number;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  seed?: number;
  random_seed?: number;
  user?: string;
  tools?: WireTool[];
  tool_choice?: WireToolChoice;
  response_format?: WireResponseFormat;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
  parallel_tool_calls?: boolean;
  reasoning_effort?: string;
  service_tier?: string;
  store?: boolean;
  n?: number;
  logprobs?: boolean;
  top_logprobs?: number;
}

export interface OpenAIRequestMapping {
  body: OpenAIRequestBody;
  /** Settings the provider cannot honour, for response.warnings and the stream's start event. */
  warnings: string[];
}

export interface OpenAIRequestOptions {
  stream: boolean;
  quirks: ChatCompletionsQuirks;
  /** The provider's display name, for warnings. */
  providerName: string;
}

function cacheField(cacheControl: CacheControl | undefined, quirks: ChatCompletionsQuirks): { cache_control?: WireCacheControl } {
  if (cacheControl === undefined || !quirks.cacheControl) return {};
  return { cache_control: cacheControl.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: cacheControl.ttl } };
}

/** A text that carries a cache breakpoint must travel as a part, since a plain string has nowhere to put it. */
function textContent(text: string, cacheControl: CacheControl | undefined, quirks: ChatCompletionsQuirks): string | WireContentPart[] {
  const cache = cacheField(cacheControl, quirks);
  return cache.cache_control === undefined ? text : [{ type: 'text', text, ...cache }];
}

function userContent(parts: ContentPart[], quirks: ChatCompletionsQuirks, warn: (text: string) => void): string | WireContentPart[] {
  const wire: WireContentPart[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      wire.push({ type: 'text', text: part.text, ...cacheField(part.cacheControl, quirks) });
    } else if (quirks.images) {
      wire.push({ type: 'image_url', image_url: part.detail === undefined ? { url: part.url } : { url: part.url, detail: part.detail }, ...cacheField(part.cacheControl, quirks) });
    } else {
      warn('image inputs are not supported and were left out');
    }
  }
  // A lone text part goes as a plain string: every compatible server accepts that, not all accept part arrays.
  const only = wire[0];
  if (wire.length === 1 && only?.type === 'text' && only.cache_control === undefined) return only.text;
  return wire.length === 0 ? '' : wire;
}

function wireMessage(message: Message, quirks: ChatCompletionsQuirks, warn: (text: string) => void): WireMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: textContent(message.content, message.cacheControl, quirks) };
    case 'user':
      return { role: 'user', content: userContent(message.content, quirks, warn) };
    case 'assistant':
      if (message.toolCalls.length === 0) return { role: 'assistant', content: message.content ?? '' };
      // OpenAI rejects an empty tool_calls array, so the key is present only when there are calls.
      return {
        role: 'assistant',
        content: message.content,
        tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: textContent(message.content, message.cacheControl, quirks) };
  }
}

function wireTool(tool: ToolDefinition): WireTool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: tool.parameters,
      ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
    },
  };
}

function wireToolChoice(choice: ToolChoice): WireToolChoice {
  return choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

function wireResponseFormat(format: ResponseFormat, quirks: ChatCompletionsQuirks, warn: (text: string) => void): WireResponseFormat | undefined {
  if (format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (!quirks.jsonSchema) {
    warn('json_schema response format is not supported; sent json_object instead, so the schema is not enforced');
    return { type: 'json_object' };
  }
  return {
    type: 'json_schema',
    json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}) },
  };
}

/** Maps a normalized request onto a Chat Completions body for one provider's quirks. Pure. */
export function toOpenAIRequestBody(request: CompletionRequest, options: OpenAIRequestOptions): OpenAIRequestMapping {
  const { quirks } = options;
  const warnings: string[] = [];
  const warn = (text: string): void => {
    const warning = `${options.providerName}: ${text}`;
    if (!warnings.includes(warning)) warnings.push(warning);
  };

  const body: OpenAIRequestBody = {
    model: request.model,
    messages: request.messages.map((message) => wireMessage(message, quirks, warn)),
  };
  if (options.stream) {
    body.stream = true;
    if (quirks.streamUsageOption) body.stream_options = { include_usage: true };
  }
  if (request.maxTokens !== undefined) body[quirks.maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  if (request.seed !== undefined) {
    if (quirks.seedField === null) refuseOrWarn(request, options.providerName, 'seed', 'is not supported by this provider', warn);
    else body[quirks.seedField] = request.seed;
  }
  if (request.user !== undefined) {
    if (quirks.acceptsUser) body.user = request.user;
    else warn('the end-user id is not supported and was not sent');
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map(wireTool);
    if (request.toolChoice !== undefined) body.tool_choice = wireToolChoice(request.toolChoice);
  } else if (request.toolChoice !== undefined && request.toolChoice.type !== 'none' && request.toolChoice.type !== 'auto') {
    // The provider answers 400 to tool_choice without tools; a tool choice with nothing to choose from means nothing.
    warn(`tool choice "${request.toolChoice.type}" was ignored because no tools were given`);
  }
  if (request.responseFormat !== undefined) {
    const format = wireResponseFormat(request.responseFormat, quirks, warn);
    if (format !== undefined) body.response_format = format;
  }
  passParameters(request, body, quirks, options.providerName, warn);
  // Chat Completions has no reasoning budget in tokens; reasoning models think as they are configured to.
  if (request.thinking?.type === 'enabled' && request.reasoningEffort === undefined) warn('a thinking budget is not supported and was ignored; reasoning models reason on their own');
  return { body, warnings };
}

/** Each parameter that goes out under its own Chat Completions name when the provider takes it. */
const PASSED: ReadonlyArray<readonly [ParameterField, (request: CompletionRequest, body: OpenAIRequestBody) => void]> = [
  ['presencePenalty', (request, body) => void (body.presence_penalty = request.presencePenalty)],
  ['frequencyPenalty', (request, body) => void (body.frequency_penalty = request.frequencyPenalty)],
  ['logitBias', (request, body) => void (body.logit_bias = request.logitBias)],
  ['parallelToolCalls', (request, body) => void (body.parallel_tool_calls = request.parallelToolCalls)],
  ['reasoningEffort', (request, body) => void (body.reasoning_effort = request.reasoningEffort)],
  ['serviceTier', (request, body) => void (body.service_tier = request.serviceTier)],
  ['store', (request, body) => void (body.store = request.store)],
  ['n', (request, body) => void (body.n = request.n)],
  ['logprobs', (request, body) => void (body.logprobs = request.logprobs)],
  ['topLogprobs', (request, body) => {
    body.top_logprobs = request.topLogprobs;
    // OpenAI refuses top_logprobs without logprobs: true.
    body.logprobs = true;
  }],
];

function isSet(request: CompletionRequest, field: ParameterField): boolean {
  return request[field] !== undefined;
}

/**
 * Everything the caller sent goes to the provider under its own name, unless its quirks say the provider rejects
 * that field: then it is dropped with a warning (or refused when strict) if it asked for anything, silently if it
 * was the default anyway. parallel_tool_calls needs tools (OpenAI answers 400 to it alone) and means nothing without.
 */
function passParameters(request: CompletionRequest, body: OpenAIRequestBody, quirks: ChatCompletionsQuirks, providerName: string, warn: (text: string) => void): void {
  for (const [field, put] of PASSED) {
    if (!isSet(request, field)) continue;
    if (field === 'parallelToolCalls' && body.tools === undefined) continue;
    if (!quirks.unsupported.has(field)) put(request, body);
    else if (asksForSomething(request, field)) refuseOrWarn(request, providerName, field, 'is not supported by this provider', warn);
  }
}
