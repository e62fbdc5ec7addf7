import { z } from 'zod';
import { ProviderError, type ProviderErrorKind } from '../errors.js';
import type { DescribedError } from '../http.js';
import { googleErrorSchema, type GoogleError } from './wire.js';

/** Gemini words context overflow as "The input token count (N) exceeds the maximum number of tokens allowed (M)." */
const CONTEXT_TOO_LONG = /exceeds the maximum number of tokens|input token count|context (?:length|window)/i;

const arrayForm = z.array(z.unknown());

/** Google's error object, from a body that may also be a one-element array (the non-SSE stream form). */
export function googleError(body: unknown): GoogleError | undefined {
  const list = arrayForm.safeParse(body);
  const parsed = googleErrorSchema.safeParse(list.success ? list.data[0] : body);
  return parsed.success ? parsed.data.error : undefined;
}

function kindForGoogleError(error: GoogleError): ProviderErrorKind | undefined {
  const message = error.message ?? '';
  const reasons = (error.details ?? []).map((detail) => detail.reason);
  if (CONTEXT_TOO_LONG.test(message)) return 'context_length_exceeded';
  // A bad key is a 400 INVALID_ARGUMENT and a missing one a 403; both mean our credential is wrong.
  if (reasons.includes('API_KEY_INVALID') || /API key not (?:valid|found)/i.test(message)) return 'authentication';
  if (/unregistered callers/i.test(message)) return 'authentication';
  switch (error.status) {
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
      return 'bad_request';
    case 'UNAUTHENTICATED':
      return 'authentication';
    case 'PERMISSION_DENIED':
      return 'permission';
    case 'NOT_FOUND':
      return 'not_found';
    case 'RESOURCE_EXHAUSTED':
      return 'rate_limited';
    case 'UNAVAILABLE':
      return 'overloaded';
    case 'DEADLINE_EXCEEDED':
      return 'timeout';
    case 'INTERNAL':
    case 'UNKNOWN':
      return 'server_error';
    default:
      return undefined;
  }
}

/** Parses a protobuf Duration as JSON renders it ("31s", "1.5s"). */
export function parseGoogleDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(text.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** Gemini puts its retry hint in the body (google.rpc.RetryInfo), not in a header. */
export function retryDelayMs(error: GoogleError): number | undefined {
  for (const detail of error.details ?? []) {
    if (detail.retryDelay !== undefined) return parseGoogleDurationMs(detail.retryDelay);
  }
  return undefined;
}

export interface DescribedGoogleError extends DescribedError {
  retryAfterMs?: number;
}

/** What a Gemini error response means. The message comes from the body only, never from our request. */
export function describeGeminiError(status: number, body: unknown): DescribedGoogleError {
  const error = googleError(body);
  if (error === undefined) {
    const text = typeof body === 'string' ? body.trim().slice(0, 300) : '';
    return { message: text === '' ? `HTTP ${status}` : text };
  }
  const kind = kindForGoogleError(error);
  const reason = error.details?.find((detail) => detail.reason !== undefined)?.reason;
  const retryAfterMs = retryDelayMs(error);
  return {
    message: error.message ?? error.status ?? `HTTP ${status}`,
    ...(kind !== undefined ? { kind } : {}),
    ...(error.status !== undefined || reason !== undefined ? { upstreamCode: reason ?? error.status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** The text of an error event inside a 200 stream (its kind is always stream_error, whatever code it carries). */
export function inStreamErrorMessage(error: GoogleError): string {
  return error.message ?? error.status ?? 'error event in the stream';
}

/** An error reported inside a 200 body or stream; undefined when the value is not one. Its kind is always stream_error. */
export function geminiInBandError(provider: string, body: unknown): ProviderError | undefined {
  const error = googleError(body);
  if (error === undefined) return undefined;
  return new ProviderError(`${provider} reported an error in the response: ${inStreamErrorMessage(error)}`, {
    provider,
    kind: 'stream_error',
    upstreamCode: error.status,
  });
}
