import { ProviderError } from '../errors.js';
import { callUpstream, readJson, streamBody } from '../http.js';
import { parseNdjson } from '../sse.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../embeddings.js';
import type { CallOptions, CompletionRequest, CompletionResponse, ProviderAdapter, ProviderConfig, ProviderModelInfo, StreamEvent } from '../types.js';
import { fromOllamaEmbeddingResponse, toOllamaEmbeddingBody } from './embeddings.js';
import { describeOllamaError, ollamaErrorMessage, ollamaInBandError } from './errors.js';
import { fromOllamaModelList } from './models.js';
import { toOllamaRequestBody } from './request.js';
import { fromOllamaResponse } from './response.js';
import { OllamaStreamMapper, parseOllamaStreamChunk } from './stream.js';
import { chatResponseSchema, tagsResponseSchema } from './wire.js';

const DEFAULT_BASE_URL = 'http://127.0.0.1:11434';

/** Ollama's native API: POST /api/chat, streamed as NDJSON. */
export function createOllamaAdapter(config: ProviderConfig): ProviderAdapter {
  const provider = config.id;
  const root = (config.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, '');
  // A local Ollama takes no credential; a key is sent only for an Ollama behind an authenticating proxy.
  const headers: Record<string, string> = {
    ...config.headers,
    ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
  };

  function malformed(what: string, cause?: unknown): ProviderError {
    return new ProviderError(`${provider} sent ${what} that does not match the Ollama API`, { provider, kind: 'malformed_response', cause });
  }

  function call(method: 'GET' | 'POST', path: string, body: unknown, options: CallOptions) {
    return callUpstream({
      provider,
      method,
      url: `${root}${path}`,
      headers,
      body,
      signal: options.signal,
      observer: options.upstream,
      dispatcher: config.dispatcher,
      describeError: describeOllamaError,
    });
  }

  async function complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
    const { body, warnings } = toOllamaRequestBody(request, false);
    const response = await call('POST', '/api/chat', body, options);
    const json = await readJson(provider, response, options.signal);
    const error = ollamaErrorMessage(json);
    if (error !== undefined) throw ollamaInBandError(provider, error, 'server_error');
    const parsed = chatResponseSchema.safeParse(json);
    if (!parsed.success) throw malformed('a response', parsed.error);
    return fromOllamaResponse(parsed.data, warnings);
  }

  async function* stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
    const { body, warnings } = toOllamaRequestBody(request, true);
    const response = await call('POST', '/api/chat', body, options);
    const mapper = new OllamaStreamMapper();
    let started = false;
    for await (const line of parseNdjson(streamBody(provider, response, options.signal))) {
      const chunk = parseOllamaStreamChunk(provider, line);
      if (!started) {
        started = true;
        yield { type: 'start', ...(chunk.model !== undefined ? { model: chunk.model } : {}), warnings };
      }
      yield* mapper.map(chunk);
      if (chunk.done) return;
    }
    throw new ProviderError(`${provider} ended the stream before its done line`, { provider, kind: 'stream_error' });
  }

  async function listModels(options: CallOptions): Promise<ProviderModelInfo[]> {
    const response = await call('GET', '/api/tags', undefined, options);
    const parsed = tagsResponseSchema.safeParse(await readJson(provider, response, options.signal));
    if (!parsed.success) throw malformed('a model list', parsed.error);
    return fromOllamaModelList(parsed.data);
  }

  async function embed(request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResponse> {
    const response = await call('POST', '/api/embed', toOllamaEmbeddingBody(request), options);
    const json = await readJson(provider, response, options.signal);
    const error = ollamaErrorMessage(json);
    if (error !== undefined) throw ollamaInBandError(provider, error, 'server_error');
    return fromOllamaEmbeddingResponse(provider, json, request);
  }

  return { id: config.id, kind: 'ollama', complete, stream, listModels, embed };
}
