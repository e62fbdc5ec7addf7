import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../config.js';
import type { Services } from '../context.js';
import { recordAudit } from '../db/audit.js';
import type { Logger } from '../logger.js';
import { GatewayMetrics } from './metrics.js';
import { createRequestLog } from './request-log.js';
import { RetentionJob } from './retention.js';

export interface ObservabilitySettings {
  /** SWITCHBOARD_RETENTION_DAYS; null keeps generations forever. */
  retentionDays: number | null;
  /** SWITCHBOARD_LOG_CONTENT was set: it is not implemented, which start() says out loud. */
  logContentRequested: boolean;
  /** Process metrics (CPU, memory, event loop, GC) on /metrics. */
  defaultMetrics: boolean;
}

/**
 * Reads the monitoring settings from the environment.
 * TODO(lead): fold these into Config (src/config.ts) so the environment is validated in one place.
 */
export function observabilitySettings(env: NodeJS.ProcessEnv = process.env): ObservabilitySettings {
  const raw = env['SWITCHBOARD_RETENTION_DAYS'];
  let retentionDays: number | null = null;
  if (raw !== undefined && raw !== '') {
    retentionDays = Number(raw);
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new ConfigError(`SWITCHBOARD_RETENTION_DAYS must be a whole number of days (1 or more), not '${raw}'`);
  }
  const logContent = env['SWITCHBOARD_LOG_CONTENT'];
  return { retentionDays, logContentRequested: logContent !== undefined && logContent !== '' && logContent !== 'false', defaultMetrics: true };
}

export interface Observability {
  metrics: GatewayMetrics;
  /** The retention job, when SWITCHBOARD_RETENTION_DAYS is set. */
  retention: RetentionJob | undefined;
  /** Serves GET /metrics in the Prometheus text format. */
  handleMetrics(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Starts the retention job. */
  start(): void;
  /** Stops the retention job and ends usageEvents subscriptions; metrics and logs keep counting rows still flushed. */
  stop(): Promise<void>;
}

/**
 * Metrics, request logs, live usage events and retention, all fed by the recorder's finished rows (the completion
 * path knows nothing of them), and the audit trail behind services.audit.
 */
export function createObservability(services: Services, logger: Logger, settings: ObservabilitySettings = observabilitySettings()): Observability {
  const { recorder, completions } = services;
  const metrics = new GatewayMetrics(
    {
      activeCompletions: () => completions.activeCount,
      recorderQueueDepth: () => recorder.queueDepth,
      recorderWaitingFinishes: () => recorder.waitingFinishes,
      usageEventSubscribers: () => recorder.finished.subscriberCount,
      usageEventSubscribersOverflowed: () => recorder.finished.overflowedSubscribers,
    },
    { defaultMetrics: settings.defaultMetrics },
  );
  // Admin mutations call services.audit; unless buildApp wired its own, it writes the audit trail here.
  services.audit ??= (entry) => {
    recordAudit(services.db, entry);
  };

  const logRequests = createRequestLog(services.db, logger);
  recorder.finished.listen((rows) => {
    try {
      metrics.observe(rows);
      logRequests(rows);
    } catch (error) {
      logger.error({ err: error }, 'metrics or request log failed for finished generations');
    }
  });

  const retention =
    settings.retentionDays === null
      ? undefined
      : new RetentionJob(services.db, {
          retentionDays: settings.retentionDays,
          onSweep: (deleted) => {
            if (deleted > 0) logger.info({ deleted, retentionDays: settings.retentionDays }, 'deleted generations past the retention period');
          },
          onError: (error) => logger.error({ err: error }, 'retention sweep failed'),
        });

  return {
    metrics,
    retention,
    async handleMetrics(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' });
        res.end();
        return;
      }
      try {
        const text = await metrics.text();
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      } catch (error) {
        logger.error({ err: error }, 'collecting metrics failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('collecting metrics failed\n');
      }
    },
    start() {
      if (settings.logContentRequested) logger.warn('SWITCHBOARD_LOG_CONTENT is not implemented: prompt and completion text are never logged');
      retention?.start();
    },
    async stop() {
      await retention?.stop();
      recorder.finished.close();
    },
  };
}
