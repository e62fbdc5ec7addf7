/**
 * Scenario 5, a peer side by side: the Portkey AI gateway (npm @portkey-ai/gateway, installed on demand into the
 * git-ignored bench/.peer/, never a project dependency) in its own process on loopback, in front of the same fake
 * OpenAI upstream, under the same closed-loop load as scenario 1, in the same run as direct, REST and GraphQL.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timing } from './lib/load.js';
import { directTarget, expectReply, find, graphqlTarget, measureAll, overheadP50, printPoints, restTarget, throughputRatio, USER_MESSAGE, type Target } from './lib/nonstreaming.js';
import { conditions, cpuLayout, freePort, launch, pinSelf, ROOT, startGatewayProcess, startUpstreamProcess, waitHealthy, type Child, type Upstream } from './lib/processes.js';
import { check, fmt, printTable, printTargets, round } from './lib/stats.js';

export const name = 'peer';

const PEER_PACKAGE = '@portkey-ai/gateway';
const PEER_VERSION = '1.15.2';
const PEER_DIR = join(ROOT, 'bench', '.peer');
const PEER_ENTRY = join(PEER_DIR, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

/** Installs the peer into bench/.peer/ when it is not there yet; returns its version or throws why not. */
export function ensurePeer(): string {
  if (!existsSync(PEER_ENTRY)) {
    console.log(`installing ${PEER_PACKAGE}@${PEER_VERSION} into bench/.peer/ …`);
    const result = spawnSync('npm', ['install', '--prefix', PEER_DIR, `${PEER_PACKAGE}@${PEER_VERSION}`, '--no-audit', '--no-fund', '--no-save'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (result.status !== 0 || !existsSync(PEER_ENTRY)) {
      throw new Error(`npm install of ${PEER_PACKAGE}@${PEER_VERSION} failed (status ${String(result.status)}): ${(result.stderr || result.error?.message || '').slice(-1500)}`);
    }
  }
  const manifest = JSON.parse(readFileSync(join(PEER_DIR, 'node_modules', '@portkey-ai', 'gateway', 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

export interface Peer extends Child {
  url: string;
}

/** Starts the peer with its Node start script (`--port=`, `--headless`), bound to 127.0.0.1 by a preload. */
export async function startPeer(): Promise<Peer> {
  const port = await freePort();
  const args = ['--require', join(ROOT, 'bench', 'lib', 'loopback-only.cjs'), PEER_ENTRY, `--port=${port}`, '--headless'];
  const child = launch(process.execPath, args, { PATH: process.env['PATH'], HOME: process.env['HOME'], NODE_ENV: 'production' }, cpuLayout().server, {
    cwd: PEER_DIR,
    stdout: 'ignore',
  });
  const peer: Peer = { ...child, url: `http://127.0.0.1:${port}` };
  try {
    await waitHealthy(`${peer.url}/`, peer);
  } catch (error) {
    await peer.stop();
    throw error;
  }
  return peer;
}

export function peerTarget(peer: Peer, upstream: Upstream): Target {
  return {
    name: 'portkey',
    pid: peer.pid,
    origin: peer.url,
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${upstream.key}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.url },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: USER_MESSAGE }] }),
    validate: expectReply,
  };
}

export async function run(options: { quick?: boolean } = {}): Promise<Record<string, unknown>> {
  pinSelf();
  const plan = timing(options.quick);
  let peerVersion: string | null = null;
  let peerProblem: string | null = null;
  try {
    peerVersion = ensurePeer();
  } catch (error) {
    peerProblem = error instanceof Error ? error.message : String(error);
  }
  const upstream = await startUpstreamProcess();
  let peer: Peer | null = null;
  const gateway = await startGatewayProcess({ upstream }).catch(async (error: unknown) => {
    await upstream.stop();
    throw error;
  });
  try {
    if (peerProblem === null) {
      try {
        peer = await startPeer();
      } catch (error) {
        peerProblem = `the peer did not start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (peerProblem !== null) console.log(`PEER UNAVAILABLE: ${peerProblem}; measuring our side only`);
    else console.log(`peer: ${PEER_PACKAGE} ${peerVersion ?? ''} (pid ${peer?.pid ?? '?'}) at ${peer?.url ?? ''}`);

    const targets: Target[] = [directTarget(upstream), restTarget(gateway.url, gateway.pid, gateway.headers), graphqlTarget(gateway.url, gateway.pid, gateway.headers)];
    if (peer !== null) targets.push(peerTarget(peer, upstream));
    console.log(`peer comparison: ${plan.warmupMs} ms warm-up + ${plan.measureMs} ms measured per point`);
    const points = await measureAll(targets, plan);
    printPoints(points);

    const ratios = plan.concurrencies.map((concurrency) => {
      const restOverhead = overheadP50(points, 'rest', concurrency);
      const graphqlOverhead = overheadP50(points, 'graphql', concurrency);
      const peerOverhead = overheadP50(points, 'portkey', concurrency);
      return {
        concurrency,
        peerOverheadP50Ms: peerOverhead,
        restOverheadRatio: restOverhead !== null && peerOverhead !== null && peerOverhead > 0 ? round(restOverhead / peerOverhead) : null,
        graphqlOverheadRatio: graphqlOverhead !== null && peerOverhead !== null && peerOverhead > 0 ? round(graphqlOverhead / peerOverhead) : null,
        restThroughputRatio: throughputRatio(points, 'rest', 'portkey', concurrency),
        graphqlThroughputRatio: throughputRatio(points, 'graphql', 'portkey', concurrency),
        peerCpuMsPerRequest: find(points, 'portkey', concurrency)?.cpuMsPerRequest ?? null,
      };
    });
    if (peer !== null) {
      console.log('\nOurs relative to the peer (overhead ratio < 1 and throughput ratio > 1 are better):');
      printTable(
        ['c', 'peer +p50 ms', 'REST overhead ÷ peer', 'GraphQL overhead ÷ peer', 'REST req/s ÷ peer', 'GraphQL req/s ÷ peer'],
        ratios.map((ratio) => [
          String(ratio.concurrency),
          fmt(ratio.peerOverheadP50Ms, 3),
          fmt(ratio.restOverheadRatio, 2),
          fmt(ratio.graphqlOverheadRatio, 2),
          fmt(ratio.restThroughputRatio, 2),
          fmt(ratio.graphqlThroughputRatio, 2),
        ]),
      );
    }
    const checks = [
      check('REST throughput ÷ peer at c=50', throughputRatio(points, 'rest', 'portkey', 50), '>=', 2, '×'),
      check('REST throughput ÷ direct at c=50', throughputRatio(points, 'rest', 'direct', 50), '>=', 0.5, '×'),
    ];
    printTargets(checks);
    return {
      conditions: { ...conditions(), ...plan, quick: options.quick === true },
      peer: peer !== null ? { package: PEER_PACKAGE, version: peerVersion, headers: ['x-portkey-provider: openai', 'x-portkey-custom-host: <fake url>'] } : null,
      peerProblem,
      points,
      ratios,
      targets: checks,
    };
  } finally {
    await peer?.stop();
    await gateway.stop();
    await upstream.stop();
  }
}
