import type { Dispatcher } from 'undici';
import { ProviderError } from '../errors.js';
import { callUpstream, readJson, streamBody } from '../http.js';
import { parseSse } from '../sse.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../embeddings.js';
import type { CallOptions, CompletionRequest, CompletionResponse, ProviderAdapter, ProviderConfig, ProviderModelInfo, StreamEvent } from '../types.js';
import { fromGeminiEmbeddingResponse, GEMINI_EMBED_BATCH, toGeminiEmbeddingCall } from './embeddings.js';
import { describeGeminiError, geminiInBandError } from './errors.js';
import { fromGeminiModelList } from './models.js';
import { toGeminiRequestBody } from './request.js';
import { fromGeminiResponse } from './response.js';
import { GeminiStreamMapper, parseGeminiStreamChunk } from './stream.js';
import { generateContentResponseSchema, listModelsResponseSchema } from './wire.js';

const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
const API_VERSION = 'v1beta';
/** The API's own maximum page size; the page cap only guards against a server that never stops paging. */
const MODELS_PAGE_SIZE = 1000;
const MAX_MODEL_PAGES = 20;

/** `models/x` for a bare id; tuned models already carry their collection. */
function modelPath(model: string): string {
  const name = model.startsWith('models/') || model.startsWith('tunedModels/') ? model : `models/${model}`;
  return name.split('/').map(encodeURIComponent).join('/');
}

/** Google's Generative Language API (Gemini), natively: generateContent and streamGenerateContent over SSE. */
export function createGeminiAdapter(config: ProviderConfig): ProviderAdapter {
  const provider = config.id;
  const root = `${(config.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, '')}/${API_VERSION}`;
  // The key travels only in a header: a `?key=` query would be written into access logs along the way.
  const headers: Record<string, string> = {
    ...config.headers,
    ...(config.apiKey ? { 'x-goog-api-key': config.apiKey } : {}),
  };

  function malformed(what: string, cause?: unknown): ProviderError {
    return new ProviderError(`${provider} sent ${what} that does not match the Gemini API`, { provider, kind: 'malformed_response', cause });
  }

  async function call(method: 'GET' | 'POST', url: string, body: unknown, options: CallOptions): Promise<Dispatcher.ResponseData> {
    let bodyRetryAfterMs: number | undefined;
    try {
      return await callUpstream({
        provider,
        method,
        url,
        headers,
        body,
        signal: options.signal,
        observer: options.upstream,
        dispatcher: config.dispatcher,
        describeError: (status, errorBody) => {
          const described = describeGeminiError(status, errorBody);
          bodyRetryAfterMs = described.retryAfterMs;
          return described;
        },
      });
    } catch (error) {
      // callUpstream reads retry hints from headers only; Gemini sends its hint in the body.
      if (error instanceof ProviderError && error.retryAfterMs === undefined && bodyRetryAfterMs !== undefined) {
        throw new ProviderError(error.message, {
          provider,
          kind: error.kind,
          status: error.status,
          retryAfterMs: bodyRetryAfterMs,
          upstreamCode: error.upstreamCode,
          cause: error.cause,
        });
      }
      throw error;
    }
  }

  async function complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
    const { body, warnings } = toGeminiRequestBody(request);
    const response = await call('POST', `${root}/${modelPath(request.model)}:generateContent`, body, options);
    const json = await readJson(provider, response, options.signal);
    const errorInBody = geminiInBandError(provider, json);
    if (errorInBody) throw errorInBody;
    const parsed = generateContentResponseSchema.safeParse(json);
    if (!parsed.success) throw malformed('a response', parsed.error);
    if (!parsed.data.candidates?.length && parsed.data.promptFeedback?.blockReason === undefined) {
      throw malformed('a response with no candidates');
    }
    return fromGeminiResponse(parsed.data, warnings);
  }

  async function* stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
    const { body, warnings } = toGeminiRequestBody(request);
    const response = await call('POST', `${root}/${modelPath(request.model)}:streamGenerateContent?alt=sse`, body, options);
    const mapper = new GeminiStreamMapper();
    let started = false;
    for await (const event of parseSse(streamBody(provider, response, options.signal))) {
      const chunk = parseGeminiStreamChunk(provider, event.data);
      if (!started) {
        started = true;
        yield {
          type: 'start',
          ...(chunk.responseId !== undefined ? { upstreamId: chunk.responseId } : {}),
          ...(chunk.modelVersion !== undefined ? { model: chunk.modelVersion } : {}),
          warnings,
        };
      }
      yield* mapper.map(chunk);
    }
    const finish = mapper.end();
    // Gemini's last fragment always carries the finish reason; a stream that closes without one was cut short.
    if (finish === undefined) {
      throw new ProviderError(`${provider} ended the stream before a finish reason`, { provider, kind: 'stream_error' });
    }
    yield finish;
  }

  async function listModels(options: CallOptions): Promise<ProviderModelInfo[]> {
    const models: ProviderModelInfo[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const query = new URLSearchParams({ pageSize: String(MODELS_PAGE_SIZE) });
      if (pageToken !== undefined) query.set('pageToken', pageToken);
      const response = await call('GET', `${root}/models?${query.toString()}`, undefined, options);
      const parsed = listModelsResponseSchema.safeParse(await readJson(provider, response, options.signal));
      if (!parsed.success) throw malformed('a model list', parsed.error);
      models.push(...fromGeminiModelList(parsed.data));
      pageToken = parsed.data.nextPageToken;
      if (!pageToken) break;
    }
    return models;
  }

  async function embedBatch(request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResponse> {
    const { method, body } = toGeminiEmbeddingCall(request);
    const response = await call('POST', `${root}/${modelPath(request.model)}:${method}`, body, options);
    const json = await readJson(provider, response, options.signal);
    const errorInBody = geminiInBandError(provider, json);
    if (errorInBody) throw errorInBody;
    return fromGeminiEmbeddingResponse(provider, json, request.input.length);
  }

  /** batchEmbedContents takes at most GEMINI_EMBED_BATCH requests: a longer list goes as several calls, in order. */
  async function embed(request: EmbeddingRequest, options: CallOptions): Promise<EmbeddingResponse> {
    if (request.input.length <= GEMINI_EMBED_BATCH) return embedBatch(request, options);
    const embeddings: number[][] = [];
    for (let start = 0; start < request.input.length; start += GEMINI_EMBED_BATCH) {
      const part = await embedBatch({ ...request, input: request.input.slice(start, start + GEMINI_EMBED_BATCH) }, options);
      embeddings.push(...part.embeddings);
    }
    return { embeddings, usage: null, warnings: [] };
  }

  return { id: config.id, kind: 'gemini', complete, stream, listModels, embed };
}
