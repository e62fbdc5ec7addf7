import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Authenticator } from '../auth/viewer.js';
import { GatewayError, logLevelFor, type ErrorCode } from '../errors.js';
import { fixedFieldLogger, type Logger } from '../logger.js';
import type { GatewayMetrics } from '../usage/metrics.js';

/** What the gateway learns about one request while serving it, read back when its access-log line is written. */
export interface RequestScope {
  requestId: string;
  /** The calling key's prefix, set once a gateway key authenticated (never for the admin key or open mode). */
  keyPrefix?: string;
}

/**
 * The request being served, across the awaits of whatever serves it (REST, Yoga, the completion service): how the
 * access log learns the key prefix and Yoga's error log the request id without threading them through every call.
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();

/** The request id of the request being served, for log lines written deep inside it. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

/**
 * The authenticator, noting the key prefix of a successful authentication on the current request. Only after
 * success: a refused token's first characters may be someone's real secret for another service.
 */
export function observedAuthenticator(authenticator: Authenticator): Authenticator {
  return {
    openMode: authenticator.openMode,
    authenticate(authorization) {
      const viewer = authenticator.authenticate(authorization);
      const scope = requestScope.getStore();
      if (scope && viewer.key) scope.keyPrefix = viewer.key.prefix;
      return viewer;
    },
  };
}

const MODELS_PREFIX = '/v1/models/';
const FIXED_ROUTES = new Set(['/', '/graphql', '/healthz', '/readyz', '/metrics', '/dashboard', '/v1/chat/completions', '/v1/embeddings', '/v1/models', '/v1/responses', '/v1/messages', '/v1/messages/count_tokens']);

/**
 * The route template of a path, the only form of it a metric label may take: a raw path would let any caller mint
 * a time series per request (`/v1/models/{id}`, unknown paths as one `unmatched`).
 */
export function routeTemplate(path: string): string {
  if (FIXED_ROUTES.has(path)) return path;
  if (path.startsWith(MODELS_PREFIX)) return '/v1/models/{id}';
  if (path.startsWith('/graphql/')) return '/graphql';
  if (path.startsWith('/dashboard/')) return '/dashboard/{file}';
  return 'unmatched';
}

/** The error code an HTTP status stands for, so the access log's level comes from the same rule as every other log. */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'MODEL_NOT_FOUND',
  429: 'RATE_LIMITED',
  502: 'PROVIDER_ERROR',
  504: 'TIMEOUT',
};

/**
 * Caller mistakes and refusals (4xx) are info and gateway faults (5xx) error, as logLevelFor rules for errors; an
 * upstream's failure (502/504) is a warning, and so is a request shed under load (503): the operator should see
 * both, but neither is a bug to fix in the gateway.
 */
export function accessLogLevel(status: number): 'info' | 'warn' | 'error' {
  if (status < 400) return 'info';
  if (status === 503) return 'warn';
  const code = CODE_OF_STATUS[status] ?? (status < 500 ? 'BAD_REQUEST' : 'INTERNAL');
  return logLevelFor(new GatewayError(code, `HTTP ${status}`));
}

interface Measured {
  route: string;
  path: string;
  scope: RequestScope;
  /**
   * The socket, kept: Node detaches it from the request once it is destroyed, which is when a refused body's line
   * is written. Its byte counts when the request arrived; a socket serves one request at a time (no pipelining).
   */
  socket: Socket;
  readAtStart: number;
  writtenAtStart: number;
}

/** Routes machines poll: logged at debug while they answer well. */
const QUIET_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

function bytesIn(req: IncomingMessage, entry: Measured): number {
  const declared = Number(req.headers['content-length']);
  // A chunked body has no declared length: what the socket read meanwhile is the best measure left.
  return Number.isFinite(declared) ? declared : Math.max(0, entry.socket.bytesRead - entry.readAtStart);
}

function accessFields(req: IncomingMessage, res: ServerResponse, entry: Measured, durationMs: number): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    requestId: entry.scope.requestId,
    method: req.method,
    route: entry.route,
    path: entry.path,
    status: res.statusCode,
    durationMs,
  };
  if (entry.scope.keyPrefix) fields['keyPrefix'] = entry.scope.keyPrefix;
  fields['bytesIn'] = bytesIn(req, entry);
  fields['bytesOut'] = Math.max(0, entry.socket.bytesWritten - entry.writtenAtStart);
  // The client went away before the whole response was written (a stream it stopped reading).
  if (!res.writableFinished) fields['aborted'] = true;
  return fields;
}

export type AccessLog = (req: IncomingMessage, res: ServerResponse, scope: RequestScope, path: string) => void;

/**
 * One line per HTTP request, refusals included, written when its response ends (or its client leaves), and the
 * request counted by route template and status. The line carries only what is safe to keep: method, route, path
 * without its query, status, duration, request id, key prefix and byte counts — no headers.
 *
 * Written directly rather than through pino-http, whose middleware made two child loggers per request and serialized
 * (and redacted) the whole request, headers included, into one of them that no line of ours ever used: a few per cent
 * of a request's CPU for nothing. The line's fields and levels are the ones pino-http was configured to write.
 */
export function createAccessLog(redacting: Logger, metrics: GatewayMetrics): AccessLog {
  const logger = fixedFieldLogger(redacting);
  return (req, res, scope, path) => {
    const route = routeTemplate(path);
    const socket = req.socket;
    const entry: Measured = { route, path, scope, socket, readAtStart: socket.bytesRead, writtenAtStart: socket.bytesWritten };
    const startedAt = Date.now();
    const complete = (): void => {
      res.removeListener('close', complete);
      res.removeListener('finish', complete);
      // A healthy probe or scrape every few seconds per instance would drown the log at info: those go at debug.
      const level = res.statusCode < 400 && QUIET_ROUTES.has(route) ? 'debug' : accessLogLevel(res.statusCode);
      if (logger.isLevelEnabled(level)) logger[level](accessFields(req, res, entry, Date.now() - startedAt), 'request completed');
    };
    res.once('close', () => metrics.observeHttpRequest(route, res.statusCode));
    res.on('close', complete);
    res.on('finish', complete);
  };
}

/** The access-log line of one GraphQL operation over WebSocket, shaped like an HTTP request's. */
export interface WebSocketOperationLine {
  requestId: string;
  keyPrefix: string | undefined;
  operationName: string | undefined;
  durationMs: number;
  /** The first error's code, when the operation was refused or failed. */
  errorCode: string | undefined;
}

export function logWebSocketOperation(logger: Logger, line: WebSocketOperationLine): void {
  const level = line.errorCode === undefined ? 'info' : logLevelFor(new GatewayError(isErrorCode(line.errorCode) ? line.errorCode : 'BAD_REQUEST', line.errorCode));
  logger[level](
    {
      requestId: line.requestId,
      method: 'WS',
      route: '/graphql',
      ...(line.operationName ? { operationName: line.operationName } : {}),
      status: line.errorCode === undefined ? 'ok' : line.errorCode,
      durationMs: line.durationMs,
      ...(line.keyPrefix ? { keyPrefix: line.keyPrefix } : {}),
    },
    'websocket operation completed',
  );
}

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_REQUEST', 'MODEL_NOT_FOUND', 'RATE_LIMITED', 'BUDGET_EXCEEDED', 'PROVIDER_ERROR', 'TIMEOUT', 'INTERNAL']);

function isErrorCode(code: string): code is ErrorCode {
  return ERROR_CODES.has(code);
}
