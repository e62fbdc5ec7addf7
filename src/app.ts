import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdmissionControl } from './auth/admission.js';
import { BudgetTracker } from './auth/budget.js';
import { createSecretBox } from './auth/secret-box.js';
import { systemClock, type Clock } from './clock.js';
import { DatabaseCacheStore } from './cache/database-store.js';
import { CacheMetrics } from './cache/metrics.js';
import { RedisCacheStore } from './cache/redis-store.js';
import { ResponseCache } from './cache/response-cache.js';
import type { ResponseCacheStore } from './cache/store.js';
import { createAuthenticator } from './auth/viewer.js';
import { KeyCache } from './auth/key-cache.js';
import { knownProviders, refreshProviderAdapters, registerProviderRows, startupAdapterConfigs } from './catalog/providers.js';
import { CatalogSnapshot } from './catalog/snapshot.js';
import type { ChangeFeed } from './coordination/change-feed.js';
import { createUpstreamGuard } from './catalog/upstream-guard.js';
import { EmbeddingService } from './completions/embedding-service.js';
import { CompletionService } from './completions/service.js';
import { loadConfig, type Config } from './config.js';
import { createCoordination } from './coordination/coordination.js';
import { applyConfigFile, applyReload, configSummary } from './config/apply.js';
import { writeProvider } from './db/catalog-admin.js';
import { openDatabase } from './db/client.js';
import { markInterrupted } from './db/generations.js';
import { createPgStorage } from './db/pg/storage.js';
import { readCatalogSeed, seedCatalog, syncProviders } from './db/seed.js';
import { createSqliteStorage, loadCatalogRows } from './db/sqlite-storage.js';
import type { Storage } from './db/storage.js';
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
  /**
   * Where committed changes to cached state are announced; an in-process feed by default. `shared` says the feed
   * reaches every instance (Redis), which lifts the 5 s bound on what a PostgreSQL instance caches.
   */
  changeFeed?: { feed: ChangeFeed; shared: boolean };
}

/** What an instance caches from PostgreSQL at most this long when no shared feed tells it about other instances' writes. */
export const UNSHARED_CACHE_MAX_AGE_MS = 5000;

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
  reloadConfig(): Promise<ConfigReload>;
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
  const sqliteHandle = config.databaseUrl === undefined ? openDatabase(config.databasePath, options.onStatement ? { onStatement: options.onStatement } : {}) : undefined;
  const storage: Storage = sqliteHandle ? createSqliteStorage(sqliteHandle) : createPgStorage(config.databaseUrl ?? '', options.onStatement ? { onStatement: options.onStatement } : {});
  const sqlite = storage.sqlite;
  // REDIS_URL shares limits, budgets, health, usageEvents and cache invalidation between instances; else all local.
  const coordination = createCoordination(config.redis, logger, () => clock.now());
  const feed = options.changeFeed?.feed ?? coordination.changes;
  const sharedFeed = options.changeFeed?.shared ?? coordination.shared !== undefined;
  // Without a shared feed, instances on one PostgreSQL cannot hear each other's writes: their caches expire instead.
  const maxAgeMs = storage.dialect === 'postgres' && !sharedFeed ? UNSHARED_CACHE_MAX_AGE_MS : undefined;
  const onCacheError = (error: unknown) => logger.error({ err: error }, 'reloading a cache from the database failed; the previous copy stays in use');
  const catalog = new CatalogSnapshot(storage.catalog, feed, { maxAgeMs, onError: onCacheError });
  const keys = new KeyCache(storage.keys, feed, { maxAgeMs, onError: onCacheError });
  if (sqlite) {
    // SQLite starts synchronously, as it always has: a broken config file or stored secret stops buildApp itself.
    const interrupted = markInterrupted(sqlite, undefined, storage.ledger.instanceId);
    if (interrupted > 0) logger.warn({ interrupted }, 'marked generations left in flight by a previous run as INTERRUPTED');
    syncProviders(sqlite, knownProviders(config.providers));
    seedCatalog(sqlite, readCatalogSeed());
  }

  const registry = new AdapterRegistry(startupAdapterConfigs(config.providers), { localDelayMs: config.localDelayMs });
  const recorder = new UsageRecorder(storage.ledger, {
    clock,
    onWriteError: (error, pending) => logger.error({ err: error, pending }, 'usage write failed; retrying'),
  });
  const budgets = new BudgetTracker((keyId, startMs) => storage.ledger.spentSince(keyId, startMs), coordination.budgets);
  const admission = new AdmissionControl(catalog, coordination.rates, budgets, undefined, coordination.streams);
  const router = new Router({ config: config.routing, clock });
  // The response cache shares the one Redis connection (no queue while Redis is away, a short command timeout);
  // a Redis that is down costs an opted-in request a failed read, counted as a cache error, never the request.
  const cacheRedis = coordination.shared?.client;
  const cacheBound = { maxEntries: config.cache.maxEntries, maxBytes: config.cache.maxBytes };
  const cacheStore: ResponseCacheStore = cacheRedis ? new RedisCacheStore(cacheRedis, config.cache.redisPrefix, cacheBound, clock) : new DatabaseCacheStore(storage.responseCache, cacheBound, clock);
  const cacheMetrics = new CacheMetrics(cacheStore);
  const cache = new ResponseCache(cacheStore, config.cache.scope, cacheMetrics);
  const completions = new CompletionService({ catalog, ledger: storage.ledger, registry, recorder, admission, router, storeContent: config.storeContent, cache, clock });
  const embeddings = new EmbeddingService({ catalog, registry, recorder, admission, router, clock });
  const secrets = config.masterKey ? createSecretBox(config.masterKey, config.previousMasterKeys) : undefined;
  const services: Services = {
    config,
    storage,
    feed,
    catalog,
    keys,
    registry,
    recorder,
    completions,
    embeddings,
    budgets,
    router,
    ...(secrets ? { secrets } : {}),
    upstreamGuard: createUpstreamGuard({ allowPrivate: config.allowPrivateUpstreams }),
    audit: async (entry) => {
      await storage.audit.record(entry);
    },
  };
  const keyChanged = async (): Promise<void> => {
    feed.publish('keys');
    await keys.refresh();
  };
  if (sqlite) {
    // Synchronous on SQLite, so a stored secret that cannot be opened stops buildApp itself.
    const { registered, toEnable } = registerProviderRows(services, loadCatalogRows(sqlite).providers);
    for (const id of toEnable) writeProvider(sqlite, { id, enabled: true });
    if (registered.length > 0) logger.info({ providers: registered }, 'providers configured through the API are back');
  }
  /** The config file's models and keys, on either store; before listening, after the catalog and keys loaded. */
  const applyFile = async (): Promise<void> => {
    if (!config.configFile) return;
    const applied = await applyConfigFile({ storage, audit: services.audit }, config.configFile);
    if (applied.models.length > 0) {
      feed.publish('catalog');
      await catalog.refresh();
    }
    if (applied.createdKeys.length > 0) await keyChanged();
    logger.info({ file: config.configFile.path, models: applied.models, createdKeys: applied.createdKeys.map((key) => key.name) }, 'config file applied');
  };
  // Providers another instance adds or edits through the API reach this one's adapters with the catalog reload the
  // change triggers (the 'providers' topic on a shared feed, else the periodic reload); start-up registered the rest.
  const followProviders = (): void => {
    const seen = new Map(catalog.providers.map((row) => [row.id, row.updatedAt]));
    catalog.onProviders((rows) => {
      const changed = refreshProviderAdapters(services, rows, seen);
      if (changed.length > 0) logger.info({ providers: changed }, 'provider adapters updated from the catalog');
    });
  };

  /** PostgreSQL starts asynchronously, before listening: migrations, crash recovery, providers, seed, config file. */
  const initializePostgres = async (): Promise<void> => {
    await storage.migrate();
    const interrupted = await storage.ledger.markInterrupted();
    if (interrupted > 0) logger.warn({ interrupted }, 'marked generations left in flight by a previous run as INTERRUPTED');
    await storage.catalog.syncProviders(knownProviders(config.providers));
    await storage.catalog.seed(readCatalogSeed());
    const { registered, toEnable } = registerProviderRows(services, (await storage.catalog.load()).providers);
    for (const id of toEnable) await storage.catalog.writeProvider({ id, enabled: true });
    if (registered.length > 0) logger.info({ providers: registered }, 'providers configured through the API are back');
    logger.info(
      {
        database: 'postgres',
        sharedChangeFeed: sharedFeed,
        perInstance: coordination.shared ? [] : ['rate limits', 'tokens per minute', 'concurrent streams', 'budget reservations', 'circuit breakers and latency statistics', 'usageEvents subscriptions'],
        cachedAtMostMs: maxAgeMs ?? null,
      },
      coordination.shared
        ? 'storage: PostgreSQL; keys and catalog cached, invalidated through the shared change feed; limits, budgets, breakers and usageEvents shared through Redis'
        : maxAgeMs === undefined
        ? 'storage: PostgreSQL; keys and catalog cached, invalidated through the shared change feed'
        : `storage: PostgreSQL without a shared change feed; keys and catalog are cached per instance for at most ${maxAgeMs} ms, and limits, budgets, breakers and usageEvents are per instance`,
    );
  };
  // Caches load once the database is ready: synchronously on SQLite, in start() on PostgreSQL.
  if (sqlite) {
    void catalog.start();
    void keys.start();
  }

  const observability = createObservability({ ledger: storage.ledger, keyPrefix: (id) => keys.prefixOf(id), recorder, activeCompletions: () => completions.activeCount }, logger, {
    retentionDays: config.retentionDays,
    defaultMetrics: true,
  });
  router.state.onOpenBreakersChanged((open) => observability.metrics.setOpenCircuitBreakers(open));
  cacheMetrics.register(observability.metrics.registry);
  const attached = coordination.attach({ finished: recorder.finished, router: router.state, registry: observability.metrics.registry });

  const tracing = createTracing(config.tracing);
  // Observed: the access log learns which key a request authenticated with.
  const authenticator = observedAuthenticator(createAuthenticator(keys, config.adminKey, clock));
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
      readinessChecks: coreReadinessChecks({ ping: () => storage.ping(), pendingMigrations: () => storage.pendingMigrations(), isDraining }),
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
  const reloadConfig = async (): Promise<ConfigReload> => {
    const before = services.config;
    try {
      const next = await applyReload({ ...services, config: before }, readConfig());
      services.config = next;
      feed.publish('catalog');
      await keyChanged();
      await services.audit({ actorKeyId: null, action: 'config.reload', targetType: 'config', targetId: next.configFile?.path ?? 'environment', before: configSummary(before), after: configSummary(next) });
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
      if (!sqlite) {
        await initializePostgres();
        await Promise.all([catalog.start(), keys.start()]);
      }
      await applyFile();
      followProviders();
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
        await Promise.all([completions.drain(config.shutdownGraceMs), embeddings.drain(config.shutdownGraceMs)]);
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
        catalog.close();
        keys.close();
        await storage.close();
        await closeHttpAgent();
        await services.upstreamGuard.close();
      })();
      return stopping;
    },
  };
}
