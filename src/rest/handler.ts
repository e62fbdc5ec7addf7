import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/viewer.js';
import type { Services } from '../context.js';
import { GatewayError, toOpenAIErrorBody } from '../errors.js';
import type { Logger } from '../logger.js';

export interface RestHandler {
  handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void>;
}

/** The OpenAI-compatible facade under /v1. */
export function createRestHandler(_services: Services, _authenticator: Authenticator, _logger: Logger): RestHandler {
  return {
    async handle(req, res) {
      const error = new GatewayError('BAD_REQUEST', `No route for ${req.method} ${req.url}`);
      const body = JSON.stringify(toOpenAIErrorBody(error));
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(body);
    },
  };
}
