import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RestHandler } from '../rest/handler.js';
import { requestScope, type AccessLog } from './access-log.js';
import { admitGraphQLBody } from './body-limit.js';
import type { DashboardHandler } from './dashboard.js';
import { refuseRestRequest } from './csrf.js';
import type { GraphQLServer } from './graphql.js';
import { sendShed, type InflightLimiter } from './load-shedding.js';
import { isLoopbackHostHeader } from './loopback.js';
import { serveReadiness, type ReadinessCheck } from './readiness.js';
import { requestIdFrom } from './request-id.js';
import type { Tracer } from '@opentelemetry/api';
import { traceHttpRequest } from '../telemetry/spans.js';
import { routeTemplate } from './access-log.js';

export interface DispatcherOptions {
  graphql: GraphQLServer;
  rest: RestHandler;
  serveMetrics: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** Without an admin key (open local mode) only loopback host names are served. */
  adminKey: string | undefined;
  maxBodyBytes: number;
  /** Browser origins allowed besides the gateway's own (SWITCHBOARD_CORS_ORIGINS); the REST facade refuses others. */
  corsOrigins: readonly string[];
  /** True once shutdown began: /healthz says so and responses ask clients to close. */
  isDraining: () => boolean;
  /** Writes each request's access-log line and counts it by route and status. */
  accessLog: AccessLog;
  /** Requests in flight, shared with the WebSocket bridge; past its bound a request is shed with 503. */
  inflight: InflightLimiter;
  /** Called for each shed request (the shed counter). */
  onShed: () => void;
  /** What GET /readyz checks. */
  readinessChecks: readonly ReadinessCheck[];
  /** GET /dashboard and its assets (src/http/dashboard.ts). */
  dashboard?: DashboardHandler;
  /** Set only when traces are exported: each GraphQL and REST request then gets a span. */
  tracer?: Tracer | undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The node:http request listener: request ids and the access log, /healthz and /readyz, the host check, then
 * /metrics, load shedding, /graphql and /v1/. Each request is served inside its requestScope, so the access log
 * learns the key that authenticated and log lines deep inside carry the request id.
 */
export function createDispatcher(options: DispatcherOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const scope = { requestId };
    options.accessLog(req, res, scope, path);
    requestScope.run(scope, () => dispatch(options, req, res, requestId, path));
  };
}

function dispatch(options: DispatcherOptions, req: IncomingMessage, res: ServerResponse, requestId: string, path: string): void {
  const draining = options.isDraining();
  if (path === '/healthz') {
    sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
    return;
  }
  if (path === '/readyz') {
    void serveReadiness(res, options.readinessChecks);
    return;
  }
  if (!options.adminKey && !isLoopbackHostHeader(req.headers.host)) {
    sendJson(res, 403, { error: { message: 'Open local mode only answers requests addressed to localhost or 127.0.0.1; set SWITCHBOARD_ADMIN_KEY to serve other host names', type: 'permission_error', code: 'forbidden' } });
    return;
  }
  if (path === '/metrics') {
    void options.serveMetrics(req, res);
    return;
  }
  if (options.dashboard && (path === '/dashboard' || path.startsWith('/dashboard/'))) {
    options.dashboard(req, res, path);
    return;
  }
  // Probes, scrapes and the dashboard's static files above are exempt: an overloaded gateway must still say so, and be seen.
  if (!options.inflight.holdUntilClosed(res)) {
    options.onShed();
    sendShed(res, options.inflight.max);
    return;
  }
  if (draining) res.setHeader('connection', 'close');
  if (options.tracer && (path === '/graphql' || path.startsWith('/graphql/') || path.startsWith('/v1/'))) {
    traceHttpRequest(options.tracer, req, res, routeTemplate(path), requestId);
  }
  if (path === '/graphql' || path.startsWith('/graphql/')) {
    void admitGraphQLBody(req, res, options.maxBodyBytes).then((admitted) => {
      if (admitted) void options.graphql(req, res, { req, res, requestId });
    });
    return;
  }
  if (path.startsWith('/v1/')) {
    const refusal = refuseRestRequest(req.method, req.headers, options.corsOrigins);
    if (refusal) {
      // The body is left unread: closing keeps Node from reading and discarding it on a kept-alive socket.
      res.setHeader('connection', 'close');
      // Anthropic clients read their own error shape; the refusal is the same.
      if (path === '/v1/messages' || path.startsWith('/v1/messages/')) sendJson(res, refusal.status, { type: 'error', error: { type: refusal.type, message: refusal.message } });
      else sendJson(res, refusal.status, { error: { message: refusal.message, type: refusal.type, code: refusal.code, param: null } });
      return;
    }
    void options.rest.handle(req, res, requestId);
    return;
  }
  if (path === '/') {
    res.writeHead(302, { location: '/graphql' });
    res.end();
    return;
  }
  sendJson(res, 404, { error: { message: `No route for ${req.method} ${path}`, type: 'invalid_request_error', code: 'not_found' } });
}
