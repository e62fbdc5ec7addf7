import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RestHandler } from '../rest/handler.js';
import { admitGraphQLBody } from './body-limit.js';
import { refuseRestRequest } from './csrf.js';
import type { GraphQLServer } from './graphql.js';
import { isLoopbackHostHeader } from './loopback.js';
import { requestIdFrom } from './request-id.js';
import type { Tracer } from '@opentelemetry/api';
import { traceHttpRequest } from '../telemetry/spans.js';

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
  /** Set only when traces are exported: each GraphQL and REST request then gets a span. */
  tracer?: Tracer | undefined;
}

/** The span name's route: a template, so a model id in a path does not make a span name of its own. */
function routeTemplate(path: string): string {
  if (path === '/graphql' || path.startsWith('/graphql/')) return '/graphql';
  if (path.startsWith('/v1/models/')) return '/v1/models/{model}';
  return path === '/v1/models' || path === '/v1/chat/completions' ? path : '/v1/*';
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The node:http request listener: request ids, /healthz, the host check, then /metrics, /graphql and /v1/. */
export function createDispatcher(options: DispatcherOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0];
    const draining = options.isDraining();
    if (path === '/healthz') {
      sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
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
    if (draining) res.setHeader('connection', 'close');
    if (options.tracer && path !== undefined && (path === '/graphql' || path.startsWith('/graphql/') || path.startsWith('/v1/'))) {
      traceHttpRequest(options.tracer, req, res, routeTemplate(path), requestId);
    }
    if (path === '/graphql' || path?.startsWith('/graphql/')) {
      void admitGraphQLBody(req, res, options.maxBodyBytes).then((admitted) => {
        if (admitted) void options.graphql(req, res, { req, res, requestId });
      });
      return;
    }
    if (path?.startsWith('/v1/')) {
      const refusal = refuseRestRequest(req.method, req.headers, options.corsOrigins);
      if (refusal) {
        // The body is left unread: closing keeps Node from reading and discarding it on a kept-alive socket.
        res.setHeader('connection', 'close');
        sendJson(res, refusal.status, { error: { message: refusal.message, type: refusal.type, code: refusal.code, param: null } });
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
  };
}
