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
  /**
   * The message quotes what the upstream sent (its error body or event, or text parsed from its response). Set where
   * every adapter's errors pass (src/providers/registry.ts); callers without ADMIN are then told `publicMessage`.
   */
  upstreamText?: boolean;
}

/**
 * A failed provider call. The message must never contain a credential: adapters build it from the provider's error
 * body, never from our request headers or URL, and the adapter registry redacts every secret an upstream echoes.
 * What the upstream said reaches admins only: `publicMessage` is what anyone may read.
 */
export class ProviderError extends GatewayError {
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamCode: string | undefined;
  readonly upstreamText: boolean;
  constructor(message: string, options: ProviderErrorOptions) {
    super(options.kind === 'timeout' ? 'TIMEOUT' : 'PROVIDER_ERROR', message, { cause: options.cause });
    this.provider = options.provider;
    this.kind = options.kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamCode = options.upstreamCode;
    this.upstreamText = options.upstreamText ?? false;
  }
  /** The message any caller may read: the gateway's own words as they are, the upstream's replaced by a generic one. */
  get publicMessage(): string {
    return this.upstreamText ? genericProviderMessage(this.provider, this) : this.message;
  }
  /** This failure as a caller without ADMIN sees it: the same code, provider, status, kind and retry hint, the public message. */
  withoutUpstreamText(): ProviderError {
    if (!this.upstreamText) return this;
    return new ProviderError(this.publicMessage, {
      provider: this.provider,
      kind: this.kind,
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
    });
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
 * What a caller without ADMIN is told of a provider failure whose message quotes the upstream: which provider, and
 * the status or the kind of failure, never the upstream's words (which may repeat the request, another tenant's
 * data, or a credential the redactor could not recognize).
 */
export function genericProviderMessage(provider: string, failure: { status?: number | null | undefined; kind?: ProviderErrorKind | undefined }): string {
  if (failure.status !== undefined && failure.status !== null && (failure.status < 200 || failure.status >= 300)) return `${provider} returned an error (HTTP ${failure.status})`;
  switch (failure.kind) {
    case 'timeout':
    case 'request_timeout':
      return `${provider} did not answer in time`;
    case 'network':
      return `${provider} could not be reached or closed the connection`;
    case 'malformed_response':
      return `${provider} sent a response the gateway could not read`;
    case 'stream_error':
      return `${provider} reported an error during the response`;
    default:
      return `${provider} returned an error`;
  }
}

/** How deep a cause chain is copied; deeper causes are dropped. */
const MAX_CAUSE_DEPTH = 5;

/**
 * A cause as a plain Error with its message and stack redacted. Causes hold upstream text too (V8's JSON.parse
 * errors quote the body, a ZodError lists the values it received) and end up in log lines; a copy keeps the name,
 * message and stack a reader needs, without the enumerable fields (a ZodError's `issues`) a log serializer would print.
 */
function redactedCause(cause: unknown, redact: (text: string) => string, depth = 0): unknown {
  if (cause === undefined || depth >= MAX_CAUSE_DEPTH) return undefined;
  if (!(cause instanceof Error)) return typeof cause === 'string' ? redact(cause) : undefined;
  const copy = new Error(redact(cause.message), { cause: redactedCause(cause.cause, redact, depth + 1) });
  copy.name = cause.name;
  copy.stack = cause.stack === undefined ? undefined : redact(cause.stack);
  return copy;
}

/**
 * A failure thrown by an adapter, with every secret the gateway holds removed from its message, upstream code and
 * causes, and marked as quoting the upstream (so only admins read its text). Anything else an adapter throws (a
 * bug's TypeError) has its message and stack redacted in place, keeping its class for whoever catches it.
 */
export function redactUpstreamError(error: unknown, redact: (text: string) => string): unknown {
  if (error instanceof ProviderError) {
    return new ProviderError(redact(error.message), {
      provider: error.provider,
      kind: error.kind,
      ...(error.status !== undefined ? { status: error.status } : {}),
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      ...(error.upstreamCode !== undefined ? { upstreamCode: redact(error.upstreamCode) } : {}),
      cause: redactedCause(error.cause, redact),
      upstreamText: true,
    });
  }
  if (error instanceof Error) {
    for (const field of ['message', 'stack'] as const) {
      const value = error[field];
      if (typeof value !== 'string') continue;
      const clean = redact(value);
      // defineProperty, not assignment: some errors (a ZodError's message) are getters without a setter.
      if (clean !== value) Object.defineProperty(error, field, { value: clean, writable: true, configurable: true, enumerable: false });
    }
    if (error.cause !== undefined) Object.defineProperty(error, 'cause', { value: redactedCause(error.cause, redact), writable: true, configurable: true, enumerable: false });
  }
  return error;
}
