import { asGatewayError, UpstreamRateLimitedError, type GatewayError } from '../errors.js';
import { ProviderError } from './errors.js';

/**
 * What a caller is told about a failed request, for both transports (GraphQL's maskError, the REST facade's error
 * responses). Routing ends with a rate-limited ProviderError only when every attempt was rate limited upstream
 * (src/routing/attempts.ts keeps any other failure as the final one); the caller then sees a rate limit (429) with
 * the provider's Retry-After instead of a 502 that SDKs would retry at once. Everything else is shown as it is.
 */
export function asCallerError(thrown: unknown): GatewayError {
  const error = asGatewayError(thrown);
  if (error instanceof ProviderError && error.kind === 'rate_limited') return new UpstreamRateLimitedError(error.provider, error.retryAfterMs, { cause: error });
  return error;
}
