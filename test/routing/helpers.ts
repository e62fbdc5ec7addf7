import { ManualClock, systemClock, type Clock } from '../../src/clock.js';
import { ProviderError, type ProviderErrorKind } from '../../src/providers/errors.js';
import type { CompletionResponse, ProviderAdapter, StreamEvent } from '../../src/providers/types.js';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../src/routing/config.js';
import type { Candidate } from '../../src/routing/resolve.js';
import { Router } from '../../src/routing/router.js';
import type { Route } from '../../src/routing/router.js';
import type { AttemptRecord } from '../../src/db/schema.js';

/** What a scripted endpoint does with its next call. */
export type Step =
  | { kind: 'ok'; afterMs?: number; text?: string }
  | { kind: 'fail'; error: ProviderErrorKind; status?: number; retryAfterMs?: number; afterMs?: number }
  /** Never answers until aborted. */
  | { kind: 'hang' };

export interface ScriptedEndpoint {
  candidate: Candidate;
  /** Calls made, with whether each was aborted by the time it ended. */
  calls: Array<{ at: number; aborted: boolean }>;
  queue(...steps: Step[]): void;
}

/** A successful answer of 10 prompt and 5 completion tokens, as every scripted endpoint gives. */
export function response(text: string): CompletionResponse {
  return {
    content: text,
    toolCalls: [],
    finishReason: 'stop',
    rawFinishReason: 'stop',
    usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
    warnings: [],
  };
}

export interface ScriptedEndpointOptions {
  weight?: number;
  promptPriceMicros?: number | null;
  completionPriceMicros?: number | null;
  /** What `afterMs` waits on: the router's clock, so a test moves both together. */
  clock?: Clock;
}

/** An in-memory endpoint whose calls follow a script; with nothing queued it answers at once. */
export function scriptedEndpoint(providerId: string, options: ScriptedEndpointOptions = {}): ScriptedEndpoint {
  const clock = options.clock ?? systemClock;
  const steps: Step[] = [];
  const calls: ScriptedEndpoint['calls'] = [];
  async function run(signal: AbortSignal): Promise<string> {
    const call = { at: clock.now(), aborted: false };
    calls.push(call);
    signal.addEventListener('abort', () => (call.aborted = true), { once: true });
    const step = steps.shift() ?? { kind: 'ok' };
    if (step.kind === 'hang') {
      await new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      throw new Error('unreachable');
    }
    if (step.afterMs) await clock.sleep(step.afterMs, signal);
    if (step.kind === 'fail') {
      throw new ProviderError(`${providerId} failed with ${step.error}`, {
        provider: providerId,
        kind: step.error,
        ...(step.status !== undefined ? { status: step.status } : {}),
        ...(step.retryAfterMs !== undefined ? { retryAfterMs: step.retryAfterMs } : {}),
      });
    }
    return step.text ?? `answer from ${providerId}`;
  }
  const adapter: ProviderAdapter = {
    id: providerId,
    kind: 'openai_compatible',
    complete: async (_request, { signal }) => response(await run(signal)),
    async *stream(_request, { signal }): AsyncGenerator<StreamEvent> {
      yield { type: 'start', warnings: [] };
      const text = await run(signal);
      yield { type: 'text-delta', text };
      yield { type: 'finish', finishReason: 'stop', rawFinishReason: 'stop', usage: null };
    },
  };
  const now = clock.now();
  const candidate: Candidate = {
    providerId,
    providerModelId: `${providerId}-model`,
    adapter,
    model: null,
    endpoint: {
      id: `${providerId}-endpoint`,
      modelId: 'vendor/model',
      providerId,
      providerModelId: `${providerId}-model`,
      promptPriceMicros: options.promptPriceMicros === undefined ? 1_000_000 : options.promptPriceMicros,
      completionPriceMicros: options.completionPriceMicros === undefined ? 1_000_000 : options.completionPriceMicros,
      cachedPromptPriceMicros: null,
      cacheWritePriceMicros: null,
      contextLength: null,
      status: 'ACTIVE',
      weight: options.weight ?? 1,
      priceSource: null,
      priceDate: null,
      editedByAdmin: false,
      createdAt: now,
      updatedAt: now,
    },
    prices: {
      promptPriceMicros: options.promptPriceMicros === undefined ? 1_000_000 : options.promptPriceMicros,
      completionPriceMicros: options.completionPriceMicros === undefined ? 1_000_000 : options.completionPriceMicros,
      cachedPromptPriceMicros: null,
      cacheWritePriceMicros: null,
    },
  };
  return { candidate, calls, queue: (...more) => steps.push(...more) };
}

export interface Sleeps {
  waits: number[];
}

/** A manual clock that also notes each sleep it is asked for: routing sleeps only for backoff and Retry-After. */
export class RecordingClock extends ManualClock {
  readonly sleeps: Sleeps = { waits: [] };
  private sleepListeners: Array<() => void> = [];

  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.waits.push(ms);
    const sleeping = super.sleep(ms, signal);
    for (const listener of this.sleepListeners.splice(0)) listener();
    return sleeping;
  }

  /** Resolves with the length of sleep number `index` (0: the first) once it was asked for; at once if it was. */
  sleepAt(index: number): Promise<number> {
    return new Promise((resolve) => {
      const check = (): void => {
        const ms = this.sleeps.waits[index];
        if (ms === undefined) this.sleepListeners.push(check);
        else resolve(ms);
      };
      check();
    });
  }

  /**
   * Awaits `promise` while moving the clock through each sleep (backoff, Retry-After) it waits on, by exactly
   * that sleep, and through nothing else: timeouts and the deadline only fire when a test advances to them.
   * For requests that also wait on real sockets, where `runUntilSettled` cannot tell idle from waiting on I/O.
   */
  async throughSleeps<T>(promise: Promise<T>): Promise<T> {
    const watched = watch(promise);
    let next = this.sleeps.waits.length;
    for (;;) {
      const event = await Promise.race([watched.promise.then(() => undefined, () => undefined), this.sleepAt(next)]);
      if (event === undefined) return watched.promise;
      next++;
      await this.advance(event);
    }
  }
}

/**
 * A router on a manual clock: deadlines, attempt timeouts, hedge delays, backoff and breaker cool-downs all happen
 * when the test moves the clock (runRoute moves it from one timer to the next), so the tests wait on no real time
 * and each delay shows as an exact number.
 */
export function testRouter(config: Partial<RoutingConfig> = {}, random: () => number = () => 0.5): { router: Router; sleeps: Sleeps; clock: RecordingClock } {
  const clock = new RecordingClock();
  const router = new Router({
    config: { ...DEFAULT_ROUTING_CONFIG, ...config, breaker: { ...DEFAULT_ROUTING_CONFIG.breaker, ...config.breaker } },
    random,
    clock,
  });
  return { router, sleeps: clock.sleeps, clock };
}

export function routeOver(router: Router, candidates: Candidate[], overrides: Partial<Route> = {}): Route {
  const config = router.config;
  return {
    requestedModel: 'vendor/model',
    candidates,
    streamed: false,
    hedge: null,
    attemptTimeoutMs: config.attemptTimeoutMs,
    deadlineMs: config.requestDeadlineMs,
    streamIdleTimeoutMs: config.streamIdleTimeoutMs,
    maxRetries: config.maxRetries,
    retryBaseMs: config.retryBaseMs,
    retryMaxDelayMs: config.retryMaxDelayMs,
    maxRetryAfterMs: config.maxRetryAfterMs,
    ...overrides,
  };
}

export interface RouteResult {
  attempts: AttemptRecord[];
  winner?: string;
  error?: unknown;
}

/**
 * Runs a route to its first answer the way the completion service does, and settles the winner. The result is a
 * promise that needs the router's clock to move: `runRoute` moves it, `startRoute` leaves that to the test.
 */
export function startRoute(router: Router, route: Route, signal: AbortSignal = new AbortController().signal): Promise<RouteResult> {
  const attempts: AttemptRecord[] = [];
  const run = router.start(route, signal, { attempts, started: () => {} });
  return (async () => {
    try {
      const { attempt, value } = await run.first((candidate, attemptSignal) => candidate.adapter.complete({ model: candidate.providerModelId, messages: [] }, { signal: attemptSignal }));
      run.succeeded({ completionTokens: value.usage?.completionTokens ?? null, costPicos: null });
      return { attempts, winner: attempt.candidate.providerId };
    } catch (error) {
      return { attempts, error };
    } finally {
      run.dispose();
    }
  })();
}

/** startRoute, with the router's manual clock moved from one timer to the next until the route has an outcome. */
export async function runRoute(router: Router, route: Route, signal?: AbortSignal): Promise<RouteResult> {
  const result = startRoute(router, route, signal);
  if (!(router.clock instanceof ManualClock)) return result;
  return router.clock.runUntilSettled(result);
}

/** A promise with a flag saying whether it has settled, read after the clock moved (which lets reactions run). */
export function watch<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  return {
    promise: watched,
    get settled() {
      return settled;
    },
  };
}

export const summary = (attempts: AttemptRecord[]): string[] => attempts.map((attempt) => `${attempt.providerId}:${attempt.status}${attempt.retry ? `#${attempt.retry}` : ''}${attempt.errorCode ? `:${attempt.errorCode}` : ''}`);

/**
 * Polls `probe` every 10 ms until it returns something other than undefined or false, for at most `timeoutMs` —
 * measured with performance.now, so it stays bounded in a test that fakes Date.
 */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3_000): Promise<T> {
  const giveUpAt = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > giveUpAt) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
