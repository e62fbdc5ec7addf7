import { ProviderError } from '../errors.js';
import { callUpstream, readJson, streamBody } from '../http.js';
import { parseSse } from '../sse.js';
import type { CallOptions, CompletionRequest, CompletionResponse, ProviderAdapter, ProviderConfig, ProviderModelInfo, StreamEvent } from '../types.js';
import { describeAnthropicError } from './errors.js';
import { fromAnthropicModelList } from './models.js';
import { toAnthropicRequestBody } from './request.js';
import { fromAnthropicResponse } from './response.js';
import { AnthropicStreamMapper, parseAnthropicStreamChunk } from './stream.js';
import { messageSchema, modelsPageSchema } from './wire.js';

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** The version gateways send; everything the adapter maps is defined against it. */
export const ANTHROPIC_VERSION = '2023-06-01';
/** /v1/models returns at most this many per page. */
const MODELS_PAGE_LIMIT = 1000;
/** A bound on pagination, so a provider that always says has_more cannot keep us looping. */
const MAX_MODEL_PAGES = 20;

export function createAnthropicAdapter(config: ProviderConfig): ProviderAdapter {
  const provider = config.id;
  const baseUrl = (config.baseUrl === '' ? DEFAULT_ANTHROPIC_BASE_URL : config.baseUrl).replace(/\/+$/, '');
  const headers: Record<string, string> = {
    'anthropic-version': ANTHROPIC_VERSION,
    ...config.headers,
    ...(config.apiKey !== undefined ? { 'x-api-key': config.apiKey } : {}),
  };

  async function complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
    const mapped = toAnthropicRequestBody(request, { provider, stream: false });
    const response = await callUpstream({ provider, method: 'POST', url: `${baseUrl}/v1/messages`, headers, body: mapped.body, signal: options.signal, observer: options.upstream, describeError: describeAnthropicError, dispatcher: config.dispatcher });
    const json = await readJson(provider, response, options.signal);
    const parsed = messageSchema.safeParse(json);
    if (!parsed.success) {
      throw new ProviderError(`${provider} sent a response that is not a message`, { provider, kind: 'malformed_response', cause: parsed.error });
    }
    return fromAnthropicResponse(parsed.data, { warnings: mapped.warnings, ...(mapped.jsonToolName !== undefined ? { jsonToolName: mapped.jsonToolName } : {}) });
  }

  async function* stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
    const mapped = toAnthropicRequestBody(request, { provider, stream: true });
    const response = await callUpstream({ provider, method: 'POST', url: `${baseUrl}/v1/messages`, headers, body: mapped.body, signal: options.signal, observer: options.upstream, describeError: describeAnthropicError, dispatcher: config.dispatcher });
    const mapper = new AnthropicStreamMapper({
      provider,
      warnings: mapped.warnings,
      ...(mapped.jsonToolName !== undefined ? { jsonToolName: mapped.jsonToolName } : {}),
    });
    // Leaving this loop early (finish, error, or the consumer stopping) ends streamBody, which destroys the connection.
    for await (const sse of parseSse(streamBody(provider, response, options.signal))) {
      // Events already buffered must not keep flowing to a caller who has gone away.
      options.signal.throwIfAborted();
      if (sse.data === '') continue;
      const event = parseAnthropicStreamChunk(provider, sse.data);
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
      const response = await callUpstream({ provider, method: 'GET', url: `${baseUrl}/v1/models?${query.toString()}`, headers, signal: options.signal, observer: options.upstream, describeError: describeAnthropicError, dispatcher: config.dispatcher });
      const parsed = modelsPageSchema.safeParse(await readJson(provider, response, options.signal));
      if (!parsed.success) {
        throw new ProviderError(`${provider} sent a model list of an unexpected shape`, { provider, kind: 'malformed_response', cause: parsed.error });
      }
      models.push(...fromAnthropicModelList(parsed.data));
      const lastId = parsed.data.last_id ?? parsed.data.data.at(-1)?.id;
      if (parsed.data.has_more !== true || lastId == null) break;
      afterId = lastId;
    }
    return models;
  }

  return { id: provider, kind: 'anthropic', complete, stream, listModels };
}
