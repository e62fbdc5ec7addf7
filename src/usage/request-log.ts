import type { GenerationRow } from '../db/schema.js';
import { fixedFieldLogger, type Logger } from '../logger.js';
import { picosToUsd } from '../money.js';
import type { FinishedListener } from './events.js';

/**
 * One log line per finished request, from its ledger row: ids, the key's prefix (never the key), model, provider,
 * status, latency, tokens and cost. The row holds no prompt or completion text, and the error message (which an
 * upstream may fill with echoes of the request) stays in the ledger: only the error code is logged.
 */
export function createRequestLog(keyPrefix: (apiKeyId: string) => string | undefined, redacting: Logger): FinishedListener {
  // Every field below is one the ledger row holds and none is a secret: no redaction pass over the line.
  const logger = fixedFieldLogger(redacting);
  return (rows: readonly GenerationRow[]) => {
    for (const row of rows) {
      const failed = row.status === 'FAILED' || row.status === 'INTERRUPTED';
      logger[failed ? 'warn' : 'info'](
        {
          requestId: row.requestId,
          generationId: row.id,
          apiKeyId: row.apiKeyId,
          keyPrefix: row.apiKeyId === null ? null : (keyPrefix(row.apiKeyId) ?? null),
          model: row.modelId ?? row.requestedModel,
          provider: row.providerId,
          status: row.status,
          finishReason: row.finishReason,
          streamed: row.streamed,
          latencyMs: row.latencyMs,
          timeToFirstTokenMs: row.timeToFirstTokenMs,
          promptTokens: row.promptTokens,
          completionTokens: row.completionTokens,
          costUsd: row.costPicos === null ? null : picosToUsd(row.costPicos),
          attempts: row.attempts?.length ?? 0,
          errorCode: row.errorCode,
        },
        'request finished',
      );
    }
  };
}
