import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/subscriptions.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../storage/stores.js';

const ROOT = new URL('../..', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The real gateway as `npm start` runs it, in its own process, so it can be killed without warning. */
async function startGateway(databaseUrl: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, SWITCHBOARD_LOCAL_DELAY_MS: '20', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the gateway exited with ${child.exitCode}: ${stderr}`);
    const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    return response?.ok ? true : undefined;
  }, 30_000);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

const COMPLETE = 'mutation ($text: String!) { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: $text }] }) { id } }';
const STREAM = 'subscription ($text: String!) { completionStream(input: { model: "local/echo", messages: [{ role: USER, content: $text }] }) { __typename ... on CompletionStarted { id } } }';

async function complete(base: string, text: string): Promise<string> {
  const response = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: COMPLETE, variables: { text } }) });
  const body = (await response.json()) as { data?: { createCompletion: { id: string } } | null; errors?: unknown[] };
  if (!body.data) throw new Error(`completion failed: ${JSON.stringify(body.errors)}`);
  return body.data.createCompletion.id;
}

/** Starts a long stream over SSE and resolves with its generation id once `deltas` words have arrived; the stream stays open. */
async function startSlowStream(base: string, deltas: number): Promise<string> {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: STREAM, variables: { text: Array.from({ length: 1500 }, (_, index) => `word${index}`).join(' ') } }),
  });
  if (!response.body) throw new Error('no stream');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let id: string | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error('the stream ended early');
    text += decoder.decode(value, { stream: true });
    id ??= /"id":"([^"]+)"/.exec(text)?.[1];
    if (id && (text.match(/CompletionDelta/g)?.length ?? 0) >= deltas) {
      // Keep reading in the background, so the server never blocks on us, until the process dies.
      void (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {
          // The connection dies with the gateway: that is the point.
        }
      })();
      return id;
    }
  }
}

/** Every generation's status, read the way an operator would after the crash: straight from the database. */
async function statuses(database: TestDatabase): Promise<Array<{ id: string; status: string }>> {
  if (database.dialect === 'sqlite') {
    const db = new Database(database.url.slice('file:'.length), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      return db.prepare('SELECT id, status FROM generations').all() as Array<{ id: string; status: string }>;
    } finally {
      db.close();
    }
  }
  const client = postgres(database.url, { max: 1, onnotice: () => undefined });
  try {
    return [...(await client<Array<{ id: string; status: string }>>`select id, status from generations`)];
  } finally {
    await client.end();
  }
}

describe.each(DIALECTS)('crash safety on %s', (dialect) => {
  const children: ChildProcess[] = [];
  let database: TestDatabase | undefined;
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await database?.drop();
  });

  it('keeps every answered request and marks the ones in flight INTERRUPTED after kill -9', async () => {
    database = await createTestDatabase(dialect);
    const port = await freePort();
    const first = await startGateway(database.url, port);
    children.push(first);
    const base = `http://127.0.0.1:${port}`;

    // In flight: streams that have been running for a while (their start rows are written after 50 ms).
    const inFlight = await Promise.all(Array.from({ length: 4 }, () => startSlowStream(base, 10)));
    // Answered, while those streams run: each resolves only once its row is committed.
    const answered: string[] = [];
    for (let round = 0; round < 5; round++) {
      answered.push(...(await Promise.all(Array.from({ length: 8 }, (_, index) => complete(base, `round ${round} request ${index}`)))));
    }
    // More requests racing the kill: answered or not, they must never be left IN_PROGRESS.
    const racing = Array.from({ length: 8 }, (_, index) => complete(base, `racing ${index} with a few more words`).catch(() => undefined));
    first.kill('SIGKILL');
    await exited(first);
    const racedAnswers = (await Promise.all(racing)).filter((id): id is string => id !== undefined);

    const second = await startGateway(database.url, port);
    children.push(second);
    second.kill('SIGTERM');
    await exited(second);
    expect({ code: second.exitCode, signal: second.signalCode }).toEqual({ code: 0, signal: null });

    const rows = await statuses(database);
    const status = new Map(rows.map((row) => [row.id, row.status]));
    for (const id of [...answered, ...racedAnswers]) expect(status.get(id), `answered ${id}`).toBe('SUCCEEDED');
    for (const id of inFlight) expect(status.get(id), `in flight ${id}`).toBe('INTERRUPTED');
    expect(rows.filter((row) => row.status === 'IN_PROGRESS')).toEqual([]);
    expect(answered).toHaveLength(40);
  }, 90_000);
});
