import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionEvent } from '../../src/completions/types.js';
import { waitFor } from '../helpers/subscriptions.js';
import { SHARED_MODELS, ask, startRoutingFixture, type RoutingFixture } from './fixture.js';
import { RecordingClock, watch } from './helpers.js';

// Hedge delays run on this manual clock: a hedge starts when the test moves it, never after real time.
const clock = new RecordingClock();
let fixture: RoutingFixture;
beforeAll(async () => {
  fixture = await startRoutingFixture({ SWITCHBOARD_MAX_RETRIES: '0' }, { clock });
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
/** Waits (bounded) until the first attempt reached groq, then moves the clock to the hedge delay. */
async function hedgeAfter(delayMs: number, groqArrivalsBefore: number): Promise<void> {
  await waitFor(() => (fixture.groq.arrivals() > groqArrivalsBefore ? true : undefined));
  await clock.advance(delayMs);
}
const hedgeSummary = (attempts: ReturnType<RoutingFixture['attempts']>) =>
  attempts.map((attempt) => ({ provider: attempt.providerId, status: attempt.status, errorCode: attempt.errorCode ?? null, hedged: attempt.hedged ?? false }));

describe('hedged requests', () => {
  it('take the endpoint that answers first and abort the slower one, whose connection closes', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    const arrivals = fixture.groq.arrivals();
    const togetherArrivals = fixture.together.arrivals();
    const pending = watch(fixture.complete(ask(SHARED_MODELS.llama70b, 'race', hedge(50))));
    await hedgeAfter(49, arrivals);
    expect(pending.settled).toBe(false);
    expect(fixture.together.arrivals()).toBe(togetherArrivals);
    await clock.advance(1);
    const result = await pending.promise;
    expect(result.providerId).toBe('together');
    expect(result.content).toBe('You said: race');
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
    const attempts = fixture.attempts(result.id);
    expect(hedgeSummary(attempts)).toEqual([
      { provider: 'groq', status: 'CANCELLED', errorCode: 'HEDGE_LOST', hedged: false },
      { provider: 'together', status: 'SUCCEEDED', errorCode: null, hedged: true },
    ]);
    expect(attempts[1]?.startedAfterMs).toBeGreaterThanOrEqual(45);
    expect(attempts[1]?.startedAfterMs).toBe(50);
    expect(attempts[1]?.costPicos).toBe(result.usage.costPicos);
    expect(fixture.generation(result.id).costPicos).toBe(result.usage.costPicos);
  });

  it('do the same for a stream, which only ever shows the winner’s tokens', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    const arrivals = fixture.groq.arrivals();
    const streaming = fixture.stream(ask(SHARED_MODELS.maverick, 'streamed race', hedge(50)));
    await hedgeAfter(50, arrivals);
    const events = await streaming;
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
    // Slow in real time, so that it cannot answer before the clock reaches the hedge delay.
    fixture.groq.setDelay(1500);
    const arrivals = fixture.groq.arrivals();
    const pending = fixture.complete(ask(SHARED_MODELS.scout, 'slow first', hedge(30)));
    await hedgeAfter(30, arrivals);
    const result = await pending;
    expect(result.providerId).toBe('together');
    // The whole wait, on the routing clock, was the hedge delay: the hedge answered without the clock moving on.
    expect(result.latencyMs).toBeLessThan(1200);
    expect(result.latencyMs).toBe(30);
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
  });

  it('start no second attempt when the first answers within the delay', async () => {
    const togetherBefore = fixture.together.arrivals();
    // The clock stays put: groq answers before the hedge delay, however long it takes in real time.
    const result = await fixture.complete(ask(SHARED_MODELS.llama8b, 'quick', hedge(2000)));
    expect(clock.pending.some((timer) => timer.ms === 2000)).toBe(false);
    expect(result.providerId).toBe('groq');
    expect(fixture.together.arrivals()).toBe(togetherBefore);
    expect(fixture.attempts(result.id)).toHaveLength(1);
  });

  it('are asked for through GraphQL', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    // GraphQL goes through the app's own router, on the system clock: a hedge delay of 0 starts the hedge at once,
    // and groq hangs (past the 60 s attempt timeout), so together answering shows the hedge setting was honoured.
    const body = await fixture.server.graphql<{ createCompletion: { id: string; provider: { id: string } } }>(
      'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id provider { id } } }',
      { input: { model: SHARED_MODELS.kimi, messages: [{ role: 'USER', content: 'hedge me' }], provider: { hedge: { delayMs: 0 } } } },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.createCompletion.provider.id).toBe('together');
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
  });
});
