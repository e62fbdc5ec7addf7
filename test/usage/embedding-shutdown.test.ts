import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/** Nothing lost at shutdown: an embedding that outlasts the grace period is cut off and recorded INTERRUPTED. */
let server: TestServer | undefined;
let fake: FakeUpstream | undefined;
afterAll(async () => {
  await server?.stop();
  await fake?.close();
});

it('interrupts an embedding still waiting on its upstream when the grace period ends, and records it', async () => {
  fake = await startFakeOpenAI();
  server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_SHUTDOWN_GRACE_MS: '100' });
  fake.enqueue({ kind: 'hang', textBefore: '' });
  const pending = fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'text-embedding-3-small', input: 'never answered' }) }).then(
    (response) => response.status,
    () => 'closed',
  );
  for (let wait = 0; wait < 300 && fake.received.length === 0; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(fake.received).toHaveLength(1);
  const started = Date.now();
  await server.app.stop();
  expect(Date.now() - started).toBeLessThan(3000);
  await pending;
  const db = new Database(server.databasePath, { readonly: true });
  try {
    expect(db.prepare(`select status, error_code, provider_id, cost_picos from generations where requested_model = 'text-embedding-3-small'`).all()).toEqual([{ status: 'INTERRUPTED', error_code: 'CANCELLED', provider_id: 'openai', cost_picos: null }]);
  } finally {
    db.close();
  }
});
