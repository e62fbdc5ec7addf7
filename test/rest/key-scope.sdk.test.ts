import OpenAI, { PermissionDeniedError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/clock.js';
import { startRestFixture, type RestFixture } from './setup.js';

/**
 * What a key sees of the gateway: the models it can call (/v1/models, models(filter: {servable: true})), its
 * rate limits as OpenAI's x-ratelimit-* headers, and spend per end user (the `user` field, usage groupBy USER).
 */

const ADMIN = 'admin-secret-for-key-scope-0123456789';
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`;

/** The real clock, moved forward on demand, so a limit's bucket refills when the test says. */
let offsetMs = 0;
const clock: Clock = {
  now: () => Date.now() + offsetMs,
  setTimeout: (callback, ms) => systemClock.setTimeout(callback, ms),
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
};

let fixture: RestFixture;

async function createKey(input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const body = await fixture.server.graphql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(CREATE_KEY, { input }, { authorization: `Bearer ${ADMIN}` });
  expect(body.errors).toBeUndefined();
  return { id: body.data!.createApiKey.apiKey.id, secret: body.data!.createApiKey.secret };
}

async function listed(client: OpenAI): Promise<string[]> {
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  return ids;
}

beforeAll(async () => {
  fixture = await startRestFixture({ SWITCHBOARD_ADMIN_KEY: ADMIN }, { clock });
});
afterAll(async () => {
  await fixture.stop();
});

describe('GET /v1/models lists what the calling key can use', () => {
  it('a key limited to two models (one named by alias) sees exactly those two', async () => {
    const key = await createKey({ name: 'two models', scopes: ['COMPLETIONS'], allowedModels: ['openai/gpt-4o-mini', 'gpt-4o'] });
    expect((await listed(fixture.client(key.secret))).sort()).toEqual(['openai/gpt-4o', 'openai/gpt-4o-mini']);
    // The GraphQL catalog's servable view is the same list, filtered in SQL.
    const body = await fixture.server.graphql<{ models: { totalCount: number; edges: Array<{ node: { id: string } }> } }>(
      'query { models(first: 200, filter: { servable: true }) { totalCount edges { node { id } } } }',
      {},
      { authorization: `Bearer ${key.secret}` },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.models.edges.map((edge) => edge.node.id)).toEqual(['openai/gpt-4o', 'openai/gpt-4o-mini']);
    expect(body.data?.models.totalCount).toBe(2);
  });

  it('a vendor wildcard keeps that vendor’s servable models only', async () => {
    const key = await createKey({ name: 'local only', scopes: ['COMPLETIONS'], allowedModels: ['local/*'] });
    const ids = await listed(fixture.client(key.secret));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith('local/'))).toBe(true);
  });

  it('by default only models an enabled provider serves; ?all=true gives admins the whole catalog, and refuses others', async () => {
    const admin = fixture.client(ADMIN);
    const servable = await listed(admin);
    const everything = (await (await fetch(`${fixture.server.url}/v1/models?all=true`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { data: Array<{ id: string; available: boolean }> };
    expect(everything.data.length).toBeGreaterThan(servable.length);
    // Exactly the available ones, in the same order: nothing servable is hidden, nothing unservable is shown.
    expect(everything.data.filter((model) => model.available).map((model) => model.id)).toEqual(servable);
    expect(servable).toContain('openai/gpt-4o-mini');
    expect(servable).toContain('local/echo');
    // Anthropic has no key in this gateway: its models are in the catalog but not offered.
    expect(everything.data.some((model) => model.id.startsWith('anthropic/'))).toBe(true);
    expect(servable.some((id) => id.startsWith('anthropic/'))).toBe(false);

    const graphql = await fixture.server.graphql<{ models: { totalCount: number } }>('query { models(filter: { servable: true }) { totalCount } }', {}, { authorization: `Bearer ${ADMIN}` });
    expect(graphql.data?.models.totalCount).toBe(servable.length);

    const key = await createKey({ name: 'no admin', scopes: ['COMPLETIONS'] });
    const refused = await fetch(`${fixture.server.url}/v1/models?all=true`, { headers: { authorization: `Bearer ${key.secret}` } });
    expect(refused.status).toBe(403);
    await expect(fixture.client(key.secret).models.list({ query: { all: 'true' } } as never)).rejects.toBeInstanceOf(PermissionDeniedError);
    const bad = await fetch(`${fixture.server.url}/v1/models?all=yes`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(bad.status).toBe(400);
  });
});

describe('rate-limit headers, as OpenAI sends them', () => {
  it('count down across requests, then a 429 carries them too; a refilled bucket counts again', async () => {
    const key = await createKey({ name: 'rpm 3', scopes: ['COMPLETIONS'], rateLimit: { requestsPerMinute: 3, tokensPerMinute: 100_000 } });
    const client = fixture.client(key.secret);
    const seen: Array<Record<string, string | null>> = [];
    for (let index = 0; index < 3; index++) {
      const { response } = await client.chat.completions.create({ model: 'local/echo', messages: [{ role: 'user', content: `hello ${index}` }] }).withResponse();
      seen.push({
        limit: response.headers.get('x-ratelimit-limit-requests'),
        remaining: response.headers.get('x-ratelimit-remaining-requests'),
        reset: response.headers.get('x-ratelimit-reset-requests'),
        tokenLimit: response.headers.get('x-ratelimit-limit-tokens'),
        tokensRemaining: response.headers.get('x-ratelimit-remaining-tokens'),
      });
    }
    // One request refills in 20 s at 3 per minute: the reset is the time until the bucket is full again.
    expect(seen.map(({ limit, remaining, reset }) => [limit, remaining, reset])).toEqual([
      ['3', '2', '20s'],
      ['3', '1', '40s'],
      ['3', '0', '1m0s'],
    ]);
    expect(seen.every((headers) => headers.tokenLimit === '100000')).toBe(true);
    // Each request's reservation (its prompt and expected completion) is taken off what is left; settling gives back
    // what the answer did not use, and later reservations expect the short answers seen so far.
    const tokens = seen.map((headers) => Number(headers.tokensRemaining));
    expect(tokens.every((remaining) => Number.isInteger(remaining) && remaining >= 0 && remaining < 100_000)).toBe(true);

    const refused = await client.chat.completions.create({ model: 'local/echo', messages: [{ role: 'user', content: 'one more' }] }).withResponse().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RateLimitError);
    const headers = (refused as RateLimitError).headers;
    expect(headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(headers?.get('x-ratelimit-limit-requests')).toBe('3');
    expect(headers?.get('retry-after')).toBeTruthy();

    offsetMs += 60_000;
    const { response } = await client.chat.completions.create({ model: 'local/echo', messages: [{ role: 'user', content: 'refilled' }] }).withResponse();
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('2');
  });

  it('streams carry them with their first bytes; a key without limits gets none', async () => {
    const key = await createKey({ name: 'rpm 50', scopes: ['COMPLETIONS'], rateLimit: { requestsPerMinute: 50 } });
    const { response } = await fixture.client(key.secret).chat.completions.create({ model: 'local/echo', messages: [{ role: 'user', content: 'x' }], stream: true }).withResponse();
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('49');
    expect(response.headers.get('x-ratelimit-reset-requests')).toBe('1.2s');
    // A limit the key does not have is not reported.
    expect(response.headers.get('x-ratelimit-limit-tokens')).toBeNull();
    await response.body?.cancel();

    // The Responses and Messages APIs answer with the same headers from the same bucket.
    const responses = await fixture.client(key.secret).responses.create({ model: 'local/echo', input: 'x' }).withResponse();
    expect(responses.response.headers.get('x-ratelimit-remaining-requests')).toBe('48');
    const messages = await fetch(`${fixture.server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key.secret, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'local/echo', max_tokens: 20, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(messages.headers.get('x-ratelimit-remaining-requests')).toBe('47');
    expect(messages.headers.get('x-ratelimit-limit-requests')).toBe('50');

    const unlimited = await createKey({ name: 'no limits', scopes: ['COMPLETIONS'] });
    const plain = await fixture.client(unlimited.secret).chat.completions.create({ model: 'local/echo', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    expect(plain.response.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });
});

describe('spend per end user', () => {
  it('records user from every transport, filters generations by it, and usage(groupBy: [USER]) sums each one’s cost', async () => {
    const key = await createKey({ name: 'end users', scopes: ['COMPLETIONS', 'READ'] });
    const client = fixture.client(key.secret);
    const costs = new Map<string, number>();
    const add = (user: string, header: string | null): void => {
      expect(header).not.toBeNull();
      costs.set(user, (costs.get(user) ?? 0) + Number(header));
    };
    for (const [user, text] of [['ann', 'first question'], ['ann', 'a second, longer question for ann'], ['bob', 'bob asks once']] as const) {
      const { response } = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: text }], user }).withResponse();
      add(user, response.headers.get('x-switchboard-cost-usd'));
    }
    // The Responses API's user, and GraphQL's CompletionInput.user.
    const responses = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'from the responses api', user: 'cem' }).withResponse();
    add('cem', responses.response.headers.get('x-switchboard-cost-usd'));
    const graphql = await fixture.server.graphql<{ createCompletion: { id: string; usage: { costUsd: number } } }>(
      'mutation($input: CompletionInput!) { createCompletion(input: $input) { id usage { costUsd } } }',
      { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'from graphql' }], user: 'bob' } },
      { authorization: `Bearer ${key.secret}` },
    );
    expect(graphql.errors).toBeUndefined();
    costs.set('bob', (costs.get('bob') ?? 0) + graphql.data!.createCompletion.usage.costUsd);
    // Anthropic's Messages API names its end user in metadata.user_id.
    const messages = await fetch(`${fixture.server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key.secret, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'from messages' }], metadata: { user_id: 'dee' } }),
    });
    expect(messages.status).toBe(200);
    add('dee', messages.headers.get('x-switchboard-cost-usd'));
    // A request that names no user groups under null.
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'anonymous' }] });

    const usage = await fixture.server.graphql<{ usage: Array<{ key: { user: string | null }; requests: number; costUsd: number; costKnown: boolean }> }>(
      `query ($key: String) { usage(groupBy: [USER], filter: { apiKeyId: $key }) { key { user } requests costUsd costKnown } }`,
      { key: key.id },
      { authorization: `Bearer ${ADMIN}` },
    );
    expect(usage.errors).toBeUndefined();
    const byUser = new Map(usage.data!.usage.map((bucket) => [bucket.key.user, bucket]));
    expect([...byUser.keys()].sort()).toEqual(['ann', 'bob', 'cem', 'dee', null].sort());
    expect(byUser.get('ann')?.requests).toBe(2);
    expect(byUser.get('bob')?.requests).toBe(2);
    expect(byUser.get(null)?.requests).toBe(1);
    for (const [user, cost] of costs) {
      expect(byUser.get(user)?.costKnown).toBe(true);
      expect(byUser.get(user)?.costUsd).toBeCloseTo(cost, 12);
      expect(cost).toBeGreaterThan(0);
    }
    // ann's two requests cost more together than bob's first alone: the sums are per user, not one figure shared.
    expect(byUser.get('ann')!.costUsd).not.toBe(byUser.get('cem')!.costUsd);

    const filtered = await fixture.server.graphql<{ generations: { totalCount: number; edges: Array<{ node: { user: string | null } }> } }>(
      'query { generations(filter: { user: "ann" }) { totalCount edges { node { user } } } }',
      {},
      { authorization: `Bearer ${key.secret}` },
    );
    expect(filtered.data?.generations.totalCount).toBe(2);
    expect(filtered.data?.generations.edges.map((edge) => edge.node.user)).toEqual(['ann', 'ann']);
    const onlyAnn = await fixture.server.graphql<{ usage: Array<{ requests: number }> }>('query { usage(filter: { user: "ann" }) { requests } }', {}, { authorization: `Bearer ${key.secret}` });
    expect(onlyAnn.data?.usage).toEqual([{ requests: 2 }]);
  });
});
