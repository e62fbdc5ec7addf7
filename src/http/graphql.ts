import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, GraphQLError, Kind, type DocumentNode } from 'graphql';
import { createGraphQLError, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useCompiledExecution } from './compiled-execution.js';
import type { Authenticator, Viewer } from '../auth/viewer.js';
import { createContext, type Context } from '../context.js';
import { GatewayError, isCancellation, logLevelFor, UnauthenticatedError } from '../errors.js';
import { renderOfflineGraphiQL } from '../graphiql.js';
import type { Logger } from '../logger.js';
import { maskError, useRequestErrorCodes } from '../schema/errors.js';
import { getSchema } from '../schema/index.js';
import { graphqlLimitPlugins } from '../schema/limits.js';
import type { Services } from '../services.js';
import { currentRequestId } from './access-log.js';
import { useCsrfPrevention } from './csrf.js';
import { corsOptions } from './transport.js';
import { nameGraphQLOperation, requestScope } from '../telemetry/spans.js';

/** What the node:http dispatcher and the WebSocket bridge hand to Yoga with each operation. */
export interface GraphQLServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  requestId: string;
  /** A WebSocket operation's context, built from its connectionParams before it enters Yoga's pipeline. */
  prebuilt?: Context;
}

export type GraphQLServer = YogaServerInstance<GraphQLServerContext, Context>;

/**
 * Yoga logs at error level every error our maskError rewrites, which is every error: a syntax error, a FORBIDDEN, a
 * caller hanging up. Each is logged here at the level logLevelFor gives it: only our own failures are errors (with
 * the original error and its stack); an upstream failure is a warning; a caller's mistake, refusal or cancellation
 * is info. Messages of the others are left out: upstream text may echo the request (see the README's Logs).
 */
function logYogaError(root: Logger, args: unknown[]): void {
  // Yoga logs from inside the request: its id ties the line to the access log's and the caller's x-request-id.
  const requestId = currentRequestId();
  const logger = requestId === undefined ? root : root.child({ requestId });
  for (const arg of args) {
    const original = arg instanceof GraphQLError ? (arg.originalError ?? arg) : arg;
    // graphql-js's own errors (syntax, validation, variables) have no original error: the document was wrong.
    const level = original instanceof GraphQLError ? 'info' : logLevelFor(original);
    if (level === 'error') {
      logger.error({ err: original }, 'GraphQL operation failed');
    } else if (isCancellation(original)) {
      logger.info('GraphQL operation cancelled by the caller');
    } else {
      const code = original instanceof GatewayError ? original.code : 'BAD_REQUEST';
      logger[level]({ code, ...(arg instanceof GraphQLError && arg.path ? { path: arg.path.join('.') } : {}) }, 'GraphQL operation refused');
    }
  }
}

/**
 * The caller of an HTTP request. A refused key fails the whole request before execution, which the
 * GraphQL-over-HTTP spec answers with 401 for application/graphql-response+json clients; `spec: true` tells Yoga to
 * keep 200 for legacy application/json clients, which read errors from the body only. The error is built here,
 * not in maskError, because only HTTP has a status (a WebSocket reports the same error in-band).
 */
function authenticateRequest(authenticator: Authenticator, authorization: string | undefined): Viewer {
  try {
    return authenticator.authenticate(authorization);
  } catch (error) {
    if (!(error instanceof UnauthenticatedError)) throw error;
    throw createGraphQLError(error.message, {
      extensions: { code: error.code, http: { status: error.httpStatus, spec: true, headers: { 'www-authenticate': 'Bearer' } } },
    });
  }
}

/**
 * Renames the transport span after the operation (`graphql mutation createCompletion`) once the document is parsed
 * and valid: `POST /graphql` alone would lump every operation together. Named by the operation's name, or by its
 * first root field when it has none.
 */
function useOperationSpanName(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const label = operationLabel(args.document, args.operationName);
      if (label) nameGraphQLOperation(args.contextValue.trace, label.type, label.name);
    },
  };
}

/** An operation's type and name for its span: its own name, or its first root field when it has none. */
export function operationLabel(document: DocumentNode, operationName: string | null | undefined): { type: string; name: string | undefined } | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const field = operation.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
  return { type: operation.operation, name: operation.name?.value ?? (field?.kind === Kind.FIELD ? field.name.value : undefined) };
}

/** The Yoga instance behind /graphql: one pipeline (masking, limits, CSRF, context) for HTTP and WebSocket alike. */
export function createGraphQLServer(services: Services, authenticator: Authenticator, logger: Logger): GraphQLServer {
  return createYoga<GraphQLServerContext, Context>({
    schema: getSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: services.config.graphiql ? { title: 'Switchboard' } : false,
    renderGraphiQL: renderOfflineGraphiQL,
    maskedErrors: { maskError },
    // Compiled execution (see compiled-execution.ts): graphql-js walking the selection set was most of a mutation's
    // CPU and all of a streamed event's. Yoga's parser and validation caches keep one parsed document per text,
    // which is what the compiled code is cached by.
    plugins: [useRequestErrorCodes(), useCsrfPrevention(), ...graphqlLimitPlugins(services.config.limits), useOperationSpanName(), useCompiledExecution()],
    cors: corsOptions(services.config.limits.corsOrigins),
    // One operation per request: a batch would multiply every per-request limit above.
    batching: false,
    // The dispatcher bounds the body before Yoga sees it (src/http/body-limit.ts: a declared length refused unread,
    // a chunked one counted as it is read). Yoga's own bound piped every body through a counting TransformStream,
    // 8 % of a mutation's CPU, to enforce a limit already kept.
    maxRequestBodySize: false,
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) => logYogaError(logger, args),
    },
    context: ({ request, req, requestId, prebuilt }) =>
      prebuilt ?? createContext(services, authenticateRequest(authenticator, request.headers.get('authorization') ?? undefined), requestId, request.signal, requestScope(req)),
  });
}
