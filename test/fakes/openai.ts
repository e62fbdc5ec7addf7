import type { ServerResponse } from 'node:http';
import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { z } from 'zod';
import type { FakeUpstream, ReceivedRequest, Script, ScriptedError } from '../conformance/harness.js';
import { fakeTokenCount, fakeVector } from './embedding-vectors.js';
import { sendJson, startFakeServer, streamPieces } from './server.js';

export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  reasoningTokens: number;
}

/** What one reply says, before a flavor renders it as a JSON body or as a stream. */
export interface ReplyPlan {
  reasoning: string;
  text: string | null;
  toolCall?: { id: string; name: string; arguments: string };
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage: UsageCounts;
}

export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The fake's own validation failures, beside the scripted ones. */
export type FakeErrorCase = ScriptedError | 'missing_model' | 'empty_messages' | 'invalid_json' | 'unknown_path';

/** OpenAI's wording and codes for each error (wire-formats.md section 1); flavors reshape or replace them. */
export interface ErrorSpec {
  status: number;
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/**
 * How one provider of the Chat Completions family puts things on the wire. OpenAI is the base; the compatible
 * providers (test/fakes/openai-compatible.ts) override what they do differently.
 */
export interface ChatWireFlavor {
  name: string;
  /** Where the API lives on the server; the fake's url ends with it, as the provider's base URL does. */
  pathPrefix: string;
  idPrefix: string;
  /** Request fields the provider refuses outright. */
  rejectedFields: string[];
  rejectField(field: string): ErrorReply;
  error(error: FakeErrorCase, spec: ErrorSpec): ErrorReply;
  usage(counts: UsageCounts): Record<string, unknown>;
  /**
   * Where streamed usage goes: OpenAI's trailing `choices:[]` chunk only when stream_options asks, always on the
   * finish chunk, always in a trailing chunk, or in Groq's x_groq on the finish chunk.
   */
  streamUsage: 'when-asked' | 'on-finish-chunk' | 'trailing-chunk' | 'x_groq';
  finishReason(reason: ReplyPlan['finishReason']): string;
  /** Where reasoning text goes when a script has reasoning tokens; null for providers that never show it. */
  reasoningField: 'reasoning_content' | 'reasoning' | null;
  /** Tool calls sent whole on the finish chunk, with no `type` (Mistral), instead of a head and argument fragments. */
  wholeToolCalls: boolean;
  /** An SSE comment sent at the start of each stream. */
  keepAlive: string | null;
  /** What comes before a JSON body (DeepSeek's blank lines while queued). */
  jsonPreamble: string;
  /** Extra top-level fields on each chunk and response. */
  envelope(): Record<string, unknown>;
  /** Extra fields on a non-streaming message. */
  messageExtras: Record<string, unknown>;
  responseHeaders(): Record<string, string>;
  /** The chunk that reports a failure mid-stream, built on the chunk envelope; `thenDone` sends [DONE] after it. */
  midStreamError(envelope: Record<string, unknown>): { payload: Record<string, unknown>; thenDone: boolean };
  models(ids: string[]): unknown;
}

export function openAIErrorSpec(error: FakeErrorCase, model: string): ErrorSpec {
  switch (error) {
    case 'bad_request':
      return { status: 400, message: "Invalid value for 'temperature': must be between 0 and 2.", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' };
    case 'context_length_exceeded':
      return {
        status: 400,
        message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      };
    case 'authentication':
      return {
        status: 401,
        message: 'Incorrect API key provided: sk-te****1234. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      };
    case 'not_found':
      return { status: 404, message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' };
    case 'rate_limited':
      return {
        status: 429,
        message: `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1.`,
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      };
    case 'server_error':
      return { status: 500, message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null };
    case 'overloaded':
      return { status: 503, message: 'The engine is currently overloaded, please try again later.', type: 'server_error', param: null, code: null };
    case 'missing_model':
      return { status: 400, message: 'you must provide a model parameter', type: 'invalid_request_error', param: null, code: null };
    case 'empty_messages':
      return {
        status: 400,
        message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'empty_array',
      };
    case 'invalid_json':
      return { status: 400, message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null };
    case 'unknown_path':
      return { status: 404, message: 'Invalid URL', type: 'invalid_request_error', param: null, code: null };
  }
}

function randomToken(length: number): string {
  return Math.random().toString(36).slice(2, 2 + length).padEnd(length, 'x');
}

export const openAIFlavor: ChatWireFlavor = {
  name: 'openai',
  pathPrefix: '/v1',
  idPrefix: 'chatcmpl-',
  rejectedFields: [],
  rejectField: (field) => ({
    status: 400,
    body: { error: { message: `Unrecognized request argument supplied: ${field}`, type: 'invalid_request_error', param: null, code: null } },
  }),
  error: (_error, spec) => ({
    status: spec.status,
    body: { error: { message: spec.message, type: spec.type, param: spec.param, code: spec.code } },
  }),
  usage: (counts) => ({
    prompt_tokens: counts.promptTokens,
    completion_tokens: counts.completionTokens,
    total_tokens: counts.promptTokens + counts.completionTokens,
    prompt_tokens_details: { cached_tokens: counts.cachedPromptTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: counts.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  }),
  streamUsage: 'when-asked',
  finishReason: (reason) => reason,
  reasoningField: null,
  wholeToolCalls: false,
  keepAlive: null,
  jsonPreamble: '',
  // Real chunks carry a random `obfuscation` string that parsers must ignore.
  envelope: () => ({ system_fingerprint: 'fp_0a1b2c3d4e', obfuscation: randomToken(8) }),
  messageExtras: { refusal: null, annotations: [] },
  responseHeaders: () => ({
    'x-request-id': `req_${randomToken(16)}`,
    'openai-processing-ms': '12',
    'x-ratelimit-limit-requests': '500',
    'x-ratelimit-remaining-requests': '499',
    'x-ratelimit-reset-requests': '120ms',
  }),
  midStreamError: () => ({
    payload: { error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } },
    thenDone: false,
  }),
  models: (ids) => ({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 1_715_367_049, owned_by: 'system' })) }),
};

const requestSchema = z.object({
  model: z.string().nullish(),
  messages: z.array(z.object({ role: z.string(), content: z.unknown() })).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().nullish(),
  max_completion_tokens: z.number().nullish(),
  n: z.number().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().nullish(),
  service_tier: z.string().nullish(),
});
type ChatRequest = z.infer<typeof requestSchema>;

const textPartsSchema = z.array(z.object({ type: z.string(), text: z.string().optional() }));

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  const parts = textPartsSchema.safeParse(content);
  return parts.success ? parts.data.map((part) => part.text ?? '').join('') : '';
}

/**
 * Prompt tokens as OpenAI counts a chat with o200k_base: 3 per message plus its role and content, 3 to prime the
 * reply (OpenAI's cookbook formula, which the API's usage matches for text messages).
 */
function chatPromptTokens(request: ChatRequest): number {
  let tokens = 3;
  for (const message of request.messages ?? []) tokens += 3 + countO200k(message.role) + countO200k(contentText(message.content));
  return tokens;
}

function lastUserText(request: ChatRequest): string {
  const user = [...(request.messages ?? [])].reverse().find((message) => message.role === 'user');
  if (typeof user?.content === 'string') return user.content;
  const parts = textPartsSchema.safeParse(user?.content);
  return parts.success ? parts.data.map((part) => part.text ?? '').join('') : '';
}

/** Splits tool-call arguments into a few fragments, as OpenAI streams them. */
export function argumentFragments(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const fragments: string[] = [];
  for (let start = 0; start < text.length; start += size) fragments.push(text.slice(start, start + size));
  return fragments;
}

const REASONING_TEXT = 'The user wants a short answer.';

function counts(parts: { promptTokens: number; completionTokens: number; cachedPromptTokens?: number; reasoningTokens?: number }): UsageCounts {
  return { promptTokens: parts.promptTokens, completionTokens: parts.completionTokens, cachedPromptTokens: parts.cachedPromptTokens ?? 0, reasoningTokens: parts.reasoningTokens ?? 0 };
}

function planFor(script: Script | undefined, request: ChatRequest, flavor: ChatWireFlavor): ReplyPlan | undefined {
  if (script === undefined) {
    // With nothing queued the fake echoes, so it can serve benchmarks and end-to-end tests without scripting.
    const text = `You said: ${lastUserText(request)}`;
    const promptTokens = chatPromptTokens(request);
    return { reasoning: '', text, finishReason: 'stop', usage: counts({ promptTokens, completionTokens: streamPieces(text).length }) };
  }
  switch (script.kind) {
    case 'text': {
      const reasoning = (script.reasoningTokens ?? 0) > 0 && flavor.reasoningField !== null ? REASONING_TEXT : '';
      return { reasoning, text: script.text, finishReason: 'stop', usage: counts(script) };
    }
    case 'length':
      return { reasoning: '', text: script.text, finishReason: 'length', usage: counts(script) };
    case 'tool-call':
      return { reasoning: '', text: null, toolCall: { id: script.id, name: script.name, arguments: script.arguments }, finishReason: 'tool_calls', usage: counts(script) };
    case 'content-filter':
      return { reasoning: '', text: null, finishReason: 'content_filter', usage: counts({ promptTokens: script.promptTokens, completionTokens: 0 }) };
    default:
      return undefined;
  }
}

interface ReplyContext {
  flavor: ChatWireFlavor;
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
  /** Choices asked for (`n`); usage counts the completion tokens of all of them, as OpenAI's does. */
  choices: number;
  /** Alternatives per token when `logprobs` was asked for; undefined when it was not. */
  topLogprobs: number | undefined;
  /** The tier OpenAI reports having served (`auto` resolves to `default`). */
  serviceTier: string;
}

/** OpenAI's `logprobs.content` for a text, one entry per streamed piece, with deterministic figures. */
export function fakeLogprobs(text: string, top: number): Array<Record<string, unknown>> {
  return streamPieces(text).map((token, index) => ({
    token,
    logprob: -0.25 * (index + 1),
    bytes: [...Buffer.from(token, 'utf8')],
    top_logprobs: Array.from({ length: top }, (_, rank) => ({ token: rank === 0 ? token : `${token}~${rank}`, logprob: -0.25 * (index + 1) - rank, bytes: [...Buffer.from(rank === 0 ? token : `${token}~${rank}`, 'utf8')] })),
  }));
}

/** Choice i > 0 says which it is, so a test can tell the choices apart. */
export function fakeChoiceText(text: string | null, index: number): string | null {
  return text === null || index === 0 ? text : `${text} (choice ${index})`;
}

function sendError(res: ServerResponse, reply: ErrorReply, extraHeaders: Record<string, string> = {}): void {
  sendJson(res, reply.status, reply.body, { ...reply.headers, ...extraHeaders });
}

function sendCompletion(res: ServerResponse, plan: ReplyPlan, context: ReplyContext): void {
  const { flavor } = context;
  const message: Record<string, unknown> = { role: 'assistant', content: plan.text, ...flavor.messageExtras };
  if (plan.reasoning !== '' && flavor.reasoningField !== null) message[flavor.reasoningField] = plan.reasoning;
  if (plan.toolCall !== undefined) {
    message.tool_calls = [{ id: plan.toolCall.id, type: 'function', function: { name: plan.toolCall.name, arguments: plan.toolCall.arguments } }];
  }
  const choices = Array.from({ length: context.choices }, (_, index) => {
    const text = fakeChoiceText(plan.text, index);
    const logprobs = context.topLogprobs !== undefined && text !== null ? { content: fakeLogprobs(text, context.topLogprobs), refusal: null } : null;
    return { index, message: { ...message, content: text }, logprobs, finish_reason: flavor.finishReason(plan.finishReason) };
  });
  const body = {
    id: context.id,
    object: 'chat.completion',
    created: context.created,
    model: context.model,
    ...(flavor.name === 'openai' ? { service_tier: context.serviceTier } : {}),
    ...flavor.envelope(),
    choices,
    usage: flavor.usage({ ...plan.usage, completionTokens: plan.usage.completionTokens * context.choices }),
    ...(flavor.streamUsage === 'x_groq' ? { x_groq: { id: `req_${context.id}` } } : {}),
  };
  const text = flavor.jsonPreamble + JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text).toString(), ...flavor.responseHeaders() });
  res.end(text);
}

/** Writes SSE events for one reply; each call of `event` is one `data:` event. */
class ChunkWriter {
  private first = true;
  constructor(
    private readonly res: ServerResponse,
    private readonly context: ReplyContext,
  ) {}

  open(): void {
    this.res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...this.context.flavor.responseHeaders() });
    if (this.context.flavor.keepAlive !== null) this.res.write(`: ${this.context.flavor.keepAlive}\n\n`);
  }

  base(): Record<string, unknown> {
    return { id: this.context.id, object: 'chat.completion.chunk', created: this.context.created, model: this.context.model, ...this.context.flavor.envelope() };
  }

  /** One chunk with a single choice; OpenAI repeats `usage: null` on every chunk when usage was asked for. */
  chunk(delta: Record<string, unknown>, finishReason: string | null = null, extra: Record<string, unknown> = {}, logprobs: Record<string, unknown> | null = null): string {
    const { flavor, includeUsage, id } = this.context;
    const groqFirst = flavor.streamUsage === 'x_groq' && this.first ? { x_groq: { id: `req_${id}` } } : {};
    this.first = false;
    return this.data({
      ...this.base(),
      choices: [{ index: 0, delta, logprobs, finish_reason: finishReason }],
      ...(flavor.streamUsage === 'when-asked' && includeUsage ? { usage: null } : {}),
      ...groqFirst,
      ...extra,
    });
  }

  data(payload: Record<string, unknown> | '[DONE]'): string {
    return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
  }

  /** The opening events every stream shares: the role delta, then the text pieces. */
  head(reasoning: string, text: string | null): string[] {
    const reasoningField = this.context.flavor.reasoningField;
    const events = [this.chunk({ role: 'assistant', content: '', ...(reasoning !== '' && reasoningField !== null ? { [reasoningField]: '' } : {}) })];
    if (reasoning !== '' && reasoningField !== null) {
      for (const piece of streamPieces(reasoning)) events.push(this.chunk({ content: null, [reasoningField]: piece }));
    }
    const top = this.context.topLogprobs;
    for (const piece of streamPieces(text ?? '')) events.push(this.chunk({ content: piece }, null, {}, top === undefined ? null : { content: fakeLogprobs(piece, top), refusal: null }));
    return events;
  }

  write(events: string[], then?: () => void): void {
    this.res.write(events.join(''), then);
  }
}

function streamCompletion(res: ServerResponse, plan: ReplyPlan, context: ReplyContext): void {
  const { flavor } = context;
  const writer = new ChunkWriter(res, context);
  writer.open();
  const events = writer.head(plan.reasoning, plan.text);
  const finishDelta: Record<string, unknown> = {};
  if (plan.toolCall !== undefined) {
    const call = plan.toolCall;
    if (flavor.wholeToolCalls) {
      finishDelta.content = '';
      finishDelta.tool_calls = [{ id: call.id, function: { name: call.name, arguments: call.arguments }, index: 0 }];
    } else {
      events.push(writer.chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      for (const fragment of argumentFragments(call.arguments)) events.push(writer.chunk({ tool_calls: [{ index: 0, function: { arguments: fragment } }] }));
    }
  }
  const usage = flavor.usage(plan.usage);
  const finishExtra =
    flavor.streamUsage === 'on-finish-chunk' ? { usage } : flavor.streamUsage === 'x_groq' ? { x_groq: { id: `req_${context.id}`, usage } } : {};
  events.push(writer.chunk(finishDelta, flavor.finishReason(plan.finishReason), finishExtra));
  if (flavor.streamUsage === 'trailing-chunk' || (flavor.streamUsage === 'when-asked' && context.includeUsage)) {
    events.push(writer.data({ ...writer.base(), choices: [], usage }));
  }
  events.push(writer.data('[DONE]'));
  writer.write(events);
  res.end();
}

function streamTrouble(res: ServerResponse, script: Extract<Script, { kind: 'mid-stream-error' | 'hang' | 'break' }>, context: ReplyContext): void {
  const writer = new ChunkWriter(res, context);
  writer.open();
  const events = writer.head('', script.textBefore);
  if (script.kind === 'hang') {
    // Keep the response open; the server counts it active until the client goes away.
    writer.write(events);
    return;
  }
  if (script.kind === 'break') {
    writer.write(events, () => res.destroy());
    return;
  }
  const failure = script.kind === 'mid-stream-error' && script.message !== undefined
    ? { payload: { ...writer.base(), error: { message: script.message, type: 'server_error', param: null, code: null } }, thenDone: false }
    : context.flavor.midStreamError(writer.base());
  events.push(writer.data(failure.payload));
  if (failure.thenDone) events.push(writer.data('[DONE]'));
  writer.write(events);
  res.end();
}

function sendMalformed(res: ServerResponse, stream: boolean, context: ReplyContext): void {
  if (stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.end(`data: {"id":"${context.id}","object":"chat.completion.chunk",\n\ndata: [DONE]\n\n`);
    return;
  }
  const text = `{"id":"${context.id}","object":"chat.completion","choices":[{"index":0,"message":`;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text).toString() });
  res.end(text);
}

/**
 * Holds answers until `count` requests are waiting (then releases them all at once), or until `maxWaitMs` passed
 * since the first one arrived, so a test can see whether a batch of calls was in flight together.
 */
export class ArrivalGate {
  private held: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  /** How many answers were held at once, at most. */
  peak = 0;
  /** True when the gate opened because `count` requests arrived, false when the bound ran out first. */
  openedByCount = false;
  private open = false;

  constructor(
    private readonly count: number,
    private readonly maxWaitMs: number,
  ) {}

  wait(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => {
      this.held.push(resolve);
      this.peak = Math.max(this.peak, this.held.length);
      if (this.held.length >= this.count) {
        this.openedByCount = true;
        this.release();
      } else this.timer ??= setTimeout(() => this.release(), this.maxWaitMs);
    });
  }

  /** Answers held right now. */
  get waiting(): number {
    return this.held.length;
  }

  /** Lets every held answer (and any later one) go now. */
  release(): void {
    this.open = true;
    clearTimeout(this.timer);
    for (const resolve of this.held.splice(0)) resolve();
  }
}

/**
 * Answers sized by the request, as a model that writes a set share of what it may: completion_tokens is
 * `fraction` of the max_completion_tokens (or max_tokens) the request sent, or of `outputLimit` when it sent none
 * (the model's own maximum output, which is what the upstream applies then). Read at each request, so a test may
 * change it between calls; applies only to unscripted requests.
 */
export interface SizedAnswers {
  fraction: number;
  outputLimit: number;
  /** When set, every answer waits at this gate first. */
  gate?: ArrivalGate;
}

export interface FakeChatOptions {
  /** The key the fake expects as `Authorization: Bearer <key>`; null accepts any request, as self-hosted servers do. */
  apiKey?: string | null;
  flavor?: ChatWireFlavor;
  /** Model ids for GET /models. */
  models?: string[];
  sizedAnswers?: SizedAnswers;
}

export const FAKE_OPENAI_KEY = 'sk-test-fake-openai-0123456789abcdef';

function headerValue(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Starts a fake Chat Completions upstream in the given provider flavor (OpenAI by default); `url` includes the API prefix. */
export async function startFakeChatCompletions(options: FakeChatOptions = {}): Promise<FakeUpstream> {
  const flavor = options.flavor ?? openAIFlavor;
  const apiKey = options.apiKey === undefined ? FAKE_OPENAI_KEY : options.apiKey;
  const modelIds = options.models ?? ['gpt-4o-mini', 'gpt-4o'];
  let sequence = 0;

  const server = await startFakeServer(({ request, res, script }) => {
    const path = request.path.split('?')[0] ?? '';
    const fail = (error: FakeErrorCase, model = ''): void => sendError(res, flavor.error(error, openAIErrorSpec(error, model)));

    if (apiKey !== null && headerValue(request, 'authorization') !== `Bearer ${apiKey}`) return fail('authentication');
    if (request.method === 'GET' && path === `${flavor.pathPrefix}/models`) return sendJson(res, 200, flavor.models(modelIds), flavor.responseHeaders());
    if (request.method === 'POST' && path === `${flavor.pathPrefix}/embeddings`) {
      if (script?.kind === 'error') {
        const spec = openAIErrorSpec(script.error, '');
        return sendError(res, flavor.error(script.error, script.message !== undefined ? { ...spec, message: script.message } : spec), script.retryAfterSeconds !== undefined ? { 'retry-after': String(script.retryAfterSeconds) } : {});
      }
      if (script?.kind === 'hang') return;
      const reply = embeddingReply(request.body);
      if (reply === 'missing_model' || reply === 'invalid_json') return fail(reply);
      return sendJson(res, 200, reply, flavor.responseHeaders());
    }
    if (request.method !== 'POST' || path !== `${flavor.pathPrefix}/chat/completions`) return fail('unknown_path');

    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) return fail('invalid_json');
    const body = parsed.data;
    const rejected = flavor.rejectedFields.find((field) => typeof request.body === 'object' && request.body !== null && field in request.body);
    if (rejected !== undefined) return sendError(res, flavor.rejectField(rejected));
    if (!body.model) return fail('missing_model');
    if (!body.messages || body.messages.length === 0) return fail('empty_messages', body.model);

    sequence++;
    const context: ReplyContext = {
      flavor,
      id: `${flavor.idPrefix}${sequence}${randomToken(6)}`,
      model: body.model,
      created: Math.floor(Date.now() / 1000),
      includeUsage: body.stream_options?.include_usage === true,
      choices: body.n ?? 1,
      topLogprobs: body.logprobs === true ? (body.top_logprobs ?? 0) : undefined,
      serviceTier: body.service_tier == null || body.service_tier === 'auto' ? 'default' : body.service_tier,
    };
    const stream = body.stream === true;

    if (script?.kind === 'error') {
      const spec = openAIErrorSpec(script.error, body.model);
      const shaped = flavor.error(script.error, script.message !== undefined ? { ...spec, message: script.message } : spec);
      const reply = script.status !== undefined ? { ...shaped, status: script.status } : shaped;
      return sendError(res, reply, script.retryAfterSeconds !== undefined ? { 'retry-after': String(script.retryAfterSeconds) } : {});
    }
    if (script?.kind === 'malformed') return sendMalformed(res, stream, context);
    if (script?.kind === 'mid-stream-error' || script?.kind === 'hang' || script?.kind === 'break') {
      if (stream) return streamTrouble(res, script, context);
      // Without a stream these can only show up as a body that never arrives whole.
      if (script.kind !== 'hang') res.destroy();
      return;
    }
    const plan = planFor(script, body, flavor);
    if (plan === undefined) throw new Error(`unhandled script ${script?.kind ?? 'none'}`);
    const sized = script === undefined ? options.sizedAnswers : undefined;
    if (sized !== undefined) {
      const limit = body.max_completion_tokens ?? body.max_tokens ?? sized.outputLimit;
      plan.usage = { ...plan.usage, completionTokens: Math.max(1, Math.ceil(limit * sized.fraction)) };
      if (sized.fraction >= 1) plan.finishReason = 'length';
      if (sized.gate !== undefined) return sized.gate.wait().then(() => (stream ? streamCompletion(res, plan, context) : sendCompletion(res, plan, context)));
    }
    if (stream) streamCompletion(res, plan, context);
    else sendCompletion(res, plan, context);
  });

  return {
    url: server.url + flavor.pathPrefix,
    received: server.received,
    enqueue: server.enqueue,
    activeResponses: server.activeResponses,
    close: server.close,
  };
}

const embeddingRequestSchema = z.object({
  model: z.string().min(1).optional(),
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]),
  dimensions: z.number().int().positive().optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  user: z.string().optional(),
});

/** The full length of each OpenAI embedding model's vectors; `dimensions` shortens them. */
function fullDimensions(model: string): number {
  return model.includes('large') ? 3072 : 1536;
}

/** POST /embeddings as OpenAI answers it: one entry per input by index, vectors as float or base64 float32 LE. */
function embeddingReply(raw: unknown): Record<string, unknown> | 'missing_model' | 'invalid_json' {
  const parsed = embeddingRequestSchema.safeParse(raw);
  if (!parsed.success) return 'invalid_json';
  const body = parsed.data;
  if (!body.model) return 'missing_model';
  const input = body.input;
  const texts: string[] = typeof input === 'string' ? [input] : typeof input[0] === 'number' ? [(input as number[]).join(' ')] : (input as Array<string | number[]>).map((item) => (typeof item === 'string' ? item : item.join(' ')));
  const dimensions = body.dimensions ?? fullDimensions(body.model);
  let promptTokens = 0;
  const data = texts.map((text, index) => {
    const tokens = typeof input === 'string' || typeof input[0] === 'string' ? fakeTokenCount(text) : text.split(' ').length;
    promptTokens += tokens;
    const vector = fakeVector(text, dimensions);
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  // OpenAI does not promise the order of `data`; the last entry first checks that the gateway orders by index.
  if (data.length > 1) data.unshift(...data.splice(data.length - 1, 1));
  return { object: 'list', data, model: body.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}

/** A fake OpenAI upstream: POST /v1/chat/completions and GET /v1/models, in OpenAI's exact wire format. */
export function startFakeOpenAI(options: Omit<FakeChatOptions, 'flavor'> = {}): Promise<FakeUpstream> {
  return startFakeChatCompletions({ ...options, flavor: openAIFlavor });
}
