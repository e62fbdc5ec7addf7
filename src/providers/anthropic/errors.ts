import { ProviderError, type ProviderErrorKind } from '../errors.js';
import type { DescribedError } from '../http.js';
import { errorBodySchema } from './wire.js';

/** Anthropic reports a too-long prompt as a plain invalid_request_error; only the message tells it apart. */
const CONTEXT_OVERFLOW = /prompt is too long|exceed context limit|context window|too many tokens/i;

/** The kind for each `error.type`; types not listed fall back to the HTTP status. */
const KIND_BY_TYPE: Record<string, ProviderErrorKind> = {
  authentication_error: 'authentication',
  permission_error: 'permission',
  not_found_error: 'not_found',
  rate_limit_error: 'rate_limited',
  billing_error: 'quota_exhausted',
  request_too_large: 'bad_request',
  api_error: 'server_error',
  overloaded_error: 'overloaded',
};

export function kindForErrorType(type: string, message: string): ProviderErrorKind | undefined {
  if (type === 'invalid_request_error') return CONTEXT_OVERFLOW.test(message) ? 'context_length_exceeded' : 'bad_request';
  return KIND_BY_TYPE[type];
}

/** What an Anthropic error response means. Keys the upstream echoes are redacted where every adapter's errors pass (src/providers/registry.ts). */
export function describeAnthropicError(status: number, body: unknown): DescribedError {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) {
    const text = typeof body === 'string' ? body.slice(0, 200) : '';
    return { message: text === '' ? `HTTP ${status}` : text };
  }
  const { type, message = type } = parsed.data.error;
  const kind = kindForErrorType(type, message);
  return { message, upstreamCode: type, ...(kind !== undefined ? { kind } : {}) };
}

/** An in-band `error` event: the stream has already begun, so the status says nothing. */
export function anthropicInBandError(provider: string, error: { type: string; message?: string | undefined }): ProviderError {
  const kind: ProviderErrorKind = error.type === 'overloaded_error' ? 'overloaded' : 'stream_error';
  return new ProviderError(`${provider} stream failed: ${error.message ?? error.type}`, {
    provider,
    kind,
    upstreamCode: error.type,
  });
}
