/**
 * Writes one run's figures to bench/results/<timestamp>.json (git-ignored) and refreshes bench/RESULTS.md: the
 * latest run's targets in full, and one line per run in a history table, with the date, machine and conditions.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib/processes.js';
import type { TargetCheck } from './lib/stats.js';

const RESULTS_DIR = join(ROOT, 'bench', 'results');
const RESULTS_MD = join(ROOT, 'bench', 'RESULTS.md');
const HISTORY_START = '<!-- history:start -->';
const HISTORY_END = '<!-- history:end -->';
const LATEST_START = '<!-- latest:start -->';
const LATEST_END = '<!-- latest:end -->';

/** The history table's figures: a column name and the start of the target line (`what`) it comes from. */
const HISTORY_COLUMNS: Array<[string, string]> = [
  ['REST CPU ÷ proxy', 'REST CPU per request c=10 ÷ bare proxy'],
  ['REST req/s ÷ proxy', 'REST throughput c=50 ÷ bare proxy'],
  ['GraphQL req/s ÷ Yoga', 'GraphQL throughput c=50 ÷ plain Yoga'],
  ['GraphQL CPU ÷ Yoga', 'GraphQL CPU per request c=10 ÷ plain Yoga'],
  ['idle RSS (MB)', 'idle RSS'],
  ['streams gap excess p99 (ms)', 'event gap excess over the word delay p99'],
  ['streams TTFT p50 (ms)', 'streams: first token p50'],
  ['REST +p50 c=1 (ms)', 'REST overhead p50 at c=1'],
  ['GraphQL +p50 c=1 (ms)', 'GraphQL overhead p50 at c=1'],
  ['REST ÷ direct c=50', 'REST throughput ÷ direct at c=50'],
  ['REST ÷ peer c=50', 'REST throughput ÷ peer at c=50'],
  ['REST SSE +TTFT p50 (ms)', 'REST SSE TTFT overhead p50 at c=1'],
  ['graphql-ws +TTFT p50 (ms)', 'graphql-ws TTFT overhead p50 at c=1'],
  ['streams RSS peak (MB)', 'streams: peak gateway RSS'],
];

function isTargetCheck(value: unknown): value is TargetCheck {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['what'] === 'string' && typeof record['target'] === 'string' && 'value' in record && 'met' in record;
}

/** Every target line across the scenarios, tagged with its scenario. */
function collectTargets(results: Record<string, unknown>): Array<TargetCheck & { scenario: string }> {
  const collected: Array<TargetCheck & { scenario: string }> = [];
  for (const [scenario, figures] of Object.entries(results)) {
    if (typeof figures !== 'object' || figures === null) continue;
    const targets = (figures as Record<string, unknown>)['targets'];
    if (!Array.isArray(targets)) continue;
    for (const target of targets) if (isTargetCheck(target)) collected.push({ ...target, scenario });
  }
  return collected;
}

function quickOf(results: Record<string, unknown>): boolean {
  return Object.values(results).some((figures) => {
    if (typeof figures !== 'object' || figures === null) return false;
    const conditions = (figures as Record<string, unknown>)['conditions'];
    return typeof conditions === 'object' && conditions !== null && (conditions as Record<string, unknown>)['quick'] === true;
  });
}

function pinningOf(results: Record<string, unknown>): string {
  for (const figures of Object.values(results)) {
    if (typeof figures !== 'object' || figures === null) continue;
    const conditions = (figures as Record<string, unknown>)['conditions'];
    if (typeof conditions === 'object' && conditions !== null) {
      const pinning = (conditions as Record<string, unknown>)['pinning'];
      if (typeof pinning === 'string') return pinning;
    }
  }
  return 'unknown';
}

function cell(value: number | null | undefined, met: boolean | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return `${value}${met === false ? ' ✗' : met === true ? ' ✓' : ''}`;
}

function section(text: string, start: string, end: string, body: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return `${text.trimEnd()}\n\n${start}\n${body}\n${end}\n`;
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

const TEMPLATE = `# Benchmark results

Written by \`bench/report.ts\` (\`writeResults\`) after each run; the raw figures of every run are in
\`bench/results/<timestamp>.json\` (git-ignored). Method (see /work/shared/PERF-NOTES.md): a zero-latency fake OpenAI
upstream in its own process on loopback, a closed-loop undici client, the server under test in its own process pinned
to its own core when there are two or more. Figures vary run to run by up to a third: compare only within one run.
Quick runs (\`quick: true\`) use short windows and are for checking that the benchmarks work, not for the figures.

Targets (issue 15, ratios to the reference servers of bench/references/ measured in the same run, medians of 3
rounds): REST CPU per request ≤ 2× the bare proxy's, REST req/s at c=50 ≥ 0.6× and added p50 at c=1 ≤ 2× the bare
proxy's; GraphQL req/s at c=50 ≥ 1× and CPU per request ≤ 1× plain Yoga's; streaming first-token overhead p50
≤ 0.5 ms (REST SSE, GraphQL SSE, graphql-ws) and CPU per streamed event reported; 1,000 graphql-ws streams: gap
excess p99 < 20 ms, first token p50 < 20 ms, peak RSS < 200 MB; idle RSS ≤ 120 MB; RSS at c=50 ≤ plain Yoga's.
The gateway runs as in production: built dist/, auth on, a key with limits and a budget, default logging.
(Issue 9's overhead and peer targets are still printed by their scenarios.)

## Latest run

${LATEST_START}
${LATEST_END}

## History

✓ met, ✗ missed.

${HISTORY_START}
${HISTORY_END}
`;

/** Writes the JSON file and refreshes RESULTS.md; returns the JSON file's path. */
export function writeResults(results: Record<string, unknown>): string {
  const now = new Date();
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const machine = { cores: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify({ date: now.toISOString(), machine, results }, null, 2)}\n`);

  const targets = collectTargets(results);
  const quick = quickOf(results);
  const machineText = `${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}`;
  const latest = [
    `${now.toISOString()} — ${machineText}, ${machine.memoryGb} GB; ${quick ? 'quick' : 'full'} run of ${Object.keys(results).join(', ')}.`,
    `Pinning: ${pinningOf(results)}. Raw figures: \`bench/results/${stamp}.json\`.`,
    '',
    '| scenario | what | target | measured | status |',
    '| --- | --- | --- | --- | --- |',
    ...targets.map(
      (target) =>
        `| ${target.scenario} | ${target.what} | ${target.target} | ${target.value === null ? 'n/a' : `${target.value} ${target.unit}`.trim()} | ${target.target === 'reported' ? 'reported' : target.met === null ? 'not measured' : target.met ? 'met' : '**missed**'} |`,
    ),
  ].join('\n');
  const row = `| ${now.toISOString().slice(0, 16).replace('T', ' ')} | ${machineText} | ${quick ? 'quick' : 'full'} | ${HISTORY_COLUMNS.map(([, what]) => {
    const target = targets.find((candidate) => candidate.what.includes(what));
    return cell(target?.value, target?.met);
  }).join(' | ')} |`;

  let text = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, 'utf8') : TEMPLATE;
  if (!text.includes(HISTORY_START)) text = TEMPLATE;
  text = section(text, LATEST_START, LATEST_END, latest);
  const from = text.indexOf(HISTORY_START) + HISTORY_START.length;
  const to = text.indexOf(HISTORY_END);
  const rows = text
    .slice(from, to)
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.startsWith('| date') && !line.startsWith('| ---'));
  rows.push(row);
  const header = [`| date | machine | mode | ${HISTORY_COLUMNS.map(([column]) => column).join(' | ')} |`, `| --- | --- | --- | ${HISTORY_COLUMNS.map(() => '---').join(' | ')} |`];
  text = `${text.slice(0, from)}\n${[...header, ...rows.slice(-50)].join('\n')}\n${text.slice(to)}`;
  writeFileSync(RESULTS_MD, text);
  return file;
}
