import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { waitFor } from '../helpers/subscriptions.js';

/**
 * Issue 14: a stream that failed before any token was charged the estimated prompt cost (an upstream hang cost
 * 22,500,000 pico-dollars streamed, 0 non-streamed), and an INTERRUPTED stream recorded cost 0 as known although
 * tokens had streamed. A failed request is charged for the tokens that streamed, as an estimate; when nothing
 * streamed, its cost is unknown (the provider may bill the prompt of a request it never answered), the same
 * whether the request was streamed or not, and the key's budget is not charged for it.
 */

interface CostRow {
  status: string;
  cost_picos: number | null;
  usage_estimated: number;
  completion_tokens: number;
}

const PROMPT = 'a prompt that is long enough to have a visible cost '.repeat(20);

describe('what a failed request costs', () => {
  let server: TestServer | undefined;
  let fake: FakeUpstream | undefined;
  afterEach(async () => {
    await server?.stop();
    await fake?.close();
  });

  async function start(env: Record<string, string> = {}): Promise<TestServer> {
    fake = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, ...env });
    return server;
  }

  function rows(path: string): CostRow[] {
    const db = new Database(path, { readonly: true });
    const found = db.prepare(`select status, cost_picos, usage_estimated, completion_tokens from generations where status != 'IN_PROGRESS' order by created_at`).all() as CostRow[];
    db.close();
    return found;
  }

  const post = (url: string, stream: boolean, signal?: AbortSignal) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream, messages: [{ role: 'user', content: PROMPT }] }),
      ...(signal ? { signal } : {}),
    });

  it('records an unknown cost, not the prompt estimate, when the upstream hung before any token, streamed or not', async () => {
    const gateway = await start();
    for (const stream of [true, false]) {
      fake!.enqueue({ kind: 'hang', textBefore: '' });
      const client = new AbortController();
      const request = post(gateway.url, stream, client.signal).then((response) => response.text()).catch(() => undefined);
      const before = fake!.received.length;
      await waitFor(() => fake!.received.length > before || undefined);
      client.abort();
      await request;
      await waitFor(() => rows(gateway.databasePath).length === (stream ? 1 : 2) || undefined);
    }
    const [streamed, plain] = rows(gateway.databasePath);
    console.log(`hang before any token: streamed cost ${streamed!.cost_picos}, non-streamed cost ${plain!.cost_picos}`);
    expect(streamed).toMatchObject({ status: 'CANCELLED', cost_picos: null, completion_tokens: 0 });
    expect(plain).toMatchObject({ status: 'CANCELLED', cost_picos: null, completion_tokens: 0 });
  });

  it('records a known cost of nothing when the provider refused the request with an error status', async () => {
    const gateway = await start();
    for (const stream of [true, false]) {
      fake!.enqueue({ kind: 'error', error: 'bad_request' });
      await (await post(gateway.url, stream)).text();
    }
    expect(rows(gateway.databasePath)).toEqual([
      { status: 'FAILED', cost_picos: 0, usage_estimated: 0, completion_tokens: 0 },
      { status: 'FAILED', cost_picos: 0, usage_estimated: 0, completion_tokens: 0 },
    ]);
  });

  it('records the estimated cost of the tokens streamed when a shutdown interrupts a stream', async () => {
    const gateway = await start({ SWITCHBOARD_SHUTDOWN_GRACE_MS: '100' });
    fake!.enqueue({ kind: 'hang', textBefore: 'Here is the first part of a partial answer that streamed' });
    const response = await post(gateway.url, true);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('partial');
    // What a kill -9 now would leave for start-up to mark INTERRUPTED: a row whose cost is unknown, not a known 0.
    const started = await waitFor(() => {
      const db = new Database(gateway.databasePath, { readonly: true });
      const row = db.prepare(`select cost_picos from generations where status = 'IN_PROGRESS'`).get() as { cost_picos: number | null } | undefined;
      db.close();
      return row;
    });
    expect(started.cost_picos).toBeNull();
    await gateway.app.stop();
    await reader.cancel().catch(() => undefined);
    const [interrupted] = rows(gateway.databasePath);
    console.log(`interrupted after tokens streamed: cost ${interrupted!.cost_picos}, estimated ${interrupted!.usage_estimated}, completion tokens ${interrupted!.completion_tokens}`);
    expect(interrupted).toMatchObject({ status: 'INTERRUPTED', usage_estimated: 1 });
    expect(interrupted!.completion_tokens).toBeGreaterThan(0);
    expect(interrupted!.cost_picos).toBeGreaterThan(0);
  });
});
