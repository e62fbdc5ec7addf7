import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { eventually, freePort, sharedDatabase, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-processes.js';
import { uniquePrefix } from '../helpers/redis.js';

/**
 * Redis stopped mid-run (a redis-server this test starts on its own port and kills): instances failing open keep
 * serving with per-instance limits, an instance failing closed refuses what needs shared state, budgets refuse
 * everywhere, the outage is logged once per transition, and no answered generation is missing from the ledger.
 */

const ADMIN = 'admin-secret-for-outage-tests-0123456';
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`;
const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { id } }`;
const ask = { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'hello during an outage' }], maxTokens: 50 } };
type Answer = Awaited<ReturnType<GatewayProcess['graphql']>>;
const codeOf = (body: Answer): unknown => body.errors?.[0]?.extensions?.['code'];
const idOf = (body: Answer): string | undefined => (body.data as { createCompletion?: { id: string } } | null | undefined)?.createCompletion?.id;

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const client = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  const up = await eventually(async () => {
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      client.disconnect();
      return false;
    }
  }, 10_000);
  client.disconnect();
  if (!up) throw new Error(`redis-server did not start on port ${port}`);
  return child;
}

describe('Redis stopped mid-run', () => {
  let fake: FakeUpstream;
  let redis: ChildProcess;
  let redisPort: number;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let closed: GatewayProcess;
  let database: Awaited<ReturnType<typeof sharedDatabase>> | undefined;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    database = await sharedDatabase();
    const databaseUrl = database.url;
    const env = (failure: 'open' | 'closed') => ({
      SWITCHBOARD_ADMIN_KEY: ADMIN,
      DATABASE_URL: databaseUrl,
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: fake.url,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SWITCHBOARD_REDIS_PREFIX: uniquePrefix(),
      SWITCHBOARD_REDIS_FAILURE: failure,
    });
    // One prefix for all three: they are one deployment.
    const shared = env('open');
    a = await startGatewayProcess(shared);
    b = await startGatewayProcess(shared);
    closed = await startGatewayProcess({ ...shared, SWITCHBOARD_REDIS_FAILURE: 'closed' });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), closed?.stop()]);
    redis?.kill('SIGKILL');
    await fake?.close();
    await database?.drop();
  }, 60_000);

  async function createKey(input: Record<string, unknown>): Promise<string> {
    const body = await a.graphql<{ createApiKey: { secret: string } }>(CREATE_KEY, { input: { scopes: ['COMPLETIONS'], ...input } }, ADMIN);
    expect(body.errors).toBeUndefined();
    return body.data!.createApiKey.secret;
  }

  async function metric(gateway: GatewayProcess, name: string): Promise<number | undefined> {
    const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(name));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  it('shares limits while up, then falls back (open), refuses (closed and budgets), and loses no answered generation', async () => {
    const answered: string[] = [];
    const keep = (results: Answer[]): Answer[] => {
      for (const body of results) {
        const id = idOf(body);
        if (id !== undefined) answered.push(id);
      }
      return results;
    };
    const rpmBefore = await createKey({ name: 'rpm 5 before', rateLimit: { requestsPerMinute: 5 } });
    const rpmDuring = await createKey({ name: 'rpm 5 during', rateLimit: { requestsPerMinute: 5 } });
    const budget = await createKey({ name: 'budget', budget: { limitUsd: 100 } });
    const plain = await createKey({ name: 'no limits' });

    const spread = (secret: string, count: number) => Promise.all(Array.from({ length: count }, (_, index) => [a, b][index % 2]!.graphql(COMPLETE, ask, secret)));
    const upRun = keep(await spread(rpmBefore, 12));
    expect(upRun.filter((body) => body.errors === undefined)).toHaveLength(5);
    expect(keep([await a.graphql(COMPLETE, ask, budget)])[0]?.errors).toBeUndefined();
    expect(keep([await closed.graphql(COMPLETE, ask, rpmDuring)])[0]?.errors).toBeUndefined();
    expect(await metric(a, 'switchboard_redis_up')).toBe(1);

    redis.kill('SIGKILL');
    expect(await eventually(async () => (await metric(a, 'switchboard_redis_up')) === 0 && (await metric(b, 'switchboard_redis_up')) === 0, 5000)).toBe(true);

    // Open: each instance holds the limit on its own, so two admit 2 × 5 (one of the 5 was taken above on `closed`, not here).
    const downRun = keep(await spread(rpmDuring, 20));
    const admitted = downRun.filter((body) => body.errors === undefined).length;
    console.log(`Redis down, failing open: ${admitted} of 20 admitted on two instances with a 5-per-minute key`);
    expect(admitted).toBe(10);
    for (const body of downRun) if (body.errors) expect(codeOf(body)).toBe('RATE_LIMITED');
    expect(await metric(a, 'switchboard_redis_fallbacks_total{part="rate_limits"}')).toBeGreaterThan(0);

    // Budgets fail closed everywhere.
    const budgetDown = keep([await a.graphql(COMPLETE, ask, budget), await b.graphql(COMPLETE, ask, budget)]);
    for (const body of budgetDown) expect(codeOf(body)).toBe('UNAVAILABLE');
    // Closed: a key with limits is refused; one without any needs nothing shared and is served.
    const closedDown = keep([await closed.graphql(COMPLETE, ask, rpmDuring)]);
    expect(codeOf(closedDown[0]!)).toBe('UNAVAILABLE');
    const rest = await fetch(`${closed.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rpmDuring}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(rest.status).toBe(503);
    expect(((await rest.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    expect(keep([await closed.graphql(COMPLETE, ask, plain)])[0]?.errors).toBeUndefined();
    expect(await metric(closed, 'switchboard_redis_refusals_total{part="rate_limits"}')).toBeGreaterThan(0);

    // Logged once per transition, not per request.
    for (const gateway of [a, b, closed]) expect(gateway.output().split('Redis is unreachable').length - 1).toBe(1);

    // Back: shared again, and said once.
    redis = await startRedis(redisPort);
    // Each instance reconnects on its own (within a second or so); until it has, it still decides alone.
    for (const gateway of [a, b]) {
      expect(await eventually(async () => (await metric(gateway, 'switchboard_redis_up')) === 1, 10_000)).toBe(true);
      expect(await eventually(() => gateway.output().includes('Redis is reachable again'), 5000)).toBe(true);
    }
    const backRun = keep(await spread(await createKey({ name: 'rpm 5 after', rateLimit: { requestsPerMinute: 5 } }), 12));
    expect(backRun.filter((body) => body.errors === undefined)).toHaveLength(5);

    // Nothing answered is missing from the ledger, read through another instance.
    expect(answered.length).toBeGreaterThanOrEqual(5 + 1 + 1 + 10 + 1 + 5);
    for (const id of answered) {
      const found = await b.graphql<{ generation: { id: string; status: string } | null }>(`query($id: ID!) { generation(id: $id) { id status } }`, { id }, ADMIN);
      expect(found.data?.generation).toEqual({ id, status: 'SUCCEEDED' });
    }
  }, 120_000);
});
