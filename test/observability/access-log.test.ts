import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { subscribeWs, waitFor, wsClient } from '../helpers/subscriptions.js';
import { parsePrometheusText } from './prometheus-text.js';
import { sqliteOf } from '../helpers/app.js';

interface AccessLine {
  level: number;
  msg: string;
  requestId?: string;
  method?: string;
  route?: string;
  path?: string;
  status?: number | string;
  durationMs?: number;
  keyPrefix?: string;
  bytesIn?: number;
  bytesOut?: number;
  [field: string]: unknown;
}

const ADMIN_KEY = 'sb-admin-access-log-test-0123456789';
const INFO = 30;
const ERROR = 50;

/**
 * Every HTTP request and WebSocket operation leaves one access-log line (pino-http) and, for HTTP, a count in
 * switchboard_http_requests_total by route template and status — refusals included. Refusals of authenticated
 * callers also leave a ledger row; anonymous ones do not.
 */
describe('the access log and refusal metrics', () => {
  let app: App;
  let url: string;
  let directory: string;
  const lines: string[] = [];
  const parsed = (): AccessLine[] => lines.map((line) => JSON.parse(line) as AccessLine);
  const accessLines = (): AccessLine[] => parsed().filter((line) => line.msg === 'request completed');
  const lineFor = (requestId: string): AccessLine | undefined => accessLines().find((line) => line.requestId === requestId);

  const admin = { authorization: `Bearer ${ADMIN_KEY}` };
  const graphql = async (query: string, variables: Record<string, unknown>, headers: Record<string, string> = admin): Promise<{ data?: Record<string, unknown>; errors?: Array<{ extensions?: { code?: string } }> }> => {
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as { data?: Record<string, unknown> };
  };
  const createKey = async (input: Record<string, unknown>): Promise<{ id: string; prefix: string; secret: string }> => {
    const body = await graphql('mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix } } }', { input });
    const created = body.data?.['createApiKey'] as { secret: string; apiKey: { id: string; prefix: string } };
    return { id: created.apiKey.id, prefix: created.apiKey.prefix, secret: created.secret };
  };
  const chat = (headers: Record<string, string>, model = 'local/echo', requestId?: string): Promise<Response> =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}), ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const metric = async (route: string, status: number): Promise<number> => {
    const exposition = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    return exposition.value('switchboard_http_requests_total', { route, status: String(status) }) ?? 0;
  };
  const failedRows = async (): Promise<Array<{ errorCode: string | null; apiKeyId: string | null; providerId: string | null }>> =>
    sqliteOf(app.services).query.generations.findMany({ where: (row, { eq }) => eq(row.status, 'FAILED') });

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'switchboard-access-log-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${join(directory, 'test.db')}`,
      SWITCHBOARD_LOCAL_DELAY_MS: '0',
      SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
      // Small, so a 413 needs only a few kilobytes.
      SWITCHBOARD_MAX_BODY_BYTES: '4096',
    });
    app = buildApp(config, { logger: createLogger('info', { write: (line: string) => lines.push(line) }) });
    ({ url } = await app.start());
  });
  afterAll(async () => {
    await app.stop();
    rmSync(directory, { recursive: true, force: true });
  });
  beforeEach(() => {
    lines.length = 0;
  });

  it('logs and counts an anonymous 401, and writes no ledger row for it', async () => {
    const rowsBefore = (await failedRows()).length;
    const before = await metric('/v1/chat/completions', 401);
    const response = await chat({ authorization: 'Bearer sk-not-a-gateway-key-at-all' }, 'local/echo', 'req-anonymous-401');
    expect(response.status).toBe(401);
    const line = await waitFor(() => lineFor('req-anonymous-401'));
    expect(line).toMatchObject({ level: INFO, method: 'POST', route: '/v1/chat/completions', status: 401 });
    expect(line.keyPrefix).toBeUndefined();
    expect(line.bytesIn).toBeGreaterThan(0);
    expect(line.bytesOut).toBeGreaterThan(0);
    expect(typeof line.durationMs).toBe('number');
    // Neither the refused token nor any header is in the line.
    expect(JSON.stringify(line)).not.toContain('sk-not-a-gateway');
    expect(await metric('/v1/chat/completions', 401)).toBe(before + 1);
    expect((await failedRows()).length).toBe(rowsBefore);
  });

  it('logs and counts an authenticated 404 (unknown model) with the key prefix, and records a FAILED row without a provider', async () => {
    const key = await createKey({ name: 'caller', scopes: ['COMPLETIONS'] });
    const before = await metric('/v1/chat/completions', 404);
    const response = await chat({ authorization: `Bearer ${key.secret}` }, 'nobody/serves-this', 'req-unknown-model');
    expect(response.status).toBe(404);
    const line = await waitFor(() => lineFor('req-unknown-model'));
    expect(line).toMatchObject({ level: INFO, route: '/v1/chat/completions', status: 404, keyPrefix: key.prefix });
    expect(JSON.stringify(line)).not.toContain(key.secret);
    expect(await metric('/v1/chat/completions', 404)).toBe(before + 1);
    const row = (await failedRows()).find((candidate) => candidate.apiKeyId === key.id);
    expect(row).toMatchObject({ errorCode: 'MODEL_NOT_FOUND', providerId: null });
  });

  it('records an authenticated caller’s unparseable body and missing scope as FAILED rows, under the model it named', async () => {
    const key = await createKey({ name: 'sloppy', scopes: ['COMPLETIONS'] });
    const invalid = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
      body: JSON.stringify({ model: 'local/echo', messages: 'not a list', stream: true }),
    });
    expect(invalid.status).toBe(400);
    const malformed = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
      body: '{"model": "local/echo", ',
    });
    expect(malformed.status).toBe(400);
    const rows = await sqliteOf(app.services).query.generations.findMany({ where: (row, { eq }) => eq(row.apiKeyId, key.id) });
    expect(rows.map((row) => ({ status: row.status, errorCode: row.errorCode, requestedModel: row.requestedModel, streamed: row.streamed, providerId: row.providerId })).sort((a, b) => a.requestedModel.localeCompare(b.requestedModel))).toEqual([
      // Unreadable JSON names no model; a readable body with a wrong field keeps the one it named.
      { status: 'FAILED', errorCode: 'BAD_REQUEST', requestedModel: '', streamed: false, providerId: null },
      { status: 'FAILED', errorCode: 'BAD_REQUEST', requestedModel: 'local/echo', streamed: true, providerId: null },
    ]);

    const reader = await createKey({ name: 'reader', scopes: ['READ'] });
    const forbidden = await chat({ authorization: `Bearer ${reader.secret}` });
    expect(forbidden.status).toBe(403);
    const refused = await sqliteOf(app.services).query.generations.findMany({ where: (row, { eq }) => eq(row.apiKeyId, reader.id) });
    expect(refused.map((row) => ({ status: row.status, errorCode: row.errorCode }))).toEqual([{ status: 'FAILED', errorCode: 'FORBIDDEN' }]);
  });

  it('logs and counts the gateway’s own 429 for a rate-limited key', async () => {
    const key = await createKey({ name: 'limited', scopes: ['COMPLETIONS'], rateLimit: { requestsPerMinute: 1 } });
    expect((await chat({ authorization: `Bearer ${key.secret}` })).status).toBe(200);
    const before = await metric('/v1/chat/completions', 429);
    const refused = await chat({ authorization: `Bearer ${key.secret}` }, 'local/echo', 'req-rate-limited');
    expect(refused.status).toBe(429);
    const line = await waitFor(() => lineFor('req-rate-limited'));
    expect(line).toMatchObject({ route: '/v1/chat/completions', status: 429, keyPrefix: key.prefix });
    expect(line.level).toBeLessThan(ERROR);
    expect(await metric('/v1/chat/completions', 429)).toBe(before + 1);
    const rows = (await failedRows()).filter((row) => row.apiKeyId === key.id);
    expect(rows.map((row) => row.errorCode)).toEqual(['RATE_LIMITED']);
  });

  it('logs and counts a CSRF 403 on /graphql and a cross-site 403 on the REST facade', async () => {
    const graphqlBefore = await metric('/graphql', 403);
    const restBefore = await metric('/v1/chat/completions', 403);
    const csrf = await fetch(`${url}/graphql?query=%7B__typename%7D`, { headers: { ...admin, 'x-request-id': 'req-csrf' } });
    expect(csrf.status).toBe(403);
    const crossSite = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json', origin: 'https://evil.example', 'x-request-id': 'req-cross-site' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    expect(await waitFor(() => lineFor('req-csrf'))).toMatchObject({ route: '/graphql', status: 403, method: 'GET' });
    expect(await waitFor(() => lineFor('req-cross-site'))).toMatchObject({ route: '/v1/chat/completions', status: 403 });
    expect(await metric('/graphql', 403)).toBe(graphqlBefore + 1);
    expect(await metric('/v1/chat/completions', 403)).toBe(restBefore + 1);
  });

  it('logs and counts a 413 (body too large) and a 415 (not JSON)', async () => {
    const tooLargeBefore = await metric('/v1/chat/completions', 413);
    const large = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json', 'x-request-id': 'req-too-large' },
      body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'x'.repeat(8000) }] }),
    });
    expect(large.status).toBe(413);
    const form = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...admin, 'content-type': 'text/plain', 'x-request-id': 'req-not-json' }, body: 'hi' });
    expect(form.status).toBe(415);
    expect(await waitFor(() => lineFor('req-too-large'))).toMatchObject({ route: '/v1/chat/completions', status: 413, level: INFO });
    expect(await waitFor(() => lineFor('req-not-json'))).toMatchObject({ route: '/v1/chat/completions', status: 415, level: INFO });
    expect(await metric('/v1/chat/completions', 413)).toBe(tooLargeBefore + 1);
  });

  it('logs GET /v1/models, and counts model paths by their template, never the raw path', async () => {
    expect((await fetch(`${url}/v1/models`, { headers: { ...admin, 'x-request-id': 'req-models' } })).status).toBe(200);
    expect((await fetch(`${url}/v1/models/made-up%2Fmodel-${Date.now()}`, { headers: admin })).status).toBe(404);
    expect(await waitFor(() => lineFor('req-models'))).toMatchObject({ method: 'GET', route: '/v1/models', status: 200 });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(parsePrometheusText(text).value('switchboard_http_requests_total', { route: '/v1/models/{id}', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('made-up');
  });

  it('keeps healthy probes and scrapes below info, so they do not drown the log', async () => {
    expect((await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'req-probe' } })).status).toBe(200);
    expect((await fetch(`${url}/v1/models`, { headers: { ...admin, 'x-request-id': 'req-after-probe' } })).status).toBe(200);
    await waitFor(() => lineFor('req-after-probe'));
    expect(lineFor('req-probe')).toBeUndefined();
  });

  it('logs one line per WebSocket operation, with its key prefix', async () => {
    const key = await createKey({ name: 'socket', scopes: ['READ'] });
    const client = wsClient(url.replace('http://', 'ws://') + '/graphql', { authorization: `Bearer ${key.secret}` });
    try {
      const results = await subscribeWs(client, 'query Who { me { id } }');
      expect(results[0]?.data).toEqual({ me: { id: key.id } });
    } finally {
      await client.dispose();
    }
    const line = await waitFor(() => parsed().find((candidate) => candidate.msg === 'websocket operation completed'));
    expect(line).toMatchObject({ level: INFO, method: 'WS', route: '/graphql', status: 'ok', keyPrefix: key.prefix });
    expect(line.requestId).toMatch(/^req_/);
  });

  it('logs a gateway fault (5xx) at error level', async () => {
    const original = app.services.completions.complete.bind(app.services.completions);
    app.services.completions.complete = () => Promise.reject(new Error('a bug of ours'));
    try {
      expect((await chat(admin, 'local/echo', 'req-fault')).status).toBe(500);
    } finally {
      app.services.completions.complete = original;
    }
    expect(await waitFor(() => lineFor('req-fault'))).toMatchObject({ level: ERROR, status: 500 });
  });

  it('gives Yoga’s own error log the request id', async () => {
    const original = app.services.completions.complete.bind(app.services.completions);
    app.services.completions.complete = () => Promise.reject(new Error('a bug of ours'));
    try {
      await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json', 'x-request-id': 'req-yoga-error' },
        body: JSON.stringify({ query: 'mutation { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: "hi" }] }) { id } }' }),
      });
    } finally {
      app.services.completions.complete = original;
    }
    const failure = await waitFor(() => parsed().find((line) => line.msg === 'GraphQL operation failed'));
    expect(failure.requestId).toBe('req-yoga-error');
  });
});
