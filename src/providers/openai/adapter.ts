import { ProviderError } from '../errors.js';
import { callUpstream, readJson, streamBody } from '../http.js';
import { parseSse } from '../sse.js';
import type { CallOptions, CompletionRequest, ProviderAdapter, ProviderConfig, StreamEvent } from '../types.js';
import { fromOpenAIEmbeddingResponse, toOpenAIEmbeddingBody } from './embeddings.js';
import { describeOpenAIError } from './errors.js';
import { fromOpenAIModelList } from './models.js';
import { openAIQuirks, type ChatCompletionsQuirks } from './quirks.js';
import { toOpenAIRequestBody } from './request.js';
import { fromOpenAIResponse } from './response.js';
import { OpenAIStreamMapper, parseOpenAIStreamChunk } from './stream.js';
import type { ChatChunk } from './wire.js';

/** Paths are relative to a base URL that already carries the API version, as OPENAI_BASE_URL does (`…/v1`). */
function endpoint(baseUrl: string, path: 'chat/completions' | 'models' | 'embeddings'): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path}`;
}

function requestHeaders(config: ProviderConfig, quirks: ChatCompletionsQuirks, options: CallOptions, accept: string): Record<string, string> {
  return {
    accept,
    ...quirks.defaultHeaders,
    ...config.headers,
    // Self-hosted servers often run without a key; an empty `Bearer` would be refused by some of them.
    ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
    ...(options.requestId !== undefined && quirks.requestIdHeader !== null ? { [quirks.requestIdHeader]: options.requestId } : {}),
  };
}

/**
 * One adapter for every server that speaks OpenAI Chat Completions; `quirks` says what the provider needs sent
 * differently. Responses are read tolerantly, so the same code serves OpenAI, its compatible clouds and self-hosted servers.
 */
export function createChatCompletionsAdapter(config: ProviderConfig, quirks: ChatCompletionsQuirks): ProviderAdapter {
  const provider = config.id;

  // Some servers echo the key they refused (OpenAI masks it, not every compatible one does): the registry's
  // redactor removes it from every error this adapter throws (src/providers/registry.ts).
  const describeError = describeOpenAIError;

  function post(request: CompletionRequest, options: CallOptions, stream: boolean) {
    const mapping = toOpenAIRequestBody(request, { stream, quirks, providerName: config.name });
    const response = callUpstream({
      provider,
      method: 'POST',
      url: endpoint(config.baseUrl, 'chat/completions'),
      headers: requestHeaders(config, quirks, options, stream ? 'text/event-stream' : 'application/json'),
      body: mapping.body,
      signal: options.signal,
      observer: options.upstream,
      describeError,
      dispatcher: config.dispatcher,
    });
    return { response, warnings: mapping.warnings, serviceTier: mapping.body.service_tier };
  }

  return {
    id: config.id,
    kind: config.kind,

    async complete(request, options) {
      const { response, warnings, serviceTier } = post(request, options, false);
      const json = await readJson(provider, await response, options.signal);
      return fromOpenAIResponse(provider, json, warnings, serviceTier);
    },

    async *stream(request, options): AsyncGenerator<StreamEvent> {
      const { response, warnings, serviceTier } = post(request, options, true);
      const body = streamBody(provider, await response, options.signal);
      const mapper = new OpenAIStreamMapper(serviceTier);
      let started = false;
      let done = false;
      const start = (chunk?: ChatChunk): StreamEvent => {
        started = true;
        return { type: 'start', ...(chunk?.id ? { upstreamId: chunk.id } : {}), ...(chunk?.model ? { model: chunk.model } : {}), warnings };
      };

      for await (const event of parseSse(body)) {
        // Reading on past [DONE] to the end of the body lets the connection go back to the pool instead of being destroyed.
        if (done || event.data.trim() === '') continue;
        if (event.data.trim() === '[DONE]') {
          if (!started) yield start();
          yield mapper.end();
          done = true;
          continue;
        }
        const chunk = parseOpenAIStreamChunk(provider, event.data);
        if (!started) yield start(chunk);
        yield* mapper.map(chunk);
      }
      if (done) return;
      // A clean end with no [DONE] is fine once the finish reason came; before that the answer was cut short.
      if (!mapper.hasFinishReason) {
        throw new ProviderError(`${provider} ended the stream before it finished`, { provider, kind: 'network' });
      }
      if (!started) yield start();
      yield mapper.end();
    },

    async listModels(options) {
      const response = await callUpstream({
        provider,
        method: 'GET',
        url: endpoint(config.baseUrl, 'models'),
        headers: requestHeaders(config, quirks, options, 'application/json'),
        signal: options.signal,
        observer: options.upstream,
        describeError,
        dispatcher: config.dispatcher,
      });
      return fromOpenAIModelList(provider, await readJson(provider, response, options.signal));
    },

    async embed(request, options) {
      const response = await callUpstream({
        provider,
        method: 'POST',
        url: endpoint(config.baseUrl, 'embeddings'),
        headers: requestHeaders(config, quirks, options, 'application/json'),
        body: toOpenAIEmbeddingBody(request),
        signal: options.signal,
        observer: options.upstream,
        describeError,
        dispatcher: config.dispatcher,
      });
      return fromOpenAIEmbeddingResponse(provider, await readJson(provider, response, options.signal), request.input.length);
    },
  };
}

/** OpenAI itself. The base URL includes `/v1` (OPENAI_BASE_URL's default is `https://api.openai.com/v1`). */
export function createOpenAIAdapter(config: ProviderConfig): ProviderAdapter {
  return createChatCompletionsAdapter(config, openAIQuirks);
}
