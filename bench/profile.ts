/**
 * Not a scenario of its own in the figures: profiles the gateway (`node --cpu-prof`) under REST and then GraphQL load
 * at c=10 against the zero-latency fake, and prints the hot spots. `run()` returns them like any scenario.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphqlTarget, measureTarget, restTarget } from './lib/nonstreaming.js';
import { pinSelf, startGatewayProcess, startUpstreamProcess } from './lib/processes.js';
import { hotSpots, layers, newestProfile, printHotSpots, printLayers } from './lib/profile.js';

export const name = 'profile';

export async function run(options: { quick?: boolean } = {}): Promise<Record<string, unknown>> {
  pinSelf();
  const plan = options.quick ? { warmupMs: 300, measureMs: 1500, concurrencies: [10] } : { warmupMs: 1000, measureMs: 4000, concurrencies: [10] };
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-cpuprof-'));
  const results: Record<string, unknown> = {};
  try {
    for (const api of ['rest', 'graphql'] as const) {
      const upstream = await startUpstreamProcess();
      const gateway = await startGatewayProcess({ upstream, cpuProfDir: join(directory, api) });
      try {
        const target = api === 'rest' ? restTarget(gateway.url, gateway.pid, gateway.headers) : graphqlTarget(gateway.url, gateway.pid, gateway.headers);
        const point = await measureTarget(target, 10, plan);
        console.log(`\n### ${api} at c=10: ${point.rps} req/s, p50 ${point.p50Ms} ms, ${point.cpuMsPerRequest ?? '-'} ms CPU/request`);
      } finally {
        // SIGTERM lets the gateway exit through process.exit, which writes the profile.
        await gateway.stop();
        await upstream.stop();
      }
      const file = newestProfile(join(directory, api));
      if (file === null) {
        console.log(`no profile was written for ${api}`);
        continue;
      }
      // Only the load (plus the short shutdown), not the start-up's module loading.
      const spots = hotSpots(file, 20, plan.warmupMs + plan.measureMs + 300);
      printHotSpots(spots);
      const byLayer = layers(file, plan.warmupMs + plan.measureMs + 300);
      printLayers(byLayer);
      results[api] = { ...spots, layers: byLayer };
    }
  } finally {
    if (process.env['KEEP_CPUPROF'] === undefined) rmSync(directory, { recursive: true, force: true });
    else console.log(`profiles kept in ${directory}`);
  }
  return results;
}
