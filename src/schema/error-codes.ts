import { builder } from '../builder.js';
import type { ErrorCode as GatewayErrorCode } from '../errors.js';

/**
 * Every code the gateway raises (GatewayError, shown as `extensions.code`) and every code the ledger and health
 * records store beside them. The `satisfies` clause keeps the first group in step with src/errors.ts.
 */
const gatewayErrorCodes = {
  UNAUTHENTICATED: { description: 'No valid gateway key' },
  FORBIDDEN: { description: 'The key lacks a scope or the model is outside its allowlist' },
  BAD_REQUEST: { description: 'The request is invalid' },
  MODEL_NOT_FOUND: { description: 'No catalog model, alias or provider model by that id' },
  RATE_LIMITED: { description: 'A rate limit of the key (or the gateway) refused it' },
  BUDGET_EXCEEDED: { description: 'The key’s budget is spent' },
  PROVIDER_ERROR: { description: 'The upstream provider failed or refused' },
  TIMEOUT: { description: 'A deadline or an attempt timeout passed' },
  UNAVAILABLE: { description: 'State shared between gateway instances (Redis) is unreachable and the request needs it (a budget, or limits with SWITCHBOARD_REDIS_FAILURE=closed); retry later' },
  INTERNAL: { description: 'A gateway fault' },
} as const satisfies Record<GatewayErrorCode, { description: string }>;

const recordedOnlyCodes = {
  CANCELLED: { description: 'The caller went away or unsubscribed (generations and attempts)' },
  HEDGE_LOST: { description: 'A hedged attempt aborted because the other attempt produced the first token first (attempts only)' },
  INTERRUPTED: { description: 'The gateway stopped while the request was in flight (generations only)' },
} as const;

const errorCodeValues = { ...gatewayErrorCodes, ...recordedOnlyCodes };

export type ErrorCodeValue = keyof typeof errorCodeValues;

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Why something failed: the codes of `extensions.code`, plus CANCELLED, HEDGE_LOST and INTERRUPTED, which the ledger records',
  values: errorCodeValues,
});

function isErrorCode(value: string): value is ErrorCodeValue {
  return Object.hasOwn(errorCodeValues, value);
}

/**
 * A stored code as the enum. Rows are written only with the codes above; a value outside them (a row written by a
 * later version, read after a downgrade) reads as INTERNAL rather than failing the whole query.
 */
export function toErrorCode(value: string | null | undefined): ErrorCodeValue | null {
  if (value === null || value === undefined) return null;
  return isErrorCode(value) ? value : 'INTERNAL';
}
