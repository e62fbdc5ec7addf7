import { findModel } from '../../src/db/catalog.js';
import { afterEach, describe, expect, it } from 'vitest';
import { AdmissionControl } from '../../src/auth/admission.js';
import { BudgetTracker } from '../../src/auth/budget.js';
import { spentSince } from '../../src/db/sqlite-ledger.js';
import { InMemoryRateLimitStore } from '../../src/auth/rate-limiter.js';
import { ManualClock } from '../../src/clock.js';
import { CompletionService } from '../../src/completions/service.js';
import type { Caller, CompletionEvent, CompletionInput } from '../../src/completions/types.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { findGeneration, listGenerations } from '../../src/db/generations.js';
import type { AttemptRecord, GenerationRow } from '../../src/db/schema.js';
import { ProviderError } from '../../src/providers/errors.js';
import { AdapterRegistry } from '../../src/providers/registry.js';
import type { ProviderAdapter, StreamEvent } from '../../src/providers/types.js';
import { DEFAULT_ROUTING_CONFIG } from '../../src/routing/config.js';
import { Router } from '../../src/routing/router.js';
import { UsageRecorder } from '../../src/usage/recorder.js';
import { response, routeOver, scriptedEndpoint, summary, testRouter, watch } from './helpers.js';

// One failure opens it: these tests are about the probe, not about how many requests it takes to open.
const probeBreaker = { failureThreshold: 1, failureRate: 1, minimumRequests: 100, minimumFailingRequests: 1, windowMs: 60_000, cooldownMs: 1_000 };

describe('the end states routing gives its attempts', () => {
  it('records a hedge that lost as CANCELLED/HEDGE_LOST, counts its wait against the endpoint and frees its probe', async () => {
    const { router, clock } = testRouter({ maxRetries: 0, breaker: probeBreaker });
    const slow = scriptedEndpoint('slow', { clock });
    const fast = scriptedEndpoint('fast', { clock });
    const health = router.state.endpoint({ providerId: 'slow', providerModelId: 'slow-model', modelId: null });
    // Open the slow endpoint's circuit, then let it half-open: the next attempt on it holds the one probe permit.
    health.breaker.failed('closed', clock.now(), 'an earlier request');
    await clock.advance(1_000);
    slow.queue({ kind: 'hang' });
    fast.queue({ kind: 'ok', afterMs: 10 });
    const attempts: AttemptRecord[] = [];
    const run = router.start(routeOver(router, [slow.candidate, fast.candidate], { hedge: 50 }), new AbortController().signal, { attempts, started: () => {} });
    const won = await clock.runUntilSettled(run.first((candidate, signal) => candidate.adapter.complete({ model: candidate.providerModelId, messages: [] }, { signal })));
    expect(won.attempt.candidate.providerId).toBe('fast');
    expect(attempts.map((attempt) => [attempt.providerId, attempt.status, attempt.errorCode, attempt.latencyMs])).toEqual([['slow', 'CANCELLED', 'HEDGE_LOST', 60]]);
    expect(slow.calls[0]?.aborted).toBe(true);
    // Losing says the endpoint took at least 60 ms; it says nothing of its health, so the probe is free again.
    expect(health.expectedLatency(false)).toBe(60);
    expect(health.breaker.state(clock.now())).toBe('HALF_OPEN');
    expect(health.breaker.available(clock.now())).toBe(true);
    run.succeeded({ completionTokens: 5, costPicos: 7 });
    run.dispose();
    expect(summary(attempts)).toEqual(['slow:CANCELLED:HEDGE_LOST', 'fast:SUCCEEDED']);
  });

  it('still records what a hedge that answered a moment too late cost', async () => {
    const { router, clock } = testRouter({ maxRetries: 0 });
    const answer = response;
    const winner = scriptedEndpoint('winner', { clock });
    // An upstream that ignores the abort and answers anyway, 5 ms after it lost.
    const deaf = scriptedEndpoint('deaf', { clock });
    deaf.candidate.adapter = { ...deaf.candidate.adapter, complete: async () => (await clock.sleep(25), answer('too late')) };
    winner.queue({ kind: 'ok', afterMs: 10 });
    const attempts: AttemptRecord[] = [];
    const run = router.start(routeOver(router, [deaf.candidate, winner.candidate], { hedge: 10 }), new AbortController().signal, { attempts, started: () => {} });
    const won = await clock.runUntilSettled(
      run.first((candidate, signal) => candidate.adapter.complete({ model: candidate.providerModelId, messages: [] }, { signal }), {
        lost: (late, loser) => loser.costs(late.usage ? late.usage.completionTokens * 1_000 : null),
      }),
    );
    expect(won.attempt.candidate.providerId).toBe('winner');
    expect(attempts[0]).toMatchObject({ providerId: 'deaf', errorCode: 'HEDGE_LOST' });
    expect(attempts[0]?.costPicos).toBeUndefined();
    await clock.advance(5);
    expect(attempts[0]?.costPicos).toBe(5_000);
    run.dispose();
  });

  it('cancels the request at once when the client goes away during a backoff, trying nothing more', async () => {
    const { router, clock } = testRouter({ maxRetries: 2, retryBaseMs: 1_000 });
    const a = scriptedEndpoint('a', { clock });
    a.queue({ kind: 'fail', error: 'server_error', status: 500 });
    const client = new AbortController();
    const attempts: AttemptRecord[] = [];
    const run = router.start(routeOver(router, [a.candidate]), client.signal, { attempts, started: () => {} });
    const first = watch(run.first((candidate, signal) => candidate.adapter.complete({ model: candidate.providerModelId, messages: [] }, { signal })));
    await clock.advance(100);
    expect(first.settled).toBe(false);
    client.abort(new Error('client went away'));
    await clock.settle();
    expect(first.settled).toBe(true);
    await expect(first.promise).rejects.toThrow('client went away');
    expect(a.calls).toHaveLength(1);
    expect(summary(attempts)).toEqual(['a:FAILED:PROVIDER_ERROR']);
    expect(clock.pending.filter((timer) => timer.ms === 750)).toEqual([]);
    run.dispose();
  });
});

describe('the attempt a run committed to at its first token', () => {
  async function committed(options: { signal?: AbortSignal; deadlineMs?: number } = {}) {
    const { router, clock } = testRouter({ maxRetries: 0, breaker: probeBreaker });
    const a = scriptedEndpoint('a', { clock });
    const attempts: AttemptRecord[] = [];
    const run = router.start(routeOver(router, [a.candidate], options.deadlineMs ? { deadlineMs: options.deadlineMs } : {}), options.signal ?? new AbortController().signal, { attempts, started: () => {} });
    const { attempt } = await clock.runUntilSettled(run.first((candidate, signal) => candidate.adapter.complete({ model: candidate.providerModelId, messages: [] }, { signal })));
    return { run, attempt, attempts, clock, breaker: router.state.endpoint({ providerId: 'a', providerModelId: 'a-model', modelId: null }).breaker };
  }

  it('is FAILED with the error of what went wrong after it, and not aborted by routing', async () => {
    const { run, attempt, attempts } = await committed();
    const broken = new ProviderError('a broke the stream', { provider: 'a', kind: 'stream_error', status: 502 });
    expect(run.end({ error: broken })).toBe(broken);
    expect(attempts).toEqual([expect.objectContaining({ status: 'FAILED', errorCode: 'PROVIDER_ERROR', errorMessage: 'a broke the stream', httpStatus: 502 })]);
    expect(attempt.signal.aborted).toBe(false);
    run.dispose();
    expect(attempts).toHaveLength(1);
  });

  it('is FAILED as a TIMEOUT when the request deadline cuts its stream, exactly at the deadline', async () => {
    const { run, attempt, attempts, clock } = await committed({ deadlineMs: 2_000 });
    await clock.advance(1_999);
    expect(attempt.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(attempt.signal.aborted).toBe(true);
    const shown = run.end({ error: attempt.signal.reason });
    expect(shown).toBeInstanceOf(ProviderError);
    expect(shown).toMatchObject({ code: 'TIMEOUT', kind: 'timeout' });
    expect(attempts).toEqual([expect.objectContaining({ status: 'FAILED', errorCode: 'TIMEOUT', latencyMs: 2_000 })]);
    run.dispose();
  });

  it('is CANCELLED, and its upstream aborted, when the consumer stops reading', async () => {
    const { run, attempt, attempts } = await committed();
    expect(run.end(undefined)).toBeUndefined();
    expect(attempt.signal.aborted).toBe(true);
    expect(summary(attempts)).toEqual(['a:CANCELLED:CANCELLED']);
  });

  it('is CANCELLED, whatever the error, when the request itself was aborted', async () => {
    const client = new AbortController();
    const { run, attempts } = await committed({ signal: client.signal });
    client.abort(new Error('client went away'));
    run.end({ error: new ProviderError('read failed', { provider: 'a', kind: 'stream_error' }) });
    expect(summary(attempts)).toEqual(['a:CANCELLED:CANCELLED']);
  });

  it('is SUCCEEDED once, with its cost, and nothing ends it again', async () => {
    const { run, attempts } = await committed();
    run.succeeded({ completionTokens: 5, costPicos: 42 });
    run.end({ error: new Error('the ledger write failed afterwards') });
    run.dispose();
    expect(attempts).toEqual([expect.objectContaining({ status: 'SUCCEEDED', costPicos: 42 })]);
  });

  it('is CANCELLED by dispose when left open, which frees a half-open circuit’s probe', async () => {
    const { router, clock } = testRouter({ maxRetries: 0, breaker: probeBreaker });
    const a = scriptedEndpoint('a', { clock });
    const breaker = router.state.endpoint({ providerId: 'a', providerModelId: 'a-model', modelId: null }).breaker;
    breaker.failed('closed', clock.now(), 'an earlier request');
    await clock.advance(1_000);
    const attempts: AttemptRecord[] = [];
    const run = router.start(routeOver(router, [a.candidate]), new AbortController().signal, { attempts, started: () => {} });
    await clock.runUntilSettled(run.first((candidate, signal) => candidate.adapter.complete({ model: candidate.providerModelId, messages: [] }, { signal })));
    expect(breaker.available(clock.now())).toBe(false);
    run.dispose();
    expect(summary(attempts)).toEqual(['a:CANCELLED:CANCELLED']);
    expect(breaker.available(clock.now())).toBe(true);
  });
});

/** A registry whose `scripted` provider is an in-memory adapter, beside the always-present local one. */
class ScriptedRegistry extends AdapterRegistry {
  constructor(private readonly scripted: ProviderAdapter) {
    super([], { localDelayMs: 0 });
  }

  override get(providerId: string): ProviderAdapter | undefined {
    return providerId === this.scripted.id ? this.scripted : super.get(providerId);
  }
}

/** An upstream stream; `clock` is the gateway's, for scripts that pace their chunks. */
type StreamScript = (signal: AbortSignal, clock: ManualClock) => AsyncGenerator<StreamEvent>;

describe('the completion service, ending attempts only through routing', () => {
  const caller: Caller = { apiKeyId: null, requestId: 'req_lifecycle', key: null };
  const ask: CompletionInput = { model: 'scripted/model', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello there' }] }] };
  const opened: DatabaseHandle[] = [];
  afterEach(() => {
    for (const database of opened.splice(0)) database.close();
  });

  function gateway(script: StreamScript, deadlineMs = 10_000, timeouts: { streamIdleTimeoutMs?: number; attemptTimeoutMs?: number } = {}) {
    const clock = new ManualClock();
    const database = openDatabase(':memory:');
    opened.push(database);
    const adapter: ProviderAdapter = {
      id: 'scripted',
      kind: 'openai_compatible',
      complete: async (_request, { signal }) => {
        await new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
        throw new Error('unreachable');
      },
      stream: (_request, { signal }) => script(signal, clock),
    };
    const recorder = new UsageRecorder(database.db, { clock });
    const router = new Router({ config: { ...DEFAULT_ROUTING_CONFIG, maxRetries: 0, requestDeadlineMs: deadlineMs, ...timeouts }, clock });
    const service = new CompletionService({
      db: database.db,
      registry: new ScriptedRegistry(adapter),
      recorder,
      admission: new AdmissionControl({ findModel: (idOrAlias: string) => findModel(database.db, idOrAlias) }, new InMemoryRateLimitStore(), new BudgetTracker(async (keyId, startMs) => spentSince(database.db, keyId, startMs))),
      router,
    });
    const row = (id: string): GenerationRow => {
      const found = findGeneration(database.db, id);
      if (!found) throw new Error(`no generation ${id}`);
      return found;
    };
    const latest = (): GenerationRow => {
      const [found] = listGenerations(database.db, {}, { limit: 1 });
      if (!found) throw new Error('no generation');
      return found;
    };
    return { clock, service, row, latest };
  }

  const untilAborted = (signal: AbortSignal): Promise<never> =>
    new Promise((_resolve, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });

  async function* partialThenHang(signal: AbortSignal): AsyncGenerator<StreamEvent> {
    yield { type: 'start', warnings: [] };
    yield { type: 'text-delta', text: 'Partial answer' };
    await untilAborted(signal);
  }

  it('records a stream its consumer stopped reading as CANCELLED, attempt and generation, with the partial usage', async () => {
    const { service, row } = gateway(partialThenHang);
    const stream = await service.openStream(ask, caller);
    const started = await stream.next();
    const delta = await stream.next();
    expect(delta.value).toMatchObject({ type: 'delta', text: 'Partial answer' });
    await stream.return(undefined);
    if (started.value?.type !== 'started') throw new Error('no started event');
    const generation = row(started.value.id);
    expect(generation).toMatchObject({ status: 'CANCELLED', finishReason: 'cancelled', errorCode: 'CANCELLED', providerId: 'scripted' });
    expect(generation.completionTokens).toBeGreaterThan(0);
    expect(summary(generation.attempts ?? [])).toEqual(['scripted:CANCELLED:CANCELLED']);
    expect(service.activeCount).toBe(0);
  });

  it('records an upstream error after the first token as FAILED, attempt and generation, and says so in an error event', async () => {
    const { service, row } = gateway(async function* () {
      yield { type: 'start', warnings: [] };
      yield { type: 'text-delta', text: 'Partial answer' };
      throw new ProviderError('scripted sent an error event', { provider: 'scripted', kind: 'stream_error' });
    });
    const events: CompletionEvent[] = [];
    for await (const event of await service.openStream(ask, caller)) events.push(event);
    const last = events.at(-1);
    if (last?.type !== 'error') throw new Error('no error event');
    expect(last.error.code).toBe('PROVIDER_ERROR');
    expect(last.usage.completionTokens).toBeGreaterThan(0);
    const generation = row(last.id);
    expect(generation).toMatchObject({ status: 'FAILED', finishReason: 'error', errorCode: 'PROVIDER_ERROR', errorMessage: 'scripted sent an error event' });
    expect(generation.completionTokens).toBe(last.usage.completionTokens);
    expect(summary(generation.attempts ?? [])).toEqual(['scripted:FAILED:PROVIDER_ERROR']);
  });

  it('cuts a stream off at exactly the request deadline as a TIMEOUT, with what it had produced', async () => {
    const { clock, service, row } = gateway(partialThenHang, 5_000);
    const stream = await service.openStream(ask, caller);
    const events: CompletionEvent[] = [];
    const reading = watch(
      (async () => {
        for await (const event of stream) events.push(event);
      })(),
    );
    await clock.advance(4_999);
    expect(reading.settled).toBe(false);
    expect(events.map((event) => event.type)).toEqual(['started', 'delta']);
    await clock.advance(1);
    await reading.promise;
    const last = events.at(-1);
    if (last?.type !== 'error') throw new Error('no error event');
    expect(last.error.code).toBe('TIMEOUT');
    const generation = row(last.id);
    expect(generation).toMatchObject({ status: 'FAILED', errorCode: 'TIMEOUT', latencyMs: 5_000 });
    expect(generation.completionTokens).toBeGreaterThan(0);
    expect(generation.attempts?.map((attempt) => [attempt.status, attempt.errorCode, attempt.latencyMs])).toEqual([['FAILED', 'TIMEOUT', 5_000]]);
  });

  describe('a stream that stalls after its first token', () => {
    const IDLE_MS = 1_000;
    /** Set by the script: the upstream call was aborted, which is what closes a real adapter's connection. */
    let upstreamAborted: unknown;
    async function* chunksThenStall(signal: AbortSignal, clock: ManualClock): AsyncGenerator<StreamEvent> {
      signal.addEventListener('abort', () => (upstreamAborted = signal.reason), { once: true });
      yield { type: 'start', warnings: [] };
      yield { type: 'text-delta', text: 'one' };
      // Each further chunk comes 1 ms inside the idle timeout; then nothing more.
      for (const text of [' two', ' three', ' four']) {
        await clock.sleep(IDLE_MS - 1, signal);
        yield { type: 'text-delta', text };
      }
      await untilAborted(signal);
    }

    it('lives on while chunks come just under the idle timeout, and ends as a TIMEOUT at exactly the timeout, its upstream closed', async () => {
      upstreamAborted = undefined;
      const { clock, service, row } = gateway(chunksThenStall, 60_000, { streamIdleTimeoutMs: IDLE_MS });
      const events: CompletionEvent[] = [];
      const reading = watch(
        (async () => {
          for await (const event of await service.openStream(ask, caller)) events.push(event);
        })(),
      );
      await clock.settle();
      expect(events.map((event) => event.type)).toEqual(['started', 'delta']);
      for (let chunk = 1; chunk <= 3; chunk++) {
        await clock.advance(IDLE_MS - 1);
        expect(events.filter((event) => event.type === 'delta')).toHaveLength(1 + chunk);
        expect(reading.settled).toBe(false);
      }
      await clock.advance(IDLE_MS - 1);
      expect(reading.settled).toBe(false);
      expect(upstreamAborted).toBeUndefined();
      await clock.advance(1);
      // Recording the failure takes a few real turns (the ledger); with no idle timeout the stream would stay open.
      await Promise.race([reading.promise, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the stream is still open after the idle timeout')), 2_000))]);

      const last = events.at(-1);
      if (last?.type !== 'error') throw new Error('no error event');
      expect(last.error.code).toBe('TIMEOUT');
      expect(last.error.message).toMatch(/scripted sent nothing for 1000 ms/);
      expect(upstreamAborted).toBeInstanceOf(Error);
      const generation = row(last.id);
      const stalledAt = 3 * (IDLE_MS - 1) + IDLE_MS;
      expect(generation).toMatchObject({ status: 'FAILED', finishReason: 'error', errorCode: 'TIMEOUT', latencyMs: stalledAt });
      // The tokens streamed before the stall are on the row, as the error event said.
      expect(generation.completionTokens).toBeGreaterThan(0);
      expect(generation.completionTokens).toBe(last.usage.completionTokens);
      expect(generation.attempts?.map((attempt) => [attempt.status, attempt.errorCode, attempt.latencyMs])).toEqual([['FAILED', 'TIMEOUT', stalledAt]]);
      expect(service.activeCount).toBe(0);
    });

    it('leaves the wait for the first token to the attempt timeout, not to the idle timeout', async () => {
      upstreamAborted = undefined;
      const { clock, service, latest } = gateway(
        async function* (signal) {
          signal.addEventListener('abort', () => (upstreamAborted = signal.reason), { once: true });
          yield { type: 'start', warnings: [] };
          await untilAborted(signal);
        },
        60_000,
        { streamIdleTimeoutMs: IDLE_MS, attemptTimeoutMs: 5_000 },
      );
      const events: CompletionEvent[] = [];
      const opening = watch(
        (async () => {
          for await (const event of await service.openStream(ask, caller)) events.push(event);
        })(),
      );
      await clock.advance(IDLE_MS);
      expect(opening.settled).toBe(false);
      expect(upstreamAborted).toBeUndefined();
      await clock.advance(5_000 - IDLE_MS);
      await opening.promise;
      expect(events.map((event) => event.type)).toEqual(['error']);
      expect(latest()).toMatchObject({ status: 'FAILED', errorCode: 'TIMEOUT', latencyMs: 5_000 });
      expect(latest().errorMessage).toMatch(/no first token within 5000 ms/);
    });
  });

  it('records a completion whose client went away as CANCELLED, attempt and generation', async () => {
    const { clock, service, latest } = gateway(partialThenHang);
    const client = new AbortController();
    const pending = watch(service.complete(ask, caller, client.signal));
    await clock.advance(30);
    expect(pending.settled).toBe(false);
    client.abort(new Error('client went away'));
    await expect(pending.promise).rejects.toMatchObject({ code: 'INTERNAL' });
    const generation = latest();
    expect(generation).toMatchObject({ status: 'CANCELLED', finishReason: 'cancelled', errorCode: 'CANCELLED', latencyMs: 30 });
    expect(generation.attempts?.map((attempt) => [attempt.status, attempt.errorCode, attempt.latencyMs])).toEqual([['CANCELLED', 'CANCELLED', 30]]);
  });

  it('interrupts, at exactly the end of the shutdown grace, a stream still running, and records it INTERRUPTED', async () => {
    const { clock, service, row } = gateway(partialThenHang);
    const stream = await service.openStream(ask, caller);
    const started = await stream.next();
    if (started.value?.type !== 'started') throw new Error('no started event');
    const reading = (async () => {
      for await (const event of stream) void event;
    })();
    const draining = watch(service.drain(100));
    await clock.advance(99);
    expect(draining.settled).toBe(false);
    expect(row(started.value.id).status).not.toBe('INTERRUPTED');
    await clock.advance(1);
    await draining.promise;
    await reading;
    const generation = row(started.value.id);
    expect(generation).toMatchObject({ status: 'INTERRUPTED', finishReason: 'cancelled', errorCode: 'CANCELLED' });
    expect(summary(generation.attempts ?? [])).toEqual(['scripted:CANCELLED:CANCELLED']);
  });
});
