import type { GatewayError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import type { Caller } from './types.js';

/**
 * Whether a caller may read what an upstream said. Transports pass the viewer's key: null for the bootstrap admin key
 * and open local mode, a key row otherwise; a caller built without a key is treated as no admin.
 */
export function callerIsAdmin(caller: Caller): boolean {
  return caller.key === null || (caller.key?.scopes.includes('ADMIN') ?? false);
}

/**
 * The failure as this caller is told it, by every transport alike (GraphQL over HTTP and WebSocket, the REST facade,
 * a stream's error event): an admin reads the upstream's (redacted) text; anyone else the code, the provider and a
 * generic message. The gateway's own messages (validation, limits, routing) are not upstream text and stay as they are.
 */
export function failureForCaller(failure: GatewayError, caller: Caller): GatewayError {
  return failure instanceof ProviderError && !callerIsAdmin(caller) ? failure.withoutUpstreamText() : failure;
}
