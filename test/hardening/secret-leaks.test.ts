import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ProviderError, redactUpstreamError } from '../../src/providers/errors.js';
import { MAX_REDACTED_TEXT, MIN_SECRET_LENGTH, SecretRedactor, secretsOf } from '../../src/providers/redaction.js';
import type { FakeUpstream, Script } from '../conformance/harness.js';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { subscribeSse, type ExecutionResultLike } from '../helpers/subscriptions.js';

/**
 * Issue 14, item 2: an upstream that echoes a credential must not get it past the gateway. Each adapter family is
 * driven through the real gateway (GraphQL and REST, streamed and not) with a fake that echoes a secret the gateway
 * holds — an environment key, a custom header value from SWITCHBOARD_PROVIDERS, a key sealed through the API — in
 * every path that carries upstream text: a non-2xx body, a 2xx error envelope, an in-stream error event, an event
 * split across two TCP chunks, and JSON-escaped, unicode-escaped and URL-encoded spellings. The secret must appear
 * nowhere a caller, an operator or a log reader can see it; the text around it must survive; and a caller without
 * ADMIN sees a generic message instead of the upstream's text.
 *
 * Each case collects what went wrong as a list, so one run reports every leak rather than stopping at the first.
 */

// Keys with `/` and `"`, which JSON escapes, and a distinctive tail that must not survive even partially.
const OPENAI_KEY = 'sk-proj-Q7/x"T9zLp2+Vd8mWc4Rb6Ns1KTailOpenAi93xq';
const ANTHROPIC_KEY = 'sk-ant-api03-Zx9/Wv8_Ut7-Sr6"Qp5On4TailAnthropic81';
const GEMINI_KEY = 'AIzaSyD-Fake0123456789abcdTailGeminiKq47';
const ACME_HEADER_SECRET = 'acme-hdr-5e1f9a7c/3b2d"8e6fTailAcmeHeader52';
const OLLAMA_SEALED_KEY = 'olk-proxy-Secret/42"abcdTailOllamaSealed66';
const ADMIN_KEY = 'sb-admin-secret-leaks-test-key';

const BEFORE = 'ECHO-BEFORE';
const AFTER = 'ECHO-AFTER';

/** `"` and `\` escaped as JSON.stringify does, and `/` as `\/`, as PHP and some Java encoders write it. */
function jsonEscaped(secret: string): string {
  return JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/');
}
/** Every letter as a `\u00XX` escape, the way a JSON encoder with ASCII-only output could write it. */
function unicodeEscaped(secret: string): string {
  return [...secret].map((char) => (/[a-z]/i.test(char) ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(char).slice(1, -1))).join('');
}
function tail(secret: string): string {
  return secret.slice(secret.indexOf('Tail'));
}
/** Every spelling of the secret that would count as a leak. */
function spellings(secret: string): string[] {
  return [secret, jsonEscaped(secret), unicodeEscaped(secret), encodeURIComponent(secret), tail(secret)];
}

/**
 * What a reader could recover from a text: the text itself, with up to three rounds of JSON string escapes undone
 * (a GraphQL or REST body escapes the message once more), and percent-decoded.
 */
function views(text: string): string[] {
  const found = [text];
  let current = text;
  for (let round = 0; round < 3; round++) {
    current = current.replace(/\\u([0-9a-fA-F]{4})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/\\(.)/g, '$1');
    found.push(current);
  }
  for (const view of [...found]) found.push(view.replace(/%(?:25)*([0-9a-fA-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16))));
  return found;
}

type Echo = 'plain' | 'json-escaped' | 'unicode-escaped' | 'url-encoded';

function echoText(secret: string, echo: Echo): string {
  switch (echo) {
    case 'plain':
      return `${BEFORE} Incorrect credential provided: ${secret}. ${AFTER}`;
    case 'json-escaped':
      return `${BEFORE} proxy refused headers {"authorization":"Bearer ${jsonEscaped(secret)}"} ${AFTER}`;
    case 'unicode-escaped':
      return `${BEFORE} bad key "${unicodeEscaped(secret)}" ${AFTER}`;
    case 'url-encoded':
      return `${BEFORE} upstream GET https://proxy.example/v1?key=${encodeURIComponent(secret)}&x=1 ${AFTER}`;
  }
}

interface Target {
  provider: string;
  model: string;
  /** The secret this provider's calls carry (Ollama: a key sealed through the API). */
  secret: string;
  hasErrorEnvelope: boolean;
  fake: () => FakeUpstream;
}

type PathName = 'non-2xx' | '2xx envelope' | 'in-stream error' | 'in-stream error split across chunks';

interface Case {
  path: PathName;
  echo: Echo;
  streamed: boolean;
  script: (text: string, secret: string) => Script;
}

const CASES: Case[] = [
  ...(['plain', 'json-escaped', 'unicode-escaped', 'url-encoded'] as const).map(
    (echo): Case => ({ path: 'non-2xx', echo, streamed: false, script: (text) => ({ kind: 'error', error: 'server_error', message: text }) }),
  ),
  { path: '2xx envelope', echo: 'plain', streamed: false, script: (text) => ({ kind: 'error', error: 'server_error', message: text, status: 200 }) },
  { path: '2xx envelope', echo: 'json-escaped', streamed: false, script: (text) => ({ kind: 'error', error: 'server_error', message: text, status: 200 }) },
  { path: 'in-stream error', echo: 'plain', streamed: true, script: (text) => ({ kind: 'mid-stream-error', textBefore: 'Hello there', message: text }) },
  { path: 'in-stream error', echo: 'url-encoded', streamed: true, script: (text) => ({ kind: 'mid-stream-error', textBefore: 'Hello there', message: text }) },
  {
    path: 'in-stream error split across chunks',
    echo: 'plain',
    streamed: true,
    // Cut inside the secret itself, so no single chunk holds it whole.
    script: (text, secret) => ({ kind: 'mid-stream-error', textBefore: 'Hello there', message: text, splitAfter: secret.slice(0, 12) }),
  },
  {
    path: 'in-stream error split across chunks',
    echo: 'plain',
    streamed: true,
    // Before the first token: the failure ends the attempt rather than a stream already under way.
    script: (text, secret) => ({ kind: 'mid-stream-error', textBefore: '', message: text, splitAfter: secret.slice(0, 12) }),
  },
];

/** Every pino line the gateway wrote. */
const logLines: string[] = [];

interface Outcome {
  leaks: string[];
  /** Upstream text a caller without ADMIN could read. */
  exposures: string[];
  /** Normal text around the secret that did not survive for an admin. */
  overRedactions: string[];
}
const tally: Record<string, Outcome> = {};

describe('provider secrets echoed by an upstream', () => {
  const fakes: Record<string, FakeUpstream> = {};
  let app: App;
  let url: string;
  let directory: string;
  let databasePath: string;
  let userKey: string;

  const targets: Target[] = [
    { provider: 'openai', model: 'openai/gpt-4o-mini', secret: OPENAI_KEY, hasErrorEnvelope: true, fake: () => fakes['openai']! },
    { provider: 'acme', model: 'acme/acme-chat', secret: ACME_HEADER_SECRET, hasErrorEnvelope: true, fake: () => fakes['acme']! },
    { provider: 'anthropic', model: 'anthropic/claude-sonnet-4-5', secret: ANTHROPIC_KEY, hasErrorEnvelope: false, fake: () => fakes['anthropic']! },
    { provider: 'gemini', model: 'gemini/gemini-2.5-flash', secret: GEMINI_KEY, hasErrorEnvelope: true, fake: () => fakes['gemini']! },
    { provider: 'ollama', model: 'ollama/llama3.2:latest', secret: OLLAMA_SEALED_KEY, hasErrorEnvelope: true, fake: () => fakes['ollama']! },
  ];

  async function graphql(query: string, variables: Record<string, unknown>, token: string): Promise<ExecutionResultLike> {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as ExecutionResultLike;
  }

  beforeAll(async () => {
    fakes['openai'] = await startFakeOpenAI({ apiKey: OPENAI_KEY });
    fakes['acme'] = await startFakeOpenAI({ apiKey: null });
    fakes['anthropic'] = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
    fakes['gemini'] = await startFakeGemini({ apiKey: GEMINI_KEY });
    fakes['ollama'] = await startFakeOllama({ apiKey: OLLAMA_SEALED_KEY });
    directory = mkdtempSync(join(tmpdir(), 'switchboard-leaks-'));
    databasePath = join(directory, 'leaks.db');
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${databasePath}`,
      SWITCHBOARD_LOCAL_DELAY_MS: '0',
      SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
      SWITCHBOARD_MASTER_KEY: randomBytes(32).toString('base64'),
      // One attempt per request and no circuit opening: each case sees exactly its own scripted failure.
      SWITCHBOARD_MAX_RETRIES: '0',
      SWITCHBOARD_BREAKER_FAILURES: '100000',
      // The failure-rate rule still opens circuits; a 1 ms cooldown lets the next case's attempt through as the probe.
      SWITCHBOARD_BREAKER_COOLDOWN_MS: '1',
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: fakes['openai'].url,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: fakes['anthropic'].url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: fakes['gemini'].url,
      SWITCHBOARD_PROVIDERS: JSON.stringify([{ id: 'acme', name: 'Acme', baseUrl: fakes['acme'].url, headers: { 'x-acme-token': ACME_HEADER_SECRET, 'x-title': 'Switchboard' } }]),
    });
    app = buildApp(config, { logger: createLogger('debug', { write: (line: string) => void logLines.push(line) }) });
    ({ url } = await app.start());

    // Ollama takes no key from the environment: this one is sealed through the admin API.
    const upsert = await graphql(
      `mutation($input: ProviderInput!) { upsertProvider(input: $input) { id enabled } }`,
      { input: { id: 'ollama', baseUrl: fakes['ollama'].url, apiKey: OLLAMA_SEALED_KEY } },
      ADMIN_KEY,
    );
    expect(upsert.errors).toBeUndefined();
    const created = await graphql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`,
      { input: { name: 'not an admin', scopes: ['COMPLETIONS', 'READ'] } },
      ADMIN_KEY,
    );
    userKey = (created.data?.['createApiKey'] as { secret: string }).secret;
  });

  afterAll(async () => {
    await app?.stop();
    for (const fake of Object.values(fakes)) await fake.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
    const totals = Object.values(tally).reduce((sum, outcome) => ({ leaks: sum.leaks + outcome.leaks.length, exposures: sum.exposures + outcome.exposures.length, overRedactions: sum.overRedactions + outcome.overRedactions.length }), {
      leaks: 0,
      exposures: 0,
      overRedactions: 0,
    });
    // The figures the note reports (before and after the fix).
    const report = process.env['SECRET_LEAKS_REPORT'];
    if (report) writeFileSync(report, JSON.stringify(tally, null, 2));
    console.info(`secret-leaks: ${Object.keys(tally).length} cases, ${totals.leaks} secret leaks, ${totals.exposures} upstream texts shown to a non-admin, ${totals.overRedactions} over-redactions`);
  });

  const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { id message { content } } }`;
  const STREAM = `subscription($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionError { code message } } }`;

  /** What a caller is told, by GraphQL and by REST, of one failing request. */
  async function graphqlFailure(target: Target, streamed: boolean, token: string): Promise<string> {
    const input = { model: target.model, messages: [{ role: 'USER', content: 'hi' }] };
    if (!streamed) return JSON.stringify((await graphql(COMPLETE, { input }, token)).errors ?? 'no errors');
    const results = await subscribeSse(url, STREAM, { input }, { headers: { authorization: `Bearer ${token}` } });
    return JSON.stringify(results);
  }
  async function restFailure(target: Target, streamed: boolean, token: string): Promise<string> {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: target.model, messages: [{ role: 'user', content: 'hi' }], stream: streamed }),
    });
    return `${response.status} ${await response.text()}`;
  }

  function leakedIn(where: string, text: string, secret: string, outcome: Outcome): void {
    const decoded = views(text);
    for (const spelling of spellings(secret)) {
      if (decoded.some((view) => view.includes(spelling))) {
        outcome.leaks.push(`${where}: ${JSON.stringify(spelling)}`);
        return;
      }
    }
    // Every secret the gateway holds, not only this provider's: one redactor knows them all.
    for (const other of [OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, ACME_HEADER_SECRET, OLLAMA_SEALED_KEY]) {
      if (other !== secret && decoded.some((view) => view.includes(tail(other)))) outcome.leaks.push(`${where}: another provider's secret`);
    }
  }

  /** The ledger rows of one provider's requests: each case looks at its own provider's rows. */
  function ledgerText(provider: string): string {
    const db = new Database(databasePath, { readonly: true });
    try {
      return JSON.stringify(db.prepare(`select error_code, error_message, attempts from generations where provider_id = ?`).all(provider));
    } finally {
      db.close();
    }
  }

  for (const target of targets) {
    for (const testCase of CASES) {
      if (testCase.path === '2xx envelope' && !target.hasErrorEnvelope) continue;
      const label = `${target.provider}: ${testCase.path}, ${testCase.echo} echo${testCase.streamed ? ', streamed' : ''} (#${CASES.indexOf(testCase)})`;
      it(label, { timeout: 30_000 }, async () => {
        const outcome: Outcome = { leaks: [], exposures: [], overRedactions: [] };
        tally[label] = outcome;
        const text = echoText(target.secret, testCase.echo);
        const fake = target.fake();
        const logsBefore = logLines.length;

        // An admin: the upstream's text, redacted, with what surrounds the secret intact.
        for (const [transport, run] of [
          ['GraphQL', graphqlFailure],
          ['REST', restFailure],
        ] as const) {
          fake.enqueue(testCase.script(text, target.secret));
          const shown = await run(target, testCase.streamed, ADMIN_KEY);
          leakedIn(`admin ${transport} error`, shown, target.secret, outcome);
          if (!shown.includes(BEFORE) || !shown.includes(AFTER)) outcome.overRedactions.push(`admin ${transport} error lost the text around the secret: ${shown.slice(0, 300)}`);
        }

        // A key without ADMIN: the code, the provider and a generic message.
        for (const [transport, run] of [
          ['GraphQL', graphqlFailure],
          ['REST', restFailure],
        ] as const) {
          fake.enqueue(testCase.script(text, target.secret));
          const shown = await run(target, testCase.streamed, userKey);
          leakedIn(`non-admin ${transport} error`, shown, target.secret, outcome);
          if (shown.includes(BEFORE) || shown.includes(AFTER)) outcome.exposures.push(`non-admin ${transport} error shows upstream text`);
          if (!shown.includes(target.provider)) outcome.exposures.push(`non-admin ${transport} error does not name the provider: ${shown.slice(0, 200)}`);
        }

        // The ledger keeps the redacted upstream text, for admins.
        const ledger = ledgerText(target.provider);
        leakedIn('ledger row', ledger, target.secret, outcome);
        if (!ledger.includes(BEFORE)) outcome.overRedactions.push('the ledger lost the upstream text');

        const LEDGER = `query($provider: ID!) { generations(first: 4, filter: { provider: $provider }) { edges { node { errorCode errorMessage attempts { errorMessage } } } } }`;
        const adminLedger = JSON.stringify(await graphql(LEDGER, { provider: target.provider }, ADMIN_KEY));
        leakedIn('Generation.errorMessage (admin)', adminLedger, target.secret, outcome);
        if (!adminLedger.includes(BEFORE)) outcome.overRedactions.push('Generation.errorMessage lost the upstream text for an admin');
        const userLedger = JSON.stringify(await graphql(LEDGER, { provider: target.provider }, userKey));
        leakedIn('Generation.errorMessage (non-admin)', userLedger, target.secret, outcome);
        if (userLedger.includes(BEFORE)) outcome.exposures.push('Generation.errorMessage or Attempt.errorMessage shows upstream text to a non-admin');

        const HEALTH = `query($id: ID!) { provider(id: $id) { id health { lastError endpoints { lastError } } } }`;
        const adminHealth = JSON.stringify(await graphql(HEALTH, { id: target.provider }, ADMIN_KEY));
        leakedIn('Provider.health.lastError (admin)', adminHealth, target.secret, outcome);
        if (!adminHealth.includes(BEFORE)) outcome.overRedactions.push(`Provider.health.lastError lost the upstream text for an admin: ${adminHealth.slice(0, 200)}`);
        const userHealth = JSON.stringify(await graphql(HEALTH, { id: target.provider }, userKey));
        leakedIn('Provider.health.lastError (non-admin)', userHealth, target.secret, outcome);
        if (userHealth.includes(BEFORE)) outcome.exposures.push('Provider.health.lastError shows upstream text to a non-admin');

        leakedIn('logs', logLines.slice(logsBefore).join(''), target.secret, outcome);

        expect(outcome).toEqual({ leaks: [], exposures: [], overRedactions: [] });
      });
    }
  }

  it('leaves normal text alone when a configured secret is short or common', async () => {
    // x-title is a header value too, but not a secret; and the upstream's own wording must reach an admin whole.
    const fake = fakes['acme']!;
    fake.enqueue({ kind: 'error', error: 'bad_request', message: `${BEFORE} Switchboard asked for acme-chat, which needs a paid plan ${AFTER}` });
    const shown = await restFailure(targets[1]!, false, ADMIN_KEY);
    expect(shown).toContain(`${BEFORE} Switchboard asked for acme-chat, which needs a paid plan ${AFTER}`);
  });

  it('keeps the gateway’s own messages for a key without ADMIN', async () => {
    const bad = await graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', temperature: 7, messages: [{ role: 'USER', content: 'hi' }] } }, userKey);
    expect(bad.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    expect(bad.errors?.[0]?.message).toMatch(/temperature/);
    const unknown = await graphql(COMPLETE, { input: { model: 'nobody/none', messages: [{ role: 'USER', content: 'hi' }] } }, userKey);
    expect(unknown.errors?.[0]?.message).toMatch(/nobody\/none/);
  });
});

describe('the secret redactor', () => {
  const secret = 'sk-proj-Ab/Cd"Ef\\Gh0123456789';
  const redactor = new SecretRedactor([secret]);

  it('redacts every spelling an upstream may echo, and nothing around it', () => {
    const spelled = [
      secret,
      JSON.stringify(secret).slice(1, -1),
      JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'),
      // Escaped twice: a JSON document quoted inside another's string.
      JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1),
      [...secret].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
      [...secret].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`).join(''),
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
      encodeURIComponent(encodeURIComponent(secret)),
    ];
    for (const spelling of spelled) {
      expect(redactor.redact(`before ${spelling} after`), spelling).toBe('before [redacted] after');
    }
  });

  it('leaves normal text alone: no secret in it, a secret’s prefix, or secrets too short to tell from words', () => {
    const text = 'The model gpt-4o is overloaded; sk-proj-Ab is not a key; retry in 3s. {"error":"x"} %2F \\u0041';
    expect(redactor.redact(text)).toBe(text);
    const short = new SecretRedactor(['', 'beta', 'abc1234', 'x'.repeat(MIN_SECRET_LENGTH - 1)]);
    expect(short.size).toBe(0);
    expect(short.redact('beta testing abc1234 xxxxxxx')).toBe('beta testing abc1234 xxxxxxx');
  });

  it('takes custom header values as secrets, but not the ones that only describe the caller', () => {
    expect(secretsOf({ apiKey: 'sk-env-0123456789', headers: { 'x-gateway-token': 'Bearer gw-0123456789', 'HTTP-Referer': 'https://app.example', 'X-Title': 'My App' } })).toEqual([
      'sk-env-0123456789',
      'Bearer gw-0123456789',
      'gw-0123456789',
    ]);
  });

  it('keeps positions right around odd characters (a byte-order mark, lone surrogates)', () => {
    expect(redactor.redact(`\uFEFF\uD800 x ${JSON.stringify(secret)} \uDC00 y`)).toBe('\uFEFF\uD800 x "[redacted]" \uDC00 y');
  });

  it('stays fast on hostile input (long runs of backslashes and percent signs)', () => {
    const hostile = '\\'.repeat(200_000) + '%25'.repeat(50_000) + secret.slice(0, 10);
    const started = performance.now();
    redactor.redact(hostile);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('cuts megabytes of upstream text to a bounded head, redacting a secret that straddles the cut in any spelling', () => {
    for (const spelled of [secret, JSON.stringify(secret).slice(1, -1).replace(/[a-z]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), encodeURIComponent(encodeURIComponent(secret))]) {
      // The secret starts just before the bound, so a cut that came before redaction would leave its prefix behind.
      const text = 'x'.repeat(MAX_REDACTED_TEXT - 5) + spelled + 'y'.repeat(2_000_000);
      // The fastest of three runs: on a loaded machine (two cores, other suites compiling beside this one) a single
      // run can lose its core for longer than the bound, while reading the whole text would be slow every time.
      const timings: number[] = [];
      let clean = '';
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        clean = redactor.redact(text);
        timings.push(performance.now() - started);
      }
      expect(Math.min(...timings)).toBeLessThan(50);
      expect(clean.length).toBeLessThan(MAX_REDACTED_TEXT + 100);
      expect(clean).toContain('more characters cut');
      expect(clean).not.toContain(secret.slice(0, 5));
      expect(clean).not.toContain(spelled.slice(0, 5));
    }
    // Below the bound nothing is cut.
    const short = 'z'.repeat(MAX_REDACTED_TEXT - 100);
    expect(redactor.redact(short)).toBe(short);
  });

  it('cleans a provider error’s causes, and marks it as upstream text', () => {
    let parseFailure: unknown;
    try {
      JSON.parse(`${secret}!`);
    } catch (error) {
      parseFailure = error;
    }
    const error = new ProviderError(`upstream said ${secret}`, { provider: 'openai', kind: 'malformed_response', upstreamCode: secret, cause: parseFailure });
    const clean = redactUpstreamError(error, (text) => redactor.redact(text)) as ProviderError;
    expect(clean).toBeInstanceOf(ProviderError);
    expect(JSON.stringify({ message: clean.message, code: clean.upstreamCode, cause: String(clean.cause), stack: (clean.cause as Error).stack })).not.toContain('Gh0123456789');
    expect(clean.upstreamText).toBe(true);
    expect(clean.publicMessage).toBe('openai sent a response the gateway could not read');
    expect(clean.withoutUpstreamText().message).toBe('openai sent a response the gateway could not read');
  });
});
