import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArrivalGate, FAKE_OPENAI_KEY, startFakeOpenAI, type SizedAnswers } from '../fakes/openai.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { eventually, sharedDatabase, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-processes.js';
import { dropPrefix, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';

/**
 * Issue 16: two gateway PROCESSES on one database and one Redis hold every limit together, share breakers and
 * usageEvents, and see each other's generations. The same rate-limit case without REDIS_URL lets each process
 * admit the whole limit, which shows the first case measures sharing and not something else.
 */

const ADMIN = 'admin-secret-for-scale-out-tests-0123';
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`;
const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { id usage { costUsd } } }`;
const ask = (model = 'openai/gpt-4o-mini', maxTokens = 2000) => ({ input: { model, messages: [{ role: 'USER', content: 'hello from a scale-out test' }], maxTokens } });

interface Completed {
  createCompletion: { id: string; usage: { costUsd: number | null } };
}
type Answer = Awaited<ReturnType<GatewayProcess['graphql']>>;
const codeOf = (body: Answer): unknown => body.errors?.[0]?.extensions?.['code'];

function gatewayEnv(fake: FakeUpstream, databaseUrl: string, redis: { url: string; prefix: string } | undefined): Record<string, string> {
  return {
    SWITCHBOARD_ADMIN_KEY: ADMIN,
    DATABASE_URL: databaseUrl,
    OPENAI_API_KEY: FAKE_OPENAI_KEY,
    OPENAI_BASE_URL: fake.url,
    SWITCHBOARD_MAX_RETRIES: '0',
    SWITCHBOARD_BREAKER_FAILURES: '3',
    SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: '3',
    SWITCHBOARD_BREAKER_COOLDOWN_MS: '60000',
    ...(redis ? { REDIS_URL: redis.url, SWITCHBOARD_REDIS_PREFIX: redis.prefix } : {}),
  };
}

/** Starts A, then B (so only one runs the migrations), on one database. */
async function startPair(fake: FakeUpstream, databaseUrl: string, redis: { url: string; prefix: string } | undefined): Promise<[GatewayProcess, GatewayProcess]> {
  const a = await startGatewayProcess(gatewayEnv(fake, databaseUrl, redis));
  try {
    const b = await startGatewayProcess(gatewayEnv(fake, databaseUrl, redis));
    return [a, b];
  } catch (error) {
    await a.stop();
    throw error;
  }
}

/**
 * Creates a key through `gateway` and waits until every one of `others` accepts it: another instance learns of a
 * new key through the change feed (Redis) or its cache's expiry (without Redis), never in the same instant.
 */
async function createKey(gateway: GatewayProcess, input: Record<string, unknown>, others: readonly GatewayProcess[] = []): Promise<{ id: string; secret: string }> {
  const body = await gateway.graphql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_KEY, { input: { scopes: ['COMPLETIONS'], ...input } }, ADMIN);
  expect(body.errors).toBeUndefined();
  const key = { id: body.data!.createApiKey.apiKey.id, secret: body.data!.createApiKey.secret };
  for (const other of others) expect(await eventually(async () => (await other.graphql('{ me { id } }', {}, key.secret)).errors === undefined, 10_000)).toBe(true);
  return key;
}

/** `count` completions at once, alternating between the gateways. */
function spread(gateways: readonly GatewayProcess[], count: number, secret: string, model?: string): Array<Promise<Answer>> {
  return Array.from({ length: count }, (_, index) => gateways[index % gateways.length]!.graphql<Completed>(COMPLETE, ask(model), secret));
}

describe('two gateway processes sharing one database and one Redis', () => {
  const sized: SizedAnswers = { fraction: 0.9, outputLimit: 16_384 };
  let fake: FakeUpstream;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const prefix = uniquePrefix();
  let database: Awaited<ReturnType<typeof sharedDatabase>> | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ sizedAnswers: sized });
    database = await sharedDatabase();
    [a, b] = await startPair(fake, database.url, { url: TEST_REDIS_URL, prefix });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    await dropPrefix(prefix);
    await database?.drop();
  }, 60_000);

  it('lets exactly 10 of 100 parallel requests through a 10-per-minute key, spread over both', async () => {
    const key = await createKey(a, { name: 'rpm 10', rateLimit: { requestsPerMinute: 10 } }, [b]);
    const started = Date.now();
    const results = await Promise.all(spread([a, b], 100, key.secret));
    // A token bucket refills one request every 6 s at 10 per minute: a burst that a loaded machine stretches past
    // 6 s may earn one more. The bound is exact for the time the burst really took, on both sides.
    const refills = Math.floor((Date.now() - started) / 6000);
    const admitted = results.filter((body) => body.errors === undefined);
    console.log(`shared rate limit: ${admitted.length} of 100 admitted over two processes in ${Date.now() - started} ms`);
    expect(admitted.length).toBeGreaterThanOrEqual(10);
    expect(admitted.length).toBeLessThanOrEqual(10 + refills);
    for (const body of results) if (body.errors) expect(codeOf(body)).toBe('RATE_LIMITED');
  }, 60_000);

  it('admits 4 to 6 of 20 parallel requests against a 5.5-request budget, overshooting by at most one request', async () => {
    // One priced call on each instance: its cost is "one request", and each instance learns the completion length.
    const calibration = await createKey(a, { name: 'calibration' }, [b]);
    const costs: number[] = [];
    for (const gateway of [a, b]) {
      const body = await gateway.graphql<Completed>(COMPLETE, ask(), calibration.secret);
      expect(body.errors).toBeUndefined();
      costs.push(Math.round(body.data!.createCompletion.usage.costUsd! * 1e12));
    }
    const oneCall = Math.max(...costs);
    const limitPicos = Math.floor((5.5 * oneCall) / 1e6) * 1e6;
    const key = await createKey(a, { name: 'budget 5.5', budget: { limitUsd: limitPicos / 1e12 } }, [b]);
    const gate = new ArrivalGate(20, 20_000);
    sized.gate = gate;
    let answered = 0;
    const calls = spread([a, b], 20, key.secret).map((call) => call.finally(() => answered++));
    // Every call decided while the admitted ones are still in flight, however slow the machine.
    await eventually(() => answered + gate.waiting >= 20, 20_000);
    gate.release();
    const results = await Promise.all(calls);
    sized.gate = undefined;
    const admitted = results.filter((body) => body.errors === undefined) as Array<{ data: Completed }>;
    const spent = admitted.reduce((sum, body) => sum + Math.round((body.data.createCompletion.usage.costUsd ?? 0) * 1e12), 0);
    console.log(`shared budget: ${admitted.length} of 20 admitted, spent ${spent} of ${limitPicos} picos (one call ${oneCall})`);
    expect(admitted.length).toBeGreaterThanOrEqual(4);
    expect(admitted.length).toBeLessThanOrEqual(6);
    expect(spent).toBeLessThanOrEqual(limitPicos + oneCall);
    for (const body of results) if (body.errors) expect(['RATE_LIMITED', 'BUDGET_EXCEEDED']).toContain(codeOf(body));
  }, 60_000);

  it('holds a 3-stream cap across both', async () => {
    const key = await createKey(a, { name: 'streams 3', rateLimit: { concurrentStreams: 3 } }, [b]);
    const gate = new ArrivalGate(10, 20_000);
    sized.gate = gate;
    let answered = 0;
    const streams = Array.from({ length: 10 }, (_, index) =>
      fetch(`${[a, b][index % 2]!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'stream to me' }] }),
      }).then(async (response) => ({ status: response.status, body: await response.text() })).finally(() => answered++),
    );
    await eventually(() => answered + gate.waiting >= 10, 20_000);
    const heldUpstream = gate.waiting;
    gate.release();
    const results = await Promise.all(streams);
    sized.gate = undefined;
    const statuses = results.map((result) => result.status);
    console.log(`shared stream cap: ${statuses.filter((status) => status === 200).length} of 10 streams opened, ${heldUpstream} held upstream at once`);
    expect(heldUpstream).toBe(3);
    expect(statuses.filter((status) => status === 200)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
  }, 60_000);

  it('refuses a key revoked through A on A at the next request and on B within 1 s', async () => {
    const key = await createKey(a, { name: 'to revoke' }, [b]);
    expect((await b.graphql<Completed>(COMPLETE, ask(), key.secret)).errors).toBeUndefined();
    const revoked = await a.graphql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: key.id }, ADMIN);
    expect(revoked.errors).toBeUndefined();
    const revokedAt = Date.now();
    expect(codeOf(await a.graphql(COMPLETE, ask(), key.secret))).toBe('UNAUTHENTICATED');
    const refusedOnB = await eventually(async () => codeOf(await b.graphql(COMPLETE, ask(), key.secret)) === 'UNAUTHENTICATED', 1000);
    console.log(`revocation seen on B after ${Date.now() - revokedAt} ms`);
    expect(refusedOnB).toBe(true);
  }, 30_000);

  it('delivers to a usageEvents subscriber on A the generations finished on B', async () => {
    const key = await createKey(a, { name: 'events' }, [b]);
    const client = wsClient(a.wsUrl, { authorization: `Bearer ${ADMIN}` });
    const madeOnB = new Set<string>();
    let received: string | undefined;
    const subscription = subscribeWs(client, `subscription { usageEvents { id } }`, {}, (result) => {
      const id = (result.data?.['usageEvents'] as { id: string } | undefined)?.id;
      if (id !== undefined && madeOnB.has(id)) received = id;
      return received !== undefined;
    });
    try {
      // The subscription has no acknowledgement to wait for: keep finishing generations on B until one arrives.
      const arrived = await eventually(async () => {
        const body = await b.graphql<Completed>(COMPLETE, ask(), key.secret);
        if (body.data) madeOnB.add(body.data.createCompletion.id);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return received !== undefined;
      }, 15_000);
      expect(arrived).toBe(true);
      await subscription;
    } finally {
      await client.dispose();
    }
  }, 30_000);

  it('finds on B, through generation(id), a generation made on A', async () => {
    const key = await createKey(a, { name: 'lookup' }, [b]);
    const made = await a.graphql<Completed>(COMPLETE, ask(), key.secret);
    const id = made.data!.createCompletion.id;
    const found = await b.graphql<{ generation: { id: string; status: string } | null }>(`query($id: ID!) { generation(id: $id) { id status } }`, { id }, ADMIN);
    expect(found.data?.generation).toEqual({ id, status: 'SUCCEEDED' });
  }, 30_000);

  it('shows on B, in providers { health }, a breaker opened by failures seen on A, and B routes around it', async () => {
    const key = await createKey(a, { name: 'breaker' }, [b]);
    for (let failure = 0; failure < 3; failure++) {
      fake.enqueue({ kind: 'error', error: 'server_error' });
      expect(codeOf(await a.graphql(COMPLETE, ask('openai/gpt-4o'), key.secret))).toBe('PROVIDER_ERROR');
    }
    const HEALTH = `{ providers { id health { state requests failures } } }`;
    const openai = async (gateway: GatewayProcess) =>
      (await gateway.graphql<{ providers: Array<{ id: string; health: { state: string; requests: number; failures: number } }> }>(HEALTH, {}, ADMIN)).data?.providers.find((provider) => provider.id === 'openai')?.health;
    expect((await openai(a))?.state).toBe('OPEN');
    const seen = await eventually(async () => (await openai(b))?.state === 'OPEN', 2000);
    expect(seen).toBe(true);
    expect((await openai(b))?.failures).toBeGreaterThanOrEqual(3);
    // B does not call the endpoint A found failing.
    const before = fake.received.length;
    const onB = await b.graphql(COMPLETE, ask('openai/gpt-4o'), key.secret);
    expect(onB.errors).toBeDefined();
    expect(fake.received.length).toBe(before);
  }, 30_000);
});

describe('the same two processes without REDIS_URL', () => {
  it('let 10 of 100 through on EACH process (20), which shows the shared case measures sharing', async () => {
    const fake = await startFakeOpenAI();
    const database = await sharedDatabase();
    const [a, b] = await startPair(fake, database.url, undefined);
    try {
      // Without Redis, B learns of a key made on A only when its key cache expires (at most 5 s on PostgreSQL).
      const key = await createKey(a, { name: 'rpm 10', rateLimit: { requestsPerMinute: 10 } }, [b]);
      const started = Date.now();
      const results = await Promise.all(spread([a, b], 100, key.secret));
      // Each process refills its own bucket, one request per 6 s (see the shared case).
      const refills = Math.floor((Date.now() - started) / 6000);
      const admitted = results.filter((body) => body.errors === undefined).length;
      console.log(`per-instance rate limit: ${admitted} of 100 admitted over two processes`);
      expect(admitted).toBeGreaterThanOrEqual(20);
      expect(admitted).toBeLessThanOrEqual(20 + 2 * refills);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await fake.close();
      await database.drop();
    }
  }, 120_000);
});
