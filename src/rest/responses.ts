import type { IncomingMessage, ServerResponse } from 'node:http';
import { requireScope } from '../auth/scopes.js';
import type { Authenticator, Viewer } from '../auth/viewer.js';
import type { Caller, CompletionEvent, CompletionResult } from '../completions/types.js';
import { generationUsage } from '../db/generations.js';
import type { GenerationRow, StoredContent } from '../db/schema.js';
import { BadRequestError, InternalError, asGatewayError, type FieldNamer } from '../errors.js';
import { servedModelId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { Message } from '../providers/types.js';
import type { Services } from '../services.js';
import { readJsonBody } from './body.js';
import { applyCacheHeaders, cacheStatusHeaders } from './cache-headers.js';
import { COST_HEADER, GENERATION_ID_HEADER, MODEL_HEADER, PROVIDER_HEADER, abortOnDisconnect, drained, streamStartHeaders } from './chat-completions.js';
import { usdText } from './chat-response.js';
import { errorBody, logRestFailure, sendError, sendTransportError } from './errors.js';
import { openAIParamName } from './param-names.js';
import { parseResponsesRequest, type ItemResolver, type ParsedResponsesRequest } from './responses-request.js';
import {
  generationIdOfItem,
  generationIdOfResponse,
  outputItems,
  responseObject,
  responsesUsage,
  statusOf,
  type ResponseEcho,
} from './responses-response.js';
import { ResponsesEventWriter } from './responses-stream.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { applyStrictHeader, warningsHeader } from './switchboard-headers.js';

const STORE_SWITCH = 'SWITCHBOARD_STORE_CONTENT';

/** A response that does not exist for this caller: 404, the same whether it is missing or someone else's. */
class ResponseNotFoundError extends Error {
  constructor(
    readonly responseId: string,
    readonly param: string | null,
  ) {
    super(`No response found with id '${responseId}'`);
  }
}

/** The service validates in its field names; a Responses caller wrote these. */
const responsesParamNamer: FieldNamer = (path) => {
  switch (path[0]) {
    case 'maxTokens':
      return 'max_output_tokens';
    case 'responseFormat':
      return 'text.format';
    case 'messages':
      // Messages are built from `input` (and `instructions`); their indexes need not match, so the field is named whole.
      return 'input';
    default:
      return openAIParamName(path);
  }
};

function storeOff(param: string, what: string): BadRequestError {
  return new BadRequestError(`${what} needs stored content, which this gateway does not keep: set ${STORE_SWITCH}=true to keep each response's messages and answer`, param);
}

/** The earlier conversation a `previous_response_id` continues: its messages without their leading instructions, then its answer. */
function conversationOf(stored: StoredContent): Message[] {
  let start = 0;
  // OpenAI does not carry an earlier response's `instructions` over; the new request's lead instead.
  while (stored.messages[start]?.role === 'system') start++;
  const answer: Message = { role: 'assistant', content: stored.answer.content, toolCalls: stored.answer.toolCalls };
  return [...stored.messages.slice(start), answer];
}

const RESPONSES_PATH = '/v1/responses';
const RESPONSES_PREFIX = '/v1/responses/';

export interface ResponsesRoutes {
  /** Serves the request when its path is the Responses API's, and says whether it did; errors go to the caller's handler. */
  route(path: string, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<boolean>;
}

/** Stored generations read for one request, by generation id (either may be missing). */
type LoadedGenerations = Map<string, { row: GenerationRow | undefined; content: StoredContent | undefined }>;

/** Thrown by a synchronous read of a generation not read from the ledger yet; withStored reads it and tries again. */
class NotLoaded extends Error {
  constructor(readonly generationId: string) {
    super(`generation ${generationId} not read yet`);
  }
}

/** POST /v1/responses and GET /v1/responses/{id}: the Responses API on the one completion service. */
export function createResponsesRoutes(services: Services, authenticator: Authenticator, logger: Logger): ResponsesRoutes {
  const stored = services.config.storeContent;

  /** A generation and its content, when this viewer may read them: admins all, a key its own. */
  function load(loaded: LoadedGenerations, viewer: Viewer, id: string, param: string | null): { row: GenerationRow; content: StoredContent } {
    const generationId = generationIdOfResponse(id, param ?? 'id');
    const found = loaded.get(generationId);
    if (!found) throw new NotLoaded(generationId);
    const { row, content } = found;
    if (!row || (!viewer.isAdmin && row.apiKeyId !== viewer.apiKeyId)) throw new ResponseNotFoundError(id, param);
    if (!content) throw new ResponseNotFoundError(id, param);
    return { row, content };
  }

  /**
   * Runs a synchronous reader of stored generations (request parsing resolves references as it meets them) over
   * the ledger, which answers asynchronously: each generation the reader asks for and lacks is read, then the
   * reader runs again. Every round reads one more distinct generation, so the rounds are bounded by the references.
   */
  async function withStored<T>(read: (loaded: LoadedGenerations) => T): Promise<T> {
    const loaded: LoadedGenerations = new Map();
    for (;;) {
      try {
        return read(loaded);
      } catch (error) {
        if (!(error instanceof NotLoaded) || loaded.has(error.generationId)) throw error;
        const [row, content] = await Promise.all([services.storage.ledger.findGeneration(error.generationId), services.storage.ledger.findContent(error.generationId)]);
        loaded.set(error.generationId, { row, content });
      }
    }
  }

  function itemResolver(loaded: LoadedGenerations, viewer: Viewer): ItemResolver {
    return (itemId, param) => {
      const target = generationIdOfItem(itemId);
      if (!stored) {
        // The AI SDK's default (`store: true`) refers to an earlier step's text by id and resends only its calls:
        // without stored content that text is dropped (the model loses its own words, not the conversation) and
        // said; a referred call cannot be, as its output would answer nothing.
        if (target?.kind === 'message') return `${param}: the referenced text of an earlier response was dropped, as ${STORE_SWITCH} is off; send the message itself, or set providerOptions.openai.store to false in the AI SDK`;
        throw storeOff(param, 'An item_reference');
      }
      if (!target) throw new ResponseNotFoundError(itemId, param);
      const { content } = load(loaded, viewer, target.generationId, param);
      if (target.kind === 'message') return { role: 'assistant', content: content.answer.content, toolCalls: [] };
      const call = content.answer.toolCalls[target.index];
      if (!call) throw new ResponseNotFoundError(itemId, param);
      return { role: 'assistant', content: null, toolCalls: [call] };
    };
  }

  function parse(loaded: LoadedGenerations, raw: unknown, viewer: Viewer): ParsedResponsesRequest {
    const request = parseResponsesRequest(raw, itemResolver(loaded, viewer));
    if (request.previousResponseId === null) return request;
    if (!stored) throw storeOff('previous_response_id', 'previous_response_id');
    const { content } = load(loaded, viewer, request.previousResponseId, 'previous_response_id');
    const lead = request.body.instructions ? request.input.messages.slice(0, 1) : [];
    request.input.messages = [...lead, ...conversationOf(content), ...request.input.messages.slice(lead.length)];
    return request;
  }

  function echoOf(request: ParsedResponsesRequest): ResponseEcho {
    return { body: request.body, stored };
  }

  async function respond(res: ServerResponse, request: ParsedResponsesRequest, caller: Caller, createdAt: number, requestId: string): Promise<void> {
    const controller = abortOnDisconnect(res);
    let result: CompletionResult;
    try {
      result = await services.completions.complete(request.input, caller, controller.signal);
    } catch (error) {
      sendError(res, error, logger, requestId, warningsHeader(request.warnings), responsesParamNamer);
      return;
    }
    if (res.destroyed) return;
    const model = result.servedModel;
    const { status, incomplete } = statusOf(result.finishReason);
    const body = JSON.stringify(
      responseObject(echoOf(request), {
        generationId: result.id,
        createdAt,
        model,
        status,
        incomplete,
        output: outputItems(result.id, result.content, result.toolCalls),
        usage: responsesUsage(result.usage),
      }),
    );
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [GENERATION_ID_HEADER]: result.id,
      [PROVIDER_HEADER]: result.providerId,
      [MODEL_HEADER]: model,
      ...cacheStatusHeaders(result.cacheStatus),
      ...rateLimitHeaders(result.rateLimits),
      ...warningsHeader([...request.warnings, ...result.warnings]),
    };
    if (result.usage.costPicos !== null) headers[COST_HEADER] = usdText(result.usage.costPicos);
    res.writeHead(200, headers);
    res.end(body);
  }

  async function respondStreaming(res: ServerResponse, request: ParsedResponsesRequest, caller: Caller, createdAt: number, requestId: string): Promise<void> {
    const controller = abortOnDisconnect(res);
    let stream: AsyncGenerator<CompletionEvent>;
    try {
      stream = await services.completions.openStream(request.input, caller, controller.signal);
    } catch (error) {
      sendError(res, error, logger, requestId, warningsHeader(request.warnings), responsesParamNamer);
      return;
    }
    let writer: ResponsesEventWriter | undefined;
    const failInBand = (thrown: unknown, usage: Extract<CompletionEvent, { type: 'error' }>['usage'] | null): void => {
      logRestFailure(logger, thrown, requestId, 'REST responses stream');
      if (writer && !res.destroyed && !res.writableEnded) res.end(writer.failed(errorBody(asGatewayError(thrown), responsesParamNamer), usage));
    };
    try {
      for await (const event of stream) {
        // The client is gone: leaving the loop aborts upstream and records the cancellation.
        if (controller.signal.aborted) break;
        let text = '';
        switch (event.type) {
          case 'started': {
            const model = event.servedModel;
            writer = new ResponsesEventWriter(echoOf(request), event, model, createdAt);
            res.writeHead(200, streamStartHeaders(event, warningsHeader([...request.warnings, ...event.warnings])));
            text = writer.open();
            break;
          }
          case 'delta':
            text = writer ? writer.delta(event) : '';
            break;
          case 'done':
            if (writer) res.end(writer.done(event));
            continue;
          case 'error':
            if (writer) failInBand(event.error, event.usage);
            else sendError(res, event.error, logger, requestId, { [GENERATION_ID_HEADER]: event.id }, responsesParamNamer);
            continue;
        }
        if (text !== '' && !res.write(text)) await drained(res);
      }
    } catch (error) {
      if (!res.headersSent) sendError(res, error, logger, requestId, undefined, responsesParamNamer);
      else failInBand(error, null);
      return;
    }
    if (!res.headersSent) sendError(res, new InternalError('The completion stream ended without an answer'), logger, requestId);
    else if (!res.writableEnded) res.end();
  }

  function notFound(res: ServerResponse, error: ResponseNotFoundError): void {
    sendTransportError(res, 404, error.message, 'not_found');
  }

  async function create(req: IncomingMessage, res: ServerResponse, viewer: Viewer, requestId: string): Promise<void> {
      const createdAt = Math.floor(Date.now() / 1000);
      const raw = await readJsonBody(req, services.config.limits.maxBodyBytes);
      let request: ParsedResponsesRequest;
      try {
        request = await withStored((loaded) => parse(loaded, raw, viewer));
        applyCacheHeaders(request.input, req.headers);
        applyStrictHeader(request.input, req.headers);
      } catch (error) {
        if (error instanceof ResponseNotFoundError) return notFound(res, error);
        throw error;
      }
      const caller: Caller = { apiKeyId: viewer.apiKeyId, requestId, key: viewer.key };
      if (request.stream) await respondStreaming(res, request, caller, createdAt, requestId);
      else await respond(res, request, caller, createdAt, requestId);
  }

  async function retrieve(res: ServerResponse, viewer: Viewer, id: string): Promise<void> {
      if (!stored) throw storeOff('id', `GET /v1/responses/${id}`);
      let loaded: { row: GenerationRow; content: StoredContent };
      try {
        loaded = await withStored((generations) => load(generations, viewer, id, null));
      } catch (error) {
        if (error instanceof ResponseNotFoundError) return notFound(res, error);
        throw error;
      }
      const { row, content } = loaded;
      // Only answered generations have content, so their finish reason is one the ledger wrote from a FinishReason.
      const { status, incomplete } = statusOf(row.finishReason === 'length' || row.finishReason === 'content_filter' ? row.finishReason : 'stop');
      const model = row.providerId && row.providerModelId ? servedModelId(row.modelId ? { id: row.modelId } : null, row.providerId, row.providerModelId) : row.requestedModel;
      const usage = responsesUsage(generationUsage(row));
      const metadata = row.metadata ?? undefined;
      const body = JSON.stringify(
        responseObject(
          { body: metadata ? { metadata } : {}, stored },
          {
            generationId: row.id,
            createdAt: Math.floor(row.createdAt / 1000),
            model,
            status,
            incomplete,
            output: outputItems(row.id, content.answer.content, content.answer.toolCalls),
            usage,
          },
        ),
      );
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [GENERATION_ID_HEADER]: row.id });
      res.end(body);
  }

  return {
    async route(path, req, res, requestId) {
      if (path === RESPONSES_PATH) {
        if (req.method !== 'POST') {
          sendTransportError(res, 405, `${req.method ?? 'This method'} is not allowed here; use POST`, 'method_not_allowed', { allow: 'POST' });
          return true;
        }
        const viewer = authenticator.authenticate(req.headers.authorization);
        requireScope(viewer, 'COMPLETIONS');
        await create(req, res, viewer, requestId);
        return true;
      }
      if (path.startsWith(RESPONSES_PREFIX)) {
        if (req.method !== 'GET') {
          sendTransportError(res, 405, `${req.method ?? 'This method'} is not allowed here; use GET`, 'method_not_allowed', { allow: 'GET' });
          return true;
        }
        // One's own responses need no READ scope: a key is shown only what it made (admins everything).
        await retrieve(res, authenticator.authenticate(req.headers.authorization), path.slice(RESPONSES_PREFIX.length));
        return true;
      }
      return false;
    },
  };
}
