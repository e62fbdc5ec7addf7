import type { IncomingHttpHeaders } from 'node:http';
import { MAX_CACHE_TTL_SECONDS } from '../cache/response-cache.js';
import type { CacheStatus, CompletionInput } from '../completions/types.js';
import { BadRequestError } from '../errors.js';

/** What the response cache did: HIT, MISS or BYPASS; absent when the request did not opt in. */
export const CACHE_STATUS_HEADER = 'x-switchboard-cache';
/** Opts a request in: keep its answer this many seconds for identical requests (0: do not, over the key's default). */
export const CACHE_TTL_HEADER = 'x-switchboard-cache-ttl';

/**
 * Lays the cache headers over the parsed request: `x-switchboard-cache-ttl` sets the TTL, `Cache-Control: no-cache`
 * skips the lookup (a fresh answer, stored again when the request has a TTL).
 */
export function applyCacheHeaders(input: CompletionInput, headers: IncomingHttpHeaders): void {
  const ttlText = headers[CACHE_TTL_HEADER];
  const bypass = (headers['cache-control'] ?? '')
    .split(',')
    .some((directive) => directive.trim().toLowerCase() === 'no-cache');
  if (ttlText === undefined && !bypass) return;
  const cache = { ...input.cache };
  if (ttlText !== undefined) {
    const text = Array.isArray(ttlText) ? ttlText.join(',') : ttlText;
    const ttl = /^\d{1,10}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
    if (!(ttl <= MAX_CACHE_TTL_SECONDS)) throw new BadRequestError(`The ${CACHE_TTL_HEADER} header must be a whole number of seconds from 0 to ${MAX_CACHE_TTL_SECONDS}`, CACHE_TTL_HEADER);
    cache.ttlSeconds = ttl;
  }
  if (bypass) cache.bypass = true;
  input.cache = cache;
}

export function cacheStatusHeaders(status: CacheStatus | null): Record<string, string> {
  return status === null ? {} : { [CACHE_STATUS_HEADER]: status };
}
