/**
 * `npm run bench [--quick] [scenario…]`: runs each scenario (all of them without names) and prints its figures.
 * A scenario is a module exporting `name` and `run(options)`; add yours to the list.
 */
import * as hedging from './hedging.js';
import * as ledger from './ledger.js';
import * as manyStreams from './many-streams.js';
import * as overhead from './overhead.js';
import * as peer from './peer.js';
import { writeResults } from './report.js';
import * as streaming from './streaming.js';

export interface ScenarioOptions {
  /** Smaller runs, for a smoke test of the benchmark itself. */
  quick?: boolean;
}

interface Scenario {
  name: string;
  run(options: ScenarioOptions): Promise<unknown>;
}

const scenarios: Scenario[] = [overhead, peer, streaming, manyStreams, ledger, hedging];

const args = process.argv.slice(2);
const options: ScenarioOptions = { quick: args.includes('--quick') };
const wanted = args.filter((arg) => !arg.startsWith('--'));
const unknown = wanted.filter((name) => !scenarios.some((scenario) => scenario.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((scenario) => scenario.name).join(', ')}`);
  process.exit(2);
}
const results: Record<string, unknown> = {};
for (const scenario of scenarios) {
  if (wanted.length > 0 && !wanted.includes(scenario.name)) continue;
  console.log(`\n## ${scenario.name}`);
  results[scenario.name] = await scenario.run(options);
}
console.log(`\nfigures written to ${writeResults(results)} and bench/RESULTS.md`);
