import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { SharedState } from '../../src/coordination/shared-state.js';

/** The Redis this machine and CI run; tests never skip without it, they fail. */
export const TEST_REDIS_URL = process.env['SWITCHBOARD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test (or run) uses. */
export function uniquePrefix(): string {
  return `sbtest:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function dropPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A connected SharedState on its own prefix. */
export async function sharedState(prefix: string, failureMode: 'open' | 'closed' = 'open', url = TEST_REDIS_URL): Promise<SharedState> {
  const state = new SharedState({ url, prefix, failureMode }, pino({ level: 'silent' }));
  if (!(await state.ready(5000))) throw new Error(`Redis at ${url} is not reachable`);
  return state;
}
