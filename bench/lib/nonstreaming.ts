/** Non-streaming chat completions through several targets under the same closed-loop load (scenarios 1 and 5). */
import type { Pool } from 'undici';
import { closedLoop, pool, postJson, type LoadResult, type Timing } from './load.js';
import { cpuMs, type Upstream } from './processes.js';
import { fmt, printTable, round } from './stats.js';

export const USER_MESSAGE = 'Say hello to the benchmark.';

/** Every target must carry the fake's echo back, so an error answered with 200 does not count as a request. */
export function expectReply(text: string): void {
  if (!text.includes('You said: Say hello')) throw new Error(`unexpected body: ${text.slice(0, 300)}`);
}

export interface Target {
  name: string;
  /** The process whose CPU time is sampled (the server under test), if any. */
  pid?: number;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Extra validation of a 2xx body (GraphQL answers errors with 200). */
  validate?: (text: string) => void;
}

export function directTarget(upstream: Upstream): Target {
  const url = new URL(upstream.url);
  return {
    name: 'direct',
    pid: upstream.pid,
    origin: url.origin,
    path: `${url.pathname}/chat/completions`,
    headers: { authorization: `Bearer ${upstream.key}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: USER_MESSAGE }] }),
    validate: expectReply,
  };
}

export function restTarget(gatewayUrl: string, pid: number, headers: Record<string, string> = {}): Target {
  return {
    name: 'rest',
    pid,
    origin: gatewayUrl,
    path: '/v1/chat/completions',
    headers,
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: USER_MESSAGE }] }),
    validate: expectReply,
  };
}

export const CREATE_COMPLETION = `mutation Bench($input: CompletionInput!) {
  createCompletion(input: $input) { id message { content } finishReason usage { promptTokens completionTokens totalTokens } }
}`;

export function graphqlTarget(gatewayUrl: string, pid: number, headers: Record<string, string> = {}): Target {
  return {
    name: 'graphql',
    pid,
    origin: gatewayUrl,
    path: '/graphql',
    headers: { accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query: CREATE_COMPLETION, variables: { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: USER_MESSAGE }] } } }),
    validate: (text) => {
      if (text.includes('"errors"')) throw new Error(`GraphQL errors: ${text.slice(0, 300)}`);
      expectReply(text);
    },
  };
}

export interface PointResult extends LoadResult {
  target: string;
  /** CPU time of the server under test per request (ms), when sampled. */
  cpuMsPerRequest: number | null;
}

export async function measureTarget(target: Target, concurrency: number, timing: Timing): Promise<PointResult> {
  const dispatcher: Pool = pool(target.origin, concurrency);
  let cpuStart: number | null = null;
  let cpuEnd: number | null = null;
  try {
    const result = await closedLoop(
      async () => {
        const text = await postJson(dispatcher, target.path, target.body, target.headers);
        target.validate?.(text);
      },
      {
        concurrency,
        warmupMs: timing.warmupMs,
        measureMs: timing.measureMs,
        onMeasureStart: () => {
          if (target.pid !== undefined) cpuStart = cpuMs(target.pid);
        },
        onMeasureEnd: () => {
          if (target.pid !== undefined) cpuEnd = cpuMs(target.pid);
        },
      },
    );
    const cpu = cpuStart !== null && cpuEnd !== null && result.requests > 0 ? round((cpuEnd - cpuStart) / result.requests) : null;
    return { target: target.name, ...result, cpuMsPerRequest: cpu };
  } finally {
    await dispatcher.close();
  }
}

/** Runs every target at every concurrency (targets interleaved within a concurrency, so drift hits all alike). */
export async function measureAll(targets: readonly Target[], timing: Timing): Promise<PointResult[]> {
  const points: PointResult[] = [];
  for (const concurrency of timing.concurrencies) {
    for (const target of targets) {
      const point = await measureTarget(target, concurrency, timing);
      points.push(point);
      if (point.errors > 0) console.log(`  ${target.name} c=${concurrency}: ${point.errors} errors, first: ${point.firstError ?? ''}`);
    }
  }
  return points;
}

export function find(points: readonly PointResult[], target: string, concurrency: number): PointResult | undefined {
  return points.find((point) => point.target === target && point.concurrency === concurrency);
}

/** Prints the points with overhead against `direct` and the throughput ratio. */
export function printPoints(points: readonly PointResult[], baseline = 'direct'): void {
  printTable(
    ['target', 'c', 'req/s', 'p50 ms', 'p99 ms', '+p50 vs direct', '+p99 vs direct', 'req/s ÷ direct', 'server CPU ms/req', 'errors'],
    points.map((point) => {
      const base = find(points, baseline, point.concurrency);
      const isBase = point.target === baseline;
      return [
        point.target,
        String(point.concurrency),
        fmt(point.rps, 0),
        fmt(point.p50Ms, 3),
        fmt(point.p99Ms, 3),
        isBase || !base ? '-' : fmt(point.p50Ms - base.p50Ms, 3),
        isBase || !base ? '-' : fmt(point.p99Ms - base.p99Ms, 3),
        isBase || !base ? '-' : fmt(point.rps / base.rps, 2),
        fmt(point.cpuMsPerRequest, 3),
        String(point.errors),
      ];
    }),
  );
}

export function overheadP50(points: readonly PointResult[], target: string, concurrency: number): number | null {
  const point = find(points, target, concurrency);
  const base = find(points, 'direct', concurrency);
  return point && base && point.requests > 0 && base.requests > 0 ? round(point.p50Ms - base.p50Ms) : null;
}

export function throughputRatio(points: readonly PointResult[], target: string, versus: string, concurrency: number): number | null {
  const point = find(points, target, concurrency);
  const base = find(points, versus, concurrency);
  return point && base && base.rps > 0 && point.requests > 0 ? round(point.rps / base.rps) : null;
}
