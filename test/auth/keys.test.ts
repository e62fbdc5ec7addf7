import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { runBehindTheGateway, startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse, subscribeWs, wsClient } from '../helpers/subscriptions.js';

const ADMIN = 'admin-secret-for-tests-0123456789';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { id usage { promptTokens completionTokens totalTokens costUsd } } }`;
const STREAM = `subscription($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionStarted { id } ... on CompletionDone { usage { promptTokens completionTokens totalTokens costUsd } } } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix scopes } } }`;

interface CreatedKey {
  id: string;
  secret: string;
}

describe('gateway API keys', () => {
  let server: TestServer;
  let fake: FakeUpstream;

  async function createKey(input: Record<string, unknown>): Promise<CreatedKey> {
    const body = await server.graphql<{ createApiKey: { secret: string; apiKey: { id: string; prefix: string; scopes: string[] } } }>(CREATE_KEY, { input }, bearer(ADMIN));
    expect(body.errors).toBeUndefined();
    const created = body.data!.createApiKey;
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true);
    return { id: created.apiKey.id, secret: created.secret };
  }

  const echo = (text = 'hello') => ({ input: { model: 'local/echo', messages: [{ role: 'USER', content: text }] } });
  const code = (body: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => body.errors?.[0]?.extensions?.['code'];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
  });

  it('returns the secret once and stores only its hash', async () => {
    const key = await createKey({ name: 'hash check', scopes: ['COMPLETIONS'] });
    expect(key.secret).toMatch(/^sb-[A-Za-z0-9_-]{43}$/);
    const dump = JSON.stringify(await server.app.services.storage.keys.list({ limit: 500 }));
    expect(dump).not.toContain(key.secret);
    expect(dump).not.toContain(key.secret.slice(12));
    const listed = await server.graphql<{ apiKeys: { edges: Array<{ node: { id: string } }> } }>(`{ apiKeys(first: 500) { edges { node { id name prefix } } } }`, {}, bearer(ADMIN));
    expect(listed.data!.apiKeys.edges.map((edge) => edge.node.id)).toContain(key.id);
    expect(JSON.stringify(listed.data)).not.toContain(key.secret);
  });

  it('refuses missing and unknown keys with UNAUTHENTICATED, on GraphQL and REST', async () => {
    expect(code(await server.graphql(COMPLETE, echo()))).toBe('UNAUTHENTICATED');
    expect(code(await server.graphql(COMPLETE, echo(), bearer('sb-not-a-real-key')))).toBe('UNAUTHENTICATED');
    const rest = await fetch(`${server.url}/v1/models`, { headers: bearer('sb-nope') });
    expect(rest.status).toBe(401);
  });

  it('enforces scopes: FORBIDDEN without the scope a field needs', async () => {
    const reader = await createKey({ name: 'reader', scopes: ['READ'] });
    const caller = await createKey({ name: 'caller', scopes: ['COMPLETIONS'] });
    expect(code(await server.graphql(COMPLETE, echo(), bearer(reader.secret)))).toBe('FORBIDDEN');
    expect(code(await server.graphql(`{ apiKeys { totalCount } }`, {}, bearer(caller.secret)))).toBe('FORBIDDEN');
    expect(code(await server.graphql(CREATE_KEY, { input: { name: 'x', scopes: ['ADMIN'] } }, bearer(caller.secret)))).toBe('FORBIDDEN');
    const rest = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(reader.secret), 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(rest.status).toBe(403);
    const ok = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, echo(), bearer(caller.secret));
    expect(ok.errors).toBeUndefined();
    const me = await server.graphql<{ me: { id: string; scopes: string[] } }>(`{ me { id scopes } }`, {}, bearer(caller.secret));
    expect(me.data?.me).toEqual({ id: caller.id, scopes: ['COMPLETIONS'] });
  });

  it('lets exactly 10 of 100 parallel requests through a 10-per-minute key', async () => {
    const key = await createKey({ name: 'rpm', scopes: ['COMPLETIONS'], rateLimit: { requestsPerMinute: 10 } });
    const results = await Promise.all(Array.from({ length: 100 }, () => server.graphql(COMPLETE, echo(), bearer(key.secret))));
    const passed = results.filter((body) => body.errors === undefined);
    const limited = results.filter((body) => code(body) === 'RATE_LIMITED');
    expect(passed).toHaveLength(10);
    expect(limited).toHaveLength(90);
    expect(Number(limited[0]!.errors![0]!.extensions!['retryAfterMs'])).toBeGreaterThan(0);
  });

  it('checks tokens per minute before the call, against the prompt estimate plus the expected completion', async () => {
    const key = await createKey({ name: 'tpm', scopes: ['COMPLETIONS'], rateLimit: { tokensPerMinute: 40 } });
    const long = Array.from({ length: 60 }, (_, index) => `token${index}`).join(' ');
    expect(code(await server.graphql(COMPLETE, echo('short'), bearer(key.secret)))).toBeUndefined();
    const refused = await server.graphql(COMPLETE, echo(long), bearer(key.secret));
    expect(code(refused)).toBe('RATE_LIMITED');
  });

  it('caps concurrent streams per key', async () => {
    const slow = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, SWITCHBOARD_LOCAL_DELAY_MS: '30' });
    try {
      const created = await slow.graphql<{ createApiKey: { secret: string } }>(CREATE_KEY, { input: { name: 'streams', scopes: ['COMPLETIONS'], rateLimit: { concurrentStreams: 1 } } }, bearer(ADMIN));
      const secret = created.data!.createApiKey.secret;
      const client = wsClient(slow.wsUrl, bearer(secret));
      const long = Array.from({ length: 30 }, (_, index) => `w${index}`).join(' ');
      let second: unknown;
      await subscribeWs(client, STREAM, echo(long), (_result, index) => {
        if (index === 1) second = subscribeSse(slow.url, STREAM, echo('second'), { headers: bearer(secret) });
        return false;
      });
      const secondResults = (await second) as Array<{ errors?: Array<{ extensions?: Record<string, unknown> }> }>;
      expect(secondResults[0]?.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
      // Once the first stream ended, the slot is free again.
      const third = await subscribeSse(slow.url, STREAM, echo('third'), { headers: bearer(secret) });
      expect(third.at(-1)?.errors).toBeUndefined();
      await client.dispose();
    } finally {
      await slow.stop();
    }
  });

  it('keeps 50 concurrent completions within one request of the budget', async () => {
    const limitUsd = 0.002;
    const key = await createKey({ name: 'budget', scopes: ['COMPLETIONS'], budget: { limitUsd, period: 'DAILY' } });
    // Replies for every request that could get through; the refused ones leave theirs queued, so drain them after.
    for (let index = 0; index < 50; index++) fake.enqueue({ kind: 'text', text: 'priced answer', promptTokens: 20, completionTokens: 500 });
    const input = { input: { model: 'openai/gpt-4o-mini', maxTokens: 500, messages: [{ role: 'USER', content: 'spend' }] } };
    const results = await Promise.all(Array.from({ length: 50 }, () => server.graphql<{ createCompletion: { usage: { costUsd: number } } }>(COMPLETE, input, bearer(key.secret))));
    const passed = results.filter((body) => body.errors === undefined);
    // Refused while admitted requests hold the rest of the budget: RATE_LIMITED (retryable) or, once spent, BUDGET_EXCEEDED.
    const refused = results.filter((body) => code(body) === 'RATE_LIMITED' || code(body) === 'BUDGET_EXCEEDED');
    expect(passed.length + refused.length).toBe(50);
    expect(refused.length).toBeGreaterThan(0);
    const perRequest = passed[0]!.data!.createCompletion.usage.costUsd;
    const spentPicos = await server.app.services.storage.ledger.spentSince(key.id, 0);
    const overshootUsd = spentPicos / 1e12 - limitUsd;
    console.log(`budget test: limit $${limitUsd}, ${passed.length} admitted, spent $${spentPicos / 1e12}, overshoot $${overshootUsd.toFixed(6)} (one request costs $${perRequest})`);
    expect(overshootUsd).toBeLessThanOrEqual(perRequest);
    // Spent is visible on the key, and a request after the budget is gone is refused.
    const me = await server.graphql<{ me: { spentUsd: number; budget: { limitUsd: number; remainingUsd: number; resetsAt: string } } }>(
      `{ me { spentUsd budget { limitUsd remainingUsd resetsAt } } }`, {}, bearer(key.secret));
    expect(me.data!.me.spentUsd).toBeCloseTo(spentPicos / 1e12, 12);
    expect(me.data!.me.budget.remainingUsd).toBe(0);
    expect(Date.parse(me.data!.me.budget.resetsAt)).toBeGreaterThan(Date.now());
    expect(code(await server.graphql(COMPLETE, input, bearer(key.secret)))).toBe('BUDGET_EXCEEDED');
    for (let index = passed.length; index < 50; index++) {
      await fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${FAKE_OPENAI_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'drain' }] }) });
    }
  });

  it('counts a streamed completion toward tokens and spend exactly as a non-streamed one', async () => {
    const key = await createKey({ name: 'stream vs not', scopes: ['COMPLETIONS'], budget: { limitUsd: 10 } });
    const input = { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'same' }] } };
    fake.enqueue({ kind: 'text', text: 'the same answer', promptTokens: 33, completionTokens: 44 });
    const plain = await server.graphql<{ createCompletion: { usage: { totalTokens: number; costUsd: number } } }>(COMPLETE, input, bearer(key.secret));
    const afterPlain = (await server.graphql<{ me: { spentUsd: number } }>(`{ me { spentUsd } }`, {}, bearer(key.secret))).data!.me.spentUsd;
    fake.enqueue({ kind: 'text', text: 'the same answer', promptTokens: 33, completionTokens: 44 });
    const streamed = await subscribeSse(server.url, STREAM, input, { headers: bearer(key.secret) });
    const done = (streamed.at(-1)!.data as { completionStream: { usage: { totalTokens: number; costUsd: number } } }).completionStream;
    const afterStream = (await server.graphql<{ me: { spentUsd: number } }>(`{ me { spentUsd } }`, {}, bearer(key.secret))).data!.me.spentUsd;
    expect(done.usage).toEqual(plain.data!.createCompletion.usage);
    expect(plain.data!.createCompletion.usage.costUsd).toBeGreaterThan(0);
    expect(afterStream - afterPlain).toBeCloseTo(afterPlain, 15);
  });

  it('refuses a revoked key on the next request: HTTP, SSE and an already open WebSocket', async () => {
    const key = await createKey({ name: 'to revoke', scopes: ['COMPLETIONS'] });
    const client = wsClient(server.wsUrl, bearer(key.secret), { keepOpen: true });
    let socketsOpened = 0;
    client.on('connected', () => socketsOpened++);
    const before = await subscribeWs(client, STREAM, echo('before'));
    expect(before.at(-1)?.errors).toBeUndefined();
    const revoked = await server.graphql<{ revokeApiKey: { revokedAt: string } }>(`mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, { id: key.id }, bearer(ADMIN));
    expect(revoked.data?.revokeApiKey.revokedAt).toBeTruthy();
    expect(code(await server.graphql(COMPLETE, echo(), bearer(key.secret)))).toBe('UNAUTHENTICATED');
    const sse = await subscribeSse(server.url, STREAM, echo(), { headers: bearer(key.secret) });
    expect(sse[0]?.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const after = await subscribeWs(client, STREAM, echo('after')).catch((error: unknown) => error);
    const errors = Array.isArray(after) ? (after[0] as { errors?: Array<{ extensions?: Record<string, unknown> }> }).errors ?? after : after;
    expect(JSON.stringify(errors)).toContain('UNAUTHENTICATED');
    // Refused on the socket that was already open, not by a reconnect.
    expect(socketsOpened).toBe(1);
    await client.dispose();
  });

  it('refuses an expired key', async () => {
    const key = await createKey({ name: 'short-lived', scopes: ['COMPLETIONS'], expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(code(await server.graphql(COMPLETE, echo(), bearer(key.secret)))).toBeUndefined();
    // Time passing the expiry, without waiting for it: the expiry moves into the past (the exact instant is
    // checked on the injected clock in key-expiry.test.ts); the very next request must be refused.
    await runBehindTheGateway(server.app.services, 'update api_keys set expires_at = ? where id = ?', [Date.now() - 1, key.id]);
    // A write behind the gateway's back says so, as every writer does: the instance's key cache reloads.
    server.app.services.feed.publish('keys');
    // On PostgreSQL the reload is asynchronous; a writer that must see its own change waits for it.
    await server.app.services.keys.refresh();
    const refused = await server.graphql(COMPLETE, echo(), bearer(key.secret));
    expect(code(refused)).toBe('UNAUTHENTICATED');
    expect(refused.errors?.[0]?.message).toMatch(/expired/);
  });

  it('keeps a key to its model allowlist, fallbacks included', async () => {
    const key = await createKey({ name: 'local only', scopes: ['COMPLETIONS'], allowedModels: ['local/*'] });
    expect(code(await server.graphql(COMPLETE, echo(), bearer(key.secret)))).toBeUndefined();
    const direct = await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'x' }] } }, bearer(key.secret));
    expect(code(direct)).toBe('FORBIDDEN');
    const viaFallback = await server.graphql(COMPLETE, { input: { model: 'local/echo', models: ['openai/gpt-4o-mini'], messages: [{ role: 'USER', content: 'x' }] } }, bearer(key.secret));
    expect(code(viaFallback)).toBe('FORBIDDEN');
    const alias = await createKey({ name: 'by alias', scopes: ['COMPLETIONS'], allowedModels: ['gpt-4o-mini'] });
    fake.enqueue({ kind: 'text', text: 'allowed', promptTokens: 3, completionTokens: 1 });
    expect(code(await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'x' }] } }, bearer(alias.secret)))).toBeUndefined();
  });

  it('never shows one key another key’s generations', async () => {
    const owner = await createKey({ name: 'owner', scopes: ['COMPLETIONS', 'READ'] });
    const other = await createKey({ name: 'other', scopes: ['COMPLETIONS', 'READ'] });
    const made = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, echo('private'), bearer(owner.secret));
    const id = made.data!.createCompletion.id;
    const mine = await server.graphql<{ generation: { id: string } | null }>(`query($id: ID!) { generation(id: $id) { id } }`, { id }, bearer(owner.secret));
    expect(mine.data?.generation?.id).toBe(id);
    const theirs = await server.graphql<{ generation: { id: string } | null }>(`query($id: ID!) { generation(id: $id) { id } }`, { id }, bearer(other.secret));
    expect(theirs.data?.generation ?? null).toBeNull();
    const list = await server.graphql<{ generations: { edges: Array<{ node: { id: string } }> } }>(`{ generations(first: 100) { edges { node { id } } } }`, {}, bearer(other.secret));
    expect(list.data!.generations.edges.map((edge) => edge.node.id)).not.toContain(id);
  });

  it('pages apiKeys newest first, with a totalCount across pages', async () => {
    for (const name of ['page one', 'page two', 'page three']) await createKey({ name, scopes: ['READ'] });
    const PAGE = `query($after: String) { apiKeys(first: 2, after: $after) { totalCount edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }`;
    type Page = { apiKeys: { totalCount: number; edges: Array<{ node: { id: string; createdAt: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    do {
      const body: Awaited<ReturnType<typeof server.graphql<Page>>> = await server.graphql<Page>(PAGE, { after }, bearer(ADMIN));
      expect(body.errors).toBeUndefined();
      const page = body.data!.apiKeys;
      expect(page.edges.length).toBeLessThanOrEqual(2);
      total = page.totalCount;
      seen.push(...page.edges.map((edge) => edge.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after !== null);
    expect(total).toBeGreaterThanOrEqual(3);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    // Ids sort by creation time, so newest first is descending id order.
    expect([...seen].sort().reverse()).toEqual(seen);
  });
});
