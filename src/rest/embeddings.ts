import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Viewer } from '../auth/viewer.js';
import type { Caller } from '../completions/types.js';
import { BadRequestError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { requestScope } from '../telemetry/spans.js';
import { readJsonBody } from './body.js';
import { COST_HEADER, GENERATION_ID_HEADER, MODEL_HEADER, PROVIDER_HEADER, abortOnDisconnect } from './chat-completions.js';
import { usdText } from './chat-response.js';
import { embeddingListBody, parseEmbeddingRequest, type ParsedEmbeddingRequest } from './embeddings-body.js';
import { sendError } from './errors.js';

/** The response header carrying an adapter's warnings (a provider that could not honour `dimensions`). */
export const EMBEDDING_WARNINGS_HEADER = 'x-switchboard-warnings';

function namedModel(body: unknown): string {
  return typeof body === 'object' && body !== null && 'model' in body && typeof body.model === 'string' ? body.model : '';
}

export type EmbeddingsHandler = (req: IncomingMessage, res: ServerResponse, viewer: Viewer, requestId: string) => Promise<void>;

/** POST /v1/embeddings: OpenAI's request onto the embedding service, and its vectors back as OpenAI sends them. */
export function createEmbeddingsHandler(services: Services, logger: Logger): EmbeddingsHandler {
  return async (req, res, viewer, requestId) => {
    const trace = requestScope(req);
    const caller: Caller = { apiKeyId: viewer.apiKeyId, requestId, key: viewer.key, ...(trace ? { trace } : {}) };
    let body: unknown;
    let request: ParsedEmbeddingRequest;
    try {
      body = await readJsonBody(req, services.config.limits.maxBodyBytes);
      request = parseEmbeddingRequest(body);
    } catch (error) {
      if (error instanceof BadRequestError) await services.embeddings.recordRejected(caller, namedModel(body), error);
      throw error;
    }
    const controller = abortOnDisconnect(res);
    let text: string;
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    try {
      const result = await services.embeddings.embed(request.input, caller, controller.signal);
      text = embeddingListBody(result, request.encoding);
      headers[GENERATION_ID_HEADER] = result.id;
      headers[PROVIDER_HEADER] = result.providerId;
      headers[MODEL_HEADER] = result.servedModel;
      if (result.usage.costPicos !== null) headers[COST_HEADER] = usdText(result.usage.costPicos);
      if (result.warnings.length > 0) headers[EMBEDDING_WARNINGS_HEADER] = encodeURIComponent(result.warnings.join('; '));
    } catch (error) {
      sendError(res, error, logger, requestId);
      return;
    }
    if (res.destroyed) return;
    headers['content-length'] = Buffer.byteLength(text);
    res.writeHead(200, headers);
    res.end(text);
  };
}
