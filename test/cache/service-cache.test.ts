import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller, CompletionEvent, CompletionInput } from '../../src/completions/types.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const caller = (requestId: string): Caller => ({ apiKeyId: null, requestId });

function row(id: string): Record<string, unknown> | undefined {
  const db = new Database(server.databasePath, { readonly: true });
  try {
    return db.prepare('select status, cache_hit, cost_picos, saved_picos, finish_reason from generations where id = ?').get(id) as Record<string, unknown> | undefined;
  } finally {
    db.close();
  }
}

async function drain(stream: AsyncGenerator<CompletionEvent>): Promise<CompletionEvent[]> {
  const events: CompletionEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('a streamed cache hit in the completion service', () => {
  it('records a hit whose consumer stopped reading as CANCELLED, charging and saving nothing', async () => {
    const input: CompletionInput = { model: 'local/echo', messages: [{ role: 'user', content: [{ type: 'text', text: 'one two three four five six' }] }], cache: { ttlSeconds: 60 } };
    const original = await drain(await server.app.services.completions.openStream(input, caller('original')));
    expect(original.at(-1)?.type).toBe('done');

    const hit = await server.app.services.completions.openStream(input, caller('hit'));
    const started = await hit.next();
    expect(started.value).toMatchObject({ type: 'started', cacheStatus: 'HIT' });
    const delta = await hit.next();
    expect(delta.value).toMatchObject({ type: 'delta' });
    await hit.return(undefined);
    const id = (started.value as Extract<CompletionEvent, { type: 'started' }>).id;
    expect(row(id)).toEqual({ status: 'CANCELLED', cache_hit: 1, cost_picos: 0, saved_picos: null, finish_reason: 'cancelled' });
    expect(server.app.services.completions.activeCount).toBe(0);
  });
});
