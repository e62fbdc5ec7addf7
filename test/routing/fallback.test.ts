import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompletionEvent } from '../../src/completions/types.js';
import { ProviderError } from '../../src/providers/errors.js';
import type { DelayedUpstream } from '../fakes/delay.js';
import { waitFor } from '../helpers/subscriptions.js';
import { SHARED_MODELS, ask, attemptSummary, startRoutingFixture, type RoutingFixture } from './fixture.js';
import { RecordingClock, watch } from './helpers.js';

const ATTEMPT_TIMEOUT_MS = 300;
// Attempt timeouts run on this manual clock: an attempt times out when the test moves the clock to its timeout.
const clock = new RecordingClock();
let fixture: RoutingFixture;
beforeAll(async () => {
  // No retries on the same endpoint here: each failure shows as exactly one attempt (retries.test.ts has those).
  fixture = await startRoutingFixture({ SWITCHBOARD_MAX_RETRIES: '0', SWITCHBOARD_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS) }, { clock });
});

/** Waits (bounded) until the request reached the upstream, then moves the clock to exactly its attempt timeout. */
async function timeOut(upstream: DelayedUpstream, arrivalsBefore: number): Promise<void> {
  await waitFor(() => (upstream.arrivals() > arrivalsBefore ? true : undefined));
  const sent = fixture.groq.arrivals() + fixture.together.arrivals();
  await clock.advance(ATTEMPT_TIMEOUT_MS - 1);
  // Nothing moves before the timeout (the exact instants are checked on each attempt's startedAfterMs).
  expect(fixture.groq.arrivals() + fixture.together.arrivals()).toBe(sent);
  await clock.advance(1);
}
afterAll(async () => {
  await fixture.stop();
});

type Failure = (upstream: DelayedUpstream) => void;
const failures: Array<[string, string, Failure, number | undefined, string]> = [
  ['500', SHARED_MODELS.llama70b, (upstream) => upstream.enqueue({ kind: 'error', error: 'server_error' }), 500, 'PROVIDER_ERROR'],
  ['429', SHARED_MODELS.maverick, (upstream) => upstream.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 1 }), 429, 'PROVIDER_ERROR'],
  ['529', SHARED_MODELS.scout, (upstream) => upstream.failNext(529), 529, 'PROVIDER_ERROR'],
  ['a broken connection', SHARED_MODELS.gptOss120b, (upstream) => upstream.enqueue({ kind: 'break', textBefore: '' }), undefined, 'PROVIDER_ERROR'],
  ['a timeout', SHARED_MODELS.llama8b, (upstream) => upstream.enqueue({ kind: 'hang', textBefore: '' }), undefined, 'TIMEOUT'],
];

const textOf = (events: CompletionEvent[]): string => events.map((event) => (event.type === 'delta' ? event.text : '')).join('');

describe('fallback to the next endpoint of the same model', () => {
  it.each(failures)('falls back on %s, and records both attempts', async (_name, model, fail, status, code) => {
    const togetherBefore = fixture.together.received.length;
    const groqArrivals = fixture.groq.arrivals();
    fail(fixture.groq);
    const pending = watch(fixture.complete(ask(model, 'fall back please')));
    if (code === 'TIMEOUT') {
      await timeOut(fixture.groq, groqArrivals);
    }
    const result = await pending.promise;
    expect(result.providerId).toBe('together');
    expect(result.content).toBe('You said: fall back please');
    expect(fixture.together.received.length).toBe(togetherBefore + 1);
    const attempts = fixture.attempts(result.id);
    expect(attemptSummary(attempts)).toEqual([`groq FAILED ${code}`, 'together SUCCEEDED']);
    if (code === 'TIMEOUT') expect(attempts.map((attempt) => attempt.startedAfterMs)).toEqual([0, ATTEMPT_TIMEOUT_MS]);
    expect(attempts[0]?.httpStatus).toBe(status);
    expect(attempts[1]?.costPicos).toBe(result.usage.costPicos);
    // The endpoint that failed hung up or answered: no connection is left open to it.
    await waitFor(() => (fixture.groq.activeResponses() === 0 ? true : undefined));
  });

  it('does not fall back on a 400, which would fail anywhere', async () => {
    const togetherBefore = fixture.together.received.length;
    fixture.groq.enqueue({ kind: 'error', error: 'bad_request' });
    const error = await fixture.complete(ask(SHARED_MODELS.kimi)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'PROVIDER_ERROR', status: 400, provider: 'groq' });
    expect(fixture.together.received.length).toBe(togetherBefore);
    const row = fixture.latest(SHARED_MODELS.kimi);
    expect(row.status).toBe('FAILED');
    expect(attemptSummary(row.attempts ?? [])).toEqual(['groq FAILED PROVIDER_ERROR']);
  });

  it('answers TIMEOUT when no endpoint sends a first token in time', async () => {
    fixture.groq.enqueue({ kind: 'hang', textBefore: '' });
    fixture.together.enqueue({ kind: 'hang', textBefore: '' });
    const groqArrivals = fixture.groq.arrivals();
    const togetherArrivals = fixture.together.arrivals();
    // Through the completion service on the manual clock; GraphQL shows a gateway error's code as
    // extensions.code unchanged (src/schema/errors.ts), which the other GraphQL tests cover.
    const answered = watch(fixture.complete(ask(SHARED_MODELS.gptOss20b, 'anyone?')).then(() => undefined, (error: unknown) => error));
    await timeOut(fixture.groq, groqArrivals);
    await timeOut(fixture.together, togetherArrivals);
    const error = await answered.promise;
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(attemptSummary(fixture.latest(SHARED_MODELS.gptOss20b).attempts ?? [])).toEqual(['groq FAILED TIMEOUT', 'together FAILED TIMEOUT']);
    expect(fixture.latest(SHARED_MODELS.gptOss20b).attempts?.map((attempt) => [attempt.startedAfterMs, attempt.latencyMs])).toEqual([
      [0, ATTEMPT_TIMEOUT_MS],
      [ATTEMPT_TIMEOUT_MS, ATTEMPT_TIMEOUT_MS],
    ]);
    await waitFor(() => (fixture.groq.activeResponses() + fixture.together.activeResponses() === 0 ? true : undefined));
  });

  it('shows the serving provider on Completion.provider and every attempt on Generation.attempts', async () => {
    fixture.groq.enqueue({ kind: 'error', error: 'overloaded' });
    const body = await fixture.server.graphql<{ createCompletion: { id: string; provider: { id: string } } }>(
      'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id provider { id } } }',
      { input: { model: SHARED_MODELS.kimi, messages: [{ role: 'USER', content: 'over GraphQL' }] } },
    );
    expect(body.data?.createCompletion.provider.id).toBe('together');
    const read = await fixture.server.graphql<{ generation: { provider: { id: string }; attempts: Array<{ provider: string; status: string; errorCode: string | null; latencyMs: number }> } }>(
      'query ($id: ID!) { generation(id: $id) { provider { id } attempts { provider: providerId status errorCode latencyMs } } }',
      { id: body.data?.createCompletion.id },
    );
    expect(read.data?.generation.provider.id).toBe('together');
    expect(read.data?.generation.attempts.map((attempt) => [attempt.provider, attempt.status, attempt.errorCode])).toEqual([
      ['groq', 'FAILED', 'PROVIDER_ERROR'],
      ['together', 'SUCCEEDED', null],
    ]);
  });
});

describe('streams', () => {
  it('fall back before the first token: the client only ever sees the endpoint that answered', async () => {
    fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
    const events = await fixture.stream(ask(SHARED_MODELS.llama70b, 'stream me'));
    expect(events[0]).toMatchObject({ type: 'started', providerId: 'together' });
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    expect(textOf(events)).toBe('You said: stream me');
    const started = events[0];
    if (started?.type !== 'started') throw new Error('no started event');
    expect(attemptSummary(fixture.attempts(started.id))).toEqual(['groq FAILED PROVIDER_ERROR', 'together SUCCEEDED']);
  });

  it.each([
    ['an error event', { kind: 'mid-stream-error', textBefore: 'Partial answer' } as const],
    ['a broken connection', { kind: 'break', textBefore: 'Partial answer' } as const],
  ])('never switch endpoints after the first token: %s ends the stream with an error and a partial generation', async (_name, script) => {
    const togetherBefore = fixture.together.received.length;
    fixture.groq.enqueue(script);
    const events = await fixture.stream(ask(SHARED_MODELS.maverick));
    expect(events[0]).toMatchObject({ type: 'started', providerId: 'groq' });
    expect(textOf(events)).toBe('Partial answer');
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'error' });
    expect(fixture.together.received.length).toBe(togetherBefore);
    if (last?.type !== 'error') throw new Error('no error event');
    const row = fixture.generation(last.id);
    expect(row).toMatchObject({ status: 'FAILED', providerId: 'groq', streamed: true, finishReason: 'error' });
    expect(row.completionTokens).toBeGreaterThan(0);
    expect(attemptSummary(row.attempts ?? [])).toEqual(['groq FAILED PROVIDER_ERROR']);
  });
});
