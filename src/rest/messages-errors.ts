import type { ServerResponse } from 'node:http';
import { BadRequestError, fieldPathText, type FieldNamer, type GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { asCallerError } from '../providers/caller-error.js';
import { errorResponse, logRestFailure } from './errors.js';

/**
 * Errors on /v1/messages in Anthropic's shape, `{"type":"error","error":{"type","message"}}`. The status and the
 * retry headers are the ones every REST error gets (src/rest/errors.ts decides them from the GatewayError); only
 * the body differs, with Anthropic's error type for the status, which is what the @anthropic-ai/sdk and Claude
 * clients read (the SDK picks its exception class by status).
 */

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** Anthropic's error type for an HTTP status (https://docs.anthropic.com/en/api/errors). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
    case 405:
    case 415:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return 'api_error';
  }
}

/** The service validates in CompletionInput's names; a Messages caller wrote Anthropic's. */
const MESSAGES_PARAMS: Readonly<Record<string, string>> = {
  maxTokens: 'max_tokens',
  topP: 'top_p',
  stop: 'stop_sequences',
  toolChoice: 'tool_choice',
  user: 'metadata.user_id',
  thinking: 'thinking',
};

export const messagesParamNamer: FieldNamer = (path) => {
  const head = typeof path[0] === 'string' ? MESSAGES_PARAMS[path[0]] : undefined;
  if (head !== undefined) return fieldPathText([head, ...path.slice(1)]);
  // Messages are rebuilt from turns and the system prompt (a tool_result becomes a message of its own): their
  // indexes need not match the body's, so the field is named whole.
  if (path[0] === 'messages') return 'messages';
  return fieldPathText(path);
};

export function anthropicErrorBody(status: number, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(status), message } };
}

/** The status, headers and Anthropic body for any error. */
export function messagesErrorResponse(thrown: unknown): { status: number; headers: Record<string, string>; body: AnthropicErrorBody } {
  const error: GatewayError = asCallerError(thrown);
  const { status, headers } = errorResponse(error, messagesParamNamer);
  const message = error instanceof BadRequestError ? error.messageNaming(messagesParamNamer) : error.message;
  return { status, headers, body: anthropicErrorBody(status, message) };
}

/** Answers with an Anthropic error, unless the response already started (a stream then reports it in-band). */
export function sendMessagesError(res: ServerResponse, thrown: unknown, logger: Logger, requestId: string, extraHeaders: Record<string, string> = {}): void {
  logRestFailure(logger, thrown, requestId, 'REST messages');
  if (res.headersSent || res.destroyed) return;
  const response = messagesErrorResponse(thrown);
  res.writeHead(response.status, { ...response.headers, 'request-id': requestId, ...extraHeaders });
  res.end(JSON.stringify(response.body));
}

/** Errors of the HTTP layer itself (wrong method, body too large) in the same shape. */
export function sendMessagesTransportError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(anthropicErrorBody(status, message)));
}
