import { sql } from 'drizzle-orm';
import type { Db } from './client.js';

/** What one key used in a window of the ledger. */
export interface KeyWindowUse {
  requests: number;
  tokens: number;
}

/**
 * Requests a key started and tokens they used since `from` (unix milliseconds), in-flight ones included (they
 * hold their rate-limit share already; their tokens are not known until they finish). Requests the rate limiter
 * itself refused took nothing from it and are left out. A Promise so that the PostgreSQL twin can share the signature.
 */
export async function keyWindowUse(db: Db, apiKeyId: string, from: number): Promise<KeyWindowUse> {
  const record = db.get<{ requests: number; tokens: number | null }>(sql`
    select count(*) as requests, sum(prompt_tokens + completion_tokens) as tokens
    from generations
    where api_key_id = ${apiKeyId} and created_at >= ${from} and (error_code is null or error_code <> 'RATE_LIMITED')
  `);
  return { requests: record?.requests ?? 0, tokens: record?.tokens ?? 0 };
}
