import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import { routeOver, runRoute, scriptedEndpoint, startRoute, summary, testRouter, watch } from './helpers.js';

describe('attempts over a route', () => {
  it('moves on to the next endpoint at once, then retries each in later rounds after a backoff', async () => {
    const { router, sleeps } = testRouter({ maxRetries: 2, retryBaseMs: 100 });
    const a = scriptedEndpoint('a');
    const b = scriptedEndpoint('b');
    a.queue({ kind: 'fail', error: 'server_error', status: 500 }, { kind: 'fail', error: 'server_error', status: 500 });
    b.queue({ kind: 'fail', error: 'overloaded', status: 529 });
    const result = await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    expect(result.winner).toBe('b');
    expect(summary(result.attempts)).toEqual(['a:FAILED:PROVIDER_ERROR', 'b:FAILED:PROVIDER_ERROR', 'a:FAILED#1:PROVIDER_ERROR', 'b:SUCCEEDED#1']);
    expect(result.attempts.map((attempt) => attempt.httpStatus)).toEqual([500, 529, 500, undefined]);
    // One backoff before the second round (random 0.5 → 75 % of 100 ms); b's retry was ready about as soon.
    expect(sleeps.waits[0]).toBeGreaterThan(60);
    expect(sleeps.waits.reduce((sum, wait) => sum + wait, 0)).toBeLessThanOrEqual(80);
  });

  it('gives up after maxRetries per endpoint and answers with the last error', async () => {
    const { router, sleeps } = testRouter({ maxRetries: 2, retryBaseMs: 100 });
    const a = scriptedEndpoint('a');
    a.queue(...Array.from({ length: 5 }, () => ({ kind: 'fail' as const, error: 'server_error' as const, status: 500 })));
    const result = await runRoute(router, routeOver(router, [a.candidate]));
    expect(result.error).toBeInstanceOf(ProviderError);
    expect(a.calls).toHaveLength(3);
    expect(summary(result.attempts)).toEqual(['a:FAILED:PROVIDER_ERROR', 'a:FAILED#1:PROVIDER_ERROR', 'a:FAILED#2:PROVIDER_ERROR']);
    expect(sleeps.waits).toHaveLength(2);
    expect(sleeps.waits[0]).toBeGreaterThan(60);
    expect(sleeps.waits[0]).toBeLessThanOrEqual(75);
    expect(sleeps.waits[1]).toBeGreaterThan(135);
    expect(sleeps.waits[1]).toBeLessThanOrEqual(150);
  });

  it('never retries nor falls back on a 400', async () => {
    const { router, sleeps } = testRouter({ maxRetries: 2 });
    const a = scriptedEndpoint('a');
    const b = scriptedEndpoint('b');
    a.queue({ kind: 'fail', error: 'bad_request', status: 400 });
    const result = await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    expect(result.error).toMatchObject({ kind: 'bad_request', status: 400 });
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(0);
    expect(sleeps.waits).toEqual([]);
  });

  it('waits at least the Retry-After before trying the endpoint again, and not at all when it is too long', async () => {
    const { router, sleeps } = testRouter({ maxRetries: 1, retryBaseMs: 10, maxRetryAfterMs: 1000 });
    const a = scriptedEndpoint('a');
    a.queue({ kind: 'fail', error: 'rate_limited', status: 429, retryAfterMs: 600 });
    const retried = await runRoute(router, routeOver(router, [a.candidate]));
    expect(retried.winner).toBe('a');
    expect(sleeps.waits).toHaveLength(1);
    expect(sleeps.waits[0]).toBeGreaterThan(590);
    expect(sleeps.waits[0]).toBeLessThanOrEqual(600);

    a.queue({ kind: 'fail', error: 'rate_limited', status: 429, retryAfterMs: 5000 });
    const refused = await runRoute(router, routeOver(router, [a.candidate]));
    expect(refused.error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 5000 });
    expect(a.calls).toHaveLength(3);
    expect(sleeps.waits).toHaveLength(1);
  });

  it('times out an attempt without a first token, as a retryable TIMEOUT that falls back', async () => {
    const { router } = testRouter({ maxRetries: 0 });
    const a = scriptedEndpoint('a');
    const b = scriptedEndpoint('b');
    a.queue({ kind: 'hang' });
    const result = await runRoute(router, routeOver(router, [a.candidate, b.candidate], { attemptTimeoutMs: 50 }));
    expect(result.winner).toBe('b');
    expect(summary(result.attempts)).toEqual(['a:FAILED:TIMEOUT', 'b:SUCCEEDED']);
    expect(a.calls[0]?.aborted).toBe(true);

    a.queue({ kind: 'hang' });
    b.queue({ kind: 'hang' });
    const both = await runRoute(router, routeOver(router, [a.candidate, b.candidate], { attemptTimeoutMs: 50 }));
    expect(both.error).toMatchObject({ code: 'TIMEOUT', kind: 'timeout' });
  });

  it('stops everything at the request deadline with TIMEOUT', async () => {
    const { router } = testRouter({ maxRetries: 0 });
    const a = scriptedEndpoint('a');
    a.queue({ kind: 'hang' });
    const result = await runRoute(router, routeOver(router, [a.candidate], { deadlineMs: 60 }));
    expect(result.error).toMatchObject({ code: 'TIMEOUT' });
    expect(summary(result.attempts)).toEqual(['a:FAILED:TIMEOUT']);
    expect(a.calls[0]?.aborted).toBe(true);
  });

  it('skips an endpoint whose circuit is open, and fails fast when every circuit is', async () => {
    const { router } = testRouter({ maxRetries: 0, breaker: { failureThreshold: 2, failureRate: 1, minimumRequests: 100, minimumFailingRequests: 2, windowMs: 60_000, cooldownMs: 60_000 } });
    const a = scriptedEndpoint('a');
    const b = scriptedEndpoint('b');
    a.queue({ kind: 'fail', error: 'server_error', status: 500 }, { kind: 'fail', error: 'server_error', status: 500 });
    await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    const skipped = await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    expect(skipped.winner).toBe('b');
    expect(summary(skipped.attempts)).toEqual(['b:SUCCEEDED']);
    expect(a.calls).toHaveLength(2);

    const alone = await runRoute(router, routeOver(router, [a.candidate]));
    expect(alone.error).toBeInstanceOf(ProviderError);
    expect((alone.error as ProviderError).message).toMatch(/circuit open: a/);
    expect((alone.error as ProviderError).retryAfterMs).toBeGreaterThan(0);
    expect(alone.attempts).toEqual([]);
  });

  it('hedges: a second attempt starts after the delay, the first answer wins and the other is aborted', async () => {
    const { router, clock } = testRouter({ maxRetries: 0 });
    const slow = scriptedEndpoint('slow', { clock });
    const fast = scriptedEndpoint('fast', { clock });
    slow.queue({ kind: 'ok', afterMs: 5_000 });
    fast.queue({ kind: 'ok', afterMs: 10 });
    const result = await runRoute(router, routeOver(router, [slow.candidate, fast.candidate], { hedge: 30 }));
    expect(result.winner).toBe('fast');
    expect(slow.calls[0]?.aborted).toBe(true);
    expect(result.attempts.map((attempt) => [attempt.providerId, attempt.status, attempt.errorCode ?? null, attempt.hedged ?? false])).toEqual([
      ['slow', 'CANCELLED', 'HEDGE_LOST', false],
      ['fast', 'SUCCEEDED', null, true],
    ]);
    expect(result.attempts[1]?.startedAfterMs).toBeGreaterThanOrEqual(25);
    // On the manual clock the figures are exact: the hedge at 30 ms, its answer 10 ms later, the loser cut off then.
    expect(result.attempts.map((attempt) => [attempt.startedAfterMs, attempt.latencyMs])).toEqual([
      [0, 40],
      [30, 10],
    ]);
  });

  it('does not hedge when the first attempt answers within the delay', async () => {
    const { router } = testRouter({ maxRetries: 0 });
    const first = scriptedEndpoint('first');
    const second = scriptedEndpoint('second');
    const result = await runRoute(router, routeOver(router, [first.candidate, second.candidate], { hedge: 2_000 }));
    expect(result.winner).toBe('first');
    expect(second.calls).toHaveLength(0);
  });

  it('keeps the hedge running when the first attempt fails, and stops on a client cancel', async () => {
    const { router, clock } = testRouter({ maxRetries: 0 });
    const a = scriptedEndpoint('a', { clock });
    const b = scriptedEndpoint('b', { clock });
    a.queue({ kind: 'fail', error: 'server_error', status: 500, afterMs: 80 });
    b.queue({ kind: 'ok', afterMs: 150 });
    const result = await runRoute(router, routeOver(router, [a.candidate, b.candidate], { hedge: 20 }));
    expect(result.winner).toBe('b');
    expect(summary(result.attempts)).toEqual(['a:FAILED:PROVIDER_ERROR', 'b:SUCCEEDED']);

    const client = new AbortController();
    a.queue({ kind: 'hang' });
    b.queue({ kind: 'hang' });
    clock.setTimeout(() => client.abort(new Error('client went away')), 60);
    const cancelled = await runRoute(router, routeOver(router, [a.candidate, b.candidate], { hedge: 20 }), client.signal);
    expect((cancelled.error as Error).message).toBe('client went away');
    expect(summary(cancelled.attempts).sort()).toEqual(['a:CANCELLED:CANCELLED', 'b:CANCELLED:CANCELLED']);
    expect(cancelled.attempts.map((attempt) => attempt.latencyMs).sort()).toEqual([40, 60]);
  });
});

describe('every delay on the clock, to the millisecond', () => {
  it('fires the request deadline exactly at the deadline, not 1 ms before', async () => {
    const { router, clock } = testRouter({ maxRetries: 0 });
    const a = scriptedEndpoint('a', { clock });
    a.queue({ kind: 'hang' });
    const result = watch(startRoute(router, routeOver(router, [a.candidate], { deadlineMs: 1_000 })));
    await clock.advance(999);
    expect(result.settled).toBe(false);
    expect(a.calls[0]?.aborted).toBe(false);
    await clock.advance(1);
    expect(result.settled).toBe(true);
    const { error, attempts } = await result.promise;
    expect(error).toMatchObject({ code: 'TIMEOUT', kind: 'timeout' });
    expect(attempts.map((attempt) => [attempt.status, attempt.errorCode, attempt.latencyMs])).toEqual([['FAILED', 'TIMEOUT', 1_000]]);
    expect(a.calls[0]?.aborted).toBe(true);
  });

  it('times an attempt out exactly at attemptTimeoutMs and starts the next endpoint then', async () => {
    const { router, clock } = testRouter({ maxRetries: 0 });
    const a = scriptedEndpoint('a', { clock });
    const b = scriptedEndpoint('b', { clock });
    a.queue({ kind: 'hang' });
    const result = watch(startRoute(router, routeOver(router, [a.candidate, b.candidate], { attemptTimeoutMs: 300 })));
    await clock.advance(299);
    expect(b.calls).toHaveLength(0);
    await clock.advance(1);
    expect(b.calls.map((call) => call.at - a.calls[0]!.at)).toEqual([300]);
    const { winner, attempts } = await result.promise;
    expect(winner).toBe('b');
    expect(attempts.map((attempt) => [attempt.providerId, attempt.errorCode ?? null, attempt.latencyMs, attempt.startedAfterMs])).toEqual([
      ['a', 'TIMEOUT', 300, 0],
      ['b', null, 0, 300],
    ]);
  });

  it('starts the hedge exactly at its delay', async () => {
    const { router, clock } = testRouter({ maxRetries: 0 });
    const slow = scriptedEndpoint('slow', { clock });
    const spare = scriptedEndpoint('spare', { clock });
    slow.queue({ kind: 'hang' });
    spare.queue({ kind: 'hang' });
    const result = watch(startRoute(router, routeOver(router, [slow.candidate, spare.candidate], { hedge: 200, deadlineMs: 5_000 })));
    await clock.advance(199);
    expect(spare.calls).toHaveLength(0);
    await clock.advance(1);
    expect(spare.calls).toHaveLength(1);
    await clock.advance(4_800);
    const { attempts } = await result.promise;
    expect(attempts.map((attempt) => [attempt.providerId, attempt.startedAfterMs, attempt.hedged ?? false])).toEqual([
      ['slow', 0, false],
      ['spare', 200, true],
    ]);
  });

  it('comes back after exactly the backoff, and never before a Retry-After', async () => {
    const { router, clock } = testRouter({ maxRetries: 1, retryBaseMs: 100, maxRetryAfterMs: 1_000 });
    const a = scriptedEndpoint('a', { clock });
    // random 0.5: three quarters of the 100 ms base.
    a.queue({ kind: 'fail', error: 'server_error', status: 500 });
    const backoff = watch(startRoute(router, routeOver(router, [a.candidate])));
    await clock.advance(74);
    expect(a.calls).toHaveLength(1);
    await clock.advance(1);
    expect(a.calls).toHaveLength(2);
    expect((await backoff.promise).winner).toBe('a');

    a.queue({ kind: 'fail', error: 'rate_limited', status: 429, retryAfterMs: 600 });
    const retryAfter = watch(startRoute(router, routeOver(router, [a.candidate])));
    await clock.advance(599);
    expect(a.calls).toHaveLength(3);
    await clock.advance(1);
    expect(a.calls).toHaveLength(4);
    expect((await retryAfter.promise).attempts.map((attempt) => attempt.startedAfterMs)).toEqual([0, 600]);
  });

  it('keeps an open circuit closed to traffic until exactly the end of its cool-down, then lets one probe through', async () => {
    const { router, clock } = testRouter({ maxRetries: 0, breaker: { failureThreshold: 1, failureRate: 1, minimumRequests: 100, minimumFailingRequests: 1, windowMs: 60_000, cooldownMs: 30_000 } });
    const a = scriptedEndpoint('a', { clock });
    const b = scriptedEndpoint('b', { clock });
    a.queue({ kind: 'fail', error: 'server_error', status: 500 });
    expect((await runRoute(router, routeOver(router, [a.candidate, b.candidate]))).winner).toBe('b');
    await clock.advance(29_999);
    expect(summary((await runRoute(router, routeOver(router, [a.candidate, b.candidate]))).attempts)).toEqual(['b:SUCCEEDED']);
    await clock.advance(1);
    expect(summary((await runRoute(router, routeOver(router, [a.candidate, b.candidate]))).attempts)).toEqual(['a:SUCCEEDED']);
    expect(a.calls).toHaveLength(2);
  });
});
