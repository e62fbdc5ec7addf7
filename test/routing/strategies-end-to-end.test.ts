import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import type { DelayedUpstream } from '../fakes/delay.js';
import { waitFor } from '../helpers/subscriptions.js';
import { SHARED_MODELS, ask, startRoutingFixture, type RoutingFixture } from './fixture.js';
import { RecordingClock } from './helpers.js';

// Latency is measured on this manual clock: an endpoint is slow because the test moves the clock while it answers.
const clock = new RecordingClock();
let fixture: RoutingFixture;
beforeAll(async () => {
  // The weighted strategy's spread (and a per-model strategy from configuration) is checked on a seeded random in
  // strategies.test.ts; 400 real requests here only measured the same ratio again, slowly.
  fixture = await startRoutingFixture({ SWITCHBOARD_MAX_RETRIES: '0' }, { clock });
});
afterAll(async () => {
  await fixture.stop();
});

describe('strategies against real upstreams', () => {
  it('sorts by price when asked, where the default order would not', async () => {
    expect((await fixture.complete(ask(SHARED_MODELS.gptOss20b))).providerId).toBe('groq');
    expect((await fixture.complete(ask(SHARED_MODELS.gptOss20b, 'cheap', { provider: { sort: 'price' } }))).providerId).toBe('together');
  });

  it('shifts traffic to the faster endpoint by latency, and back once the other recovers', async () => {
    const latency = { provider: { sort: 'latency' as const } };
    const arrivals = (): number => fixture.groq.arrivals() + fixture.together.arrivals();
    /** Sends `count` requests one by one; one that reaches `slow` is held there while the clock moves 150 ms. */
    const served = async (count: number, slow: DelayedUpstream): Promise<string[]> => {
      const providers: string[] = [];
      for (let index = 0; index < count; index++) {
        const before = { all: arrivals(), slow: slow.arrivals() };
        const release = slow.hold();
        const pending = fixture.complete(ask(SHARED_MODELS.llama8b, 'how fast', latency));
        await waitFor(() => arrivals() > before.all || undefined);
        if (slow.arrivals() > before.slow) await clock.advance(150);
        release();
        providers.push((await pending).providerId);
      }
      return providers;
    };
    const slowGroq = await served(25, fixture.groq);
    expect(slowGroq.filter((id) => id === 'together').length).toBeGreaterThanOrEqual(19);

    const recovered = await served(30, fixture.together);
    // Exploration finds the recovered endpoint within a few requests; after that it takes the traffic back.
    expect(recovered.slice(15).filter((id) => id === 'groq').length).toBeGreaterThanOrEqual(12);
  });
});

describe('request preferences', () => {
  const model = SHARED_MODELS.kimi;

  it('order, only and ignore choose the provider', async () => {
    expect((await fixture.complete(ask(model))).providerId).toBe('groq');
    expect((await fixture.complete(ask(model, 'hi', { provider: { order: ['together'] } }))).providerId).toBe('together');
    expect((await fixture.complete(ask(model, 'hi', { provider: { only: ['together'] } }))).providerId).toBe('together');
    expect((await fixture.complete(ask(model, 'hi', { provider: { ignore: ['groq'] } }))).providerId).toBe('together');
  });

  it('allowFallbacks false keeps to the providers in order', async () => {
    const togetherBefore = fixture.together.received.length;
    fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
    await expect(fixture.complete(ask(model, 'no fallback', { provider: { order: ['groq'], allowFallbacks: false } }))).rejects.toMatchObject({ code: 'PROVIDER_ERROR', status: 500 });
    expect(fixture.together.received.length).toBe(togetherBefore);
    fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
    expect((await fixture.complete(ask(model, 'fallback', { provider: { order: ['groq'] } }))).providerId).toBe('together');
  });

  it('refuses preferences that leave no endpoint', async () => {
    const error = await fixture.complete(ask(model, 'hi', { provider: { only: ['openai'] } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ field: 'provider' });
  });

  it('go through GraphQL and the REST facade alike', async () => {
    const body = await fixture.server.graphql<{ createCompletion: { provider: { id: string } } }>(
      'mutation ($input: CompletionInput!) { createCompletion(input: $input) { provider { id } } }',
      { input: { model: SHARED_MODELS.gptOss20b, messages: [{ role: 'USER', content: 'hi' }], provider: { sort: 'PRICE', ignore: ['openrouter'] } } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.createCompletion.provider.id).toBe('together');

    const post = (provider: Record<string, unknown>) =>
      fetch(`${fixture.server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-anything' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], provider }),
      });
    const ordered = await post({ order: ['together'], allow_fallbacks: false });
    expect(ordered.status).toBe(200);
    expect(ordered.headers.get('x-switchboard-provider')).toBe('together');
    const refused = await post({ only: ['nobody'] });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { param: 'provider' } });
  });
});

describe('what the request needs', () => {
  it('sends a request with tools past a model that takes none, to a fallback model that does', async () => {
    const withTools = { tools: [{ name: 'look', parameters: { type: 'object' } }], models: [SHARED_MODELS.kimi] };
    const result = await fixture.complete(ask('local/echo', 'use a tool', withTools));
    expect(result.providerId).toBe('groq');
    expect(result.model?.id).toBe(SHARED_MODELS.kimi);
    expect((await fixture.complete(ask('local/echo', 'no tools', { models: [SHARED_MODELS.kimi] }))).providerId).toBe('local');
  });

  it('sends images only to a model that reads them', async () => {
    const image = { model: SHARED_MODELS.llama70b, models: [SHARED_MODELS.maverick], messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'what is it?' }, { type: 'image' as const, url: 'data:image/png;base64,AAAA' }] }] };
    const result = await fixture.complete(image);
    expect(result.model?.id).toBe(SHARED_MODELS.maverick);
  });

  it('skips an endpoint whose context the prompt does not fit', async () => {
    fixture.setContextLength('groq', SHARED_MODELS.scout, 50);
    try {
      expect((await fixture.complete(ask(SHARED_MODELS.scout, 'short'))).providerId).toBe('groq');
      expect((await fixture.complete(ask(SHARED_MODELS.scout, 'a rather long prompt '.repeat(40)))).providerId).toBe('together');
    } finally {
      fixture.setContextLength('groq', SHARED_MODELS.scout, null);
    }
  });
});
