import type { IncomingMessage, ServerResponse } from 'node:http';
import { requireScope } from '../auth/scopes.js';
import type { Authenticator } from '../auth/viewer.js';
import type { Services } from '../services.js';
import { BadRequestError, ForbiddenError, ModelNotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { BodyAbortedError, BodyTooLargeError } from './body.js';
import { createChatCompletionsHandler } from './chat-completions.js';
import { createEmbeddingsHandler } from './embeddings.js';
import { sendError, sendTransportError } from './errors.js';
import { createMessagesRoutes } from './messages.js';
import { findOpenAIModel, listOpenAIModels } from './models.js';
import { createResponsesRoutes } from './responses.js';

export interface RestHandler {
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void>;
}

const MODELS_PREFIX = '/v1/models/';

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, method: string | undefined, allowed: string): void {
  sendTransportError(res, 405, `${method ?? 'This method'} is not allowed here; use ${allowed}`, 'method_not_allowed', { allow: allowed });
}

/**
 * The OpenAI-compatible facade under /v1: the same authenticator as GraphQL, and the same completion service
 * beneath it (never GraphQL itself), so keys, limits, routing and the ledger are shared.
 */
export function createRestHandler(services: Services, authenticator: Authenticator, logger: Logger): RestHandler {
  const chatCompletions = createChatCompletionsHandler(services, logger);
  const embeddings = createEmbeddingsHandler(services, logger);
  const responses = createResponsesRoutes(services, authenticator, logger);
  const messages = createMessagesRoutes(services, authenticator, logger);

  return {
    async handle(req, res, requestId) {
      try {
        const url = req.url ?? '/';
        const query = url.indexOf('?');
        const path = query === -1 ? url : url.slice(0, query);

        if (path === '/v1/chat/completions') {
          if (req.method !== 'POST') return methodNotAllowed(res, req.method, 'POST');
          const viewer = authenticator.authenticate(req.headers.authorization);
          try {
            requireScope(viewer, 'COMPLETIONS');
          } catch (error) {
            // Authenticated, so the refusal is in the ledger too (a 401 above never is).
            await services.completions.recordRejected({ apiKeyId: viewer.apiKeyId, requestId, key: viewer.key }, '', false, error);
            throw error;
          }
          await chatCompletions(req, res, viewer, requestId);
          return;
        }
        if (path === '/v1/embeddings') {
          if (req.method !== 'POST') return methodNotAllowed(res, req.method, 'POST');
          const viewer = authenticator.authenticate(req.headers.authorization);
          try {
            requireScope(viewer, 'COMPLETIONS');
          } catch (error) {
            await services.embeddings.recordRejected({ apiKeyId: viewer.apiKeyId, requestId, key: viewer.key }, '', error);
            throw error;
          }
          await embeddings(req, res, viewer, requestId);
          return;
        }
        if (await responses.route(path, req, res, requestId)) return;
        if (await messages.route(path, req, res, requestId)) return;
        if (path === '/v1/models') {
          if (req.method !== 'GET') return methodNotAllowed(res, req.method, 'GET');
          const viewer = authenticator.authenticate(req.headers.authorization);
          const all = new URLSearchParams(query === -1 ? '' : url.slice(query + 1)).get('all');
          if (all !== null && all !== 'true' && all !== 'false') throw new BadRequestError("'all' must be true or false", 'all');
          if (all === 'true' && !viewer.isAdmin) throw new ForbiddenError('Only an admin key may list the whole catalog (?all=true)');
          // The whole catalog for an admin who asks; otherwise what this key can actually call now.
          sendJson(res, listOpenAIModels(services.storage.sqlite ?? services.catalog.index, services.registry, all === 'true' ? { servableOnly: false, allowed: null } : { servableOnly: true, allowed: viewer.key?.allowedModels ?? null }));
          return;
        }
        if (path.startsWith(MODELS_PREFIX)) {
          if (req.method !== 'GET') return methodNotAllowed(res, req.method, 'GET');
          authenticator.authenticate(req.headers.authorization);
          // Canonical ids contain a slash: SDKs send it encoded (`openai%2Fgpt-4o`), curl users often raw.
          let id: string;
          try {
            id = decodeURIComponent(path.slice(MODELS_PREFIX.length));
          } catch {
            throw new BadRequestError('The model id in the path is not valid percent-encoding', 'model');
          }
          const model = findOpenAIModel(services.storage.sqlite ?? services.catalog.index, services.registry, id);
          if (!model) throw new ModelNotFoundError(id, `The model '${id}' does not exist in the catalog`);
          sendJson(res, model);
          return;
        }
        sendTransportError(res, 404, `No route for ${req.method ?? 'GET'} ${path}`, 'not_found');
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          // Closing stops Node from reading (and discarding) the rest of an oversized body on a kept-alive socket.
          sendTransportError(res, 413, error.message, 'request_too_large', { connection: 'close' });
          return;
        }
        if (error instanceof BodyAbortedError) return;
        sendError(res, error, logger, requestId);
      }
    },
  };
}
