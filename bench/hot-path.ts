/**
 * Issue 15, the hot path side by side: the same chat completion through the two reference servers
 * (bench/references/proxy.mjs, copied unchanged from ../shared/bench-references/: a bare node:http + undici proxy
 * and a plain graphql-yoga mutation), the Portkey peer (when it installs), and the gateway as users run it
 * (built dist/, auth on, a key with limits and a budget, default logging), each alone on the server core in turn,
 * against one zero-latency fake upstream. Every figure is the median of the rounds; CPU per request is the server
 * process's own CPU time (/proc/<pid>/stat) over the measured window divided by the requests answered in it.
 */
import { join } from 'node:path';
import { timing, type Timing } from './lib/load.js';
import { directTarget, expectReply, graphqlTarget, measureTarget, restTarget, USER_MESSAGE, type PointResult, type Target } from './lib/nonstreaming.js';
import { conditions, cpuLayout, freePort, launch, pinSelf, ROOT, startGatewayProcess, startUpstreamProcess, readRssKb, type Child, type Upstream } from './lib/processes.js';
import { check, fmt, median, printTable, printTargets, round, type TargetCheck } from './lib/stats.js';
import { ensurePeer, peerTarget, startPeer } from './peer.js';

export const name = 'hot-path';

const REFERENCE = join(ROOT, 'bench', 'references', 'proxy.mjs');
const YOGA_QUERY = 'mutation($i: In!) { createCompletion(input: $i) { message { content } usage { totalTokens } } }';

interface System {
  /** Target names this system serves, e.g. `rest-ref`, or `rest` and `graphql` for the gateway. */
  start(upstream: Upstream): Promise<{ child: Child; targets: Target[] }>;
  label: string;
}

async function startReference(mode: 'rest' | 'yoga', upstream: Upstream): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = launch(process.execPath, [REFERENCE, mode, String(port), new URL(upstream.url).origin], { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'production' }, cpuLayout().server);
  // The reference prints `listening` once up; a probe request would crash the REST one (it parses every body).
  await waitForLine(child, 'listening');
  return { child, url: `http://127.0.0.1:${port}` };
}

function waitForLine(child: Child, line: string): Promise<void> {
  return new Promise((resolveLine, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`reference did not print '${line}' in time: ${child.stderr().slice(0, 2000)}`)), 30_000);
    child.process.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      if (buffer.includes(line)) {
        clearTimeout(timer);
        resolveLine();
      }
    });
    child.process.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`reference exited (${String(code)}): ${child.stderr().slice(0, 2000)}`));
    });
  });
}

function restReferenceTarget(url: string, pid: number): Target {
  return {
    name: 'rest-ref',
    pid,
    origin: url,
    path: '/v1/chat/completions',
    headers: {},
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: USER_MESSAGE }] }),
    validate: expectReply,
  };
}

function yogaReferenceTarget(url: string, pid: number): Target {
  return {
    name: 'yoga-ref',
    pid,
    origin: url,
    path: '/graphql',
    headers: { accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query: YOGA_QUERY, variables: { i: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: USER_MESSAGE }] } } }),
    validate: (text) => {
      if (text.includes('"errors"')) throw new Error(`GraphQL errors: ${text.slice(0, 300)}`);
      expectReply(text);
    },
  };
}

interface RoundPoint extends PointResult {
  round: number;
  /** Peak VmRSS of the server during this point's measured window (MB). */
  rssPeakMb: number | null;
}

/** Measures one target at one concurrency while sampling the server's RSS. */
async function measureWithRss(target: Target, concurrency: number, plan: Timing, round: number): Promise<RoundPoint> {
  const samples: number[] = [];
  const sampler = target.pid === undefined ? undefined : setInterval(() => {
    const kb = readRssKb(target.pid as number);
    if (kb !== null) samples.push(kb);
  }, 200);
  try {
    const point = await measureTarget(target, concurrency, plan);
    if (point.errors > 0) console.log(`  ${target.name} c=${concurrency}: ${point.errors} errors, first: ${point.firstError ?? ''}`);
    return { ...point, round, rssPeakMb: samples.length > 0 ? round1(Math.max(...samples) / 1024) : null };
  } finally {
    if (sampler) clearInterval(sampler);
  }
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export interface MedianPoint {
  target: string;
  concurrency: number;
  rounds: number;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuMsPerRequest: number | null;
  rssPeakMb: number | null;
  errors: number;
}

function medianOf(values: Array<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
  return present.length > 0 ? round(median(present)) : null;
}

function medians(points: readonly RoundPoint[]): MedianPoint[] {
  const keys = new Map<string, RoundPoint[]>();
  for (const point of points) {
    const key = `${point.target}@${point.concurrency}`;
    keys.set(key, [...(keys.get(key) ?? []), point]);
  }
  return [...keys.values()].map((group) => {
    const first = group[0] as RoundPoint;
    const ok = group.filter((point) => point.requests > 0);
    return {
      target: first.target,
      concurrency: first.concurrency,
      rounds: ok.length,
      rps: medianOf(ok.map((point) => point.rps)),
      p50Ms: medianOf(ok.map((point) => point.p50Ms)),
      p99Ms: medianOf(ok.map((point) => point.p99Ms)),
      cpuMsPerRequest: medianOf(ok.map((point) => point.cpuMsPerRequest)),
      rssPeakMb: medianOf(ok.map((point) => point.rssPeakMb)),
      errors: group.reduce((total, point) => total + point.errors, 0),
    };
  });
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a === null || a === undefined || b === null || b === undefined || b <= 0 ? null : round(a / b);
}

export async function run(options: { quick?: boolean; rounds?: number } = {}): Promise<Record<string, unknown>> {
  pinSelf();
  const plan = timing(options.quick);
  const rounds = options.rounds ?? 3;
  let peerProblem: string | null = null;
  let peerVersion: string | null = null;
  try {
    peerVersion = ensurePeer();
  } catch (error) {
    peerProblem = error instanceof Error ? error.message : String(error);
    console.log(`PEER UNAVAILABLE: ${peerProblem.slice(0, 300)}`);
  }
  const idleRss: number[] = [];
  const startedRss: number[] = [];
  const idleMs = options.quick ? 3000 : 30_000;
  const systems: System[] = [
    {
      label: 'bare node:http + undici proxy (reference)',
      async start(upstream) {
        const { child, url } = await startReference('rest', upstream);
        return { child, targets: [restReferenceTarget(url, child.pid)] };
      },
    },
    {
      label: 'plain graphql-yoga mutation (reference)',
      async start(upstream) {
        const { child, url } = await startReference('yoga', upstream);
        return { child, targets: [yogaReferenceTarget(url, child.pid)] };
      },
    },
    ...(peerProblem === null
      ? [
          {
            label: `Portkey ${peerVersion ?? ''}`,
            async start(upstream: Upstream) {
              const peer = await startPeer();
              return { child: peer, targets: [peerTarget(peer, upstream)] };
            },
          },
        ]
      : []),
    {
      label: 'Switchboard (dist/, auth on, default logging)',
      async start(upstream) {
        const gateway = await startGatewayProcess({ upstream });
        // Idle: started and left alone. V8 gives back the young generation it grew while loading only once its
        // memory reducer sees the process idle (after ~20 s), so the idle figure is read after IDLE_MS; the RSS
        // a second after start-up is reported beside it.
        await new Promise((resolveWait) => setTimeout(resolveWait, 1000));
        const startedKb = gateway.rssKb();
        if (startedKb !== null) startedRss.push(startedKb / 1024);
        await new Promise((resolveWait) => setTimeout(resolveWait, idleMs - 1000));
        const kb = gateway.rssKb();
        if (kb !== null) idleRss.push(kb / 1024);
        return { child: gateway, targets: [restTarget(gateway.url, gateway.pid, gateway.headers), graphqlTarget(gateway.url, gateway.pid, gateway.headers)] };
      },
    },
  ];

  const upstream = await startUpstreamProcess();
  const points: RoundPoint[] = [];
  try {
    console.log(`hot path: ${rounds} round(s); ${plan.warmupMs} ms warm-up + ${plan.measureMs} ms measured per point; each server alone on CPU ${cpuLayout().server ?? '(unpinned)'}`);
    for (let roundIndex = 1; roundIndex <= rounds; roundIndex++) {
      console.log(`round ${roundIndex}/${rounds}`);
      for (const concurrency of plan.concurrencies) points.push(await measureWithRss(directTarget(upstream), concurrency, plan, roundIndex));
      for (const system of systems) {
        let started: { child: Child; targets: Target[] } | undefined;
        try {
          started = await system.start(upstream);
          for (const concurrency of plan.concurrencies) {
            for (const target of started.targets) points.push(await measureWithRss(target, concurrency, plan, roundIndex));
          }
        } catch (error) {
          console.log(`  ${system.label}: ${error instanceof Error ? error.message.slice(0, 500) : String(error)}`);
        } finally {
          await started?.child.stop();
        }
      }
    }
  } finally {
    await upstream.stop();
  }

  const table = medians(points);
  const at = (target: string, concurrency: number): MedianPoint | undefined => table.find((point) => point.target === target && point.concurrency === concurrency);
  const added = (target: string): number | null => {
    const point = at(target, 1);
    const direct = at('direct', 1);
    return point?.p50Ms != null && direct?.p50Ms != null ? round(point.p50Ms - direct.p50Ms) : null;
  };
  const rssAt50 = (...targets: string[]): number | null => {
    const values = targets.map((target) => at(target, 50)?.rssPeakMb ?? null).filter((value): value is number => value !== null);
    return values.length > 0 ? Math.max(...values) : null;
  };
  const labels: Record<string, string> = {
    direct: 'direct to the fake upstream',
    'rest-ref': 'bare node:http + undici proxy',
    'yoga-ref': 'plain graphql-yoga mutation',
    portkey: `Portkey ${peerVersion ?? ''}`.trim(),
    rest: 'Switchboard REST facade',
    graphql: 'Switchboard GraphQL mutation',
  };
  const summary = ['direct', 'rest-ref', 'yoga-ref', 'portkey', 'rest', 'graphql']
    .filter((target) => at(target, 1) !== undefined)
    .map((target) => ({
      target,
      label: labels[target] ?? target,
      rpsC50: at(target, 50)?.rps ?? null,
      cpuMsPerRequestC10: at(target, 10)?.cpuMsPerRequest ?? null,
      addedP50C1: target === 'direct' ? null : added(target),
      rssC50Mb: target === 'direct' ? null : target === 'rest' || target === 'graphql' ? rssAt50('rest', 'graphql') : rssAt50(target),
    }));
  console.log(`\nMedians of ${rounds} round(s):`);
  printTable(
    ['system', 'req/s c=50', 'CPU ms/req c=10', 'added p50 c=1', 'RSS at c=50 (MB)'],
    summary.map((row) => [row.label, fmt(row.rpsC50, 0), fmt(row.cpuMsPerRequestC10, 3), row.addedP50C1 === null ? '-' : `+${fmt(row.addedP50C1, 3)} ms`, fmt(row.rssC50Mb, 0)]),
  );
  console.log('\nEvery point (medians):');
  printTable(
    ['target', 'c', 'rounds', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'RSS peak MB', 'errors'],
    table.map((point) => [point.target, String(point.concurrency), String(point.rounds), fmt(point.rps, 0), fmt(point.p50Ms, 3), fmt(point.p99Ms, 3), fmt(point.cpuMsPerRequest, 3), fmt(point.rssPeakMb, 0), String(point.errors)]),
  );

  const idleRssMb = idleRss.length > 0 ? round(median(idleRss), 1) : null;
  const startedRssMb = startedRss.length > 0 ? round(median(startedRss), 1) : null;
  console.log(`\ngateway RSS: ${fmt(startedRssMb, 1)} MB one second after start-up, ${fmt(idleRssMb, 1)} MB after ${idleMs / 1000} s idle`);
  const gatewayRss50 = rssAt50('rest', 'graphql');
  const targets: TargetCheck[] = [
    check('REST CPU per request c=10 ÷ bare proxy', ratio(at('rest', 10)?.cpuMsPerRequest, at('rest-ref', 10)?.cpuMsPerRequest), '<=', 2, '×'),
    check('REST throughput c=50 ÷ bare proxy', ratio(at('rest', 50)?.rps, at('rest-ref', 50)?.rps), '>=', 0.6, '×'),
    check('REST added p50 c=1 ÷ bare proxy', ratio(added('rest'), added('rest-ref')), '<=', 2, '×'),
    check('GraphQL throughput c=50 ÷ plain Yoga', ratio(at('graphql', 50)?.rps, at('yoga-ref', 50)?.rps), '>=', 1, '×'),
    check('GraphQL CPU per request c=10 ÷ plain Yoga', ratio(at('graphql', 10)?.cpuMsPerRequest, at('yoga-ref', 10)?.cpuMsPerRequest), '<=', 1, '×'),
    check(`idle RSS (${idleMs / 1000} s after start-up, no traffic)`, idleRssMb, '<=', 120, 'MB'),
    check('RSS at c=50 ÷ plain Yoga', ratio(gatewayRss50, rssAt50('yoga-ref')), '<=', 1, '×'),
  ];
  printTargets(targets);
  return {
    conditions: { ...conditions(), ...plan, rounds, quick: options.quick === true, references: 'bench/references/proxy.mjs (unchanged copy of ../shared/bench-references/)' },
    peer: peerProblem === null ? { version: peerVersion } : null,
    peerProblem,
    summary,
    idleRssMb,
    startedRssMb,
    idleMs,
    medians: table,
    points,
    targets,
  };
}
