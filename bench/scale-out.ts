/**
 * Scale-out (issue 16): what sharing state through Redis costs per request, and one against two gateway
 * instances behind a round-robin client. Two cores cannot show scaling (the instances, the load generator, the
 * fake upstream and Redis share them), so what carries over to a real deployment is reported: gateway CPU per
 * request, Redis round trips per request (counted by the gateway, and commands counted by the server), and Redis's
 * own CPU per request. The load uses a key with a rate limit, a tokens-per-minute limit and a budget, all far
 * from their bounds, so every request pays for every shared check.
 *
 * Standalone: `npx tsx bench/scale-out.ts [--quick]`; as a scenario: `run({ quick })`, like the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { closedLoop, pool, postJson, timing, type LoadResult } from './lib/load.js';
import { expectReply, USER_MESSAGE } from './lib/nonstreaming.js';
import { conditions, cpuMs, freePort, pinSelf, startGatewayProcess, startUpstreamProcess, type Gateway, type Upstream } from './lib/processes.js';

export const name = 'scale-out';

const CONCURRENCY = 16;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

interface Setup {
  label: string;
  instances: 1 | 2;
  redis: boolean;
}

const SETUPS: readonly Setup[] = [
  { label: '1 instance, no Redis', instances: 1, redis: false },
  { label: '1 instance, Redis', instances: 1, redis: true },
  { label: '2 instances, no Redis (limits per instance)', instances: 2, redis: false },
  { label: '2 instances, Redis, round-robin', instances: 2, redis: true },
];

export interface ScaleOutPoint extends LoadResult {
  setup: string;
  /** Gateway CPU (user + system, all instances) per measured request. */
  gatewayCpuMsPerRequest: number | null;
  /** Commands and pipelines the gateways sent to Redis per request (warm-up included), from /metrics. */
  redisRoundTripsPerRequest: number | null;
  /** Commands the Redis server processed per request (EVALSHA counts one), from INFO. */
  redisCommandsPerRequest: number | null;
  /** The Redis server's CPU per measured request. */
  redisCpuMsPerRequest: number | null;
}

async function startRedis(): Promise<{ url: string; child: ChildProcess; client: Redis }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  // Queued until the server listens (bounded by the retry strategy).
  const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (times) => (times > 50 ? null : 100) });
  client.on('error', () => undefined);
  await client.ping();
  return { url, child, client };
}

async function commandsProcessed(client: Redis): Promise<number> {
  const info = await client.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

async function roundTrips(gateway: Gateway): Promise<number> {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('switchboard_redis_round_trips_total'));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

async function measure(setup: Setup, upstream: Upstream, plan: { warmupMs: number; measureMs: number }): Promise<ScaleOutPoint> {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-bench-scale-'));
  const redis = setup.redis ? await startRedis() : undefined;
  const env: Record<string, string> = {
    DATABASE_URL: `file:${join(directory, 'shared.db')}`,
    // Not open local mode, where every caller is admin and no key's limits apply.
    SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
    ...(redis ? { REDIS_URL: redis.url, SWITCHBOARD_REDIS_PREFIX: 'bench:' } : {}),
  };
  const gateways: Gateway[] = [];
  try {
    // One after the other: the first one migrates the shared database.
    for (let index = 0; index < setup.instances; index++) gateways.push(await startGatewayProcess({ upstream, env }));
    const first = gateways[0]!;
    // A key that carries every shared check.
    const created = await postJson(
      pool(first.url, 1),
      '/graphql',
      JSON.stringify({
        query: `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`,
        variables: { input: { name: 'bench', scopes: ['COMPLETIONS'], rateLimit: { requestsPerMinute: 10_000_000, tokensPerMinute: 1_000_000_000 }, budget: { limitUsd: 1_000_000 } } },
      }),
      { authorization: `Bearer ${ADMIN_KEY}` },
    );
    const secret = (JSON.parse(created) as { data: { createApiKey: { secret: string } } }).data.createApiKey.secret;
    const pools = gateways.map((gateway) => pool(gateway.url, CONCURRENCY));
    const body = JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: USER_MESSAGE }] });
    const headers = { authorization: `Bearer ${secret}` };
    const tripsBefore = (await Promise.all(gateways.map(roundTrips))).reduce((sum, value) => sum + value, 0);
    const commandsBefore = redis ? await commandsProcessed(redis.client) : 0;
    let fired = 0;
    let cpuStart: number[] = [];
    let cpuEnd: number[] = [];
    const cpuAll = (): number[] => [...gateways.map((gateway) => cpuMs(gateway.pid) ?? Number.NaN), redis ? (cpuMs(redis.child.pid ?? -1) ?? Number.NaN) : 0];
    let next = 0;
    const result = await closedLoop(
      async () => {
        // Round-robin over the instances, request by request, as a load balancer would.
        const target = pools[next++ % pools.length]!;
        fired++;
        expectReply(await postJson(target, '/v1/chat/completions', body, headers));
      },
      { concurrency: CONCURRENCY, ...plan, onMeasureStart: () => (cpuStart = cpuAll()), onMeasureEnd: () => (cpuEnd = cpuAll()) },
    );
    const tripsAfter = (await Promise.all(gateways.map(roundTrips))).reduce((sum, value) => sum + value, 0);
    const commandsAfter = redis ? await commandsProcessed(redis.client) : 0;
    await Promise.all(pools.map((each) => each.close()));
    const measured = result.requests + result.errors;
    const delta = cpuEnd.map((end, index) => end - (cpuStart[index] ?? Number.NaN));
    const gatewayCpu = delta.slice(0, gateways.length).reduce((sum, value) => sum + value, 0);
    const perRequest = (value: number, count: number): number | null => (Number.isFinite(value) && count > 0 ? Math.round((value / count) * 1000) / 1000 : null);
    return {
      setup: setup.label,
      ...result,
      gatewayCpuMsPerRequest: perRequest(gatewayCpu, measured),
      redisRoundTripsPerRequest: redis ? perRequest(tripsAfter - tripsBefore, fired) : 0,
      redisCommandsPerRequest: redis ? perRequest(commandsAfter - commandsBefore, fired) : 0,
      redisCpuMsPerRequest: redis ? perRequest(delta[gateways.length] ?? Number.NaN, measured) : 0,
    };
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    if (redis) {
      redis.client.disconnect();
      redis.child.kill('SIGKILL');
    }
    rmSync(directory, { recursive: true, force: true });
  }
}

export async function run(options: { quick?: boolean } = {}): Promise<Record<string, unknown>> {
  pinSelf();
  const plan = timing(options.quick);
  const upstream = await startUpstreamProcess();
  try {
    const points: ScaleOutPoint[] = [];
    for (const setup of SETUPS) {
      const point = await measure(setup, upstream, plan);
      points.push(point);
      console.log(
        `${point.setup.padEnd(44)} ${String(point.rps).padStart(7)} req/s  p50 ${String(point.p50Ms).padStart(6)} ms  ` +
          `gateway CPU ${point.gatewayCpuMsPerRequest ?? '?'} ms/req  Redis ${point.redisRoundTripsPerRequest ?? '?'} round trips/req ` +
          `(${point.redisCommandsPerRequest ?? '?'} commands, ${point.redisCpuMsPerRequest ?? '?'} ms CPU)  errors ${point.errors}`,
      );
    }
    return { conditions: { ...conditions(), ...plan, concurrency: CONCURRENCY, quick: options.quick === true }, points };
  } finally {
    await upstream.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run({ quick: process.argv.includes('--quick') }).then(
    (result) => {
      console.log(JSON.stringify(result, null, 2));
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
