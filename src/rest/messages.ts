import type { IncomingMessage, ServerResponse } from 'node:http';
import { requireScope } from '../auth/scopes.js';
import type { Authenticator, Viewer } from '../auth/viewer.js';
import type { Caller, CompletionEvent, CompletionResult } from '../completions/types.js';
import { BadRequestError, InternalError, asGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { estimatePromptTokens } from '../providers/normalize.js';
import type { Services } from '../services.js';
import { requestScope } from '../telemetry/spans.js';
import { BodyAbortedError, BodyTooLargeError, readJsonBody } from './body.js';
import { COST_HEADER, GENERATION_ID_HEADER, MODEL_HEADER, PROVIDER_HEADER, abortOnDisconnect, drained, streamStartHeaders } from './chat-completions.js';
import { usdText } from './chat-response.js';
import { logRestFailure } from './errors.js';
import { messagesErrorResponse, sendMessagesError, sendMessagesTransportError } from './messages-errors.js';
import { parseCountTokensRequest, parseMessagesRequest, type ParsedMessagesRequest } from './messages-request.js';
import { messageObject } from './messages-response.js';
import { MessagesEventWriter } from './messages-stream.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { applyStrictHeader, warningsHeader } from './switchboard-headers.js';

const MESSAGES_PATH = '/v1/messages';
const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';

/** Whether a path is one of this facade's, whose every answer (errors included) is in Anthropic's shape. */
export function isMessagesPath(path: string): boolean {
  return path === MESSAGES_PATH || path.startsWith(`${MESSAGES_PATH}/`);
}

/**
 * Anthropic clients send the key as `x-api-key` (Claude Code, curl examples) or, like the SDK given an auth token,
 * as `Authorization: Bearer`; either is a gateway key here.
 */
function authorizationOf(req: IncomingMessage): unknown {
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? `Bearer ${apiKey}` : req.headers.authorization;
}

/** The model a body names, as far as it can be read: a refusal's row keeps what the caller asked for. */
function namedModel(body: unknown): string {
  return typeof body === 'object' && body !== null && 'model' in body && typeof body.model === 'string' ? body.model : '';
}

function isStreamed(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'stream' in body && body.stream === true;
}

export interface MessagesRoutes {
  /** Serves the request when its path is the Messages API's, and says whether it did; it answers every error itself. */
  route(path: string, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<boolean>;
}

/** POST /v1/messages and POST /v1/messages/count_tokens: Anthropic's Messages API on the one completion service. */
export function createMessagesRoutes(services: Services, authenticator: Authenticator, logger: Logger): MessagesRoutes {
  async function respond(res: ServerResponse, request: ParsedMessagesRequest, caller: Caller, requestId: string): Promise<void> {
    const controller = abortOnDisconnect(res);
    let result: CompletionResult;
    try {
      result = await services.completions.complete(request.input, caller, controller.signal);
    } catch (error) {
      sendMessagesError(res, error, logger, requestId, warningsHeader(request.warnings));
      return;
    }
    if (res.destroyed) return;
    const warnings = [...request.warnings, ...result.warnings];
    const body = JSON.stringify(messageObject(result, warnings));
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'request-id': requestId,
      [GENERATION_ID_HEADER]: result.id,
      [PROVIDER_HEADER]: result.providerId,
      [MODEL_HEADER]: result.servedModel,
      ...warningsHeader(warnings),
      ...rateLimitHeaders(result.rateLimits),
    };
    if (result.usage.costPicos !== null) headers[COST_HEADER] = usdText(result.usage.costPicos);
    res.writeHead(200, headers);
    res.end(body);
  }

  async function respondStreaming(res: ServerResponse, request: ParsedMessagesRequest, caller: Caller, requestId: string): Promise<void> {
    const controller = abortOnDisconnect(res);
    let stream: AsyncGenerator<CompletionEvent>;
    try {
      stream = await services.completions.openStream(request.input, caller, controller.signal);
    } catch (error) {
      sendMessagesError(res, error, logger, requestId, warningsHeader(request.warnings));
      return;
    }
    let writer: MessagesEventWriter | undefined;
    const failInBand = (thrown: unknown): void => {
      logRestFailure(logger, thrown, requestId, 'REST messages stream');
      if (writer && !res.destroyed && !res.writableEnded) res.end(writer.failed(messagesErrorResponse(asGatewayError(thrown)).body));
    };
    try {
      for await (const event of stream) {
        // The client is gone: leaving the loop aborts upstream and records the cancellation.
        if (controller.signal.aborted) break;
        let text = '';
        switch (event.type) {
          case 'started':
            writer = new MessagesEventWriter(event.id, event.servedModel);
            res.writeHead(200, streamStartHeaders(event, { 'request-id': requestId, ...warningsHeader([...request.warnings, ...event.warnings]) }));
            text = writer.start();
            break;
          case 'delta':
            text = writer ? writer.delta(event) : '';
            break;
          // `done` and `error` are the last events; the loop ends on its own.
          case 'done':
            if (writer) res.end(writer.done(event));
            continue;
          case 'error':
            if (writer) failInBand(event.error);
            else sendMessagesError(res, event.error, logger, requestId, { [GENERATION_ID_HEADER]: event.id });
            continue;
        }
        if (text !== '' && !res.write(text)) await drained(res);
      }
    } catch (error) {
      if (!res.headersSent) sendMessagesError(res, error, logger, requestId);
      else failInBand(error);
      return;
    }
    if (!res.headersSent) sendMessagesError(res, new InternalError('The completion stream ended without an answer'), logger, requestId);
    else if (!res.writableEnded) res.end();
  }

  async function create(req: IncomingMessage, res: ServerResponse, viewer: Viewer, requestId: string): Promise<void> {
    const trace = requestScope(req);
    const caller: Caller = { apiKeyId: viewer.apiKeyId, requestId, key: viewer.key, ...(trace ? { trace } : {}) };
    try {
      requireScope(viewer, 'COMPLETIONS');
    } catch (error) {
      // Authenticated, so the refusal is in the ledger too (a 401 never is).
      await services.completions.recordRejected(caller, '', false, error);
      throw error;
    }
    let body: unknown;
    let request: ParsedMessagesRequest;
    try {
      body = await readJsonBody(req, services.config.limits.maxBodyBytes);
      request = parseMessagesRequest(body);
      applyStrictHeader(request.input, req.headers);
    } catch (error) {
      // The caller's mistake is in the ledger; an oversized or aborted body never reached a request.
      if (error instanceof BadRequestError) await services.completions.recordRejected(caller, namedModel(body), isStreamed(body), error);
      throw error;
    }
    if (request.stream) await respondStreaming(res, request, caller, requestId);
    else await respond(res, request, caller, requestId);
  }

  /**
   * The prompt's size by the gateway's tokenizer, for any backend model; Anthropic's own count differs by a few
   * percent (its tokenizer is not public), which is the precision clients use it with: budgeting a context window.
   */
  async function countTokens(req: IncomingMessage, res: ServerResponse, viewer: Viewer): Promise<void> {
    requireScope(viewer, 'COMPLETIONS');
    const request = parseCountTokensRequest(await readJsonBody(req, services.config.limits.maxBodyBytes));
    const body = JSON.stringify({ input_tokens: estimatePromptTokens(request) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  return {
    async route(path, req, res, requestId) {
      if (!isMessagesPath(path)) return false;
      try {
        if (path !== MESSAGES_PATH && path !== COUNT_TOKENS_PATH) {
          sendMessagesTransportError(res, 404, `No route for ${req.method ?? 'GET'} ${path}`);
          return true;
        }
        if (req.method !== 'POST') {
          sendMessagesTransportError(res, 405, `${req.method ?? 'This method'} is not allowed here; use POST`, { allow: 'POST' });
          return true;
        }
        const viewer = authenticator.authenticate(authorizationOf(req));
        if (path === COUNT_TOKENS_PATH) await countTokens(req, res, viewer);
        else await create(req, res, viewer, requestId);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          // Closing stops Node from reading (and discarding) the rest of an oversized body on a kept-alive socket.
          sendMessagesTransportError(res, 413, error.message, { connection: 'close' });
        } else if (!(error instanceof BodyAbortedError)) {
          sendMessagesError(res, error, logger, requestId);
        }
      }
      return true;
    },
  };
}
