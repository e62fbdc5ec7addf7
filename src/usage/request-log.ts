import { inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { apiKeys, type GenerationRow } from '../db/schema.js';
import { fixedFieldLogger, type Logger } from '../logger.js';
import { picosToUsd } from '../money.js';
import type { FinishedListener } from './events.js';

/** Key prefixes never change, so they are looked up once; the cap only guards against a flood of keys. */
const PREFIX_CACHE_LIMIT = 10_000;

/**
 * One log line per finished request, from its ledger row: ids, the key's prefix (never the key), model, provider,
 * status, latency, tokens and cost. The row holds no prompt or completion text, and the error message (which an
 * upstream may fill with echoes of the request) stays in the ledger: only the error code is logged.
 */
export function createRequestLog(db: Db, redacting: Logger): FinishedListener {
  // Every field below is one the ledger row holds and none is a secret: no redaction pass over the line.
  const logger = fixedFieldLogger(redacting);
  const prefixes = new Map<string, string | null>();

  const lookUpPrefixes = (rows: readonly GenerationRow[]): void => {
    const missing = [...new Set(rows.map((row) => row.apiKeyId).filter((id): id is string => id !== null && !prefixes.has(id)))];
    if (missing.length === 0) return;
    if (prefixes.size + missing.length > PREFIX_CACHE_LIMIT) prefixes.clear();
    const found = db.select({ id: apiKeys.id, prefix: apiKeys.prefix }).from(apiKeys).where(inArray(apiKeys.id, missing)).all();
    for (const id of missing) prefixes.set(id, null);
    for (const key of found) prefixes.set(key.id, key.prefix);
  };

  return (rows) => {
    lookUpPrefixes(rows);
    for (const row of rows) {
      const failed = row.status === 'FAILED' || row.status === 'INTERRUPTED';
      logger[failed ? 'warn' : 'info'](
        {
          requestId: row.requestId,
          generationId: row.id,
          apiKeyId: row.apiKeyId,
          keyPrefix: row.apiKeyId === null ? null : (prefixes.get(row.apiKeyId) ?? null),
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
