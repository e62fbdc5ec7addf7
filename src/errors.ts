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

export class BadRequestError extends GatewayError {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super('BAD_REQUEST', message);
  }
  override extensions(): Record<string, unknown> {
    return this.field ? { field: this.field } : {};
  }
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

export class RateLimitedError extends GatewayError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super('RATE_LIMITED', message);
  }
  override extensions(): Record<string, unknown> {
    return { retryAfterMs: this.retryAfterMs };
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

export class InternalError extends GatewayError {
  constructor(message = 'Internal error', options?: { cause?: unknown }) {
    super('INTERNAL', message, options);
  }
}

/** Any thrown value as a GatewayError; unknown errors become INTERNAL with a message that reveals nothing. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new InternalError('Internal error', { cause: error });
}

/** The OpenAI-shaped body the REST facade answers with. */
export function toOpenAIErrorBody(error: GatewayError): { error: { message: string; type: string; code: string; param: string | null } } {
  const param = error instanceof BadRequestError ? (error.field ?? null) : null;
  return { error: { message: error.message, type: error.openaiType, code: error.code.toLowerCase(), param } };
}
