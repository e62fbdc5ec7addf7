/**
 * Scenario 2, streaming: 50-token streams from the zero-latency fake OpenAI upstream (its default reply echoes the
 * user message, streamed a word at a time), timed to first token and to the end, direct versus the REST facade's
 * SSE, GraphQL over SSE and GraphQL over graphql-ws.
 */
import type { Client } from 'graphql-ws';
import { closedLoop, pool } from './lib/load.js';
import { conditions, cpuMs, pinSelf, startGatewayProcess, startUpstreamProcess } from './lib/processes.js';
import { check, fmt, median, printTable, printTargets, round, summarize } from './lib/stats.js';
import { graphqlSseStream, graphqlWsStream, openAIStream, words, wsClient, type StreamTiming } from './lib/streams.js';

export const name = 'streaming';

/** The fake answers "You said: <message>": 2 pieces plus one per word, so 48 words give a 50-token stream. */
const MESSAGE = words(48);

interface StreamPoint {
  target: string;
  concurrency: number;
  streams: number;
  errors: number;
  firstError: string | null;
  streamsPerSecond: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  totalP50Ms: number;
  totalP99Ms: number;
  tokensP50: number;
  incomplete: number;
  /** The gateway's CPU time over the measured window per text event it streamed (µs), when it is the target. */
  cpuUsPerEvent: number | null;
}

type OpenStream = (lane: number) => Promise<StreamTiming>;

async function measure(target: string, concurrency: number, open: OpenStream, plan: { warmupMs: number; measureMs: number }, pid: number | undefined): Promise<StreamPoint> {
  const timings: StreamTiming[] = [];
  let measuring = false;
  let cpuStart: number | null = null;
  let cpuEnd: number | null = null;
  const result = await closedLoop(
    async (lane) => {
      const timing = await open(lane);
      if (measuring) timings.push(timing);
    },
    {
      concurrency,
      warmupMs: plan.warmupMs,
      measureMs: plan.measureMs,
      onMeasureStart: () => {
        measuring = true;
        if (pid !== undefined) cpuStart = cpuMs(pid);
      },
      onMeasureEnd: () => {
        measuring = false;
        if (pid !== undefined) cpuEnd = cpuMs(pid);
      },
    },
  );
  const events = timings.reduce((total, timing) => total + timing.tokens, 0);
  const ttft = summarize(timings.map((timing) => timing.ttftMs));
  const total = summarize(timings.map((timing) => timing.totalMs));
  const tokens = summarize(timings.map((timing) => timing.tokens));
  return {
    target,
    concurrency,
    streams: timings.length,
    errors: result.errors,
    firstError: result.firstError,
    streamsPerSecond: result.rps,
    ttftP50Ms: round(ttft.p50),
    ttftP99Ms: round(ttft.p99),
    totalP50Ms: round(total.p50),
    totalP99Ms: round(total.p99),
    tokensP50: tokens.p50,
    incomplete: timings.filter((timing) => !timing.done).length,
    // Per text event, though the whole stream's work (request, routing, ledger row) is in it: an upper bound.
    cpuUsPerEvent: cpuStart !== null && cpuEnd !== null && events > 0 ? round(((cpuEnd - cpuStart) * 1000) / events, 1) : null,
  };
}

export async function run(options: { quick?: boolean; rounds?: number } = {}): Promise<Record<string, unknown>> {
  const rounds = options.rounds ?? 3;
  pinSelf();
  const plan = options.quick ? { warmupMs: 300, measureMs: 1200, concurrencies: [1, 10] } : { warmupMs: 1000, measureMs: 4000, concurrencies: [1, 10] };
  const upstream = await startUpstreamProcess();
  const gateway = await startGatewayProcess({ upstream }).catch(async (error: unknown) => {
    await upstream.stop();
    throw error;
  });
  const allPoints: StreamPoint[] = [];
  try {
    const upstreamUrl = new URL(upstream.url);
    const directBody = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: MESSAGE }] });
    const restBody = JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: MESSAGE }] });
    const variables = { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: MESSAGE }] } };
    console.log(`streaming: 50-token streams, ${rounds} round(s), ${plan.warmupMs} ms warm-up + ${plan.measureMs} ms measured per point`);
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++)
    for (const concurrency of plan.concurrencies) {
      const direct = pool(upstreamUrl.origin, concurrency);
      const viaGateway = pool(gateway.url, concurrency);
      const clients: Client[] = Array.from({ length: concurrency }, () => wsClient(gateway.wsUrl, gateway.authorization));
      try {
        const targets: Array<[string, OpenStream]> = [
          ['direct', () => openAIStream(direct, `${upstreamUrl.pathname}/chat/completions`, directBody, { authorization: `Bearer ${upstream.key}` })],
          ['rest-sse', () => openAIStream(viaGateway, '/v1/chat/completions', restBody, gateway.headers)],
          ['graphql-sse', () => graphqlSseStream(viaGateway, variables, gateway.headers)],
          ['graphql-ws', (lane) => graphqlWsStream(clients[lane] as Client, variables)],
        ];
        for (const [target, open] of targets) {
          const point = await measure(target, concurrency, open, plan, target === 'direct' ? undefined : gateway.pid);
          allPoints.push(point);
          if (point.errors > 0) console.log(`  ${target} c=${concurrency}: ${point.errors} errors, first: ${point.firstError ?? ''}`);
        }
      } finally {
        await Promise.all(clients.map((client) => client.dispose()));
        await direct.close();
        await viaGateway.close();
      }
    }
  } finally {
    await gateway.stop();
    await upstream.stop();
  }

  const points = medianPoints(allPoints);
  const base = (concurrency: number): StreamPoint | undefined => points.find((point) => point.target === 'direct' && point.concurrency === concurrency);
  printTable(
    ['target', 'c', 'streams/s', 'TTFT p50', 'TTFT p99', '+TTFT p50', 'total p50', 'total p99', '+total p50', 'tokens', 'CPU µs/event', 'errors', 'no end'],
    points.map((point) => {
      const direct = base(point.concurrency);
      const isBase = point.target === 'direct';
      return [
        point.target,
        String(point.concurrency),
        fmt(point.streamsPerSecond, 0),
        fmt(point.ttftP50Ms, 3),
        fmt(point.ttftP99Ms, 3),
        isBase || !direct ? '-' : fmt(point.ttftP50Ms - direct.ttftP50Ms, 3),
        fmt(point.totalP50Ms, 3),
        fmt(point.totalP99Ms, 3),
        isBase || !direct ? '-' : fmt(point.totalP50Ms - direct.totalP50Ms, 3),
        fmt(point.tokensP50, 0),
        fmt(point.cpuUsPerEvent, 1),
        String(point.errors),
        String(point.incomplete),
      ];
    }),
  );
  console.log('(times in ms; the fake writes all 50 chunks at once, so direct TTFT ≈ direct total)');
  const ttftOverhead = (target: string): number | null => {
    const point = points.find((candidate) => candidate.target === target && candidate.concurrency === 1);
    const direct = base(1);
    return point && direct && point.streams > 0 && direct.streams > 0 ? round(point.ttftP50Ms - direct.ttftP50Ms) : null;
  };
  const targets = [
    check('REST SSE TTFT overhead p50 at c=1', ttftOverhead('rest-sse'), '<=', 0.5, 'ms'),
    check('GraphQL SSE TTFT overhead p50 at c=1', ttftOverhead('graphql-sse'), '<=', 0.5, 'ms'),
    check('graphql-ws TTFT overhead p50 at c=1', ttftOverhead('graphql-ws'), '<=', 0.5, 'ms'),
  ];
  // Reported, no target: the gateway's CPU per streamed text event (the whole stream's cost spread over its events).
  for (const target of ['rest-sse', 'graphql-sse', 'graphql-ws']) {
    const point = points.find((candidate) => candidate.target === target && candidate.concurrency === Math.max(...plan.concurrencies));
    targets.push({ what: `${target} gateway CPU per streamed event at c=${point?.concurrency ?? '-'}`, target: 'reported', value: point?.cpuUsPerEvent ?? null, unit: 'µs', met: null });
  }
  printTargets(targets);
  return { conditions: { ...conditions(), ...plan, rounds, quick: options.quick === true, tokensPerStream: 50 }, points, rounds: allPoints, targets };
}

/** One point per target and concurrency: each figure the median of its rounds (errors summed). */
function medianPoints(all: readonly StreamPoint[]): StreamPoint[] {
  const groups = new Map<string, StreamPoint[]>();
  for (const point of all) groups.set(`${point.target}@${point.concurrency}`, [...(groups.get(`${point.target}@${point.concurrency}`) ?? []), point]);
  const mid = (values: Array<number | null>): number => {
    const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
    return present.length > 0 ? round(median(present)) : Number.NaN;
  };
  return [...groups.values()].map((group) => {
    const first = group[0] as StreamPoint;
    const cpu = mid(group.map((point) => point.cpuUsPerEvent));
    return {
      ...first,
      streams: group.reduce((total, point) => total + point.streams, 0),
      errors: group.reduce((total, point) => total + point.errors, 0),
      incomplete: group.reduce((total, point) => total + point.incomplete, 0),
      streamsPerSecond: mid(group.map((point) => point.streamsPerSecond)),
      ttftP50Ms: mid(group.map((point) => point.ttftP50Ms)),
      ttftP99Ms: mid(group.map((point) => point.ttftP99Ms)),
      totalP50Ms: mid(group.map((point) => point.totalP50Ms)),
      totalP99Ms: mid(group.map((point) => point.totalP99Ms)),
      tokensP50: mid(group.map((point) => point.tokensP50)),
      cpuUsPerEvent: Number.isFinite(cpu) ? cpu : null,
    };
  });
}
