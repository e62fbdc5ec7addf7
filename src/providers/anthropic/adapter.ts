import { z } from 'zod';
import { ProviderError } from '../errors.js';
import { callUpstream, parseJsonChunk, readJson, streamBody } from '../http.js';
import { parseSse } from '../sse.js';
import type { CallOptions, CompletionRequest, CompletionResponse, ProviderAdapter, ProviderConfig, ProviderModelInfo, StreamEvent } from '../types.js';
import { describeAnthropicError } from './errors.js';
import { buildMessagesBody } from './request.js';
import { mapMessage } from './response.js';
import { AnthropicStreamMapper } from './stream-events.js';
import { STREAM_EVENT_TYPES, messageSchema, modelsPageSchema, streamEventSchema, type AnthropicStreamEvent } from './wire.js';

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** The version gateways send; everything the adapter maps is defined against it. */
export const ANTHROPIC_VERSION = '2023-06-01';
/** /v1/models returns at most this many per page. */
const MODELS_PAGE_LIMIT = 1000;
/** A bound on pagination, so a provider that always says has_more cannot keep us looping. */
const MAX_MODEL_PAGES = 20;

const eventTypeSchema = z.object({ type: z.string() });

/** One SSE payload as a typed event; undefined for event types newer than this adapter, which it may skip. */
function parseStreamEvent(provider: string, data: string): AnthropicStreamEvent | undefined {
  const json = parseJsonChunk(provider, data);
  const typed = eventTypeSchema.safeParse(json);
  if (typed.success && !STREAM_EVENT_TYPES.has(typed.data.type)) return undefined;
  const parsed = streamEventSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(`${provider} sent a stream event of an unexpected shape`, { provider, kind: 'malformed_response', cause: parsed.error });
  }
  return parsed.data;
}

export function createAnthropicAdapter(config: ProviderConfig): ProviderAdapter {
  const provider = config.id;
  const baseUrl = (config.baseUrl === '' ? DEFAULT_ANTHROPIC_BASE_URL : config.baseUrl).replace(/\/+$/, '');
  const headers: Record<string, string> = {
    'anthropic-version': ANTHROPIC_VERSION,
    ...config.headers,
    ...(config.apiKey !== undefined ? { 'x-api-key': config.apiKey } : {}),
  };
  const describeError = describeAnthropicError(config.apiKey);

  async function complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
    const mapped = buildMessagesBody(request, { provider, stream: false });
    const response = await callUpstream({ provider, method: 'POST', url: `${baseUrl}/v1/messages`, headers, body: mapped.body, signal: options.signal, describeError });
    const json = await readJson(provider, response, options.signal);
    const parsed = messageSchema.safeParse(json);
    if (!parsed.success) {
      throw new ProviderError(`${provider} sent a response that is not a message`, { provider, kind: 'malformed_response', cause: parsed.error });
    }
    return mapMessage(parsed.data, { warnings: mapped.warnings, ...(mapped.jsonToolName !== undefined ? { jsonToolName: mapped.jsonToolName } : {}) });
  }

  async function* stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
    const mapped = buildMessagesBody(request, { provider, stream: true });
    const response = await callUpstream({ provider, method: 'POST', url: `${baseUrl}/v1/messages`, headers, body: mapped.body, signal: options.signal, describeError });
    const mapper = new AnthropicStreamMapper({
      provider,
      warnings: mapped.warnings,
      ...(mapped.jsonToolName !== undefined ? { jsonToolName: mapped.jsonToolName } : {}),
      ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    });
    // Leaving this loop early (finish, error, or the consumer stopping) ends streamBody, which destroys the connection.
    for await (const sse of parseSse(streamBody(provider, response, options.signal))) {
      // Events already buffered must not keep flowing to a caller who has gone away.
      options.signal.throwIfAborted();
      if (sse.data === '') continue;
      const event = parseStreamEvent(provider, sse.data);
      if (event === undefined) continue;
      yield* mapper.map(event);
      if (mapper.isFinished) return;
    }
    const tail = mapper.end();
    if (tail === undefined) {
      throw new ProviderError(`${provider} ended the stream before the message was complete`, { provider, kind: 'network' });
    }
    yield* tail;
  }

  async function listModels(options: CallOptions): Promise<ProviderModelInfo[]> {
    const models: ProviderModelInfo[] = [];
    let afterId: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const query = new URLSearchParams({ limit: String(MODELS_PAGE_LIMIT), ...(afterId !== undefined ? { after_id: afterId } : {}) });
      const response = await callUpstream({ provider, method: 'GET', url: `${baseUrl}/v1/models?${query.toString()}`, headers, signal: options.signal, describeError });
      const parsed = modelsPageSchema.safeParse(await readJson(provider, response, options.signal));
      if (!parsed.success) {
        throw new ProviderError(`${provider} sent a model list of an unexpected shape`, { provider, kind: 'malformed_response', cause: parsed.error });
      }
      for (const model of parsed.data.data) {
        const info: ProviderModelInfo = { id: model.id };
        if (model.display_name != null) info.displayName = model.display_name;
        if (model.max_input_tokens != null) info.contextLength = model.max_input_tokens;
        if (model.max_tokens != null) info.maxOutputTokens = model.max_tokens;
        models.push(info);
      }
      const lastId = parsed.data.last_id ?? parsed.data.data.at(-1)?.id;
      if (parsed.data.has_more !== true || lastId == null) break;
      afterId = lastId;
    }
    return models;
  }

  return { id: provider, kind: 'anthropic', complete, stream, listModels };
}
