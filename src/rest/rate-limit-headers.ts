import type { RateLimitState, RateLimitStanding } from '../errors.js';

/**
 * OpenAI's rate-limit headers (x-ratelimit-{limit,remaining,reset}-{requests,tokens}), from what admission's store
 * answered for this request: a limit the key does not have gets no headers, as OpenAI leaves out what does not apply.
 */
export function rateLimitHeaders(state: RateLimitState | undefined): Record<string, string> {
  if (state === undefined) return {};
  return { ...standingHeaders('requests', state.requests), ...standingHeaders('tokens', state.tokens) };
}

function standingHeaders(kind: 'requests' | 'tokens', standing: RateLimitStanding | undefined): Record<string, string> {
  if (standing === undefined) return {};
  return {
    [`x-ratelimit-limit-${kind}`]: String(standing.limit),
    [`x-ratelimit-remaining-${kind}`]: String(standing.remaining),
    [`x-ratelimit-reset-${kind}`]: durationText(standing.resetMs),
  };
}

/**
 * A duration as OpenAI writes its resets, Go's time.Duration format: "120ms", "6s", "1.5s", "1m0s", "1h2m3s".
 * Milliseconds are the finest unit admission knows.
 */
export function durationText(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const seconds = millis % 1000 === 0 ? String(millis / 1000) : (millis / 1000).toFixed(3).replace(/0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
