import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeWs, waitFor, wsClient, type ExecutionResultLike } from '../helpers/subscriptions.js';

const STREAM = `subscription($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionStarted { id } ... on CompletionDelta { text } ... on CompletionDone { finishReason } } }`;
const words = (count: number) => Array.from({ length: count }, (_, index) => `w${index}`).join(' ');

function typenames(results: ExecutionResultLike[]): string[] {
  return results.map((result) => (result.data as { completionStream: { __typename: string } }).completionStream.__typename);
}

describe('lifecycle', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  it('lets an in-flight stream finish during shutdown and records it', async () => {
    const server = await startTestServer({ SWITCHBOARD_LOCAL_DELAY_MS: '20' });
    servers.push(server);
    const client = wsClient(server.wsUrl);
    let stopping: Promise<void> | undefined;
    const results = await subscribeWs(client, STREAM, { input: { model: 'local/echo', messages: [{ role: 'USER', content: words(25) }] } }, (_result, index) => {
      if (index === 1) stopping = server.app.stop();
      return false;
    });
    expect(typenames(results)[0]).toBe('CompletionStarted');
    expect(typenames(results).at(-1)).toBe('CompletionDone');
    expect(typenames(results).filter((name) => name === 'CompletionDelta')).toHaveLength(25);
    await stopping;
    const db = new Database(server.databasePath, { readonly: true });
    const id = (results[0]!.data as { completionStream: { id: string } }).completionStream.id;
    expect(db.prepare('select status from generations where id = ?').get(id)).toEqual({ status: 'SUCCEEDED' });
    db.close();
    await client.dispose();
  });

  it('interrupts streams that outlast the shutdown grace period and records them as INTERRUPTED', async () => {
    const server = await startTestServer({ SWITCHBOARD_LOCAL_DELAY_MS: '50', SWITCHBOARD_SHUTDOWN_GRACE_MS: '100' });
    servers.push(server);
    const client = wsClient(server.wsUrl);
    let id = '';
    const done = subscribeWs(client, STREAM, { input: { model: 'local/echo', messages: [{ role: 'USER', content: words(200) }] } }, (result) => {
      const event = (result.data as { completionStream: { __typename: string; id?: string } }).completionStream;
      if (event.id) id = event.id;
      return false;
    }).catch(() => []);
    // Bounded: a stream that never starts fails here rather than hanging the suite.
    await waitFor(() => id !== '' || undefined);
    const started = Date.now();
    await server.app.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    await done;
    const db = new Database(server.databasePath, { readonly: true });
    expect(db.prepare('select status, finish_reason from generations where id = ?').get(id)).toEqual({ status: 'INTERRUPTED', finish_reason: 'cancelled' });
    db.close();
    await client.dispose();
  });

  it('marks generations left in flight by a crash as INTERRUPTED at start-up', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'switchboard-crash-'));
    const path = join(directory, 'crash.db');
    const config = loadConfig({ DATABASE_URL: `file:${path}`, PORT: '0' });
    const first = buildApp(config, { logger: pino({ level: 'silent' }) });
    // What a kill -9 leaves behind: the start row of a request that never finished.
    const db = new Database(path);
    db.prepare(`insert into generations (id, requested_model, status, streamed, created_at) values ('gen_crashed', 'local/echo', 'IN_PROGRESS', 1, ?)`).run(Date.now());
    db.close();
    await first.stop();
    const second = buildApp(config, { logger: pino({ level: 'silent' }) });
    const reopened = new Database(path, { readonly: true });
    expect(reopened.prepare(`select status, error_code from generations where id = 'gen_crashed'`).get()).toEqual({ status: 'INTERRUPTED', error_code: 'INTERRUPTED' });
    reopened.close();
    await second.stop();
    rmSync(directory, { recursive: true, force: true });
  });
});
