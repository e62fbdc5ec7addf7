import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, execute, subscribe, type DocumentNode, type ExecutionArgs } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { AdmissionControl } from './auth/admission.js';
import { BudgetTracker } from './auth/budget.js';
import { InMemoryRateLimitStore } from './auth/rate-limiter.js';
import { createSecretBox } from './auth/secret-box.js';
import { createAuthenticator, type Authenticator } from './auth/viewer.js';
import { registerStoredProviders } from './catalog/admin.js';
import { CompletionService } from './completions/service.js';
import { newId } from './ids.js';
import { PROVIDER_PRESETS, type Config } from './config.js';
import { createContext, type Context, type Services } from './context.js';
import { openDatabase, type DatabaseHandle } from './db/client.js';
import { markInterrupted } from './db/generations.js';
import { readCatalogSeed, seedCatalog, syncProviders, type KnownProvider } from './db/seed.js';
import { asGatewayError } from './errors.js';
import { renderOfflineGraphiQL } from './graphiql.js';
import { createLogger, type Logger } from './logger.js';
import { closeHttpAgent } from './providers/http.js';
import { AdapterRegistry } from './providers/registry.js';
import { warmTokenizer } from './providers/tokenizer.js';
import { createRestHandler } from './rest/handler.js';
import { Router } from './routing/router.js';
import { maskError, useRequestErrorCodes } from './schema/errors.js';
import { getSchema } from './schema/index.js';
import { UsageRecorder } from './usage/recorder.js';
import { createObservability } from './usage/observability.js';
import { admitGraphQLBody } from './http/body-limit.js';
import { useCsrfPrevention } from './http/csrf.js';
import { isAllowedWebSocketOrigin, isLoopbackHostHeader } from './http/origin.js';
import { corsOptions, httpServerOptions } from './http/transport.js';
import { guardClientFrames, WebSocketLimits } from './http/websocket-limits.js';
import { graphqlLimitPlugins } from './schema/limits.js';

export interface AppOptions {
  logger?: Logger;
  /** Sees every SQL statement Drizzle runs (tests count them to keep N+1 queries out). */
  onStatement?: (sql: string) => void;
}

export interface App {
  services: Services;
  server: Server;
  logger: Logger;
  /** Listens on the configured host and port (0 picks a free port); resolves with the base URL. */
  start(): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests and streams finish (bounded), flushes usage, closes the database. */
  stop(): Promise<void>;
}

interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  requestId: string;
  /** A WebSocket operation's context, built from its connectionParams before it enters Yoga's pipeline. */
  prebuilt?: Context;
}

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** Accepts the caller's x-request-id when it is sane, so their logs and ours line up; otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID_PATTERN.test(value) ? value : newId('req');
}

function knownProviders(config: Config): KnownProvider[] {
  const configured = new Map(config.providers.map((provider) => [provider.id, provider]));
  const known: KnownProvider[] = [{ id: 'local', name: 'Local demo provider', kind: 'local', baseUrl: null, enabled: true }];
  for (const preset of PROVIDER_PRESETS) {
    const provider = configured.get(preset.id);
    known.push({ id: preset.id, name: preset.name, kind: preset.kind, baseUrl: provider?.baseUrl ?? preset.defaultBaseUrl, enabled: provider !== undefined });
  }
  for (const provider of config.providers) {
    if (!known.some((entry) => entry.id === provider.id)) known.push({ id: provider.id, name: provider.name, kind: provider.kind, baseUrl: provider.baseUrl, enabled: true });
  }
  return known;
}

function createGraphQL(services: Services, authenticator: Authenticator, logger: Logger): YogaServerInstance<ServerContext, Context> {
  return createYoga<ServerContext, Context>({
    schema: getSchema(),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: services.config.graphiql ? { title: 'Switchboard' } : false,
    renderGraphiQL: renderOfflineGraphiQL,
    maskedErrors: { maskError },
    plugins: [useRequestErrorCodes(), useCsrfPrevention(), ...graphqlLimitPlugins(services.config.limits)],
    cors: corsOptions(services.config.limits.corsOrigins),
    // One operation per request: a batch would multiply every per-request limit above.
    batching: false,
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      error: (...args) => logger.error({ args }, 'yoga'),
    },
    context: ({ request, requestId, prebuilt }) =>
      prebuilt ?? createContext(services, authenticator.authenticate(request.headers.get('authorization') ?? undefined), requestId, request.signal),
  });
}

function toGraphQLError(error: Error): GraphQLError {
  return error instanceof GraphQLError ? error : new GraphQLError(error.message);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Builds the gateway without starting it: nothing listens until start(). */
export function buildApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database: DatabaseHandle = openDatabase(config.databasePath, options.onStatement ? { onStatement: options.onStatement } : {});
  const interrupted = markInterrupted(database.db);
  if (interrupted > 0) logger.warn({ interrupted }, 'marked generations left in flight by a previous run as INTERRUPTED');
  syncProviders(database.db, knownProviders(config));
  seedCatalog(database.db, readCatalogSeed());

  warmTokenizer();
  const registry = new AdapterRegistry(config.providers, { localDelayMs: config.localDelayMs });
  const recorder = new UsageRecorder(database.db, {
    onWriteError: (error, pending) => logger.error({ err: error, pending }, 'usage write failed; retrying'),
  });
  const budgets = new BudgetTracker(database.db);
  const admission = new AdmissionControl(database.db, new InMemoryRateLimitStore(), budgets);
  const router = new Router({ config: config.routing });
  const completions = new CompletionService({ db: database.db, registry, recorder, admission, router });
  const secrets = config.masterKey ? createSecretBox(config.masterKey, config.previousMasterKeys) : undefined;
  const restored = registerStoredProviders({ db: database.db, registry, config, ...(secrets ? { secrets } : {}) });
  if (restored.length > 0) logger.info({ providers: restored }, 'providers configured through the API are back');
  const services: Services = { config, db: database.db, registry, recorder, completions, budgets, router, ...(secrets ? { secrets } : {}) };
  const authenticator = createAuthenticator(database.db, config.adminKey);
  const yoga = createGraphQL(services, authenticator, logger);

  const rest = createRestHandler(services, authenticator, logger);
  const observability = createObservability(services, logger);
  router.state.onOpenBreakersChanged((open) => observability.metrics.setOpenCircuitBreakers(open));

  let draining = false;
  const server = createServer(httpServerOptions(config.limits), (req, res) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
      return;
    }
    if (!config.adminKey && !isLoopbackHostHeader(req.headers.host)) {
      sendJson(res, 403, { error: { message: 'Open local mode only answers requests addressed to localhost or 127.0.0.1; set SWITCHBOARD_ADMIN_KEY to serve other host names', type: 'permission_error', code: 'forbidden' } });
      return;
    }
    if (path === '/metrics') {
      void observability.handleMetrics(req, res);
      return;
    }
    if (draining) res.setHeader('connection', 'close');
    if (path === '/graphql' || path?.startsWith('/graphql/')) {
      void admitGraphQLBody(req, res, config.limits.maxBodyBytes).then((admitted) => {
        if (admitted) void yoga(req, res, { req, res, requestId });
      });
      return;
    }
    if (path?.startsWith('/v1/')) {
      void rest.handle(req, res, requestId);
      return;
    }
    if (path === '/') {
      res.writeHead(302, { location: '/graphql' });
      res.end();
      return;
    }
    sendJson(res, 404, { error: { message: `No route for ${req.method} ${path}`, type: 'invalid_request_error', code: 'not_found' } });
  });

  const webSockets = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxBodyBytes });
  const webSocketLimits = new WebSocketLimits(config.limits.webSocket.maxSubscriptionsPerConnection, config.limits.webSocket.maxConnectionsPerKey);
  let webSocketOperations = 0;
  const webSocketIdle: Array<() => void> = [];
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/graphql' || draining) {
      socket.destroy();
      return;
    }
    if (!isAllowedWebSocketOrigin(req.headers, config.limits.corsOrigins) || (!config.adminKey && !isLoopbackHostHeader(req.headers.host))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    webSockets.handleUpgrade(req, socket, head, (ws) => {
      guardClientFrames(ws);
      webSockets.emit('connection', ws, req);
    });
  });

  // WebSocket operations go through Yoga's own pipeline, so masking and context match HTTP exactly.
  useServer<Record<string, unknown>>(
    {
      execute: (args: ExecutionArgs) => (args.rootValue as { execute: typeof execute }).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as { subscribe: typeof subscribe }).subscribe(args),
      connectionInitWaitTimeout: config.limits.webSocket.connectionInitTimeoutMs,
      onConnect: (ctx) => {
        try {
          const viewer = authenticator.authenticate(ctx.connectionParams?.['authorization']);
          return webSocketLimits.admitConnection(ctx, viewer.apiKeyId, ctx.extra.socket);
        } catch {
          return false;
        }
      },
      onClose: (ctx) => webSocketLimits.release(ctx),
      onOperation: () => {
        webSocketOperations++;
      },
      onComplete: () => {
        // graphql-ws sends the `complete` message right after this hook returns: count the operation done only
        // once that send is queued, so a shutdown's close frame can never overtake it.
        setTimeout(() => {
          webSocketOperations--;
          if (webSocketOperations === 0) for (const resolve of webSocketIdle.splice(0)) resolve();
        }, 0);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const refused = webSocketLimits.refuseSubscription(Object.keys(ctx.subscriptions).length);
        if (refused) return [refused];
        const requestId = newId('req');
        const request = ctx.extra.request;
        let viewer;
        try {
          viewer = authenticator.authenticate(ctx.connectionParams?.['authorization']);
        } catch (error) {
          return [toGraphQLError(maskError(asGatewayError(error)))];
        }
        const prebuilt = createContext(services, viewer, requestId, undefined);
        const enveloped = yoga.getEnveloped({ req: request, requestId, prebuilt, params: payload });
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [toGraphQLError(maskError(error))];
        }
        let errors: readonly GraphQLError[];
        try {
          errors = enveloped.validate(enveloped.schema, document);
        } catch (error) {
          // A validation rule that throws (rather than reporting) must not take the socket down with it.
          return [toGraphQLError(maskError(error))];
        }
        if (errors.length > 0) return errors.map((error) => toGraphQLError(maskError(error)));
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
      },
    },
    webSockets,
    config.limits.webSocket.keepAliveMs,
  );

  let stopping: Promise<void> | undefined;

  /** Resolves once no WebSocket operation is running, or after `ms`. */
  const webSocketsSettled = (ms: number): Promise<void> =>
    webSocketOperations === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          webSocketIdle.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });

  return {
    services,
    server,
    logger,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          observability.start();
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({ url: `http://${host}:${port}`, port });
        });
      }),
    stop: () => {
      stopping ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await completions.drain(config.shutdownGraceMs);
        await observability.stop();
        await webSocketsSettled(1000);
        for (const client of webSockets.clients) client.close(1001, 'server shutting down');
        webSockets.close();
        // Responses that just finished (an SSE stream's last event) get a moment to flush before sockets are cut.
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
        server.closeAllConnections();
        await closed;
        await recorder.close();
        database.close();
        await closeHttpAgent();
      })();
      return stopping;
    },
  };
}
