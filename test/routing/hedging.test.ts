import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionEvent } from '../../src/completions/types.js';
import { waitFor } from '../helpers/subscriptions.js';
import { SHARED_MODELS, ask, startRoutingFixture, type RoutingFixture } from './fixture.js';

let fixture: RoutingFixture;
beforeAll(async () => {
  fixture = await startRoutingFixture({ SWITCHBOARD_MAX_RETRIES: '0' });
});
afterEach(() => {
  fixture.groq.setDelay(0);
  fixture.together.setDelay(0);
});
afterAll(async () => {
  await fixture.stop();
});

const hedge = (delayMs: number) => ({ provider: { hedge: { delayMs } } });
const textOf = (events: CompletionEvent[]): string => events.map((event) => (event.type === 'delta' ? event.text : '')).join('');
const hedgeSummary = (attempts: ReturnType<RoutingFixture['attempts']>) =>
  attempts.map((attempt) => ({ provider: attempt.providerId, status: attempt.status, errorCode: attempt.errorCode ?? null, hedged: attempt.hedged ?? false }));

describe('hedged requests', () => {
  it('take the endpoint that answers first and abort the slower one, whose connection closes', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    const result = await fixture.complete(ask(SHARED_MODELS.llama70b, 'race', hedge(50)));
    expect(result.providerId).toBe('together');
    expect(result.content).toBe('You said: race');
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
    const attempts = fixture.attempts(result.id);
    expect(hedgeSummary(attempts)).toEqual([
      { provider: 'groq', status: 'CANCELLED', errorCode: 'HEDGE_LOST', hedged: false },
      { provider: 'together', status: 'SUCCEEDED', errorCode: null, hedged: true },
    ]);
    expect(attempts[1]?.startedAfterMs).toBeGreaterThanOrEqual(45);
    expect(attempts[1]?.costPicos).toBe(result.usage.costPicos);
    expect(fixture.generation(result.id).costPicos).toBe(result.usage.costPicos);
  });

  it('do the same for a stream, which only ever shows the winner’s tokens', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    const events = await fixture.stream(ask(SHARED_MODELS.maverick, 'streamed race', hedge(50)));
    expect(events[0]).toMatchObject({ type: 'started', providerId: 'together' });
    expect(textOf(events)).toBe('You said: streamed race');
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
    const started = events[0];
    if (started?.type !== 'started') throw new Error('no started event');
    expect(hedgeSummary(fixture.attempts(started.id)).map((attempt) => [attempt.provider, attempt.errorCode])).toEqual([
      ['groq', 'HEDGE_LOST'],
      ['together', null],
    ]);
  });

  it('cut the wait on a slow endpoint to about the hedge delay', async () => {
    fixture.groq.setDelay(1500);
    const started = Date.now();
    const result = await fixture.complete(ask(SHARED_MODELS.scout, 'slow first', hedge(30)));
    expect(result.providerId).toBe('together');
    expect(Date.now() - started).toBeLessThan(1200);
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
  });

  it('start no second attempt when the first answers within the delay', async () => {
    const togetherBefore = fixture.together.arrivals();
    const result = await fixture.complete(ask(SHARED_MODELS.llama8b, 'quick', hedge(2000)));
    expect(result.providerId).toBe('groq');
    expect(fixture.together.arrivals()).toBe(togetherBefore);
    expect(fixture.attempts(result.id)).toHaveLength(1);
  });

  it('are asked for through GraphQL', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    const body = await fixture.server.graphql<{ createCompletion: { id: string; provider: { id: string } } }>(
      'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id provider { id } } }',
      { input: { model: SHARED_MODELS.kimi, messages: [{ role: 'USER', content: 'hedge me' }], provider: { hedge: { delayMs: 40 } } } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.createCompletion.provider.id).toBe('together');
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
  });
});
