import { buildApp } from './app.js';
import { StoredSecretError } from './catalog/providers.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, flushLogger } from './logger.js';

/** The entry point: the only module with side effects. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let app;
  try {
    app = buildApp(config, { logger });
  } catch (error) {
    // ConfigError here: the config file's models or keys were refused by the catalog or the key service.
    if (error instanceof StoredSecretError || error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  let url: string;
  try {
    ({ url } = await app.start());
  } catch (error) {
    // On PostgreSQL the database is reached, migrated and read here: an unreachable server, a refused config file
    // or an unopenable stored secret stops start-up with one line naming it.
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    logger.fatal({ err: error }, 'start-up failed');
    console.error(`start-up failed: ${error instanceof Error ? error.message : String(error)}${cause}`);
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
  if (!config.adminKey) {
    logger.warn('open local mode: no SWITCHBOARD_ADMIN_KEY is set, so every caller is admin; listening on loopback only');
  }
  logger.info({ url, providers: app.services.registry.ids() }, `Switchboard is listening: GraphiQL at ${url}/graphql, the dashboard at ${url}/dashboard`);

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: draining in-flight requests and streams');
    app.stop().then(
      () => {
        logger.info('stopped');
        void flushLogger(logger).finally(() => process.exit(0));
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        void flushLogger(logger).finally(() => process.exit(1));
      },
    );
  };
  // SIGHUP re-reads the config file in this process only; a broken file is logged and the old config stays.
  process.on('SIGHUP', () => {
    void app.reloadConfig();
  });
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

await main();
