import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheStatus, Caller, CompletionEvent, CompletionResult } from '../completions/types.js';
import type { Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import { BadRequestError, InternalError, asGatewayError, type RateLimitState } from '../errors.js';
import type { Logger } from '../logger.js';
import { readJsonBody } from './body.js';
import { applyCacheHeaders, cacheStatusHeaders } from './cache-headers.js';
import { parseChatCompletionRequest, type ParsedChatRequest } from './chat-request.js';
import { ChunkFormatter, completionBody, errorEvent, usdText } from './chat-response.js';
import { errorBody, logRestFailure, sendError } from './errors.js';
import { openAIParamNamer } from './param-names.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { applyStrictHeader, warningsHeader } from './switchboard-headers.js';
import { requestScope } from '../telemetry/spans.js';

/** Response headers naming what served the request, beside x-request-id. */
export const GENERATION_ID_HEADER = 'x-switchboard-generation-id';
export const PROVIDER_HEADER = 'x-switchboard-provider';
export const MODEL_HEADER = 'x-switchboard-model';

/** The headers that open a stream: sent with the first token, so a failure before it still gets a real HTTP status. */
export function streamStartHeaders(started: { id: string; providerId: string; servedModel: string; cacheStatus: CacheStatus | null; rateLimits?: RateLimitState }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    [GENERATION_ID_HEADER]: started.id,
    [PROVIDER_HEADER]: started.providerId,
    [MODEL_HEADER]: started.servedModel,
    ...cacheStatusHeaders(started.cacheStatus),
    ...rateLimitHeaders(started.rateLimits),
    ...extra,
  };
}
export const COST_HEADER = 'x-switchboard-cost-usd';

/** Resolves once the response can take more, or the client is gone. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Watches for the client going away before the response ended, and aborts the completion then: the service
 * records it as CANCELLED and the adapter closes the upstream connection.
 */
export function abortOnDisconnect(res: ServerResponse): AbortController {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller;
}

/** The model a body names, as far as it can be read: a refusal's row keeps what the caller asked for. */
function namedModel(body: unknown): string {
  return typeof body === 'object' && body !== null && 'model' in body && typeof body.model === 'string' ? body.model : '';
}

function isStreamed(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'stream' in body && body.stream === true;
}

export type ChatCompletionsHandler = (req: IncomingMessage, res: ServerResponse, viewer: Viewer, requestId: string) => Promise<void>;

/** POST /v1/chat/completions: the OpenAI request mapped onto the one completion service, and its answer mapped back. */
export function createChatCompletionsHandler(services: Services, logger: Logger): ChatCompletionsHandler {
  async function respond(res: ServerResponse, request: ParsedChatRequest, caller: Caller, created: number, requestId: string): Promise<void> {
    const controller = abortOnDisconnect(res);
    let result: CompletionResult;
    try {
      result = await services.completions.complete(request.input, caller, controller.signal);
    } catch (error) {
      sendError(res, error, logger, requestId, undefined, openAIParamNamer(request.maxTokensParam));
      return;
    }
    if (res.destroyed) return;
    const body = completionBody(result, created);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [GENERATION_ID_HEADER]: result.id,
      [PROVIDER_HEADER]: result.providerId,
      [MODEL_HEADER]: result.servedModel,
      ...cacheStatusHeaders(result.cacheStatus),
      ...warningsHeader(result.warnings),
      ...rateLimitHeaders(result.rateLimits),
    };
    if (result.usage.costPicos !== null) headers[COST_HEADER] = usdText(result.usage.costPicos);
    res.writeHead(200, headers);
    res.end(body);
  }

  /** After the headers went out, a failure can only be told in the stream, as OpenAI does: one error event, no [DONE]. */
  function endInBand(res: ServerResponse, thrown: unknown, requestId: string, request: ParsedChatRequest): void {
    const failure = asGatewayError(thrown);
    logRestFailure(logger, thrown, requestId, 'REST stream');
    if (!res.destroyed && !res.writableEnded) res.end(errorEvent(errorBody(failure, openAIParamNamer(request.maxTokensParam))));
  }

  async function respondStreaming(res: ServerResponse, request: ParsedChatRequest, caller: Caller, created: number, requestId: string): Promise<void> {
    // Linked to the service, so a client gone before the first event still cancels; see the loop for the rest.
    const controller = abortOnDisconnect(res);
    const names = openAIParamNamer(request.maxTokensParam);
    let stream: AsyncGenerator<CompletionEvent>;
    try {
      stream = await services.completions.openStream(request.input, caller, controller.signal);
    } catch (error) {
      sendError(res, error, logger, requestId, undefined, names);
      return;
    }
    let chunks: ChunkFormatter | undefined;
    try {
      for await (const event of stream) {
        // The client is gone. Leaving the loop calls the stream's return(), which aborts upstream and records
        // the cancellation (an event may still have been on its way when the abort came).
        if (controller.signal.aborted) break;
        let text: string;
        switch (event.type) {
          case 'started':
            chunks = new ChunkFormatter(event.id, event.servedModel, created, request.includeUsage);
            // Headers go out with the first chunk, as soon as the first token arrived: an upstream that fails
            // before that still gets a proper HTTP error status below.
            res.writeHead(200, streamStartHeaders(event, warningsHeader(event.warnings)));
            text = chunks.role();
            break;
          case 'delta':
            text = chunks ? chunks.delta(event) : '';
            break;
          // `done` and `error` are the last events: the loop then ends on its own, without the return() that
          // would abort an upstream call that already finished.
          case 'done':
            if (chunks) res.end(chunks.done(event));
            continue;
          case 'error':
            if (chunks) endInBand(res, event.error, requestId, request);
            else sendError(res, event.error, logger, requestId, { [GENERATION_ID_HEADER]: event.id }, names);
            continue;
        }
        if (text !== '' && !res.write(text)) await drained(res);
      }
    } catch (error) {
      if (!res.headersSent) sendError(res, error, logger, requestId, undefined, names);
      else endInBand(res, error, requestId, request);
      return;
    }
    // Only a cancelled stream should end without `done` or `error`; anything else is our bug, not the caller's.
    if (!res.headersSent) sendError(res, new InternalError('The completion stream ended without an answer'), logger, requestId);
    else if (!res.writableEnded) res.end();
  }

  return async (req, res, viewer, requestId) => {
    const created = Math.floor(Date.now() / 1000);
    const trace = requestScope(req);
    const caller: Caller = { apiKeyId: viewer.apiKeyId, requestId, key: viewer.key, ...(trace ? { trace } : {}) };
    let body: unknown;
    let request: ParsedChatRequest;
    try {
      body = await readJsonBody(req, services.config.limits.maxBodyBytes);
      request = parseChatCompletionRequest(body);
      applyCacheHeaders(request.input, req.headers);
      applyStrictHeader(request.input, req.headers);
    } catch (error) {
      // A body that does not parse is the caller's mistake, and an authenticated caller's mistakes are in the ledger
      // (an oversized or aborted body is the transport's business: it never reached a request).
      if (error instanceof BadRequestError) await services.completions.recordRejected(caller, namedModel(body), isStreamed(body), error);
      throw error;
    }
    if (request.stream) await respondStreaming(res, request, caller, created, requestId);
    else await respond(res, request, caller, created, requestId);
  };
}
