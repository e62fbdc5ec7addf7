import type { LedgerStore } from '../db/ledger.js';
import type { Logger } from '../logger.js';
import { GatewayMetrics } from './metrics.js';
import type { UsageRecorder } from './recorder.js';
import { createRequestLog } from './request-log.js';
import { RetentionJob } from './retention.js';

/** What monitoring is asked to do; buildApp takes it from Config, which read and checked the environment. */
export interface ObservabilitySettings {
  /** Generations older than this many days are deleted; null keeps them forever. */
  retentionDays: number | null;
  /** Process metrics (CPU, memory, event loop, GC) beside the gateway's own. */
  defaultMetrics: boolean;
}

export interface ObservabilityDeps {
  /** Where retention deletes from. */
  ledger: Pick<LedgerStore, 'deleteExpired'>;
  /** A key's prefix for the request log (the instance's key cache). */
  keyPrefix: (apiKeyId: string) => string | undefined;
  recorder: UsageRecorder;
  /** Completions in flight, read at scrape time (the completion service counts them). */
  activeCompletions: () => number;
}

export interface Observability {
  /** The Prometheus registry; src/http/metrics.ts serves it. */
  metrics: GatewayMetrics;
  /** The retention job, when a retention period is set. */
  retention: RetentionJob | undefined;
  /** Starts the retention job. */
  start(): void;
  /** Stops the retention job and ends usageEvents subscriptions; metrics and logs keep counting rows still flushed. */
  stop(): Promise<void>;
}

/**
 * Metrics, request logs, live usage events and retention, all fed by the recorder's finished rows (the completion
 * path knows nothing of them). It serves nothing and reads no environment: src/http/ serves /metrics.
 */
export function createObservability(deps: ObservabilityDeps, logger: Logger, settings: ObservabilitySettings): Observability {
  const { recorder } = deps;
  const metrics = new GatewayMetrics(
    {
      activeCompletions: deps.activeCompletions,
      recorderQueueDepth: () => recorder.queueDepth,
      recorderWaitingFinishes: () => recorder.waitingFinishes,
      usageEventSubscribers: () => recorder.finished.subscriberCount,
      usageEventSubscribersOverflowed: () => recorder.finished.overflowedSubscribers,
    },
    { defaultMetrics: settings.defaultMetrics },
  );

  const logRequests = createRequestLog(deps.keyPrefix, logger);
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
      : new RetentionJob(deps.ledger, {
          retentionDays: settings.retentionDays,
          onSweep: (deleted) => {
            if (deleted > 0) logger.info({ deleted, retentionDays: settings.retentionDays }, 'deleted generations past the retention period');
          },
          onError: (error) => logger.error({ err: error }, 'retention sweep failed'),
        });

  return {
    metrics,
    retention,
    start() {
      retention?.start();
    },
    async stop() {
      await retention?.stop();
      recorder.finished.close();
    },
  };
}
