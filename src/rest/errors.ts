import type { ServerResponse } from 'node:http';
import { BadRequestError, BudgetExceededError, RateLimitedError, asGatewayError, toOpenAIErrorBody, type GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ProviderError } from '../providers/errors.js';

/** The OpenAI error body, for errors that exist only on this transport (routing, body size). */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/**
 * The service validates in its own (GraphQL) field names; a REST caller wrote OpenAI's, so `param` and the message
 * name those. Only the error path pays for this.
 */
const OPENAI_PARAM_NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bmaxTokens\b/, 'max_completion_tokens'],
  [/\btopP\b/, 'top_p'],
  [/\btoolChoice\b/, 'tool_choice'],
  [/\btoolCallId\b/, 'tool_call_id'],
  [/\btoolCalls\b/, 'tool_calls'],
  [/\bresponseFormat\b/, 'response_format'],
];

function inOpenAINames(text: string): string {
  let result = text;
  for (const [pattern, name] of OPENAI_PARAM_NAMES) result = result.replace(pattern, name);
  return result;
}

function retryAfterMs(error: GatewayError): number | undefined {
  if (error instanceof RateLimitedError) return error.retryAfterMs;
  if (error instanceof ProviderError) return error.retryAfterMs;
  return undefined;
}

/**
 * Whether the SDKs should retry, when we know better than their status-based default (they retry 429 and every 5xx):
 * an exhausted budget or an upstream refusal that no retry will change should not be hammered.
 */
function shouldRetry(error: GatewayError): boolean | undefined {
  if (error instanceof BudgetExceededError) return false;
  if (error instanceof ProviderError) return error.isRetryable;
  return undefined;
}

/** The status, headers and body a GatewayError is answered with; GatewayError decides the status and type. */
export function errorResponse(error: GatewayError): { status: number; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const waitMs = retryAfterMs(error);
  if (waitMs !== undefined) {
    headers['retry-after'] = String(Math.max(0, Math.ceil(waitMs / 1000)));
    headers['retry-after-ms'] = String(Math.max(0, Math.round(waitMs)));
  }
  const retry = shouldRetry(error);
  if (retry !== undefined) headers['x-should-retry'] = String(retry);
  return { status: error.httpStatus, headers, body: JSON.stringify(errorBody(error)) };
}

export function errorBody(error: GatewayError): OpenAIErrorBody {
  const body = toOpenAIErrorBody(error);
  if (error instanceof BadRequestError) {
    if (body.error.param !== null) body.error.param = inOpenAINames(body.error.param);
    body.error.message = inOpenAINames(body.error.message);
  }
  return body;
}

/** Answers with an error, unless the response already started (a stream reports its failure in-band instead). */
export function sendError(res: ServerResponse, thrown: unknown, logger: Logger, requestId: string, extraHeaders?: Record<string, string>): void {
  const error = asGatewayError(thrown);
  // An unexpected failure is ours: log it with its cause, tell the caller nothing of it.
  if (error.code === 'INTERNAL') logger.error({ err: thrown, requestId }, 'REST request failed');
  if (res.headersSent || res.destroyed) return;
  const response = errorResponse(error);
  res.writeHead(response.status, extraHeaders ? { ...response.headers, ...extraHeaders } : response.headers);
  res.end(response.body);
}

/** Errors of the HTTP layer itself (unknown route, wrong method, body too large), in OpenAI's shape. */
export function sendTransportError(res: ServerResponse, status: number, message: string, code: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body: OpenAIErrorBody = { error: { message, type: 'invalid_request_error', code, param: null } };
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
