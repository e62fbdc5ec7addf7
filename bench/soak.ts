/**
 * `npm run soak [-- --minutes N]`: mixed load against one gateway process for N minutes (default 10), bounded in
 * time and loopback only. Reports resident memory at the start and the end, and checks the ledger afterwards:
 * every request sent must have exactly one generation row, none left IN_PROGRESS. Not a test and not part of
 * `npm run bench` (it is long by design); it prints its figures and writes them into bench/RESULTS.md.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { pinSelf, ROOT, startGatewayProcess, startUpstreamProcess } from './lib/processes.js';

type Kind = 'rest' | 'rest-stream' | 'rest-cancelled' | 'graphql' | 'graphql-stream' | 'graphql-error';
const KINDS: readonly Kind[] = ['rest', 'rest-stream', 'rest-cancelled', 'graphql', 'graphql-stream', 'graphql-error'];

const SOAK_START = '<!-- soak:start -->';
const SOAK_END = '<!-- soak:end -->';

function json(body: unknown): string {
  return JSON.stringify(body);
}

const GRAPHQL_COMPLETE = 'mutation($input: CompletionInput!) { createCompletion(input: $input) { id usage { totalTokens } } }';
const GRAPHQL_STREAM = 'subscription($input: CompletionInput!) { completionStream(input: $input) { __typename } }';

export async function run(options: { minutes?: number } = {}): Promise<Record<string, unknown>> {
  const minutes = options.minutes ?? 10;
  pinSelf();
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-soak-'));
  const databasePath = join(directory, 'soak.db');
  const upstream = await startUpstreamProcess();
  const gateway = await startGatewayProcess({
    open: true,
    upstream,
    env: {
      DATABASE_URL: `file:${databasePath}`,
      SWITCHBOARD_LOCAL_DELAY_MS: '5',
      // Port 9 (discard) on loopback: nothing listens, so every call to this provider fails fast.
      SWITCHBOARD_PROVIDERS: JSON.stringify([{ id: 'unreachable', baseUrl: 'http://127.0.0.1:9/v1' }]),
    },
  });
  const pool = new Pool(gateway.url, { connections: 16 });
  const sent: Record<Kind, number> = { rest: 0, 'rest-stream': 0, 'rest-cancelled': 0, graphql: 0, 'graphql-stream': 0, 'graphql-error': 0 };
  const failures: string[] = [];
  const memory: Array<{ atSeconds: number; rssMb: number }> = [];
  const started = Date.now();
  const stopAt = started + minutes * 60_000;
  const sampleMemory = (): void => {
    const kb = gateway.rssKb();
    if (kb !== null) memory.push({ atSeconds: Math.round((Date.now() - started) / 1000), rssMb: Math.round(kb / 1024) });
  };

  const words = (count: number) => Array.from({ length: count }, (_, index) => `word${index}`).join(' ');
  async function fire(kind: Kind): Promise<void> {
    sent[kind]++;
    const headers = { 'content-type': 'application/json' };
    switch (kind) {
      case 'rest': {
        const response = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body: json({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'soak' }] }) });
        await response.body.text();
        if (response.statusCode !== 200) throw new Error(`rest ${response.statusCode}`);
        return;
      }
      case 'rest-stream':
      case 'rest-cancelled': {
        const controller = new AbortController();
        const response = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers,
          body: json({ model: 'local/echo', stream: true, messages: [{ role: 'user', content: words(40) }] }),
          signal: controller.signal,
        });
        if (response.statusCode !== 200) throw new Error(`rest stream ${response.statusCode}`);
        try {
          for await (const chunk of response.body) {
            if (kind === 'rest-cancelled' && String(chunk).includes('word3')) controller.abort();
          }
        } catch (error) {
          if (!controller.signal.aborted) throw error;
        }
        return;
      }
      case 'graphql':
      case 'graphql-error': {
        // A provider that cannot be reached: a failed request that still has a generation row (retried, then FAILED).
        const model = kind === 'graphql' ? 'local/echo' : 'unreachable/any-model';
        const response = await pool.request({
          method: 'POST',
          path: '/graphql',
          headers,
          body: json({ query: GRAPHQL_COMPLETE, variables: { input: { model, messages: [{ role: 'USER', content: 'soak' }] } } }),
        });
        const text = await response.body.text();
        if (kind === 'graphql' && text.includes('"errors"')) throw new Error(`graphql: ${text.slice(0, 200)}`);
        return;
      }
      case 'graphql-stream': {
        const response = await pool.request({
          method: 'POST',
          path: '/graphql',
          headers: { ...headers, accept: 'text/event-stream' },
          body: json({ query: GRAPHQL_STREAM, variables: { input: { model: 'local/echo', messages: [{ role: 'USER', content: words(20) }] } } }),
        });
        const text = await response.body.text();
        if (!text.includes('CompletionDone')) throw new Error('graphql stream ended without CompletionDone');
        return;
      }
    }
  }

  sampleMemory();
  const sampler = setInterval(sampleMemory, 30_000);
  let index = 0;
  const lanes = Array.from({ length: 8 }, async () => {
    while (Date.now() < stopAt) {
      const kind = KINDS[index++ % KINDS.length]!;
      await fire(kind).catch((error: unknown) => {
        if (failures.length < 20) failures.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  });
  await Promise.all(lanes);
  clearInterval(sampler);
  sampleMemory();
  await pool.close();
  // SIGTERM: the gateway drains and flushes the ledger before it exits.
  await gateway.stop();
  await upstream.stop();

  const db = new Database(databasePath, { readonly: true });
  const rows = db.prepare('select status, count(*) as n from generations group by status').all() as Array<{ status: string; n: number }>;
  db.close();
  rmSync(directory, { recursive: true, force: true });

  const total = Object.values(sent).reduce((sum, count) => sum + count, 0);
  const recorded = rows.reduce((sum, row) => sum + row.n, 0);
  const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.n]));
  const first = memory[0]?.rssMb ?? null;
  const last = memory.at(-1)?.rssMb ?? null;
  const peak = memory.reduce((max, sample) => Math.max(max, sample.rssMb), 0);
  const result = {
    minutes,
    requests: total,
    byKind: sent,
    generations: recorded,
    missing: total - recorded,
    byStatus,
    clientFailures: failures,
    rssMb: { start: first, end: last, peak },
    memory,
  };
  console.log(`soak: ${minutes} min, ${total} requests (${KINDS.map((kind) => `${kind} ${sent[kind]}`).join(', ')})`);
  console.log(`ledger: ${recorded} generations (${JSON.stringify(byStatus)}); missing: ${total - recorded}`);
  console.log(`gateway RSS: start ${first} MB, end ${last} MB, peak ${peak} MB`);
  if (failures.length > 0) console.log(`client-side failures (first ${failures.length}):\n  ${failures.join('\n  ')}`);
  recordSoak(result);
  return result;
}

/** Keeps the latest soak's figures in bench/RESULTS.md, between markers of its own. */
function recordSoak(result: { minutes: number; requests: number; generations: number; missing: number; byStatus: Record<string, number>; rssMb: { start: number | null; end: number | null; peak: number } }): void {
  const file = join(ROOT, 'bench', 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const section = [
    SOAK_START,
    `${new Date().toISOString()} — ${cpus().length} cores, Node ${process.version}; \`npm run soak\` (${result.minutes} min of mixed REST, REST streams, cancelled streams, GraphQL mutations, GraphQL SSE streams and provider failures, 8 lanes).`,
    '',
    '| requests sent | generations recorded | missing | by status | RSS start | RSS end | RSS peak |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${result.requests} | ${result.generations} | ${result.missing} | ${Object.entries(result.byStatus).map(([status, count]) => `${status} ${count}`).join(', ')} | ${result.rssMb.start} MB | ${result.rssMb.end} MB | ${result.rssMb.peak} MB |`,
    SOAK_END,
  ].join('\n');
  const updated = text.includes(SOAK_START)
    ? text.slice(0, text.indexOf(SOAK_START)) + section + text.slice(text.indexOf(SOAK_END) + SOAK_END.length)
    : `${text.trimEnd()}\n\n## Soak\n\n${section}\n`;
  writeFileSync(file, updated);
}

const minutesArgument = process.argv.indexOf('--minutes');
await run(minutesArgument > -1 ? { minutes: Number(process.argv[minutesArgument + 1]) } : {});
