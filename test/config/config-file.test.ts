import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { checkConfig } from '../../src/cli/check-config.js';
import { ConfigFileError, loadConfig } from '../../src/config.js';
import { listAudit } from '../../src/db/audit.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { sqliteOf } from '../helpers/app.js';

const ADMIN_KEY = 'sb-admin-key-for-config-file-tests-0123456789';
const BOOTSTRAP_SECRET = 'sb-bootstrap-secret-from-the-environment-0123456789';
const HOUSE_KEY = 'sk-house-upstream-key-0123456789abcdef';

let directory: string;
let house: FakeUpstream;
let backup: FakeUpstream;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
  [house, backup] = await Promise.all([startFakeOpenAI({ apiKey: HOUSE_KEY, models: ['llama-3-70b'] }), startFakeOpenAI({ apiKey: null, models: ['backup-llm'] })]);
});
afterAll(async () => {
  await Promise.all([house.close(), backup.close()]);
  rmSync(directory, { recursive: true, force: true });
});

/** A file with every section: two providers, models with aliases, endpoints and prices, routing, limits, a key. */
function fullConfig(extra = ''): string {
  return `# every section of switchboard.yaml
providers:
  - id: house
    kind: OPENAI_COMPATIBLE
    name: House vLLM
    baseUrl: ${house.url}
    apiKey: \${HOUSE_KEY}
    headers:
      x-house-team: platform
  - id: backup
    kind: OPENAI_COMPATIBLE
    baseUrl: ${backup.url}

models:
  - id: house/llama-3-70b
    contextLength: 8192
    aliases: [llama, solo]
    endpoints:
      - provider: house
        providerModelId: llama-3-70b
        promptPerMillion: 0.5
        completionPerMillion: 1.5
  - id: house/backup-llm
    aliases: [backup-llm]
    endpoints:
      - provider: backup
        providerModelId: backup-llm
        promptPerMillion: 0
        completionPerMillion: 0
${extra}
routing:
  strategy: ordered
  attemptTimeoutMs: 20000
  models:
    llama:
      fallbacks: [backup-llm]
      maxRetries: 0
    solo:
      maxRetries: 0

limits:
  maxBodyBytes: 123456
  corsOrigins: [https://app.example.com]

keys:
  - name: ci-bootstrap
    secret: \${BOOTSTRAP_SECRET}
    scopes: [COMPLETIONS, READ]
    rateLimit:
      requestsPerMinute: 100
    budget:
      limitUsd: 5
      period: MONTHLY
`;
}

let fileCount = 0;
function writeConfig(text: string): string {
  const path = join(directory, `switchboard-${++fileCount}.yaml`);
  writeFileSync(path, text);
  return path;
}

function environment(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(directory, `db-${fileCount}-${Math.random().toString(36).slice(2)}.db`)}`,
    SWITCHBOARD_LOCAL_DELAY_MS: '0',
    SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
    SWITCHBOARD_CONFIG: path,
    HOUSE_KEY,
    BOOTSTRAP_SECRET,
    ...extra,
  };
}

interface Running {
  app: App;
  url: string;
}
const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((entry) => entry.app.stop()));
});

/** Starts the gateway as index.ts does: config from the environment and the file, reloads reading them again. */
async function start(env: Record<string, string>): Promise<Running> {
  const app = buildApp(loadConfig(env), { logger: pino({ level: 'silent' }), loadConfig: () => loadConfig(env) });
  const { url } = await app.start();
  const entry = { app, url };
  running.push(entry);
  return entry;
}

async function chat(url: string, model: string, key: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

function problemsOf(run: () => unknown): ConfigFileError['problems'] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigFileError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigFileError');
}

describe('a config file with every section', () => {
  it('starts the gateway: a declared provider serves a declared alias with its key and headers, and a bootstrap key authenticates', async () => {
    const { url } = await start(environment(writeConfig(fullConfig())));
    const before = house.received.length;
    const answer = await chat(url, 'llama', BOOTSTRAP_SECRET);
    expect(answer.status).toBe(200);
    const sent = house.received[before];
    expect(sent?.body).toMatchObject({ model: 'llama-3-70b' });
    expect(sent?.headers['authorization']).toBe(`Bearer ${HOUSE_KEY}`);
    expect(sent?.headers['x-house-team']).toBe('platform');
    // The declared price applies: the model is priced from the file's endpoint.
    const model = await graphql(url, `{ model(id: "llama") { id pricing { promptPerMillion completionPerMillion } } }`);
    expect(model.data?.['model']).toEqual({ id: 'house/llama-3-70b', pricing: { promptPerMillion: 0.5, completionPerMillion: 1.5 } });
    // The other side: a secret the file does not declare is refused.
    expect((await chat(url, 'llama', 'sb-not-a-declared-key-0123456789abcdef')).status).toBe(401);
  });

  it('stores the bootstrap key hashed with its scopes, limits and budget, once across restarts', async () => {
    const env = environment(writeConfig(fullConfig()));
    const first = await start(env);
    const keys = await graphql(first.url, `{ apiKeys { edges { node { name prefix scopes rateLimit { requestsPerMinute } budget { limitUsd period } } } } }`);
    expect(keys.errors).toBeUndefined();
    const nodes = (keys.data?.['apiKeys'] as { edges: Array<{ node: Record<string, unknown> }> }).edges.map((edge) => edge.node);
    expect(nodes).toEqual([{ name: 'ci-bootstrap', prefix: BOOTSTRAP_SECRET.slice(0, 11), scopes: ['COMPLETIONS', 'READ'], rateLimit: { requestsPerMinute: 100 }, budget: { limitUsd: 5, period: 'MONTHLY' } }]);
    await first.app.stop();
    const second = await start(env);
    const again = await graphql(second.url, `{ apiKeys { edges { node { name } } } }`);
    expect((again.data?.['apiKeys'] as { edges: unknown[] }).edges).toHaveLength(1);
  });

  it('routes as declared: per-model fallbacks take over when the primary fails, and a model without them fails', async () => {
    const { url } = await start(environment(writeConfig(fullConfig())));
    house.enqueue({ kind: 'error', error: 'server_error' });
    const backupBefore = backup.received.length;
    const rescued = await chat(url, 'llama', BOOTSTRAP_SECRET);
    expect(rescued.status).toBe(200);
    expect(backup.received.length).toBe(backupBefore + 1);
    expect(backup.received.at(-1)?.body).toMatchObject({ model: 'backup-llm' });

    house.enqueue({ kind: 'error', error: 'server_error' });
    const alone = await chat(url, 'solo', BOOTSTRAP_SECRET);
    expect(alone.status).toBe(502);
    expect(backup.received.length).toBe(backupBefore + 1);
  });

  it('routes by the declared strategy and endpoint weights, and follows changed weights on reload', async () => {
    const pair = (houseWeight: number, backupWeight: number): string =>
      fullConfig(`  - id: house/pair
    aliases: [pair]
    endpoints:
      - provider: house
        providerModelId: pair-model
        promptPerMillion: 0
        completionPerMillion: 0
        weight: ${houseWeight}
      - provider: backup
        providerModelId: pair-model
        promptPerMillion: 0
        completionPerMillion: 0
        weight: ${backupWeight}
`).replace('    solo:\n', '    pair:\n      strategy: weighted\n    solo:\n');
    const path = writeConfig(pair(0, 1));
    const { app, url } = await start(environment(path));
    const last = (fake: FakeUpstream): unknown => fake.received.at(-1)?.body;
    const houseBefore = house.received.length;
    for (let i = 0; i < 3; i++) {
      expect((await chat(url, 'pair', BOOTSTRAP_SECRET)).status).toBe(200);
      expect(last(backup)).toMatchObject({ model: 'pair-model' });
    }
    expect(house.received.length).toBe(houseBefore);
    writeFileSync(path, pair(1, 0));
    expect(await app.reloadConfig()).toEqual({ ok: true });
    const backupBefore = backup.received.length;
    for (let i = 0; i < 3; i++) expect((await chat(url, 'pair', BOOTSTRAP_SECRET)).status).toBe(200);
    expect(house.received.length).toBe(houseBefore + 3);
    expect(backup.received.length).toBe(backupBefore);
  });

  it('applies routing and limits from the file, and an environment variable beats the file for the same setting', () => {
    const path = writeConfig(fullConfig());
    const fromFile = loadConfig(environment(path));
    expect(fromFile.limits.maxBodyBytes).toBe(123456);
    expect(fromFile.limits.corsOrigins).toEqual(['https://app.example.com']);
    expect(fromFile.routing.attemptTimeoutMs).toBe(20000);
    expect(fromFile.routing.models['llama']).toEqual({ fallbacks: ['backup-llm'], maxRetries: 0 });

    const overridden = loadConfig(
      environment(path, {
        SWITCHBOARD_MAX_BODY_BYTES: '999',
        SWITCHBOARD_ATTEMPT_TIMEOUT_MS: '777',
        SWITCHBOARD_ROUTING_MODELS: JSON.stringify({ llama: { strategy: 'price' } }),
        SWITCHBOARD_PROVIDERS: JSON.stringify([{ id: 'backup', baseUrl: 'http://127.0.0.1:9/v1' }]),
      }),
    );
    expect(overridden.limits.maxBodyBytes).toBe(999);
    expect(overridden.limits.corsOrigins).toEqual(['https://app.example.com']);
    expect(overridden.routing.attemptTimeoutMs).toBe(777);
    expect(overridden.routing.models['llama']).toEqual({ strategy: 'price' });
    expect(overridden.routing.models['solo']).toEqual({ maxRetries: 0 });
    expect(overridden.providers.find((provider) => provider.id === 'backup')?.baseUrl).toBe('http://127.0.0.1:9/v1');
    // The environment's provider is no longer the file's to own.
    expect(overridden.configFile?.providerIds).toEqual(['house']);
  });

  it('lets a built-in provider declared in the file take its preset variables over the file values', () => {
    const path = writeConfig(`providers:\n  - id: openai\n    kind: OPENAI\n    baseUrl: http://127.0.0.1:1/v1\n    apiKey: \${HOUSE_KEY}\n`);
    const fileOnly = loadConfig(environment(path)).providers.find((provider) => provider.id === 'openai');
    expect(fileOnly).toMatchObject({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: HOUSE_KEY });
    const withEnv = loadConfig(environment(path, { OPENAI_BASE_URL: 'http://127.0.0.1:2/v1', OPENAI_API_KEY: 'sk-from-env-0123456789' })).providers.find((provider) => provider.id === 'openai');
    expect(withEnv).toMatchObject({ baseUrl: 'http://127.0.0.1:2/v1', apiKey: 'sk-from-env-0123456789' });
  });
});

describe('a broken config file fails start-up naming the file, line and field', () => {
  it('resolves ${ENV} references, and a missing variable names its line and field', () => {
    const path = writeConfig(fullConfig());
    expect(loadConfig(environment(path)).providers.find((provider) => provider.id === 'house')?.apiKey).toBe(HOUSE_KEY);
    const env = environment(path);
    delete env['HOUSE_KEY'];
    const problems = problemsOf(() => loadConfig(env));
    expect(problems).toEqual([{ file: path, line: 7, column: 13, field: 'providers[0].apiKey', message: 'environment variable HOUSE_KEY is not set' }]);
  });

  it('reports bad YAML syntax with its line', () => {
    const path = writeConfig('providers:\n  - id: house\n    kind: [OPENAI_COMPATIBLE\n');
    const problems = problemsOf(() => loadConfig(environment(path)));
    expect(problems[0]?.file).toBe(path);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(problems[0]?.message).toMatch(/^YAML: /);
  });

  it('reports a wrong type and an unknown provider kind at their lines and fields', () => {
    const path = writeConfig(`providers:\n  - id: house\n    kind: VLLM\n    baseUrl: http://127.0.0.1:8000/v1\nrouting:\n  maxRetries: many\n`);
    const problems = problemsOf(() => loadConfig(environment(path)));
    expect(problems).toEqual([
      expect.objectContaining({ file: path, line: 3, column: 11, field: 'providers[0].kind', message: expect.stringContaining('OPENAI_COMPATIBLE') }),
      expect.objectContaining({ file: path, line: 6, column: 15, field: 'routing.maxRetries', message: expect.stringMatching(/number/) }),
    ]);
    // Start-up refuses it with one line per problem, each naming file:line:column and field.
    expect(() => loadConfig(environment(path))).toThrow(`${path}:3:11 providers[0].kind:`);
  });

  it('reports a missing required field at the entry that lacks it, and an unknown key', () => {
    const path = writeConfig(`providers:\n  - id: house\n    kind: OPENAI_COMPATIBLE\nmodelz: []\n`);
    const problems = problemsOf(() => loadConfig(environment(path)));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 2, field: 'providers[0].baseUrl', message: 'Required' }),
        expect.objectContaining({ line: 1, field: '', message: expect.stringContaining('modelz') }),
      ]),
    );
  });

  it('names the line of a model the catalog refuses at start-up, and starts when it is fixed', async () => {
    const path = writeConfig(`models:\n  - id: house/x\n    aliases: [ok-alias]\n  - id: house/y\n    aliases: [local/echo]\n`);
    const env = environment(path);
    const broken = buildApp(loadConfig(env), { logger: pino({ level: 'silent' }) });
    await expect(broken.start()).rejects.toThrow(`${path}:4 models[1] (house/y): local/echo is a model id, so it cannot be an alias`);
    await broken.stop();
    writeFileSync(path, `models:\n  - id: house/x\n    aliases: [ok-alias]\n`);
    const { url } = await start({ ...env, DATABASE_URL: `file:${join(directory, 'fixed.db')}` });
    expect((await graphql(url, `{ model(id: "ok-alias") { id } }`)).data?.['model']).toEqual({ id: 'house/x' });
  });

  it('names a missing SWITCHBOARD_CONFIG file', () => {
    const path = join(directory, 'nowhere.yaml');
    expect(problemsOf(() => loadConfig(environment(path)))).toEqual([{ file: path, line: 1, column: 1, field: '', message: 'file not found' }]);
  });
});

describe('reloading the config file (SIGHUP)', () => {
  it('applies a new alias and writes an audit entry; a broken file keeps the old config', async () => {
    const path = writeConfig(fullConfig());
    const env = environment(path);
    const { app, url } = await start(env);
    expect((await chat(url, 'house-llama', BOOTSTRAP_SECRET)).status).toBe(404);

    writeFileSync(path, fullConfig().replace('aliases: [llama, solo]', 'aliases: [llama, solo, house-llama]'));
    expect(await app.reloadConfig()).toEqual({ ok: true });
    expect((await chat(url, 'house-llama', BOOTSTRAP_SECRET)).status).toBe(200);
    const entries = listAudit(sqliteOf(app.services), { targetType: 'config' }, { limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'config.reload', targetId: path, actorKeyId: null });
    expect(JSON.stringify(entries[0]?.after)).toContain('house-llama');
    // No secret reaches the trail.
    expect(JSON.stringify(entries)).not.toContain(HOUSE_KEY);
    expect(JSON.stringify(entries)).not.toContain(BOOTSTRAP_SECRET);

    writeFileSync(path, 'providers:\n  - id: house\n    kind: NOPE\n');
    const broken = await app.reloadConfig();
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.error).toContain(`${path}:3:11 providers[0].kind`);
    expect((await chat(url, 'house-llama', BOOTSTRAP_SECRET)).status).toBe(200);
    expect(app.services.config.configFile?.providerIds).toEqual(['house', 'backup']);
    expect(listAudit(sqliteOf(app.services), { targetType: 'config' }, { limit: 10 })).toHaveLength(1);
  });

  it('applies changed routing and drops a provider the file no longer declares', async () => {
    const path = writeConfig(fullConfig());
    const { app, url } = await start(environment(path));
    writeFileSync(path, fullConfig().replace('fallbacks: [backup-llm]', 'fallbacks: []'));
    expect(await app.reloadConfig()).toEqual({ ok: true });
    house.enqueue({ kind: 'error', error: 'server_error' });
    expect((await chat(url, 'llama', BOOTSTRAP_SECRET)).status).toBe(502);

    const withoutBackup = fullConfig()
      .replace(/  - id: backup\n    kind: OPENAI_COMPATIBLE\n    baseUrl: .*\n/, '')
      .replace(/  - id: house\/backup-llm[\s\S]*?completionPerMillion: 0\n/, '')
      .replace('fallbacks: [backup-llm]', 'fallbacks: []');
    writeFileSync(path, withoutBackup);
    expect(await app.reloadConfig()).toEqual({ ok: true });
    expect(app.services.registry.has('backup')).toBe(false);
    expect(app.services.registry.has('house')).toBe(true);
  });
});

describe('providers owned by the config file', () => {
  it('the admin API refuses to edit a file-owned provider, and still adds and edits its own', async () => {
    const { url } = await start(environment(writeConfig(fullConfig())));
    const refused = await graphql(url, `mutation { upsertProvider(input: { id: "house", baseUrl: "http://127.0.0.1:9999/v1" }) { id } }`);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(refused.errors?.[0]?.message).toContain('config file');

    const added = await graphql(url, `mutation { upsertProvider(input: { id: "lab", baseUrl: "http://127.0.0.1:9998/v1" }) { id } }`);
    expect(added.errors).toBeUndefined();
    const edited = await graphql(url, `mutation { upsertProvider(input: { id: "lab", name: "Lab box" }) { id name } }`);
    expect(edited.data?.['upsertProvider']).toEqual({ id: 'lab', name: 'Lab box' });
  });
});

describe('check-config', () => {
  it('reports ok for a valid file and every problem of a broken one, without starting anything', () => {
    const good = writeConfig(fullConfig());
    expect(checkConfig(good, environment(good))).toEqual({ ok: true, path: good, errors: [] });

    const bad = writeConfig(`providers:\n  - id: house\n    kind: VLLM\n    baseUrl: not a url\n`);
    const result = checkConfig(bad, environment(bad));
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([expect.stringMatching(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:11 providers\\[0\\]\\.kind: `)), expect.stringContaining(':4:14 providers[0].baseUrl: ')]);
  });
});

describe('SIGHUP on the running process', () => {
  it('re-reads the file: a new alias becomes servable without a restart', async () => {
    const { spawn } = await import('node:child_process');
    const path = writeConfig(fullConfig());
    const env: Record<string, string | undefined> = { ...process.env, ...environment(path), LOG_LEVEL: 'info' };
    delete env['SWITCHBOARD_ADMIN_KEY'];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const logged = (pattern: RegExp): Promise<string> =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${output}`)), 20_000);
          const check = (): void => {
            const match = pattern.exec(output);
            if (match) {
              clearTimeout(timer);
              child.stdout.off('data', onData);
              resolve(match[1] ?? match[0]);
            }
          };
          const onData = (chunk: Buffer): void => {
            output += chunk.toString();
            check();
          };
          child.stdout.on('data', onData);
          check();
        });
      const url = await logged(/"url":"(http:\/\/[^"]+)"/);
      const model = (id: string): Promise<number> => fetch(`${url}/v1/models/${id}`, { headers: { authorization: 'Bearer any' } }).then((response) => response.status);
      expect(await model('house-llama')).toBe(404);
      writeFileSync(path, fullConfig().replace('aliases: [llama, solo]', 'aliases: [llama, solo, house-llama]'));
      child.kill('SIGHUP');
      await logged(/configuration reloaded/);
      expect(await model('house-llama')).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }, 30_000);
});

describe('the annotated example', () => {
  it('is valid, and the README shows it whole', async () => {
    const { readFileSync } = await import('node:fs');
    const example = readFileSync('switchboard.example.yaml', 'utf8');
    const env = { HOUSE_KEY, ANTHROPIC_API_KEY: 'sk-ant-example', SWITCHBOARD_CI_KEY: BOOTSTRAP_SECRET, DATABASE_URL: 'file::memory:' };
    expect(checkConfig('switchboard.example.yaml', env)).toEqual({ ok: true, path: 'switchboard.example.yaml', errors: [] });
    // Without the referenced variables it names each missing one.
    expect(checkConfig('switchboard.example.yaml', { DATABASE_URL: 'file::memory:' }).errors).toHaveLength(3);
    expect(readFileSync('README.md', 'utf8')).toContain(example);
    // No literal secret in the example: every apiKey and secret is a ${VAR} reference.
    for (const line of example.split('\n').filter((text) => /^\s*(apiKey|secret):/.test(text))) expect(line).toMatch(/:\s*\$\{[A-Z_]+\}/);
  });
});
