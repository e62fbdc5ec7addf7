/**
 * A closed-loop load generator: `concurrency` lanes, each sending its next request as soon as the previous one
 * answered, for a warm-up and then a measured window (bounded by time and by a request count).
 */
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { round, summarize } from './stats.js';

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** Upper bound on measured requests, across lanes. */
  maxRequests?: number;
  /** Called when the measured window opens and when the run ends (e.g. to sample a server's CPU time). */
  onMeasureStart?: () => void;
  onMeasureEnd?: () => void;
}

export interface LoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  firstError: string | null;
  seconds: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
}

export type Fire = (lane: number) => Promise<void>;

export async function closedLoop(fire: Fire, options: LoadOptions): Promise<LoadResult> {
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const startedAt = performance.now();
  const measureFrom = startedAt + options.warmupMs;
  const stopAt = measureFrom + options.measureMs;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let measured = 0;
  let lastEnd = measureFrom;

  const lane = async (index: number): Promise<void> => {
    for (;;) {
      const begin = performance.now();
      if (begin >= stopAt || measured >= maxRequests) return;
      let ok = true;
      try {
        await fire(index);
      } catch (error) {
        ok = false;
        firstError ??= error instanceof Error ? error.message : String(error);
        // Do not spin on a failing target.
        await new Promise((resolveWait) => setTimeout(resolveWait, 10));
      }
      const end = performance.now();
      if (begin >= measureFrom && end <= stopAt + 1000) {
        measured++;
        lastEnd = Math.max(lastEnd, end);
        if (ok) latencies.push(end - begin);
        else errors++;
      }
    }
  };
  const startTimer = setTimeout(() => options.onMeasureStart?.(), Math.max(0, measureFrom - performance.now()));
  await Promise.all(Array.from({ length: options.concurrency }, (_unused, index) => lane(index)));
  clearTimeout(startTimer);
  options.onMeasureEnd?.();
  const seconds = Math.max(0.001, (Math.min(lastEnd, stopAt + 1000) - measureFrom) / 1000);
  const summary = summarize(latencies);
  return {
    concurrency: options.concurrency,
    requests: latencies.length,
    errors,
    firstError,
    seconds: round(seconds),
    rps: round(latencies.length / seconds, 1),
    p50Ms: round(summary.p50),
    p90Ms: round(summary.p90),
    p99Ms: round(summary.p99),
    meanMs: round(summary.mean),
  };
}

/** A keep-alive undici Pool with one connection per lane. */
export function pool(origin: string, connections: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

/** POSTs JSON and reads the whole body; throws on a non-2xx status. */
export async function postJson(dispatcher: Dispatcher, path: string, body: string, headers: Record<string, string>): Promise<string> {
  const response = await dispatcher.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await response.body.text();
  if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

export interface Timing {
  warmupMs: number;
  measureMs: number;
  concurrencies: number[];
}

export function timing(quick: boolean | undefined): Timing {
  return quick ? { warmupMs: 500, measureMs: 1500, concurrencies: [1, 10, 50] } : { warmupMs: 1500, measureMs: 4000, concurrencies: [1, 10, 50] };
}
