import { rateLimitHeaders } from './rate-limit-headers.js';
import type { ServerResponse } from 'node:http';
import { BudgetExceededError, isCancellation, logLevelFor, RateLimitedError, UpstreamRateLimitedError, toOpenAIErrorBody, type FieldNamer, type GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { asCallerError } from '../providers/caller-error.js';
import { ProviderError } from '../providers/errors.js';
import { openAIParamNamer } from './param-names.js';

/** The OpenAI error body, for errors that exist only on this transport (routing, body size). */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

function retryAfterMs(error: GatewayError): number | undefined {
  if (error instanceof RateLimitedError || error instanceof UpstreamRateLimitedError) return error.retryAfterMs;
  if (error instanceof ProviderError) return error.retryAfterMs;
  return undefined;
}

/**
 * Whether the SDKs should retry, when we know better than their status-based default (they retry 429 and every 5xx):
 * an exhausted budget or an upstream refusal that no retry will change should not be hammered.
 */
function shouldRetry(error: GatewayError): boolean | undefined {
  if (error instanceof BudgetExceededError) return false;
  // Our own rate limits, a budget held by requests in flight and an upstream's rate limit all lift by themselves:
  // say so, with Retry-After.
  if (error instanceof RateLimitedError || error instanceof UpstreamRateLimitedError) return true;
  if (error instanceof ProviderError) return error.isRetryable;
  return undefined;
}

/**
 * The status, headers and body a GatewayError is answered with; GatewayError decides the status and type.
 * `names` renders a bad field as the OpenAI parameter the caller sent.
 */
export function errorResponse(thrown: GatewayError, names: FieldNamer = openAIParamNamer()): { status: number; headers: Record<string, string>; body: string } {
  const error = asCallerError(thrown);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const waitMs = retryAfterMs(error);
  if (waitMs !== undefined) {
    headers['retry-after'] = String(Math.max(0, Math.ceil(waitMs / 1000)));
    headers['retry-after-ms'] = String(Math.max(0, Math.round(waitMs)));
  }
  const retry = shouldRetry(error);
  if (retry !== undefined) headers['x-should-retry'] = String(retry);
  if (error instanceof RateLimitedError) Object.assign(headers, rateLimitHeaders(error.rateLimits));
  return { status: error.httpStatus, headers, body: JSON.stringify(errorBody(error, names)) };
}

/** The OpenAI error body; a bad field is named, in `param` and in the message, as an OpenAI parameter. */
export function errorBody(error: GatewayError, names: FieldNamer = openAIParamNamer()): OpenAIErrorBody {
  return toOpenAIErrorBody(asCallerError(error), names);
}

/**
 * Logs a failed REST request at the level logLevelFor gives it. Only our own failures (error level) carry the
 * error and its stack; a caller's cancellation is a plain info line, and other refusals are in the request log.
 */
export function logRestFailure(logger: Logger, thrown: unknown, requestId: string, what: string): void {
  const level = logLevelFor(thrown);
  if (level === 'error') logger.error({ err: thrown, requestId }, `${what} failed`);
  else if (isCancellation(thrown)) logger.info({ requestId }, `${what} cancelled by the client`);
}

/** Answers with an error, unless the response already started (a stream reports its failure in-band instead). */
export function sendError(
  res: ServerResponse,
  thrown: unknown,
  logger: Logger,
  requestId: string,
  extraHeaders?: Record<string, string>,
  names: FieldNamer = openAIParamNamer(),
): void {
  const error = asCallerError(thrown);
  logRestFailure(logger, thrown, requestId, 'REST request');
  if (res.headersSent || res.destroyed) return;
  const response = errorResponse(error, names);
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
