/**
 * Scenario 1, overhead without streaming: the same chat completion sent directly to a zero-latency fake OpenAI
 * upstream, through the REST facade and through the GraphQL `createCompletion` mutation, at concurrency 1, 10 and 50.
 */
import { timing } from './lib/load.js';
import { directTarget, graphqlTarget, measureAll, overheadP50, printPoints, restTarget, throughputRatio } from './lib/nonstreaming.js';
import { conditions, pinSelf, startGatewayProcess, startUpstreamProcess } from './lib/processes.js';
import { check, printTargets } from './lib/stats.js';

export const name = 'overhead';

export async function run(options: { quick?: boolean; cpuProfDir?: string } = {}): Promise<Record<string, unknown>> {
  pinSelf();
  const plan = timing(options.quick);
  const upstream = await startUpstreamProcess();
  const gateway = await startGatewayProcess({ upstream, ...(options.cpuProfDir !== undefined ? { cpuProfDir: options.cpuProfDir } : {}) }).catch(async (error: unknown) => {
    await upstream.stop();
    throw error;
  });
  try {
    console.log(`overhead: ${plan.warmupMs} ms warm-up + ${plan.measureMs} ms measured per point; gateway pid ${gateway.pid}`);
    const points = await measureAll([directTarget(upstream), restTarget(gateway.url, gateway.pid, gateway.headers), graphqlTarget(gateway.url, gateway.pid, gateway.headers)], plan);
    printPoints(points);
    const targets = [
      check('REST overhead p50 at c=1', overheadP50(points, 'rest', 1), '<=', 0.5, 'ms'),
      check('GraphQL overhead p50 at c=1', overheadP50(points, 'graphql', 1), '<=', 1, 'ms'),
      check('REST throughput ÷ direct at c=50', throughputRatio(points, 'rest', 'direct', 50), '>=', 0.5, '×'),
    ];
    printTargets(targets);
    return { conditions: { ...conditions(), ...plan, quick: options.quick === true }, points, targets, gatewayRssKb: gateway.rssKb() };
  } finally {
    await gateway.stop();
    await upstream.stop();
  }
}
