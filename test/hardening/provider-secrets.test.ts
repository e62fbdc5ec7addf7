import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createSecretBox, parseMasterKey } from '../../src/auth/secret-box.js';
import { StoredSecretError } from '../../src/catalog/providers.js';
import { loadConfig } from '../../src/config.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';

describe('the secret box', () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);

  it('opens what it sealed, and only in the same context', () => {
    const sealed = box.seal('sk-live-123', 'openai');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('sk-live-123');
    expect(box.open(sealed, 'openai')).toBe('sk-live-123');
    // Moved onto another provider's row: refused.
    expect(() => box.open(sealed, 'anthropic')).toThrow();
  });

  it('detects tampering and a wrong master key, and opens with a previous key while rotating', () => {
    const sealed = box.seal('sk-live-123', 'openai');
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    expect(() => box.open([parts[0], parts[1], parts[2], data.toString('base64url')].join('.'), 'openai')).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'openai')).toThrow();
    expect(createSecretBox(randomBytes(32), [key]).open(sealed, 'openai')).toBe('sk-live-123');
  });

  it('accepts only 32-byte master keys', () => {
    expect(parseMasterKey(randomBytes(32).toString('base64')).length).toBe(32);
    expect(() => parseMasterKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('provider keys set through the API', () => {
  const masterKey = randomBytes(32).toString('base64');
  let directory: string;
  let databasePath: string;
  let fake: FakeUpstream;
  const apps: App[] = [];

  async function start(env: Record<string, string>): Promise<{ url: string; graphql: (query: string, variables?: Record<string, unknown>) => Promise<{ data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> }> {
    const app = buildApp(loadConfig({ PORT: '0', DATABASE_URL: `file:${databasePath}`, SWITCHBOARD_LOCAL_DELAY_MS: '0', ...env }), { logger: pino({ level: 'silent' }) });
    apps.push(app);
    const { url } = await app.start();
    return {
      url,
      graphql: async (query, variables = {}) => {
        const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
        return (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
      },
    };
  }
  async function stopAll(): Promise<void> {
    for (const app of apps.splice(0)) await app.stop();
  }

  const UPSERT = `mutation($input: ProviderInput!) { upsertProvider(input: $input) { id enabled hasApiKey } }`;
  const COMPLETE = `mutation { createCompletion(input: { model: "openai/gpt-4o-mini", messages: [{ role: USER, content: "hi" }] }) { message { content } } }`;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'switchboard-secrets-'));
    databasePath = join(directory, 'secrets.db');
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await stopAll();
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('are refused without a master key', async () => {
    const server = await start({});
    const body = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: fake.url, apiKey: FAKE_OPENAI_KEY } });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'apiKey' });
    await stopAll();
  });

  it('are sealed at rest, used for calls, never readable back, and audited as set', async () => {
    const server = await start({ SWITCHBOARD_MASTER_KEY: masterKey });
    expect((await server.graphql(COMPLETE)).errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
    const set = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: fake.url, apiKey: FAKE_OPENAI_KEY } });
    expect(set.data?.['upsertProvider']).toEqual({ id: 'openai', enabled: true, hasApiKey: true });
    const answered = await server.graphql(COMPLETE);
    expect(answered.errors).toBeUndefined();
    expect(fake.received.at(-1)?.headers['authorization']).toBe(`Bearer ${FAKE_OPENAI_KEY}`);

    const fields = await server.graphql(`{ __type(name: "Provider") { fields { name } } }`);
    const names = ((fields.data?.['__type'] as { fields: Array<{ name: string }> }).fields ?? []).map((field) => field.name);
    expect(names).toContain('hasApiKey');
    expect(names.some((name) => /apikey(?!$)|ciphertext|secret/i.test(name) && name !== 'hasApiKey')).toBe(false);

    const audit = await server.graphql(`{ auditLog(first: 10, filter: { targetType: "provider", targetId: "openai" }) { edges { node { action after } } } }`);
    const entries = (audit.data?.['auditLog'] as { edges: Array<{ node: { action: string; after: Record<string, unknown> } }> }).edges.map((edge) => edge.node);
    expect(entries[0]?.after['apiKeyChange']).toBe('set');
    expect(JSON.stringify(entries)).not.toContain(FAKE_OPENAI_KEY);
    await stopAll();

    const db = new Database(databasePath, { readonly: true });
    const row = db.prepare(`select api_key_ciphertext from providers where id = 'openai'`).get() as { api_key_ciphertext: string };
    db.close();
    expect(row.api_key_ciphertext.startsWith('v1.')).toBe(true);
    for (const file of readdirSync(directory)) expect(readFileSync(join(directory, file)).includes(FAKE_OPENAI_KEY)).toBe(false);
  });

  it('come back after a restart with the same master key, and stop start-up with another or none', async () => {
    const server = await start({ SWITCHBOARD_MASTER_KEY: masterKey });
    const after = await server.graphql(COMPLETE);
    expect(after.errors).toBeUndefined();
    await stopAll();
    expect(() => buildApp(loadConfig({ PORT: '0', DATABASE_URL: `file:${databasePath}` }), { logger: pino({ level: 'silent' }) })).toThrow(StoredSecretError);
    expect(() =>
      buildApp(loadConfig({ PORT: '0', DATABASE_URL: `file:${databasePath}`, SWITCHBOARD_MASTER_KEY: randomBytes(32).toString('base64') }), { logger: pino({ level: 'silent' }) }),
    ).toThrow(/openai/);
  });

  it('are cleared with null, and the provider stops taking requests', async () => {
    const server = await start({ SWITCHBOARD_MASTER_KEY: masterKey });
    const cleared = await server.graphql(UPSERT, { input: { id: 'openai', apiKey: null } });
    expect(cleared.data?.['upsertProvider']).toMatchObject({ hasApiKey: false, enabled: false });
    expect((await server.graphql(COMPLETE)).errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
    await stopAll();
  });
});
