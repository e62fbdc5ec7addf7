import { GatewayError } from '../errors.js';

/** What went wrong upstream, in terms routing can act on. */
export type ProviderErrorKind =
  | 'bad_request'
  | 'context_length_exceeded'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'request_timeout'
  | 'conflict'
  | 'rate_limited'
  | 'quota_exhausted'
  | 'overloaded'
  | 'server_error'
  | 'network'
  | 'timeout'
  | 'malformed_response'
  | 'stream_error';

const RETRYABLE: Record<ProviderErrorKind, boolean> = {
  bad_request: false,
  context_length_exceeded: false,
  authentication: false,
  permission: false,
  not_found: false,
  request_timeout: true,
  conflict: true,
  rate_limited: true,
  quota_exhausted: false,
  overloaded: true,
  server_error: true,
  network: true,
  timeout: true,
  malformed_response: true,
  stream_error: true,
};

export interface ProviderErrorOptions {
  provider: string;
  kind: ProviderErrorKind;
  /** The upstream HTTP status, when there was one. */
  status?: number;
  retryAfterMs?: number;
  /** The provider's own error type/code, for the ledger. */
  upstreamCode?: string;
  cause?: unknown;
}

/**
 * A failed provider call. The message must never contain a credential: adapters build it from the
 * provider's error body, never from our request headers or URL.
 */
export class ProviderError extends GatewayError {
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamCode: string | undefined;
  constructor(message: string, options: ProviderErrorOptions) {
    super(options.kind === 'timeout' ? 'TIMEOUT' : 'PROVIDER_ERROR', message, { cause: options.cause });
    this.provider = options.provider;
    this.kind = options.kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamCode = options.upstreamCode;
  }
  get isRetryable(): boolean {
    return RETRYABLE[this.kind];
  }
  override extensions(): Record<string, unknown> {
    return {
      provider: this.provider,
      status: this.status ?? null,
      kind: this.kind,
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    };
  }
}

/** The error kind an HTTP status means when the body says nothing more specific. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 400 || status === 413 || status === 422) return 'bad_request';
  if (status === 401) return 'authentication';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 408) return 'request_timeout';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 529 || status === 503) return 'overloaded';
  if (status >= 500) return 'server_error';
  return 'bad_request';
}

type HeaderValue = string | string[] | undefined;
type Headers = Record<string, HeaderValue>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses Go-style durations such as `1s`, `6m0s`, `12ms` (OpenAI's x-ratelimit-reset-*). */
export function parseDurationMs(text: string): number | undefined {
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = false;
  for (const match of text.matchAll(pattern)) {
    matched = true;
    const value = Number(match[1]);
    const unit = match[2];
    total += unit === 'h' ? value * 3_600_000 : unit === 'm' ? value * 60_000 : unit === 's' ? value * 1000 : value;
  }
  return matched ? Math.round(total) : undefined;
}

/**
 * How long the provider asks us to wait: `retry-after-ms`, then `retry-after` (seconds or an HTTP date),
 * then the rate-limit reset headers.
 */
export function retryAfterMsFromHeaders(headers: Headers, now = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Math.round(Number(ms)));
  const after = header(headers, 'retry-after');
  if (after !== undefined) {
    const seconds = Number(after);
    if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  for (const name of ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens', 'anthropic-ratelimit-requests-reset']) {
    const value = header(headers, name);
    if (value === undefined) continue;
    const duration = parseDurationMs(value);
    if (duration !== undefined) return duration;
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/**
 * Removes a credential from text that came from upstream: some servers (and proxies in front of them) echo the
 * key they refused, and that text becomes our error message, log line and ledger row.
 */
export function redactSecret(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}
