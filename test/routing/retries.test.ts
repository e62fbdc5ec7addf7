import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import { SHARED_MODELS, ask, attemptSummary, startRoutingFixture, type RoutingFixture } from './fixture.js';
import { RecordingClock, watch } from './helpers.js';

// Backoff and Retry-After waits run on this manual clock: the tests move it through each wait, by exactly that wait.
const clock = new RecordingClock();
let fixture: RoutingFixture;
beforeAll(async () => {
  fixture = await startRoutingFixture({ SWITCHBOARD_MAX_RETRIES: '2', SWITCHBOARD_RETRY_BASE_MS: '5', SWITCHBOARD_RETRY_MAX_AFTER_MS: '1000' }, { clock });
});
afterAll(async () => {
  await fixture.stop();
});

const groqOnly = { provider: { only: ['groq'] } };
const failure = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: unknown) => error,
  );

describe('retries on the same endpoint', () => {
  it('retries a 500 on the only endpoint after a backoff, and records the retry number', async () => {
    const before = fixture.groq.received.length;
    fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
    const sleeps = clock.sleeps.waits.length;
    const result = await clock.throughSleeps(fixture.complete(ask(SHARED_MODELS.llama70b, 'again', groqOnly)));
    expect(result.providerId).toBe('groq');
    expect(fixture.groq.received.length).toBe(before + 2);
    // One backoff of the 5 ms base, with jitter: between half and all of it.
    const [backoff] = clock.sleeps.waits.slice(sleeps);
    expect(clock.sleeps.waits.length).toBe(sleeps + 1);
    expect(backoff).toBeGreaterThanOrEqual(3);
    expect(backoff).toBeLessThanOrEqual(5);
    const attempts = fixture.attempts(result.id);
    expect(attemptSummary(attempts)).toEqual(['groq FAILED PROVIDER_ERROR', 'groq SUCCEEDED']);
    expect(attempts.map((attempt) => attempt.retry)).toEqual([0, 1]);
  });

  it('waits out a short Retry-After before coming back', async () => {
    fixture.groq.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 0.3 });
    const before = fixture.groq.received.length;
    const started = clock.now();
    const pending = watch(fixture.complete(ask(SHARED_MODELS.maverick, 'patience', groqOnly)));
    expect(await clock.sleepAt(clock.sleeps.waits.length)).toBe(300);
    await clock.advance(299);
    expect(fixture.groq.received.length).toBe(before + 1);
    expect(pending.settled).toBe(false);
    await clock.advance(1);
    const result = await pending.promise;
    const elapsed = clock.now() - started;
    expect(result.providerId).toBe('groq');
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBe(300);
    const attempts = fixture.attempts(result.id);
    expect(attemptSummary(attempts)).toEqual(['groq FAILED PROVIDER_ERROR', 'groq SUCCEEDED']);
    expect(attempts[0]?.httpStatus).toBe(429);
    expect(attempts[1]?.startedAfterMs).toBeGreaterThanOrEqual(295);
    expect(attempts[1]?.startedAfterMs).toBe(300);
  });

  it('hands a long Retry-After to the caller instead of waiting', async () => {
    const before = fixture.groq.received.length;
    fixture.groq.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 3 });
    const started = clock.now();
    const sleeps = clock.sleeps.waits.length;
    // Answered without the clock moving at all: no wait was even asked for.
    const error = await failure(fixture.complete(ask(SHARED_MODELS.scout, 'later', groqOnly)));
    expect(clock.now() - started).toBeLessThan(2500);
    expect(clock.now()).toBe(started);
    expect(clock.sleeps.waits.length).toBe(sleeps);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 3000 });
    expect(fixture.groq.received.length).toBe(before + 1);
  });

  it('never retries a 400', async () => {
    const before = fixture.groq.received.length;
    fixture.groq.enqueue({ kind: 'error', error: 'bad_request' });
    const error = await failure(fixture.complete(ask(SHARED_MODELS.llama8b, 'bad', groqOnly)));
    expect(error).toMatchObject({ status: 400 });
    expect(fixture.groq.received.length).toBe(before + 1);
  });

  it('gives up after the retries and answers with the upstream error', async () => {
    const before = fixture.groq.received.length;
    for (let index = 0; index < 3; index++) fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
    const error = await failure(clock.throughSleeps(fixture.complete(ask(SHARED_MODELS.gptOss120b, 'doomed', groqOnly))));
    expect(error).toMatchObject({ code: 'PROVIDER_ERROR', status: 500 });
    expect(fixture.groq.received.length).toBe(before + 3);
    const row = fixture.latest(SHARED_MODELS.gptOss120b);
    expect(row.attempts?.map((attempt) => attempt.retry)).toEqual([0, 1, 2]);
  });

  it('goes round the endpoints before retrying any of them', async () => {
    fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
    fixture.together.enqueue({ kind: 'error', error: 'overloaded' });
    const result = await clock.throughSleeps(fixture.complete(ask(SHARED_MODELS.gptOss20b, 'round and round')));
    expect(result.providerId).toBe('groq');
    const attempts = fixture.attempts(result.id);
    expect(attemptSummary(attempts)).toEqual(['groq FAILED PROVIDER_ERROR', 'together FAILED PROVIDER_ERROR', 'groq SUCCEEDED']);
    expect(attempts.map((attempt) => attempt.retry)).toEqual([0, 0, 1]);
  });
});
