/**
 * Every error a client can see is a GatewayError subclass. The code, the HTTP status and the OpenAI error type
 * for each class are decided here and nowhere else; GraphQL and the REST facade both read them.
 */

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  | 'MODEL_NOT_FOUND'
  | 'RATE_LIMITED'
  | 'BUDGET_EXCEEDED'
  | 'PROVIDER_ERROR'
  | 'TIMEOUT'
  | 'UNAVAILABLE'
  | 'INTERNAL';

const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_REQUEST: 400,
  MODEL_NOT_FOUND: 404,
  RATE_LIMITED: 429,
  BUDGET_EXCEEDED: 429,
  PROVIDER_ERROR: 502,
  TIMEOUT: 504,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** OpenAI's `error.type` for each code, so SDKs map our errors onto their own classes. */
const OPENAI_TYPE: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'authentication_error',
  FORBIDDEN: 'permission_error',
  BAD_REQUEST: 'invalid_request_error',
  MODEL_NOT_FOUND: 'invalid_request_error',
  RATE_LIMITED: 'rate_limit_error',
  BUDGET_EXCEEDED: 'insufficient_quota',
  PROVIDER_ERROR: 'api_error',
  TIMEOUT: 'timeout_error',
  UNAVAILABLE: 'api_error',
  INTERNAL: 'api_error',
};

export class GatewayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
  get openaiType(): string {
    return OPENAI_TYPE[this.code];
  }
  /** Extra fields safe to show the caller, beside `code`. */
  extensions(): Record<string, unknown> {
    return {};
  }
}

/**
 * Where in a request a problem is: field names and list indexes, e.g. `['messages', 0, 'content']`. Validation
 * speaks the service's names (those of CompletionInput, which the GraphQL input shares); each transport renders the
 * path in the names its callers wrote (a GraphQL argument path, an OpenAI parameter), never by rewriting text.
 */
export type FieldPath = ReadonlyArray<string | number>;

/** Renders a field path in one caller's vocabulary. */
export type FieldNamer = (path: FieldPath) => string;

/** `['messages', 0, 'content']` → `messages[0].content`: the service's own rendering, and GraphQL's. */
export function fieldPathText(path: FieldPath): string {
  let text = '';
  for (const segment of path) text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  return text;
}

/** `messages[0].content` → `['messages', 0, 'content']`, for the callers that name a field as text. */
export function parseFieldPath(text: string): FieldPath {
  const path: Array<string | number> = [];
  for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) path.push(Number(match[2]));
    else if (match[1] !== undefined) path.push(match[1]);
  }
  return path;
}

/**
 * A request the caller must change. With a field path, the message is built from the field's name, so a
 * transport can tell it in its own names (`messageNaming`); `message` is the service's (and GraphQL's) wording.
 */
export class BadRequestError extends GatewayError {
  /**
   * Not called `path`: graphql-js takes any error with an array `path` for one it already located, and would then
   * hand it on without the field's nodes and response path.
   */
  readonly fieldPath: FieldPath | undefined;
  private readonly describe: ((name: FieldNamer) => string) | undefined;

  /** `field` may be a path or its text (`messages[0].content`); the message is then fixed. */
  constructor(message: string, field?: string | FieldPath, describe?: (name: FieldNamer) => string) {
    super('BAD_REQUEST', message);
    this.fieldPath = field === undefined || field === '' ? undefined : typeof field === 'string' ? parseFieldPath(field) : field;
    this.describe = describe;
  }

  /**
   * A problem with one field, worded around the field's name: `describe` is called with the namer of whoever
   * reads it, e.g. `(name) => \`${name(['maxTokens'])} must be a positive integer\``.
   */
  static atField(path: FieldPath, describe: (name: FieldNamer) => string): BadRequestError {
    return new BadRequestError(describe(fieldPathText), path, describe);
  }

  /** The path as the service writes it (`messages[0].content`). */
  get field(): string | undefined {
    return this.fieldPath === undefined ? undefined : fieldPathText(this.fieldPath);
  }

  /** The message with every field it mentions named by `name`. */
  messageNaming(name: FieldNamer): string {
    return this.describe === undefined ? this.message : this.describe(name);
  }

  override extensions(): Record<string, unknown> {
    const field = this.field;
    return field ? { field } : {};
  }
}

/**
 * The argument path a GraphQL caller wrote for a field path: errors about an input object's fields are prefixed
 * with the argument that carries it (`input.messages[0].content`); a path that already starts at an argument (a
 * cursor's `after`) is kept. Undefined when the field has no argument the path can belong to.
 */
export function graphqlArgumentPath(path: FieldPath, argumentNames: readonly string[]): string | undefined {
  const head = path[0];
  if (typeof head === 'string' && argumentNames.includes(head)) return fieldPathText(path);
  // Mutations and subscriptions that take an input object take it as `input`, by this schema's convention.
  if (argumentNames.includes('input')) return fieldPathText(['input', ...path]);
  return undefined;
}

/** `extensions` of a GraphQL error for a GatewayError: its code, its safe details and, for a bad field, the argument path. */
export function graphqlErrorExtensions(error: GatewayError, argumentNames: readonly string[]): Record<string, unknown> {
  const extensions: Record<string, unknown> = { code: error.code, ...error.extensions() };
  if (error instanceof BadRequestError && error.fieldPath !== undefined) {
    const argumentPath = graphqlArgumentPath(error.fieldPath, argumentNames);
    if (argumentPath !== undefined) extensions['argumentPath'] = argumentPath;
  }
  return extensions;
}

export class UnauthenticatedError extends GatewayError {
  constructor(message = 'A valid gateway API key is required') {
    super('UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends GatewayError {
  constructor(message = 'This key is not allowed to do that') {
    super('FORBIDDEN', message);
  }
}

export class ModelNotFoundError extends GatewayError {
  constructor(
    readonly model: string,
    message = `Model '${model}' was not found`,
  ) {
    super('MODEL_NOT_FOUND', message);
  }
  override extensions(): Record<string, unknown> {
    return { model: this.model };
  }
}

/** One of a key's per-minute limits as admission last saw it, for OpenAI's x-ratelimit-* headers. */
export interface RateLimitStanding {
  limit: number;
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
}

/** The key's limits that apply; absent: the key has no such limit. */
export interface RateLimitState {
  requests?: RateLimitStanding;
  tokens?: RateLimitStanding;
}

export class RateLimitedError extends GatewayError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    /** The key's limits when the refusal came from them, so a 429 carries the same headers as an answer. */
    readonly rateLimits?: RateLimitState,
  ) {
    super('RATE_LIMITED', message);
  }
  override extensions(): Record<string, unknown> {
    return { retryAfterMs: this.retryAfterMs };
  }
}

/**
 * Every attempt of a request was refused by an upstream rate limit. To the caller that is a rate limit like our own
 * (429 RATE_LIMITED, not a 502): it should wait as long as the provider asked, which `retryAfterMs` passes on
 * (null when the provider gave no hint). The message is ours, never the provider's text.
 */
export class UpstreamRateLimitedError extends GatewayError {
  constructor(
    readonly provider: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('RATE_LIMITED', `The provider ${provider} is rate limiting requests; retry ${retryAfterMs === undefined ? 'later' : `after ${Math.ceil(retryAfterMs / 1000)} s`}`, options);
  }
  override extensions(): Record<string, unknown> {
    return { provider: this.provider, retryAfterMs: this.retryAfterMs ?? null };
  }
}

export class BudgetExceededError extends GatewayError {
  constructor(message = 'The spend budget of this key is exhausted') {
    super('BUDGET_EXCEEDED', message);
  }
}

export class TimeoutError extends GatewayError {
  constructor(message = 'The request timed out') {
    super('TIMEOUT', message);
  }
}

/**
 * State shared between gateway instances (REDIS_URL) could not be reached, and what the request needs from it may
 * not be decided by one instance alone: a spend budget always, rate limits and stream caps when
 * SWITCHBOARD_REDIS_FAILURE=closed. Retrying later is right; the request itself is fine.
 */
export class SharedStateUnavailableError extends GatewayError {
  constructor(
    readonly needed: 'budget' | 'limits',
    options?: { cause?: unknown },
  ) {
    super('UNAVAILABLE', needed === 'budget' ? 'The shared budget state is unreachable; budgets are never decided by one instance alone' : 'The shared rate-limit state is unreachable and SWITCHBOARD_REDIS_FAILURE=closed', options);
  }
  override extensions(): Record<string, unknown> {
    return { reason: 'SHARED_STATE_UNAVAILABLE', retryAfterMs: 1000 };
  }
}

export class InternalError extends GatewayError {
  constructor(message = 'Internal error', options?: { cause?: unknown }) {
    super('INTERNAL', message, options);
  }
}

/**
 * Whether a failure only says that the request was stopped from outside: the caller went away (an AbortError from
 * its signal) or the gateway is shutting down. Neither is a bug, whatever GatewayError it was wrapped in.
 */
export function isCancellation(error: unknown): boolean {
  let current: unknown = error;
  // Bounded: a cause chain is short, and a cyclic one must not hang a log call.
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current.name === 'AbortError' || current.name === 'CancelledByShutdown') return true;
    current = current.cause;
  }
  return false;
}

/**
 * How loudly a failed request is logged. Error level is for what an operator must fix: our own bugs (INTERNAL).
 * An upstream failure or timeout is a warning (the provider's, reported per request in the request log too); a
 * caller's mistake, refusal or cancellation is info. Both transports log through this.
 */
export function logLevelFor(error: unknown): 'info' | 'warn' | 'error' {
  if (isCancellation(error)) return 'info';
  if (!(error instanceof GatewayError)) return 'error';
  if (error.code === 'INTERNAL') return 'error';
  if (error.code === 'PROVIDER_ERROR' || error.code === 'TIMEOUT') return 'warn';
  return 'info';
}

/** Any thrown value as a GatewayError; unknown errors become INTERNAL with a message that reveals nothing. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new InternalError('Internal error', { cause: error });
}

/**
 * The OpenAI-shaped body the REST facade answers with. `name` renders a field path as an OpenAI parameter
 * (the REST facade passes its table); without it the service's names are used.
 */
export function toOpenAIErrorBody(
  error: GatewayError,
  name: FieldNamer = fieldPathText,
): { error: { message: string; type: string; code: string; param: string | null } } {
  const bad = error instanceof BadRequestError ? error : undefined;
  const param = bad?.fieldPath !== undefined ? name(bad.fieldPath) : null;
  const message = bad ? bad.messageNaming(name) : error.message;
  return { error: { message, type: error.openaiType, code: error.code.toLowerCase(), param } };
}

