import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdmissionControl } from './auth/admission.js';
import { BudgetTracker, sqliteSpentSince } from './auth/budget.js';
import { createSecretBox } from './auth/secret-box.js';
import { systemClock, type Clock } from './clock.js';
import { DatabaseCacheStore } from './cache/database-store.js';
import { CacheMetrics } from './cache/metrics.js';
import { RedisCacheStore } from './cache/redis-store.js';
import { ResponseCache } from './cache/response-cache.js';
import type { ResponseCacheStore } from './cache/store.js';
import { createAuthenticator } from './auth/viewer.js';
import { registerStoredProviders, startupAdapterConfigs, syncKnownProviders } from './catalog/providers.js';
import { createUpstreamGuard } from './catalog/upstream-guard.js';
import { CompletionService } from './completions/service.js';
import { loadConfig, type Config } from './config.js';
import { createCoordination } from './coordination/coordination.js';
import { applyConfigFile, applyReload, configSummary } from './config/apply.js';
import { recordAudit } from './db/audit.js';
import { openDatabase } from './db/client.js';
import { markInterrupted } from './db/generations.js';
import { readCatalogSeed, seedCatalog } from './db/seed.js';
import { createAccessLog, observedAuthenticator } from './http/access-log.js';
import { createDashboardHandler } from './http/dashboard.js';
import { createDispatcher } from './http/dispatcher.js';
import { createGraphQLServer } from './http/graphql.js';
import { createGraphQLWebSocketBridge } from './http/graphql-ws.js';
import { InflightLimiter } from './http/load-shedding.js';
import { createMetricsHandler } from './http/metrics.js';
import { coreReadinessChecks } from './http/readiness.js';
import { httpServerOptions } from './http/transport.js';
import { createLogger, type Logger } from './logger.js';
import { closeHttpAgent, setMaxUpstreamBodyBytes } from './providers/http.js';
import { AdapterRegistry } from './providers/registry.js';
import { createRestHandler } from './rest/handler.js';
import { Router } from './routing/router.js';
import type { Services } from './services.js';
import { createObservability } from './usage/observability.js';
import { UsageRecorder } from './usage/recorder.js';
import { createTracing } from './telemetry/tracing.js';

export interface AppOptions {
  logger?: Logger;
  /** Every timer and timestamp of routing, the recorder and key expiry; tests pass a manual clock. */
  clock?: Clock;
  /** Sees every SQL statement Drizzle runs (tests count them to keep N+1 queries out). */
  onStatement?: (sql: string) => void;
  /** Where the built dashboard is (tests build their own); <package>/dist/dashboard by default. */
  dashboardDirectory?: string;
  /** How reloadConfig() reads the configuration again; by default the process environment and the same file. */
  loadConfig?: () => Config;
}

/** The outcome of a reload: on failure the old configuration stays in force. */
export type ConfigReload = { ok: true } | { ok: false; error: string };

export interface App {
  services: Services;
  server: Server;
  logger: Logger;
  /** Listens on the configured host and port (0 picks a free port); resolves with the base URL. */
  start(): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests and streams finish (bounded), flushes usage, closes the database. */
  stop(): Promise<void>;
  /**
   * Reads the config file (and environment) again and applies providers, models, aliases and routing (SIGHUP),
   * writing the change to the audit trail. A broken file keeps the old configuration and logs why.
   */
  reloadConfig(): ConfigReload;
}

/**
 * Builds the gateway without starting it: nothing listens until start(). Composition only — every piece is made
 * elsewhere and wired here, once, from the typed Config.
 */
export function buildApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  // Adapters read upstream bodies through one module; it takes the configured cap before any adapter exists.
  setMaxUpstreamBodyBytes(config.limits.maxUpstreamBodyBytes);
  const database = openDatabase(config.databasePath, options.onStatement ? { onStatement: options.onStatement } : {});
  const db = database.db;
  const interrupted = markInterrupted(db);
  if (interrupted > 0) logger.warn({ interrupted }, 'marked generations left in flight by a previous run as INTERRUPTED');
  syncKnownProviders(db, config.providers);
  seedCatalog(db, readCatalogSeed());

  const registry = new AdapterRegistry(startupAdapterConfigs(config.providers), { localDelayMs: config.localDelayMs });
  const recorder = new UsageRecorder(db, {
    clock,
    onWriteError: (error, pending) => logger.error({ err: error, pending }, 'usage write failed; retrying'),
  });
  // REDIS_URL shares limits, budgets, health, usageEvents and cache invalidation between instances; else all local.
  const coordination = createCoordination(config.redis, logger, () => clock.now());
  const budgets = new BudgetTracker(sqliteSpentSince(db), coordination.budgets);
  const admission = new AdmissionControl(db, coordination.rates, budgets, undefined, coordination.streams);
  const router = new Router({ config: config.routing, clock });
  // The response cache shares the one Redis connection (no queue while Redis is away, a short command timeout);
  // a Redis that is down costs an opted-in request a failed read, counted as a cache error, never the request.
  const cacheRedis = coordination.shared?.client;
  const cacheBound = { maxEntries: config.cache.maxEntries, maxBytes: config.cache.maxBytes };
  const cacheStore: ResponseCacheStore = cacheRedis ? new RedisCacheStore(cacheRedis, config.cache.redisPrefix, cacheBound, clock) : new DatabaseCacheStore(db, cacheBound, clock);
  const cacheMetrics = new CacheMetrics(cacheStore);
  const cache = new ResponseCache(cacheStore, config.cache.scope, cacheMetrics);
  const completions = new CompletionService({ db, registry, recorder, admission, router, storeContent: config.storeContent, cache, clock });
  const secrets = config.masterKey ? createSecretBox(config.masterKey, config.previousMasterKeys) : undefined;
  const services: Services = {
    config,
    db,
    registry,
    recorder,
    completions,
    budgets,
    router,
    ...(secrets ? { secrets } : {}),
    upstreamGuard: createUpstreamGuard({ allowPrivate: config.allowPrivateUpstreams }),
    audit: (entry) => {
      recordAudit(db, entry);
    },
  };
  if (config.configFile) {
    const applied = applyConfigFile(services, config.configFile);
    logger.info({ file: config.configFile.path, models: applied.models, createdKeys: applied.createdKeys.map((key) => key.name) }, 'config file applied');
  }
  const restored = registerStoredProviders(services);
  if (restored.length > 0) logger.info({ providers: restored }, 'providers configured through the API are back');

  const observability = createObservability({ db, recorder, activeCompletions: () => completions.activeCount }, logger, {
    retentionDays: config.retentionDays,
    defaultMetrics: true,
  });
  router.state.onOpenBreakersChanged((open) => observability.metrics.setOpenCircuitBreakers(open));
  cacheMetrics.register(observability.metrics.registry);
  const attached = coordination.attach({ finished: recorder.finished, router: router.state, registry: observability.metrics.registry });

  const tracing = createTracing(config.tracing);
  // Observed: the access log learns which key a request authenticated with.
  const authenticator = observedAuthenticator(createAuthenticator(db, config.adminKey, clock));
  const graphql = createGraphQLServer(services, authenticator, logger);
  let draining = false;
  const isDraining = (): boolean => draining;
  const inflight = new InflightLimiter(config.limits.maxInflight);
  const server = createServer(
    httpServerOptions(config.limits),
    createDispatcher({
      graphql,
      rest: createRestHandler(services, authenticator, logger),
      serveMetrics: createMetricsHandler(observability.metrics, logger),
      adminKey: config.adminKey,
      maxBodyBytes: config.limits.maxBodyBytes,
      corsOrigins: config.limits.corsOrigins,
      isDraining,
      accessLog: createAccessLog(logger, observability.metrics),
      inflight,
      onShed: () => observability.metrics.shed('http'),
      tracer: tracing.tracer,
      readinessChecks: coreReadinessChecks({ ping: database.ping, pendingMigrations: database.pendingMigrations, isDraining }),
      dashboard: createDashboardHandler(options.dashboardDirectory),
    }),
  );
  const webSockets = createGraphQLWebSocketBridge({
    yoga: graphql,
    services,
    authenticator,
    limits: config.limits,
    adminKey: config.adminKey,
    isDraining,
    logger,
    inflight,
    onShed: () => observability.metrics.shed('websocket'),
    tracer: tracing.tracer,
  });
  server.on('upgrade', (req, socket, head) => webSockets.handleUpgrade(req, socket, head));

  const readConfig = options.loadConfig ?? (() => loadConfig(undefined, { configPath: config.configFile?.path ?? undefined }));
  const reloadConfig = (): ConfigReload => {
    const before = services.config;
    try {
      const next = applyReload({ ...services, config: before }, readConfig());
      services.config = next;
      services.audit({ actorKeyId: null, action: 'config.reload', targetType: 'config', targetId: next.configFile?.path ?? 'environment', before: configSummary(before), after: configSummary(next) });
      logger.info({ file: next.configFile?.path, providers: services.registry.ids() }, 'configuration reloaded');
      return { ok: true };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error({ err: error }, 'configuration reload failed; the previous configuration stays in force');
      return { ok: false, error: message };
    }
  };

  let stopping: Promise<void> | undefined;
  return {
    reloadConfig,
    services,
    server,
    logger,
    start: async () => {
      await attached;
      await coordination.ready(2000);
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          observability.start();
          const { port } = server.address() as AddressInfo;
          const host = config.host.includes(':') ? `[${config.host}]` : config.host;
          resolve({ url: `http://${host}:${port}`, port });
        });
      });
    },
    stop: () => {
      stopping ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await completions.drain(config.shutdownGraceMs);
        await observability.stop();
        await webSockets.settled(1000);
        webSockets.close();
        // Responses that just finished (an SSE stream's last event) get a moment to flush before sockets are cut.
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
        server.closeAllConnections();
        await closed;
        await recorder.close();
        await coordination.close();
        // After the last request and ledger commit ended their spans, so the final batch holds them.
        await tracing.shutdown();
        database.close();
        await closeHttpAgent();
        await services.upstreamGuard.close();
      })();
      return stopping;
    },
  };
}
