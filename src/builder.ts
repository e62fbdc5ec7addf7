import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { hasScope } from './auth/scopes.js';
import type { Context } from './context.js';
import { ForbiddenError } from './errors.js';

export interface SchemaTypes {
  Context: Context;
  // Fields are non-null unless they say otherwise, as the contract's SDL reads.
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | number };
    JSON: { Input: unknown; Output: unknown };
    /** Sums that can pass 2^31 (token and request totals): exact JSON numbers up to 2^53. */
    SafeInt: { Input: number; Output: number };
  };
  /**
   * What a key may do; ADMIN implies the others. Every admin-only field says `authScopes: { admin: true }`: this
   * plugin is the one authorization path of the schema, so a field cannot forget a check an imperative guard needs.
   */
  AuthScopes: {
    admin: boolean;
    completions: boolean;
    read: boolean;
  };
}

export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [ScopeAuthPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Subscriptions are checked when they start, not only per event, so a caller without the scope never opens one.
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      admin: hasScope(context.viewer, 'ADMIN'),
      completions: hasScope(context.viewer, 'COMPLETIONS'),
      read: hasScope(context.viewer, 'READ'),
    }),
    unauthorizedError: (_parent, _context, _info, result) => new ForbiddenError(result.message),
  },
  relay: {
    // No global `node` lookups: they would bypass the per-field checks of each root field.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    clientMutationId: 'omit',
    cursorType: 'String',
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
