import { GraphQLError, Kind } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { GatewayError, graphqlErrorExtensions } from '../errors.js';
import { asCallerError } from '../providers/caller-error.js';

function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError;
}

/** The arguments of the field that failed, so a bad input field is named by the argument path the caller wrote. */
function argumentNames(error: GraphQLError | undefined): string[] {
  const node = error?.nodes?.[0];
  return node?.kind === Kind.FIELD ? (node.arguments ?? []).map((argument) => argument.name.value) : [];
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
    const shown = asCallerError(original);
    return new GraphQLError(shown.message, { ...location, extensions: graphqlErrorExtensions(shown, argumentNames(graphqlError)) });
  }
  // A GraphQLError raised by graphql-js itself (or thrown as such by a scalar) is about the request.
  if (graphqlError && (!graphqlError.originalError || isGraphQLError(graphqlError.originalError))) {
    // graphql-jit's own errors (compiled execution) may come without an extensions object.
    const code = typeof graphqlError.extensions?.['code'] === 'string' ? graphqlError.extensions['code'] : 'BAD_REQUEST';
    return new GraphQLError(graphqlError.message, { ...location, extensions: { ...graphqlError.extensions, code } });
  }
  return new GraphQLError('Unexpected error', { ...location, extensions: { code: 'INTERNAL' } });
}

/**
 * GraphQL's own request errors (syntax, unknown fields) carry BAD_REQUEST like every other client mistake.
 * The HTTP status stays Yoga's, as the GraphQL-over-HTTP spec asks: 400 for application/graphql-response+json,
 * 200 for legacy application/json clients.
 */
function asBadRequest(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, code: 'BAD_REQUEST' },
  });
}

export function useRequestErrorCodes(): Plugin {
  return {
    onValidate() {
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map((error) => (error instanceof GraphQLError ? asBadRequest(error) : error)));
      };
    },
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(asBadRequest(result));
      };
    },
  };
}
