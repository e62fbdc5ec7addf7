import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { waitFor, wsClient } from '../helpers/subscriptions.js';

interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string; type?: string; message?: string };
  [field: string]: unknown;
}

const ERROR = 50;
const lines: string[] = [];
const parsed = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);
/** error or fatal lines: what wakes an operator up. */
const errorLines = (): LogLine[] => parsed().filter((line) => line.level >= ERROR);

/**
 * A caller's mistake or a caller leaving is not the gateway's failure: it may be logged at info or warn, never at
 * error, and never as INTERNAL with a stack trace. Error level stays for what an operator must look at.
 */
describe('what a caller does is never logged at error level', () => {
  let app: App;
  let url: string;
  let directory: string;
  let openai: FakeUpstream;

  beforeAll(async () => {
    // A hanging upstream keeps a non-streamed completion in flight until the caller leaves.
    openai = await startFakeOpenAI();
    directory = mkdtempSync(join(tmpdir(), 'switchboard-log-levels-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${join(directory, 'test.db')}`,
      // Slow enough that a caller can leave mid-answer.
      SWITCHBOARD_LOCAL_DELAY_MS: '40',
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: openai.url,
    });
    app = buildApp(config, { logger: createLogger('debug', { write: (line: string) => lines.push(line) }) });
    ({ url } = await app.start());
  });
  afterAll(async () => {
    await app.stop();
    await openai.close();
    rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(() => {
    lines.length = 0;
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const graphql = (body: unknown, accept = 'application/graphql-response+json', signal?: AbortSignal) =>
    fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

  const rowStatus = async (status: string): Promise<number> => {
    const response = await graphql({ query: `{ generations(filter: { status: ${status} }) { totalCount } }` });
    return ((await response.json()) as { data: { generations: { totalCount: number } } }).data.generations.totalCount;
  };

  it('logs GraphQL syntax, validation and input errors (BAD_REQUEST) below error', async () => {
    for (const body of [
      { query: '{ models { ' },
      { query: '{ noSuchField }' },
      { query: 'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id } }', variables: { input: { model: 'local/echo' } } },
      { query: 'mutation { createCompletion(input: { model: "local/echo", messages: [], maxTokens: -1 }) { id } }' },
    ]) {
      for (const accept of ['application/graphql-response+json', 'application/json']) {
        const response = await graphql(body, accept);
        const result = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
        expect(result.errors[0]?.extensions.code).toBe('BAD_REQUEST');
      }
    }
    expect(errorLines()).toEqual([]);
    const refusals = parsed().filter((line) => line.msg === 'GraphQL operation refused');
    expect(refusals.length).toBeGreaterThanOrEqual(8);
    expect(refusals.every((line) => line.level === 30 && line['code'] === 'BAD_REQUEST')).toBe(true);
  });

  it('still logs our own failure at error level, with its stack, on both transports', async () => {
    vi.spyOn(app.services.completions, 'complete').mockRejectedValue(new Error('a bug of ours'));
    const response = await graphql({ query: 'mutation { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: "hi" }] }) { id } }' });
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe('INTERNAL');
    const rest = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(rest.status).toBe(500);
    // The access log's line for the REST 500 is at error level too (a gateway fault); it carries no stack.
    expect(errorLines().filter((line) => line.msg === 'request completed').map((line) => line['status'])).toEqual([500]);
    const failures = errorLines().filter((line) => line.msg !== 'request completed');
    expect(failures.map((line) => line.msg)).toEqual(['GraphQL operation failed', 'REST request failed']);
    for (const line of failures) expect(JSON.stringify(line.err)).toContain('a bug of ours');
  });

  it('logs a caller cancelling a GraphQL completion over HTTP below error, without INTERNAL or a stack', async () => {
    const before = await rowStatus('CANCELLED');
    openai.enqueue({ kind: 'hang', textBefore: '' });
    const controller = new AbortController();
    const pending = graphql(
      { query: 'mutation { createCompletion(input: { model: "openai/gpt-4o-mini", messages: [{ role: USER, content: "hello?" }] }) { id } }' },
      'application/graphql-response+json',
      controller.signal,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 120));
    controller.abort();
    await pending;
    await waitFor(async () => ((await rowStatus('CANCELLED')) > before ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errorLines()).toEqual([]);
    expect(lines.join('\n')).not.toContain('INTERNAL');
    expect(parsed().some((line) => line.level === 30 && line.msg === 'GraphQL operation cancelled by the caller')).toBe(true);
  });

  it('logs a caller cancelling a REST completion, streamed or not, below error', async () => {
    for (const stream of [false, true]) {
      const before = await rowStatus('CANCELLED');
      if (!stream) openai.enqueue({ kind: 'hang', textBefore: '' });
      const controller = new AbortController();
      const pending = fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: stream ? 'local/echo' : 'openai/gpt-4o-mini', stream, messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten' }] }),
        signal: controller.signal,
      })
        .then((response) => response.text())
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 120));
      controller.abort();
      await pending;
      await waitFor(async () => ((await rowStatus('CANCELLED')) > before ? true : undefined));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errorLines()).toEqual([]);
    expect(parsed().some((line) => line.level === 30 && line.msg === 'REST request cancelled by the client')).toBe(true);
  });

  it('logs a caller leaving a GraphQL stream over WebSocket below error', async () => {
    const before = await rowStatus('CANCELLED');
    const client = wsClient(url.replace('http://', 'ws://') + '/graphql');
    const iterator = client.iterate({ query: 'subscription { completionStream(input: { model: "local/echo", messages: [{ role: USER, content: "one two three four five six seven eight" }] }) { __typename } }' });
    await iterator.next();
    await iterator.return?.();
    await client.dispose();
    await waitFor(async () => ((await rowStatus('CANCELLED')) > before ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errorLines()).toEqual([]);
  });
});
