import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { classifyAddress, createUpstreamGuard, type UpstreamGuard } from '../../src/catalog/upstream-guard.js';
import { loadConfig } from '../../src/config.js';
import { ProviderError } from '../../src/providers/errors.js';
import { createOpenAICompatibleAdapter } from '../../src/providers/openai-compatible/adapter.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeChatCompletions, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * Issue 14, item 4: an admin key could send a provider's key to a host of its choosing by moving the provider
 * there, and could point the gateway at link-local and cloud metadata addresses. These tests hold the fix.
 */

const UPSERT = `mutation($input: ProviderInput!) { upsertProvider(input: $input) { id enabled hasApiKey } }`;
const PROVIDERS = `{ providers { id } }`;
const AUDIT = `{ auditLog(first: 50, filter: { targetType: "provider" }) { totalCount edges { node { action targetId after } } } }`;
const complete = (model: string): string => `mutation { createCompletion(input: { model: "${model}", messages: [{ role: USER, content: "hi" }] }) { message { content } } }`;

interface AuditData {
  auditLog: { totalCount: number; edges: Array<{ node: { action: string; targetId: string; after: Record<string, unknown> } }> };
}

async function auditEntries(server: TestServer, targetId: string): Promise<Array<{ action: string; after: Record<string, unknown> }>> {
  const body = await server.graphql<AuditData>(AUDIT);
  return (body.data?.auditLog.edges ?? []).map((edge) => edge.node).filter((entry) => entry.targetId === targetId);
}

function authorizationOf(fake: FakeUpstream): string | string[] | undefined {
  return fake.received.at(-1)?.headers['authorization'];
}

/** Every spelling of a link-local or metadata address the probe tried, and more; none may be stored. */
const ALWAYS_REFUSED = [
  'http://169.254.169.254/latest/meta-data',
  'http://169.254.0.0/v1',
  'http://169.254.255.255/v1',
  'http://2852039166/v1',
  'http://0251.0376.0251.0376/v1',
  'http://0xa9fea9fe/v1',
  'http://0xA9.0xFE.0xA9.0xFE/v1',
  'http://169.254.43518/v1',
  'http://169.254.169.254./v1',
  'http://[::ffff:169.254.169.254]/v1',
  'http://[::ffff:a9fe:a9fe]/v1',
  'http://[::a9fe:a9fe]/v1',
  'http://[64:ff9b::a9fe:a9fe]/v1',
  'http://[2002:a9fe:a9fe::]/v1',
  'http://[fd00:ec2::254]/latest/meta-data',
  'http://[fe80::1]/v1',
  'http://[febf:ffff::1]/v1',
  'https://169.254.169.254:443/v1',
];

const PRIVATE = [
  'http://10.0.0.5:8000/v1',
  'http://10.255.255.255/v1',
  'http://172.16.0.0/v1',
  'http://172.31.255.255/v1',
  'http://192.168.1.10/v1',
  'http://100.64.0.0/v1',
  'http://100.127.255.255/v1',
  'http://100.100.100.200/v1',
  'http://0.0.0.0:8000/v1',
  'http://0/v1',
  'http://[fc00::1]/v1',
  'http://[fd12:3456::1]/v1',
  'http://[::ffff:10.0.0.5]/v1',
];

/** Just outside each refused range: public, so accepted. */
const PUBLIC_NEIGHBOURS = [
  'http://169.253.255.255/v1',
  'http://169.255.0.0/v1',
  'http://172.15.255.255/v1',
  'http://172.32.0.0/v1',
  'http://100.63.255.255/v1',
  'http://100.128.0.0/v1',
  'http://11.0.0.0/v1',
  'http://9.255.255.255/v1',
  'http://192.167.255.255/v1',
  'http://192.169.0.0/v1',
  'http://1.0.0.0/v1',
  'http://[fe00::1]/v1',
  'http://[fec0::1]/v1',
  'http://[fbff:ffff::1]/v1',
  'http://[fe00::1]/v1',
];

const LOOPBACK = ['http://127.0.0.1:11434', 'http://127.1:8000/v1', 'http://127.255.255.254/v1', 'http://[::1]:8000/v1', 'http://localhost:8000/v1', 'http://[::ffff:127.0.0.1]:8000/v1'];

describe('classifying upstream addresses', () => {
  it('puts each bound on the right side', () => {
    expect(classifyAddress('169.253.255.255')).toBe('public');
    expect(classifyAddress('169.254.0.0')).toBe('link-local');
    expect(classifyAddress('169.254.255.255')).toBe('link-local');
    expect(classifyAddress('169.255.0.0')).toBe('public');
    expect(classifyAddress('172.15.255.255')).toBe('public');
    expect(classifyAddress('172.16.0.0')).toBe('private');
    expect(classifyAddress('172.31.255.255')).toBe('private');
    expect(classifyAddress('172.32.0.0')).toBe('public');
    expect(classifyAddress('100.63.255.255')).toBe('public');
    expect(classifyAddress('100.64.0.0')).toBe('private');
    expect(classifyAddress('100.127.255.255')).toBe('private');
    expect(classifyAddress('100.128.0.0')).toBe('public');
    expect(classifyAddress('0.255.255.255')).toBe('private');
    expect(classifyAddress('1.0.0.0')).toBe('public');
    expect(classifyAddress('126.255.255.255')).toBe('public');
    expect(classifyAddress('127.0.0.0')).toBe('loopback');
    expect(classifyAddress('127.255.255.255')).toBe('loopback');
    expect(classifyAddress('128.0.0.0')).toBe('public');
    expect(classifyAddress('fe80::')).toBe('link-local');
    expect(classifyAddress('febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('link-local');
    expect(classifyAddress('fec0::')).toBe('public');
    expect(classifyAddress('fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('public');
    expect(classifyAddress('fc00::')).toBe('private');
    expect(classifyAddress('fd00:ec2::254')).toBe('link-local');
    expect(classifyAddress('fd00:ec2::253')).toBe('private');
    expect(classifyAddress('::1')).toBe('loopback');
    expect(classifyAddress('::ffff:169.254.169.254')).toBe('link-local');
    expect(classifyAddress('::ffff:127.0.0.1')).toBe('loopback');
    expect(classifyAddress('2606:4700::1111')).toBe('public');
  });
});

describe('base URLs set through the admin API', () => {
  let server: TestServer;
  let permissive: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    permissive = await startTestServer({ SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS: 'true' });
  });
  afterAll(async () => {
    await server?.stop();
    await permissive?.stop();
  });

  async function expectRefused(target: TestServer, baseUrl: string, reason: RegExp): Promise<void> {
    const providersBefore = await target.graphql(PROVIDERS);
    const auditBefore = (await target.graphql<AuditData>(AUDIT)).data?.auditLog.totalCount;
    // Both a new provider and an existing one moved there.
    for (const id of ['intruder', 'openai']) {
      const body = await target.graphql(UPSERT, { input: { id, baseUrl } });
      expect(body.errors?.[0]?.extensions, `${id} → ${baseUrl}`).toMatchObject({ code: 'BAD_REQUEST', field: 'baseUrl' });
      expect(body.errors?.[0]?.message, baseUrl).toMatch(reason);
    }
    expect(await target.graphql(PROVIDERS)).toEqual(providersBefore);
    expect((await target.graphql<AuditData>(AUDIT)).data?.auditLog.totalCount).toBe(auditBefore);
  }

  it('refuses link-local and metadata addresses in every spelling, even where private upstreams are allowed, and changes nothing', async () => {
    for (const baseUrl of ALWAYS_REFUSED) {
      await expectRefused(server, baseUrl, /baseUrl refused: .* is a link-local or cloud metadata address/);
      await expectRefused(permissive, baseUrl, /link-local or cloud metadata address/);
    }
  });

  it('refuses private addresses by default, naming the setting that allows them', async () => {
    for (const baseUrl of PRIVATE) await expectRefused(server, baseUrl, /is a private network address \(set SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS=true/);
  });

  it('accepts private addresses with SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS=true', async () => {
    for (const [index, baseUrl] of PRIVATE.entries()) {
      const body = await permissive.graphql(UPSERT, { input: { id: `private-${index}`, baseUrl } });
      expect(body.errors, baseUrl).toBeUndefined();
    }
  });

  it('accepts loopback and the public addresses just outside each refused range', async () => {
    for (const [index, baseUrl] of [...LOOPBACK, ...PUBLIC_NEIGHBOURS].entries()) {
      const body = await server.graphql(UPSERT, { input: { id: `allowed-${index}`, baseUrl } });
      expect(body.errors, baseUrl).toBeUndefined();
    }
  });

  it('refuses schemes other than http and https', async () => {
    for (const baseUrl of ['ftp://127.0.0.1/v1', 'file:///etc/passwd', 'gopher://127.0.0.1:70/', 'ws://127.0.0.1:8000/v1', 'data:text/plain,hi']) {
      await expectRefused(server, baseUrl, /absolute http\(s\) URL/);
    }
  });
});

describe('a provider key does not follow a base URL change', () => {
  const masterKey = randomBytes(32).toString('base64');
  let operator: FakeUpstream;
  let elsewhere: FakeUpstream;
  let server: TestServer | undefined;

  beforeAll(async () => {
    operator = await startFakeOpenAI();
    // Answers whatever it is sent, so the test sees every header the gateway chose to send.
    elsewhere = await startFakeChatCompletions({ apiKey: null });
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(async () => {
    await operator.close();
    await elsewhere.close();
  });

  it('an environment key is not sent to a base URL set through the API (fails before the fix: the key followed)', async () => {
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: operator.url });
    expect((await server.graphql(complete('openai/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(operator)).toBe(`Bearer ${FAKE_OPENAI_KEY}`);

    const moved = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: elsewhere.url } });
    expect(moved.errors).toBeUndefined();
    expect(moved.data?.['upsertProvider']).toEqual({ id: 'openai', enabled: true, hasApiKey: false });
    const answered = await server.graphql(complete('openai/gpt-4o-mini'));
    expect(answered.errors).toBeUndefined();
    expect(elsewhere.received.length).toBeGreaterThan(0);
    expect(authorizationOf(elsewhere)).toBeUndefined();
    expect(JSON.stringify(elsewhere.received)).not.toContain(FAKE_OPENAI_KEY);
  });

  it('a key given in the same call goes to the new base URL, and moving back restores the environment key', async () => {
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: operator.url, SWITCHBOARD_MASTER_KEY: masterKey });
    // While at its configured base URL, the provider takes its key from the environment only.
    const refused = await server.graphql(UPSERT, { input: { id: 'openai', apiKey: 'sk-admin-given' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'apiKey' });

    const moved = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: elsewhere.url, apiKey: 'sk-admin-given' } });
    expect(moved.data?.['upsertProvider']).toEqual({ id: 'openai', enabled: true, hasApiKey: true });
    expect((await server.graphql(complete('openai/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(elsewhere)).toBe('Bearer sk-admin-given');

    const back = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: operator.url } });
    expect(back.data?.['upsertProvider']).toEqual({ id: 'openai', enabled: true, hasApiKey: true });
    expect((await server.graphql(complete('openai/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(operator)).toBe(`Bearer ${FAKE_OPENAI_KEY}`);

    const entries = await auditEntries(server, 'openai');
    const withheld = entries.find((entry) => entry.after['environmentKey'] === 'withheld');
    expect(withheld?.after).toMatchObject({ apiKeyChange: 'set', baseUrlChange: { from: operator.url, to: elsewhere.url } });
    const restored = entries.find((entry) => entry.after['environmentKey'] === 'restored');
    // Moving back drops the key that was given for the other host.
    expect(restored?.after).toMatchObject({ apiKeyChange: 'dropped', baseUrlChange: { from: elsewhere.url, to: operator.url } });
    expect(JSON.stringify(entries)).not.toContain('sk-admin-given');
    expect(JSON.stringify(entries)).not.toContain(FAKE_OPENAI_KEY);
  });

  it('neither the key nor the headers of SWITCHBOARD_PROVIDERS follow, and the audit entry says so', async () => {
    const declared = [{ id: 'vllm', baseUrl: operator.url, apiKey: FAKE_OPENAI_KEY, headers: { 'x-tenant-secret': 'tenant-secret-value' } }];
    server = await startTestServer({ SWITCHBOARD_PROVIDERS: JSON.stringify(declared) });
    const moved = await server.graphql(UPSERT, { input: { id: 'vllm', baseUrl: elsewhere.url } });
    expect(moved.data?.['upsertProvider']).toEqual({ id: 'vllm', enabled: true, hasApiKey: false });
    expect((await server.graphql(complete('vllm/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(elsewhere)).toBeUndefined();
    expect(elsewhere.received.at(-1)?.headers['x-tenant-secret']).toBeUndefined();

    const [entry] = await auditEntries(server, 'vllm');
    expect(entry?.action).toBe('provider.update');
    expect(entry?.after).toMatchObject({ environmentKey: 'withheld', baseUrlChange: { from: operator.url, to: elsewhere.url } });
    expect(String((entry?.after['notices'] as string[] | undefined)?.join(' '))).toMatch(/no longer sends its environment key or headers/);
  });

  it('a sealed key is dropped when the base URL changes without a new one', async () => {
    server = await startTestServer({ SWITCHBOARD_MASTER_KEY: masterKey });
    const set = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: operator.url, apiKey: FAKE_OPENAI_KEY } });
    expect(set.data?.['upsertProvider']).toEqual({ id: 'openai', enabled: true, hasApiKey: true });
    expect((await server.graphql(complete('openai/gpt-4o-mini'))).errors).toBeUndefined();

    const before = elsewhere.received.length;
    const moved = await server.graphql(UPSERT, { input: { id: 'openai', baseUrl: elsewhere.url } });
    // A built-in provider without a key does not run: nothing reaches the new host at all.
    expect(moved.data?.['upsertProvider']).toEqual({ id: 'openai', enabled: false, hasApiKey: false });
    expect((await server.graphql(complete('openai/gpt-4o-mini'))).errors?.[0]?.extensions?.['code']).toBe('MODEL_NOT_FOUND');
    expect(elsewhere.received.length).toBe(before);

    // A self-hosted provider may run keyless: it keeps serving, without the key.
    await server.graphql(UPSERT, { input: { id: 'house', baseUrl: operator.url, apiKey: FAKE_OPENAI_KEY } });
    expect((await server.graphql(complete('house/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(operator)).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
    const house = await server.graphql(UPSERT, { input: { id: 'house', baseUrl: elsewhere.url } });
    expect(house.data?.['upsertProvider']).toEqual({ id: 'house', enabled: true, hasApiKey: false });
    expect((await server.graphql(complete('house/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(elsewhere)).toBeUndefined();

    const db = new Database(server.databasePath, { readonly: true });
    const rows = db.prepare(`select id, api_key_ciphertext from providers where id in ('openai', 'house') order by id`).all();
    db.close();
    expect(rows).toEqual([
      { id: 'house', api_key_ciphertext: null },
      { id: 'openai', api_key_ciphertext: null },
    ]);

    for (const id of ['openai', 'house']) {
      const dropped = (await auditEntries(server, id)).find((entry) => entry.after['apiKeyChange'] === 'dropped');
      expect(dropped?.after, id).toMatchObject({ baseUrlChange: { from: operator.url, to: elsewhere.url } });
      expect(String((dropped?.after['notices'] as string[] | undefined)?.join(' '))).toMatch(/the stored API key \(given for http:\/\/127\.0\.0\.1:\d+\/v1\) was dropped; set apiKey/);
    }
  });

  it('a key given with the new base URL is kept', async () => {
    server = await startTestServer({ SWITCHBOARD_MASTER_KEY: masterKey });
    await server.graphql(UPSERT, { input: { id: 'house', baseUrl: operator.url, apiKey: 'sk-old-host' } });
    const moved = await server.graphql(UPSERT, { input: { id: 'house', baseUrl: elsewhere.url, apiKey: 'sk-new-host' } });
    expect(moved.data?.['upsertProvider']).toEqual({ id: 'house', enabled: true, hasApiKey: true });
    expect((await server.graphql(complete('house/gpt-4o-mini'))).errors).toBeUndefined();
    expect(authorizationOf(elsewhere)).toBe('Bearer sk-new-host');
  });
});

describe('the guarded connection pool (DNS rebinding)', () => {
  let upstream: Server;
  let port: number;
  let connections = 0;
  const guards: UpstreamGuard[] = [];

  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('{}'));
    upstream.on('connection', () => connections++);
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const guard of guards) await guard.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** A guard whose DNS answers `rebind.example` with the given addresses, whatever the real DNS says. */
  function guardResolvingTo(addresses: string[], allowPrivate = false): UpstreamGuard {
    const guard = createUpstreamGuard(
      { allowPrivate },
      { resolve: async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })) },
    );
    guards.push(guard);
    return guard;
  }

  it('refuses a host name that resolves to a metadata address, before any connection is made', async () => {
    const before = connections;
    const guard = guardResolvingTo(['169.254.169.254']);
    await expect(request(`http://rebind.example:${port}/v1/models`, { dispatcher: guard.dispatcher })).rejects.toThrow(
      /Refused to connect to rebind\.example: it resolves to 169\.254\.169\.254, a link-local or cloud metadata address/,
    );
    // One public address beside a metadata one is refused too: happy eyeballs could pick either.
    await expect(request(`http://rebind.example:${port}/`, { dispatcher: guardResolvingTo(['127.0.0.1', '::ffff:169.254.169.254']).dispatcher })).rejects.toThrow(/link-local/);
    await expect(request(`http://rebind.example:${port}/`, { dispatcher: guardResolvingTo(['10.1.2.3']).dispatcher })).rejects.toThrow(/private network address/);
    expect(connections).toBe(before);
  });

  it('connects when the name resolves to loopback (and to a private address where allowed)', async () => {
    const before = connections;
    const response = await request(`http://rebind.example:${port}/`, { dispatcher: guardResolvingTo(['127.0.0.1']).dispatcher });
    expect(response.statusCode).toBe(200);
    await response.body.text();
    expect(connections).toBe(before + 1);
    // Allowed private addresses pass the guard; 127.0.0.1 stands in for the private host, since the test can only listen locally.
    const permissive = guardResolvingTo(['127.0.0.1'], true);
    const again = await request(`http://rebind.example:${port}/`, { dispatcher: permissive.dispatcher });
    await again.body.text();
    expect(again.statusCode).toBe(200);
  });

  it('refuses IP literals at connect time too (a base URL stored before the check existed)', async () => {
    const guard = guardResolvingTo(['127.0.0.1']);
    await expect(request(`http://[::ffff:169.254.169.254]:${port}/`, { dispatcher: guard.dispatcher })).rejects.toThrow(/Refused to connect to ::ffff:a9fe:a9fe: it is a link-local/);
    await expect(request(`http://2852039166:${port}/`, { dispatcher: guard.dispatcher })).rejects.toThrow(/Refused to connect to 169\.254\.169\.254/);
  });

  it('an adapter given the guarded pool reports the refusal as a provider network error naming the provider', async () => {
    const before = connections;
    const adapter = createOpenAICompatibleAdapter({ id: 'house', kind: 'openai_compatible', name: 'House', baseUrl: `http://rebind.example:${port}/v1`, dispatcher: guardResolvingTo(['169.254.169.254']).dispatcher });
    const failure = await adapter
      .complete({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }, { signal: new AbortController().signal })
      .then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderError);
    expect((failure as ProviderError).kind).toBe('network');
    expect((failure as ProviderError).message).toMatch(/Could not reach house: Refused to connect to rebind\.example: it resolves to 169\.254\.169\.254/);
    expect(connections).toBe(before);
  });

  it('the gateway calls stored providers through it: a base URL stored before the check existed is refused at connect', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'switchboard-upstreams-'));
    const databasePath = join(directory, 'legacy.db');
    const configFor = () => loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${databasePath}`, SWITCHBOARD_LOCAL_DELAY_MS: '0' });
    try {
      const first = buildApp(configFor(), { logger: pino({ level: 'silent' }) });
      await first.start();
      await first.stop();
      const db = new Database(databasePath);
      const now = Date.now();
      db.prepare(`insert into providers (id, name, kind, base_url, enabled, api_key_ciphertext, created_at, updated_at) values (?, ?, 'openai_compatible', ?, 1, null, ?, ?)`)
        .run('legacy', 'Legacy', 'http://[::ffff:169.254.169.254]/v1', now, now);
      // A host name that really resolves: localhost is loopback, so the guarded lookup lets it through.
      db.prepare(`insert into providers (id, name, kind, base_url, enabled, api_key_ciphertext, created_at, updated_at) values (?, ?, 'openai_compatible', ?, 1, null, ?, ?)`)
        .run('named', 'Named', `http://localhost:${port}/v1`, now, now);
      db.close();

      const app = buildApp(configFor(), { logger: pino({ level: 'silent' }) });
      const { url } = await app.start();
      try {
        const call = async (model: string): Promise<{ errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> => {
          const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: complete(model) }) });
          return (await response.json()) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
        };
        const started = Date.now();
        const refused = await call('legacy/m');
        expect(refused.errors?.[0]?.extensions?.['code']).toBe('PROVIDER_ERROR');
        // Refused by the guard at once, not after waiting on a connection to an unroutable address.
        expect(Date.now() - started).toBeLessThan(5000);
        const health = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ provider(id: "legacy") { health { lastError } } }` }) });
        expect(JSON.stringify(await health.json())).toMatch(/Refused to connect to ::ffff:a9fe:a9fe: it is a link-local or cloud metadata address/);

        const before = connections;
        await call('named/m');
        expect(connections).toBeGreaterThan(before);
      } finally {
        await app.stop();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
