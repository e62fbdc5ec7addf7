import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { ArrivalGate, FAKE_OPENAI_KEY, startFakeOpenAI, type SizedAnswers } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * Issue 14, item 5: a budget must admit what it can afford. 20 parallel calls against a budget of 5.5 times one
 * call's actual cost admit 4 to 6 and overshoot by at most one call; against 100 times, all 20 run together. Each
 * case gets its own gateway, so the completion history one case builds does not shape the next one's reservations.
 */

const ADMIN = 'admin-secret-for-tests-0123456789';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { id warnings usage { completionTokens } } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`;
const ME = `{ me { budget { limitUsd spentUsd remainingUsd } } }`;

interface Body {
  data?: { createCompletion: { id: string; warnings: string[]; usage: { completionTokens: number } } } | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

const MODELS = [
  { id: 'openai/gpt-4o-mini', outputLimit: 16_384 },
  { id: 'openai/gpt-5.6-sol', outputLimit: 128_000 },
] as const;
const MAX_TOKENS = 2000;
const PARALLEL = 20;

interface Gateway {
  server: TestServer;
  fake: FakeUpstream;
  sized: SizedAnswers;
}

describe('budget liveness (20 parallel calls)', () => {
  const open: Gateway[] = [];
  afterEach(async () => {
    for (const { server, fake } of open.splice(0)) {
      await server.stop();
      await fake.close();
    }
  });

  async function gateway(sized: SizedAnswers): Promise<Gateway> {
    const fake = await startFakeOpenAI({ sizedAnswers: sized });
    const server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
    const created = { server, fake, sized };
    open.push(created);
    return created;
  }

  async function createKey(server: TestServer, input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const body = await server.graphql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_KEY, { input }, bearer(ADMIN));
    expect(body.errors).toBeUndefined();
    return { id: body.data!.createApiKey.apiKey.id, secret: body.data!.createApiKey.secret };
  }

  function costOf(server: TestServer, generationId: string): number {
    const db = new Database(server.databasePath, { readonly: true });
    const row = db.prepare('select cost_picos as cost from generations where id = ?').get(generationId) as { cost: number };
    db.close();
    return row.cost;
  }

  function spentBy(server: TestServer, keyId: string): number {
    const db = new Database(server.databasePath, { readonly: true });
    const row = db.prepare('select coalesce(sum(cost_picos), 0) as spent from generations where api_key_id = ?').get(keyId) as { spent: number };
    db.close();
    return row.spent;
  }

  const input = (model: string, maxTokens: number | undefined) => ({
    input: { model, messages: [{ role: 'USER', content: 'spend some budget' }], ...(maxTokens === undefined ? {} : { maxTokens }) },
  });

  /** One call on a key without a budget: its cost is "one call's actual cost", and it seeds the completion history. */
  async function calibrate({ server }: Gateway, model: string, maxTokens: number | undefined): Promise<number> {
    const key = await createKey(server, { name: 'calibration', scopes: ['COMPLETIONS'] });
    const body = (await server.graphql(COMPLETE, input(model, maxTokens), bearer(key.secret))) as Body;
    expect(body.errors).toBeUndefined();
    return costOf(server, body.data!.createCompletion.id);
  }

  /**
   * 20 calls at once. With a gate, the admitted calls' answers are held until every call was admitted or refused
   * (each refused call has answered, each admitted one waits at the gate), so all 20 are decided while the
   * admitted ones are in flight, however slow the machine.
   */
  async function burst(server: TestServer, secret: string, model: string, maxTokens: number | undefined, gate?: ArrivalGate): Promise<Body[]> {
    let answered = 0;
    const calls = Array.from({ length: PARALLEL }, () => (server.graphql(COMPLETE, input(model, maxTokens), bearer(secret)) as Promise<Body>).finally(() => answered++));
    if (gate !== undefined) {
      await waitUntil(() => answered + gate.waiting >= PARALLEL || answered === PARALLEL, 20_000);
      gate.release();
    }
    return Promise.all(calls);
  }

  const code = (body: Body) => body.errors?.[0]?.extensions?.['code'];

  for (const model of MODELS) {
    for (const maxTokens of [MAX_TOKENS, undefined]) {
      for (const fraction of [0.1, 0.9]) {
        const name = `${model.id}, ${maxTokens === undefined ? 'without' : 'with'} maxTokens, upstream writes ${fraction * 100} % of its limit`;

        it(`admits 4 to 6 of 20 on a 5.5-call budget, within one call of it: ${name}`, async () => {
          const gw = await gateway({ fraction, outputLimit: model.outputLimit });
          const oneCall = await calibrate(gw, model.id, maxTokens);
          expect(oneCall).toBeGreaterThan(0);
          // Budgets are kept to the micro-dollar; round down so the limit is never more than 5.5 calls.
          const limitPicos = Math.floor((5.5 * oneCall) / 1e6) * 1e6;
          const key = await createKey(gw.server, { name: 'budget 5.5', scopes: ['COMPLETIONS'], budget: { limitUsd: limitPicos / 1e12 } });
          const gate = new ArrivalGate(PARALLEL, 20_000);
          gw.sized.gate = gate;
          const results = await burst(gw.server, key.secret, model.id, maxTokens, gate);
          const admitted = results.filter((body) => body.errors === undefined);
          const refused = results.filter((body) => body.errors !== undefined);
          const spent = spentBy(gw.server, key.id);
          const me = await gw.server.graphql<{ me: { budget: { remainingUsd: number } } }>(ME, {}, bearer(key.secret));
          const refusedCodes = refused.map(code);
          console.log(
            `5.5-call budget, ${name}: one call ${oneCall} picos, ${admitted.length} admitted, refused ${JSON.stringify(countBy(refusedCodes))}, ` +
              `spent ${spent} of ${limitPicos} picos (${((100 * (limitPicos - spent)) / limitPicos).toFixed(1)} % left, remainingUsd ${me.data?.me.budget.remainingUsd}), ` +
              `capped answers: ${admitted.filter((body) => body.data!.createCompletion.warnings.some((warning) => /budget/.test(warning))).length}`,
          );
          expect(admitted.length).toBeGreaterThanOrEqual(4);
          expect(admitted.length).toBeLessThanOrEqual(6);
          // Every refusal came while admitted calls were in flight and the recorded spend was below the limit.
          for (const refusal of refusedCodes) expect(refusal).toBe('RATE_LIMITED');
          expect(spent).toBeLessThanOrEqual(limitPicos + oneCall);
        });

        it(`admits all 20, in flight together, on a 100-call budget: ${name}`, async () => {
          const gw = await gateway({ fraction, outputLimit: model.outputLimit });
          const oneCall = await calibrate(gw, model.id, maxTokens);
          const limitPicos = Math.floor((100 * oneCall) / 1e6) * 1e6;
          const key = await createKey(gw.server, { name: 'budget 100', scopes: ['COMPLETIONS'], budget: { limitUsd: limitPicos / 1e12 } });
          const gate = new ArrivalGate(PARALLEL, 10_000);
          gw.sized.gate = gate;
          const results = await burst(gw.server, key.secret, model.id, maxTokens);
          const admitted = results.filter((body) => body.errors === undefined);
          console.log(`100-call budget, ${name}: ${admitted.length} admitted, refused ${JSON.stringify(countBy(results.filter((body) => body.errors).map(code)))}, ${gate.peak} held upstream at once`);
          expect(admitted).toHaveLength(PARALLEL);
          expect(gate.openedByCount).toBe(true);
          expect(gate.peak).toBe(PARALLEL);
          expect(spentBy(gw.server, key.id)).toBeLessThanOrEqual(limitPicos);
        });
      }
    }
  }
});

describe('budget refusals and caps', () => {
  it('caps max_tokens at what the budget can pay, refuses a budget held in flight as retryable, and a spent one as not', async () => {
    const sized: SizedAnswers = { fraction: 0.9, outputLimit: 16_384 };
    const fake = await startFakeOpenAI({ sizedAnswers: sized });
    const server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
    try {
      const create = async (input: Record<string, unknown>) => (await server.graphql<{ createApiKey: { secret: string } }>(CREATE_KEY, { input }, bearer(ADMIN))).data!.createApiKey.secret;
      const ask = { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'spend some budget' }] } };
      const calibration = (await server.graphql(COMPLETE, ask, bearer(await create({ name: 'calibration', scopes: ['COMPLETIONS'] })))) as Body;
      const db = new Database(server.databasePath, { readonly: true });
      const oneCall = (db.prepare('select cost_picos as cost from generations where id = ?').get(calibration.data!.createCompletion.id) as { cost: number }).cost;
      db.close();
      // A budget of one call: the model's whole output (16,384 tokens) costs more than that, so the call is capped.
      const secret = await create({ name: 'one call', scopes: ['COMPLETIONS'], budget: { limitUsd: Math.floor(oneCall / 1e6) / 1e6 } });
      const gate = new ArrivalGate(2, 1500);
      sized.gate = gate;
      const held = server.graphql(COMPLETE, ask, bearer(secret)) as Promise<Body>;
      await waitUntil(() => fake.received.length === 2);
      const rest = (body: Record<string, unknown>) =>
        fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { ...bearer(secret), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const restAsk = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'spend some budget' }] };

      const busy = await rest(restAsk);
      expect(busy.status).toBe(429);
      expect(busy.headers.get('x-should-retry')).toBe('true');
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('rate_limited');

      const answered = await held;
      expect(answered.errors).toBeUndefined();
      const capped = (fake.received[1]!.body as { max_completion_tokens?: number }).max_completion_tokens;
      expect(capped).toBeGreaterThan(0);
      expect(capped).toBeLessThan(16_384);
      expect(answered.data!.createCompletion.warnings.join(' ')).toContain(`maxTokens was capped at ${capped}`);

      // An upstream that ignores the cap spends the rest: then the budget is spent, which no retry changes.
      sized.gate = undefined;
      fake.enqueue({ kind: 'text', text: 'long', promptTokens: 10, completionTokens: 16_000 });
      expect(((await server.graphql(COMPLETE, ask, bearer(secret))) as Body).errors).toBeUndefined();
      const spent = await rest(restAsk);
      expect(spent.status).toBe(429);
      expect(spent.headers.get('x-should-retry')).toBe('false');
      expect(((await spent.json()) as { error: { type: string } }).error.type).toBe('insufficient_quota');
    } finally {
      await server.stop();
      await fake.close();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > timeoutMs) throw new Error(`condition not reached in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function countBy(values: unknown[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}
