import { GraphQLError } from 'graphql';
import { GatewayError } from '../errors.js';

function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError;
}

/**
 * The one place errors become what a GraphQL client sees: a GatewayError keeps its message and gets its
 * `extensions.code` (plus safe details such as retryAfterMs); GraphQL's own request errors (syntax, validation,
 * variables) are BAD_REQUEST; anything else is INTERNAL with a message that reveals nothing.
 */
export function maskError(error: unknown): Error {
  const graphqlError = isGraphQLError(error) ? error : undefined;
  const original = graphqlError?.originalError ?? error;
  const location = graphqlError ? { nodes: graphqlError.nodes, path: graphqlError.path, source: graphqlError.source, positions: graphqlError.positions } : {};

  if (original instanceof GatewayError) {
    return new GraphQLError(original.message, { ...location, extensions: { code: original.code, ...original.extensions() } });
  }
  // A GraphQLError raised by graphql-js itself (or thrown as such by a scalar) is about the request.
  if (graphqlError && (!graphqlError.originalError || isGraphQLError(graphqlError.originalError))) {
    const code = typeof graphqlError.extensions['code'] === 'string' ? graphqlError.extensions['code'] : 'BAD_REQUEST';
    return new GraphQLError(graphqlError.message, { ...location, extensions: { ...graphqlError.extensions, code } });
  }
  return new GraphQLError('Unexpected error', { ...location, extensions: { code: 'INTERNAL' } });
}
