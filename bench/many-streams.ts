/**
 * Scenario 3, many streams: 1,000 concurrent slow streams over graphql-ws (one socket each) from the built-in
 * `local/echo` model with SWITCHBOARD_LOCAL_DELAY_MS=50 and a ~20-word message. Reports the gateway's resident memory
 * (VmRSS from /proc), the client-visible gap between events (a proxy for the gateway's event-loop delay: the model
 * emits a word every 50 ms, so anything above 50 ms is delay) and whether every stream got its CompletionDone.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';
import { conditions, cpuMs, pinSelf, startGatewayProcess } from './lib/processes.js';
import { check, fmt, median, printTable, printTargets, round, summarize } from './lib/stats.js';
import { connected, graphqlWsStream, words, wsClient, type StreamTiming } from './lib/streams.js';

export const name = 'many-streams';

const DELAY_MS = 50;
const WORDS = 20;

export async function run(options: { quick?: boolean; streams?: number; rounds?: number } = {}): Promise<Record<string, unknown>> {
  const rounds = options.rounds ?? 3;
  pinSelf();
  const count = options.streams ?? (options.quick ? 200 : 1000);
  // All 1,000 sockets come from one key, above the default per-key connection cap; pinned to one core, the
  // default in-flight bound is 256 (per core), below the 1,000 streams this scenario holds open.
  const gateway = await startGatewayProcess({ env: { SWITCHBOARD_LOCAL_DELAY_MS: String(DELAY_MS), SWITCHBOARD_WS_MAX_CONNECTIONS_PER_KEY: '2000', SWITCHBOARD_MAX_INFLIGHT: '4000' } });
  const clients: Client[] = [];
  const rssSamples: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const idleRssKb = gateway.rssKb();
    const variables = { input: { model: 'local/echo', messages: [{ role: 'USER', content: words(WORDS) }] } };
    // Warm the schema and the local provider with a handful of streams first.
    const warm = wsClient(gateway.wsUrl, gateway.authorization);
    await Promise.all(Array.from({ length: 5 }, () => graphqlWsStream(warm, variables)));
    await warm.dispose();
    const warmRssKb = gateway.rssKb();

    // Open every socket first (in batches, as a crowd of clients would), so stream timings exclude the handshakes.
    const connectStarted = performance.now();
    for (let index = 0; index < count; index += 100) {
      const batch = Array.from({ length: Math.min(100, count - index) }, () => wsClient(gateway.wsUrl, gateway.authorization));
      clients.push(...batch);
      await Promise.all(batch.map((client) => connected(client)));
    }
    const connectMs = performance.now() - connectStarted;
    const connectedRssKb = gateway.rssKb();
    console.log(`many-streams: ${count} concurrent graphql-ws streams (one socket each), local/echo, ${WORDS} words, ${DELAY_MS} ms between words, ${rounds} round(s)`);
    // Each round streams on every socket at once; the figures below are the medians of the rounds' figures.
    const perRound: Array<{ excessP99: number; excessP50: number; ttftP50: number; peakMb: number | null; cpuUsPerEvent: number | null; dropped: number }> = [];
    let timings: StreamTiming[] = [];
    const failures: string[] = [];
    let elapsedMs = 0;
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      rssSamples.length = 0;
      sampler = setInterval(() => {
        const rss = gateway.rssKb();
        if (rss !== null) rssSamples.push(rss);
      }, 50);
      const cpuBefore = cpuMs(gateway.pid);
      const started = performance.now();
      const settled = await Promise.allSettled(clients.map((client) => graphqlWsStream(client, variables)));
      elapsedMs = performance.now() - started;
      const cpuAfter = cpuMs(gateway.pid);
      clearInterval(sampler);
      sampler = undefined;
      timings = [];
      for (const outcome of settled) {
        if (outcome.status === 'fulfilled') timings.push(outcome.value);
        else failures.push(outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason));
      }
      const roundGaps = summarize(timings.flatMap((timing) => timing.gaps));
      const events = timings.reduce((total, timing) => total + timing.tokens, 0);
      perRound.push({
        excessP50: round(roundGaps.p50 - DELAY_MS),
        excessP99: round(roundGaps.p99 - DELAY_MS),
        ttftP50: round(summarize(timings.map((timing) => timing.ttftMs)).p50),
        peakMb: rssSamples.length > 0 ? round(Math.max(...rssSamples) / 1024, 1) : null,
        // The whole stream's work (subscribe, route, ledger row) spread over its text events: an upper bound per event.
        cpuUsPerEvent: cpuBefore !== null && cpuAfter !== null && events > 0 ? round(((cpuAfter - cpuBefore) * 1000) / events, 1) : null,
        dropped: count - timings.filter((timing) => timing.done).length,
      });
      console.log(`  round ${roundIndex + 1}: ${JSON.stringify(perRound[perRound.length - 1])}`);
    }
    const afterRssKb = gateway.rssKb();
    const mid = (values: Array<number | null>): number | null => {
      const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
      return present.length > 0 ? round(median(present)) : null;
    };

    const completed = timings.filter((timing) => timing.done).length;
    const gaps = summarize(timings.flatMap((timing) => timing.gaps));
    const ttft = summarize(timings.map((timing) => timing.ttftMs));
    const total = summarize(timings.map((timing) => timing.totalMs));
    const tokens = summarize(timings.map((timing) => timing.tokens));
    const peakMb = mid(perRound.map((figures) => figures.peakMb));
    const peakRssKb = peakMb === null ? null : peakMb * 1024;
    const mb = (kb: number | null): number | null => (kb === null ? null : round(kb / 1024, 1));

    printTable(
      ['streams', 'done', 'failed', 'wall s', 'TTFT p50', 'TTFT p99', 'total p50', 'total p99', 'gap p50', 'gap p99', 'gap max', 'tokens p50'],
      [
        [
          String(count),
          String(completed),
          String(failures.length),
          fmt(elapsedMs / 1000, 2),
          fmt(ttft.p50, 1),
          fmt(ttft.p99, 1),
          fmt(total.p50, 1),
          fmt(total.p99, 1),
          fmt(gaps.p50, 1),
          fmt(gaps.p99, 1),
          fmt(gaps.max, 1),
          fmt(tokens.p50, 0),
        ],
      ],
    );
    console.log(
      `gateway RSS: idle ${fmt(mb(idleRssKb), 1)} MB, warmed ${fmt(mb(warmRssKb), 1)} MB, ${count} sockets open ${fmt(mb(connectedRssKb), 1)} MB (connecting took ${fmt(connectMs, 0)} ms), peak during ${fmt(mb(peakRssKb), 1)} MB, after ${fmt(mb(afterRssKb), 1)} MB`,
    );
    console.log(`event gap excess over the ${DELAY_MS} ms word delay (≈ event-loop delay as a client sees it): p50 ${fmt(gaps.p50 - DELAY_MS, 1)} ms, p99 ${fmt(gaps.p99 - DELAY_MS, 1)} ms`);
    if (failures.length > 0) console.log(`first failure: ${failures[0] ?? ''}`);
    const targets = [
      check(`${count} streams: peak gateway RSS`, mb(peakRssKb), '<', 200, 'MB'),
      check(`${count} streams: none dropped (missing CompletionDone)`, Math.max(...perRound.map((figures) => figures.dropped)), '<=', 0, 'streams'),
      check(`${count} streams: event gap excess over the word delay p99`, mid(perRound.map((figures) => figures.excessP99)), '<', 20, 'ms'),
      check(`${count} streams: first token p50`, mid(perRound.map((figures) => figures.ttftP50)), '<', 20, 'ms'),
      { what: `${count} streams: gateway CPU per streamed event`, target: 'reported', value: mid(perRound.map((figures) => figures.cpuUsPerEvent)), unit: 'µs', met: null },
    ];
    printTargets(targets);
    return {
      conditions: { ...conditions(), streams: count, wordDelayMs: DELAY_MS, words: WORDS, socketsPerStream: 1, quick: options.quick === true },
      completed,
      failed: failures.length,
      firstFailure: failures[0] ?? null,
      wallSeconds: round(elapsedMs / 1000),
      connectMs: round(connectMs),
      rssMb: { idle: mb(idleRssKb), warmed: mb(warmRssKb), socketsOpen: mb(connectedRssKb), peak: mb(peakRssKb), after: mb(afterRssKb) },
      gapMs: { p50: round(gaps.p50), p99: round(gaps.p99), max: round(gaps.max), excessP50: round(gaps.p50 - DELAY_MS), excessP99: round(gaps.p99 - DELAY_MS) },
      ttftMs: { p50: round(ttft.p50), p99: round(ttft.p99) },
      totalMs: { p50: round(total.p50), p99: round(total.p99) },
      rounds: perRound,
      targets,
    };
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await Promise.all(clients.map((client) => client.dispose()));
    await gateway.stop();
  }
}
