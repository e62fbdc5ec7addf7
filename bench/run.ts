/**
 * `npm run bench [--quick] [--rounds=N] [--no-build] [scenario…]`: runs each scenario (all of the default ones without
 * names) and prints its figures, then writes bench/RESULTS.md. A scenario is a module exporting `name` and
 * `run(options)`; add yours to the list. `--quick` is a smoke run of the benchmark itself (short windows, one round).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as hedging from './hedging.js';
import * as hotPath from './hot-path.js';
import * as ledger from './ledger.js';
import { ensureBuilt, ROOT } from './lib/processes.js';
import * as manyStreams from './many-streams.js';
import * as overhead from './overhead.js';
import * as peer from './peer.js';
import { writeResults } from './report.js';
import * as streaming from './streaming.js';

export interface ScenarioOptions {
  /** Smaller runs, for a smoke test of the benchmark itself. */
  quick?: boolean;
  /** Rounds whose medians are reported (scenarios that repeat); 3 by default, 1 with --quick. */
  rounds?: number;
}

interface Scenario {
  name: string;
  run(options: ScenarioOptions): Promise<unknown>;
}

/** Run by `npm run bench` without names. overhead and peer are issue 9's figures, kept for their history. */
const scenarios: Scenario[] = [hotPath, streaming, manyStreams, overhead, peer, ledger, hedging];

/**
 * Scenarios run only when named, loaded only when their module is there: bench/scale-out.ts (several gateways behind
 * one Redis) is written on its own and needs more than this machine's two cores to mean much; profile prints where
 * the gateway's CPU goes under REST and GraphQL load (`node --cpu-prof`), by function, file and layer.
 */
const OPTIONAL = ['scale-out', 'profile'];

function isScenario(value: unknown): value is Scenario {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['name'] === 'string' && typeof record['run'] === 'function';
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const roundsArg = args.find((arg) => arg.startsWith('--rounds='));
const rounds = roundsArg !== undefined ? Math.max(1, Number(roundsArg.slice('--rounds='.length)) || 1) : quick ? 1 : 3;
const options: ScenarioOptions = { quick, rounds };
const wanted = args.filter((arg) => !arg.startsWith('--'));
for (const optional of OPTIONAL) {
  if (!wanted.includes(optional)) continue;
  if (!existsSync(join(ROOT, 'bench', `${optional}.ts`))) continue;
  const loaded: unknown = await import(`./${optional}.js`);
  if (isScenario(loaded)) scenarios.push(loaded);
}
const unknown = wanted.filter((name) => !scenarios.some((scenario) => scenario.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${[...scenarios.map((scenario) => scenario.name), ...OPTIONAL].join(', ')}`);
  process.exit(2);
}
// What `npm start` runs: build once, before any scenario starts a gateway.
ensureBuilt(args.includes('--no-build'));
const results: Record<string, unknown> = {};
for (const scenario of scenarios) {
  if (wanted.length > 0 && !wanted.includes(scenario.name)) continue;
  if (wanted.length === 0 && OPTIONAL.includes(scenario.name)) continue;
  console.log(`\n## ${scenario.name}`);
  results[scenario.name] = await scenario.run(options);
}
console.log(`\nfigures written to ${writeResults(results)} and bench/RESULTS.md`);
