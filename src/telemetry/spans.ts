import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamObserver } from '../providers/http.js';
import { endWithError, startChild, startServerSpan, traceHeaders, type TraceScope } from './tracing.js';

/**
 * The spans of one request, by name and attribute. The GenAI names are the OpenTelemetry GenAI semantic
 * conventions' (still "development" status, so not exported by the stable semantic-conventions entry point).
 */
export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
} as const;

export const SWITCHBOARD = {
  requestId: 'switchboard.request_id',
  costUsd: 'switchboard.cost_usd',
  generationId: 'switchboard.generation_id',
  retry: 'switchboard.attempt.retry',
  hedged: 'switchboard.attempt.hedged',
  outcome: 'switchboard.attempt.outcome',
  errorCode: 'switchboard.error_code',
} as const;

export const SPAN_NAMES = {
  admission: 'switchboard.admission',
  ledgerCommit: 'switchboard.ledger.commit',
} as const;

/** Where the dispatcher leaves a request's span for the transport that serves it (REST handler, Yoga context). */
const requestScopes = new WeakMap<IncomingMessage, TraceScope>();

export function requestScope(req: IncomingMessage | undefined): TraceScope | undefined {
  return req ? requestScopes.get(req) : undefined;
}

/**
 * The request's SERVER span, ended when the response is finished or the connection closes; `route` is a template
 * (`/v1/chat/completions`, `/graphql`), never a path holding ids. GraphQL renames it once the operation is known.
 */
export function traceHttpRequest(tracer: Tracer, req: IncomingMessage, res: ServerResponse, route: string, requestId: string): TraceScope {
  const method = req.method ?? 'GET';
  const scope = startServerSpan(tracer, `${method} ${route}`, req.headers, {
    [ATTR_HTTP_REQUEST_METHOD]: method,
    [ATTR_HTTP_ROUTE]: route,
    [ATTR_URL_PATH]: (req.url ?? '/').split('?')[0] ?? '/',
    [SWITCHBOARD.requestId]: requestId,
  });
  requestScopes.set(req, scope);
  res.once('close', () => {
    scope.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
    // Server spans are errors only for our faults (5xx); a caller's 4xx is an answer, per the HTTP conventions.
    if (res.statusCode >= 500) scope.span.setStatus({ code: SpanStatusCode.ERROR });
    scope.span.end();
  });
  return scope;
}

/** Names the transport span after the GraphQL operation it turned out to carry: `graphql mutation createCompletion`. */
export function nameGraphQLOperation(scope: TraceScope | undefined, operationType: string, name: string | undefined): void {
  if (!scope?.span.isRecording()) return;
  scope.span.updateName(name ? `graphql ${operationType} ${name}` : `graphql ${operationType}`);
  scope.span.setAttribute('graphql.operation.type', operationType);
  if (name) scope.span.setAttribute('graphql.operation.name', name);
}

/** A WebSocket operation's own root span (there is no HTTP request per operation to hang it under). */
export function traceWebSocketOperation(tracer: Tracer | undefined, operationType: string, name: string | undefined, requestId: string): TraceScope | undefined {
  if (!tracer) return undefined;
  const scope = startServerSpan(tracer, name ? `graphql ${operationType} ${name}` : `graphql ${operationType}`, {}, { [SWITCHBOARD.requestId]: requestId, 'graphql.operation.type': operationType });
  if (name) scope.span.setAttribute('graphql.operation.name', name);
  return scope;
}

export interface AttemptSpanFacts {
  providerId: string;
  providerModelId: string;
  retry: number;
  hedged: boolean;
}

/** One routing attempt, named as the GenAI conventions name an inference call: `chat <model>`. */
export function startAttemptSpan(parent: TraceScope | undefined, facts: AttemptSpanFacts): TraceScope | undefined {
  return startChild(parent, `chat ${facts.providerModelId}`, SpanKind.INTERNAL, () => ({
    [GEN_AI.operationName]: 'chat',
    [GEN_AI.providerName]: facts.providerId,
    [GEN_AI.requestModel]: facts.providerModelId,
    [SWITCHBOARD.retry]: facts.retry,
    [SWITCHBOARD.hedged]: facts.hedged,
  }));
}

/** How an attempt ended: its record's status (SUCCEEDED, FAILED, CANCELLED) and, when it did not succeed, why. */
export function endAttemptSpan(scope: TraceScope | undefined, outcome: { status: string; errorCode?: string; errorMessage?: string; httpStatus?: number }): void {
  if (!scope) return;
  scope.span.setAttribute(SWITCHBOARD.outcome, outcome.status);
  if (outcome.errorCode !== undefined) scope.span.setAttribute(SWITCHBOARD.errorCode, outcome.errorCode);
  if (outcome.httpStatus !== undefined) scope.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.httpStatus);
  if (outcome.status === 'FAILED') scope.span.setStatus({ code: SpanStatusCode.ERROR, ...(outcome.errorMessage !== undefined ? { message: outcome.errorMessage } : {}) });
  scope.span.end();
}

export interface CompletionFacts {
  providerId: string;
  requestedModel: string;
  responseModel: string | undefined;
  inputTokens: number;
  outputTokens: number;
  finishReason: string;
  /** Pico-dollars; null when a price was unknown. */
  costPicos: number | null;
  generationId: string;
}

/** The GenAI attributes of an answered request, on the request span and on the attempt that answered it. */
export function recordCompletion(scopes: ReadonlyArray<TraceScope | undefined>, facts: CompletionFacts): void {
  for (const scope of scopes) {
    if (!scope?.span.isRecording()) continue;
    scope.span.setAttributes({
      [GEN_AI.operationName]: 'chat',
      [GEN_AI.providerName]: facts.providerId,
      [GEN_AI.inputTokens]: facts.inputTokens,
      [GEN_AI.outputTokens]: facts.outputTokens,
      [GEN_AI.finishReasons]: [facts.finishReason],
      [SWITCHBOARD.generationId]: facts.generationId,
      ...(facts.responseModel !== undefined ? { [GEN_AI.responseModel]: facts.responseModel } : {}),
      ...(facts.costPicos !== null ? { [SWITCHBOARD.costUsd]: facts.costPicos / 1e12 } : {}),
    });
    // The request span asked for the catalog's model; an attempt span already names the provider's.
    if (scope === scopes[0]) scope.span.setAttribute(GEN_AI.requestModel, facts.requestedModel);
  }
}

/**
 * What the completion service hands an adapter for one attempt: every upstream call forwards our request id, and,
 * when the attempt is traced, gets a CLIENT span under it whose id goes upstream as the W3C `traceparent`.
 */
export function upstreamObserver(attempt: TraceScope | undefined, requestId: string): UpstreamObserver {
  return {
    start({ method, url }) {
      const scope = startChild(attempt, method, SpanKind.CLIENT, () => {
        const parsed = new URL(url);
        return {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_SERVER_ADDRESS]: parsed.hostname,
          [ATTR_SERVER_PORT]: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
          // Without the query: Gemini's key may travel there (`?key=`), and a trace store is no place for secrets.
          [ATTR_URL_FULL]: `${parsed.origin}${parsed.pathname}`,
        };
      });
      const headers: Record<string, string> = { 'x-request-id': requestId, ...(scope ? traceHeaders(scope) : {}) };
      return {
        headers,
        end(outcome) {
          if (!scope) return;
          if ('error' in outcome) {
            endWithError(scope, outcome.error);
            return;
          }
          scope.span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.status);
          if (outcome.status >= 400) scope.span.setStatus({ code: SpanStatusCode.ERROR });
          scope.span.end();
        },
      };
    },
  };
}
