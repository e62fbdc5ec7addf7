/**
 * Hedging against a slow endpoint: one model served by two providers, the first in route order with 300 ms to its
 * first byte and the second with 20 ms. The same requests run without hedging (every one waits on the slow
 * endpoint) and with a 50 ms hedge (the second endpoint starts after 50 ms and wins), and the latencies seen by
 * the client are compared. 100 requests in all, 10 at a time, against in-process fakes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startDelayedUpstream } from '../test/fakes/delay.js';
import { FAKE_OPENAI_KEY } from '../test/fakes/openai.js';
import { startFakeOpenAICompatible } from '../test/fakes/openai-compatible.js';

export const name = 'hedging';

const MODEL = 'meta-llama/llama-3.3-70b-instruct';
const SLOW_MS = 300;
const FAST_MS = 20;
const HEDGE_DELAY_MS = 50;
const REQUESTS_PER_RUN = 50;
const CONCURRENCY = 10;

interface Figures {
  requests: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  servedBy: Record<string, number>;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

export async function run(): Promise<Record<string, unknown>> {
  const groqFake = await startFakeOpenAICompatible('groq');
  const togetherFake = await startFakeOpenAICompatible('together');
  const groq = await startDelayedUpstream(groqFake, SLOW_MS);
  const together = await startDelayedUpstream(togetherFake, FAST_MS);
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(directory, 'bench.db')}`,
    GROQ_API_KEY: FAKE_OPENAI_KEY,
    GROQ_BASE_URL: groq.url,
    TOGETHER_API_KEY: FAKE_OPENAI_KEY,
    TOGETHER_BASE_URL: together.url,
    // Route order alone, so only hedging decides which endpoint serves (the latency strategy would learn instead).
    SWITCHBOARD_ROUTING_STRATEGY: 'ordered',
  });
  const app = buildApp(config, { logger: pino({ level: 'silent' }) });
  const { url } = await app.start();

  const request = async (hedge: boolean): Promise<{ ms: number; provider: string }> => {
    const started = performance.now();
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'How long does this take?' }],
        ...(hedge ? { provider: { hedge: { delay_ms: HEDGE_DELAY_MS } } } : {}),
      }),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`request failed with ${response.status}`);
    return { ms: performance.now() - started, provider: response.headers.get('x-switchboard-provider') ?? 'unknown' };
  };

  const measure = async (hedge: boolean): Promise<Figures> => {
    const results: Array<{ ms: number; provider: string }> = [];
    for (let sent = 0; sent < REQUESTS_PER_RUN; sent += CONCURRENCY) {
      results.push(...(await Promise.all(Array.from({ length: Math.min(CONCURRENCY, REQUESTS_PER_RUN - sent) }, () => request(hedge)))));
    }
    const sorted = results.map((result) => result.ms).sort((a, b) => a - b);
    const servedBy: Record<string, number> = {};
    for (const result of results) servedBy[result.provider] = (servedBy[result.provider] ?? 0) + 1;
    return {
      requests: results.length,
      p50Ms: Math.round(percentile(sorted, 0.5)),
      p95Ms: Math.round(percentile(sorted, 0.95)),
      meanMs: Math.round(sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length),
      servedBy,
    };
  };

  try {
    // One warm-up request, so connection set-up and the tokenizer do not land in the first figures.
    await request(false);
    const withoutHedging = await measure(false);
    const withHedging = await measure(true);
    // Aborted losers close their upstream connections a moment after the winner answered.
    for (let waited = 0; groq.activeResponses() > 0 && waited < 1000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const figures = {
      slowEndpointMs: SLOW_MS,
      fastEndpointMs: FAST_MS,
      hedgeDelayMs: HEDGE_DELAY_MS,
      withoutHedging,
      withHedging,
      p50Speedup: Number((withoutHedging.p50Ms / withHedging.p50Ms).toFixed(2)),
      p95Speedup: Number((withoutHedging.p95Ms / withHedging.p95Ms).toFixed(2)),
      // Each hedged request also called the slow endpoint; those calls were aborted, so none should stay open.
      slowUpstreamConnectionsLeftOpen: groq.activeResponses(),
    };
    console.log(`slow endpoint ${SLOW_MS} ms, fast endpoint ${FAST_MS} ms, hedge after ${HEDGE_DELAY_MS} ms; ${REQUESTS_PER_RUN} requests each, ${CONCURRENCY} at a time`);
    console.log(`  without hedging: p50 ${withoutHedging.p50Ms} ms, p95 ${withoutHedging.p95Ms} ms, mean ${withoutHedging.meanMs} ms, served by ${JSON.stringify(withoutHedging.servedBy)}`);
    console.log(`  with hedging:    p50 ${withHedging.p50Ms} ms, p95 ${withHedging.p95Ms} ms, mean ${withHedging.meanMs} ms, served by ${JSON.stringify(withHedging.servedBy)}`);
    console.log(`  p50 ${figures.p50Speedup}× faster, p95 ${figures.p95Speedup}× faster`);
    return figures;
  } finally {
    await app.stop();
    await Promise.all([groq.close(), together.close(), groqFake.close(), togetherFake.close()]);
    rmSync(directory, { recursive: true, force: true });
  }
}
