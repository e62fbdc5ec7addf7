import type { Clock, Timer } from '../clock.js';
import type { AttemptRecord } from '../db/schema.js';
import { asGatewayError, type GatewayError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import type { Permit, RequestKey } from './breaker.js';
import { hedgeDelayMs } from './hedge.js';
import type { EndpointHealth, RouterState } from './health.js';
import type { Candidate } from './resolve.js';
import { retryDelayMs } from './retry.js';
import type { Route } from './route.js';
import { endAttemptSpan, startAttemptSpan } from '../telemetry/spans.js';
import type { TraceScope } from '../telemetry/tracing.js';

/** Abort reasons routing gives its own attempts, so they are told apart from a client going away. */
export class AttemptTimedOut extends Error {
  override name = 'AttemptTimedOut';
}
export class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
}
export class HedgeLost extends Error {
  override name = 'HedgeLost';
}
export class StreamIdle extends Error {
  override name = 'StreamIdle';
}

/** Where a run reports its attempts: the generation's trace. */
export interface AttemptSink {
  /** Each attempt's record is pushed once, when it ends. */
  attempts: AttemptRecord[];
  /** Called as each attempt starts, so a failed generation names the endpoint tried last. */
  started(candidate: Candidate): void;
  /** The request's span, when it is traced: each attempt gets a span under it. */
  trace?: TraceScope;
}

export interface RunEnvironment {
  state: RouterState;
  /** Every timer of the run (deadline, attempt timeouts, hedge delays, backoff) and every time it records. */
  clock: Clock;
  random(): number;
}

/** What the winning attempt's answer used, once it is complete. */
export interface AttemptUsage {
  completionTokens: number | null;
  /** Null when the endpoint's prices are unknown. */
  costPicos: number | null;
}

export interface FirstTokenHooks<T> {
  /**
   * A value that arrived after its attempt had already lost (a hedge that answered a moment too late): release
   * what it holds, and record what it cost if its provider said.
   */
  lost?(value: T, attempt: LiveAttempt): void;
}

export interface Winner<T> {
  attempt: LiveAttempt;
  value: T;
}

/** Errors that say the request was wrong rather than the endpoint: they neither open circuits nor count as errors. */
function blamesEndpoint(error: GatewayError): boolean {
  return error instanceof ProviderError && error.kind !== 'bad_request' && error.kind !== 'context_length_exceeded';
}

/**
 * One call to one endpoint: its record, its health bookkeeping and its own abort controller. Its end states are
 * set here and only from routing (AttemptRun): SUCCEEDED, FAILED, CANCELLED, or CANCELLED as HEDGE_LOST. The first
 * one set wins; each pushes the record to the sink once and settles the breaker permit it holds.
 */
export class LiveAttempt {
  readonly controller = new AbortController();
  readonly record: AttemptRecord;
  readonly startedAt: number;
  /** This attempt's span (ended with its end state), the parent of its upstream call's; undefined when untraced. */
  readonly trace: TraceScope | undefined;
  private firstTokenAt: number | undefined;
  private isEnded = false;

  constructor(
    private readonly run: AttemptRun,
    readonly candidate: Candidate,
    readonly health: EndpointHealth,
    private readonly permit: Permit,
    readonly position: number,
    readonly retry: number,
    hedged: boolean,
  ) {
    this.startedAt = run.now();
    this.record = {
      providerId: candidate.providerId,
      providerModelId: candidate.providerModelId,
      status: 'FAILED',
      latencyMs: 0,
      retry,
      startedAfterMs: this.startedAt - run.startedAt,
      ...(hedged ? { hedged: true } : {}),
    };
    this.trace = startAttemptSpan(run.sink.trace, { providerId: candidate.providerId, providerModelId: candidate.providerModelId, retry, hedged });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** What an upstream call threw, as the caller should see it: our own timeouts become TIMEOUT provider errors. */
  errorFrom(error: unknown): unknown {
    const reason: unknown = this.controller.signal.aborted ? this.controller.signal.reason : undefined;
    if (reason instanceof AttemptTimedOut || reason instanceof DeadlineExceeded || reason instanceof StreamIdle) {
      return new ProviderError(reason.message, { provider: this.candidate.providerId, kind: 'timeout', cause: error });
    }
    return error;
  }

  firstToken(): void {
    const now = this.run.now();
    this.firstTokenAt = now;
    this.record.timeToFirstTokenMs = now - this.startedAt;
    this.health.firstToken(now - this.startedAt, this.run.route.streamed, now);
  }

  /** Records what the attempt cost, when its provider reported usage. */
  costs(costPicos: number | null): void {
    if (costPicos !== null) this.record.costPicos = costPicos;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  succeeded(usage: AttemptUsage): void {
    const now = this.run.now();
    this.costs(usage.costPicos);
    if (!this.end('SUCCEEDED', now)) return;
    const { completionTokens } = usage;
    const generatingMs = this.firstTokenAt !== undefined && this.run.route.streamed ? now - this.firstTokenAt : now - this.startedAt;
    this.health.succeeded(now - this.startedAt, completionTokens, generatingMs, now);
    this.health.breaker.succeeded(this.permit, now);
    this.run.state.breakersMayHaveChanged();
    endAttemptSpan(this.trace, this.record);
  }

  failed(error: GatewayError): void {
    const now = this.run.now();
    if (!this.end('FAILED', now)) return;
    this.record.errorCode = error.code;
    this.record.errorMessage = error.message;
    if (error instanceof ProviderError && error.status !== undefined) this.record.httpStatus = error.status;
    if (blamesEndpoint(error)) {
      this.health.failed(error.message, error.code, now);
      // Only a wait for the first token bounds the latency figures; a stream that stalls later had answered in time.
      if (error instanceof ProviderError && error.kind === 'timeout' && this.firstTokenAt === undefined) this.health.waited(now - this.startedAt, this.run.route.streamed);
      this.health.breaker.failed(this.permit, now, this.run.requestKey);
    } else {
      this.health.breaker.released(this.permit);
    }
    this.run.state.breakersMayHaveChanged();
    endAttemptSpan(this.trace, this.record);
  }

  cancelled(code: 'CANCELLED' | 'HEDGE_LOST', message: string): void {
    const now = this.run.now();
    if (!this.end('CANCELLED', now)) return;
    this.record.errorCode = code;
    this.record.errorMessage = message;
    if (code === 'HEDGE_LOST') this.health.waited(now - this.startedAt, this.run.route.streamed);
    this.health.breaker.released(this.permit);
    endAttemptSpan(this.trace, this.record);
  }

  /** Aborts the attempt because another one produced the first token first. */
  lose(): void {
    this.controller.abort(new HedgeLost('another attempt produced the first token first'));
    this.cancelled('HEDGE_LOST', 'Another attempt produced the first token first; this one was aborted');
  }

  private end(status: AttemptRecord['status'], now: number): boolean {
    if (this.isEnded) return false;
    this.isEnded = true;
    this.record.status = status;
    this.record.latencyMs = now - this.startedAt;
    this.run.sink.attempts.push(this.record);
    return true;
  }
}

/** Numbers runs for their request keys; unique within the process, which is as far as breakers live. */
let runSequence = 0;

interface Pending {
  candidate: Candidate;
  /** Its place in the route, which orders retries of the same round. */
  position: number;
  retry: number;
  readyAt: number;
}

type Settled<T> = { kind: 'settled'; attempt: LiveAttempt; ok: true; value: T } | { kind: 'settled'; attempt: LiveAttempt; ok: false; error: unknown };

interface HedgeTimer {
  fired: Promise<{ kind: 'hedge' }>;
  timer: Timer;
}

/**
 * One request's attempts over its route, until one produces a first token: in route order; a retryable failure
 * moves on to the next endpoint at once, and each endpoint gets up to `maxRetries` more tries in later rounds,
 * after an exponential backoff with jitter that is never shorter than the provider's Retry-After; a failure that
 * is not retryable (a 400) ends it. Endpoints whose circuit is open are skipped. Each attempt has
 * `attemptTimeoutMs` for its first token and the whole run has `deadlineMs`. With hedging, when the attempt in
 * flight has no first token after the hedge delay, the next endpoint starts too; the first token wins and the
 * other attempt is aborted.
 *
 * The run owns every end state of its attempts: those that lose, fail, time out or are abandoned before a first
 * token are ended inside `first`; the winner is committed to (a stream never switches endpoints after its first
 * token) and ended by `succeeded` or `end`, and `dispose` cancels it if the caller did neither.
 */
export class AttemptRun {
  readonly startedAt: number;
  /** Tells breakers which failures are this request's own retries, which count once (see breaker.ts). */
  readonly requestKey: RequestKey = `run-${++runSequence}`;
  /** Aborts every attempt: the client went away, or the deadline passed. */
  private readonly controller = new AbortController();
  private readonly deadlineTimer: Timer;
  private readonly stopped: Promise<{ kind: 'stopped' }>;
  private readonly detach: () => void;
  private lastCandidate: Candidate | undefined;
  /** The attempt that produced the first token: the request is answered by it, whatever happens next. */
  private committed: LiveAttempt | undefined;

  constructor(
    readonly route: Route,
    private readonly env: RunEnvironment,
    private readonly requestSignal: AbortSignal,
    readonly sink: AttemptSink,
  ) {
    this.startedAt = env.clock.now();
    const onAbort = (): void => this.controller.abort(requestSignal.reason);
    if (requestSignal.aborted) onAbort();
    else requestSignal.addEventListener('abort', onAbort, { once: true });
    this.detach = () => requestSignal.removeEventListener('abort', onAbort);
    this.stopped = new Promise((resolve) => {
      if (this.controller.signal.aborted) resolve({ kind: 'stopped' });
      else this.controller.signal.addEventListener('abort', () => resolve({ kind: 'stopped' }), { once: true });
    });
    this.deadlineTimer = env.clock.setTimeout(() => this.controller.abort(new DeadlineExceeded(`No answer within the request deadline of ${route.deadlineMs} ms`)), route.deadlineMs);
  }

  get state(): RouterState {
    return this.env.state;
  }

  now(): number {
    return this.env.clock.now();
  }

  /** The committed attempt's answer arrived whole: it succeeded, at what its usage cost. */
  succeeded(usage: AttemptUsage): void {
    if (!this.committed) throw new Error('succeeded() before an attempt produced a first token');
    this.committed.succeeded(usage);
  }

  /**
   * Waits for the committed stream's next chunk (`read`: the upstream iterator's next()), for at most the route's
   * idle timeout between chunks. After its first token a stream is committed to its endpoint and cannot fall back,
   * so without this a stall would hold the caller until the request deadline. When the timeout passes, the attempt
   * is aborted — which closes its upstream connection — and this rejects with the abort reason, which `end` shows
   * as a TIMEOUT. Any other abort of the attempt (client gone, deadline) rejects at once too, so an adapter slow to
   * notice it cannot hold the stream open. Only the wait for upstream counts: time the caller takes to read what
   * was already sent is not the endpoint's silence.
   */
  nextChunk<T>(read: Promise<T>): Promise<T> {
    const attempt = this.committed;
    if (!attempt) throw new Error('nextChunk() before an attempt produced a first token');
    // Once given up on, the read still settles (rejected, as its connection closes) with nobody awaiting it.
    read.catch(() => undefined);
    const signal = attempt.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    const idleMs = this.route.streamIdleTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        timer.clear();
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        settle();
        reject(signal.reason);
      };
      const timer = this.env.clock.setTimeout(
        () => attempt.controller.abort(new StreamIdle(`${attempt.candidate.providerId} sent nothing for ${idleMs} ms in the middle of the stream`)),
        idleMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      read.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  /**
   * Ends the committed attempt of a request that ends without success, and returns the error as the caller should
   * see it. `failure` undefined (the consumer stopped reading) or a request that was aborted (client gone,
   * shutdown): CANCELLED. Otherwise FAILED, our own deadline shown as a TIMEOUT provider error. With nothing
   * committed (`first` threw, having ended every attempt itself) or the attempt already ended, the error is
   * returned as it is.
   */
  end(failure: { error: unknown } | undefined): unknown {
    const attempt = this.committed;
    if (!attempt || attempt.ended) return failure?.error;
    if (failure === undefined || this.requestSignal.aborted) {
      this.cancel(attempt);
      return failure?.error;
    }
    const shown = attempt.errorFrom(failure.error);
    attempt.failed(asGatewayError(shown));
    return shown;
  }

  /**
   * Ends the run's own timers. A committed attempt the caller left open is cancelled, so its record is kept and a
   * half-open circuit's probe permit is never held for ever.
   */
  dispose(): void {
    if (this.committed && !this.committed.ended) this.cancel(this.committed);
    this.deadlineTimer.clear();
    this.detach();
  }

  private cancel(attempt: LiveAttempt): void {
    if (!attempt.signal.aborted) attempt.controller.abort(this.requestSignal.reason);
    attempt.cancelled('CANCELLED', 'cancelled');
  }

  /**
   * Runs attempts until one's `start` resolves (its first token, or its whole answer when not streamed) and
   * returns that attempt, still live: the caller reports how it ends. Throws the error to show the caller.
   */
  async first<T>(start: (candidate: Candidate, signal: AbortSignal, attempt: LiveAttempt) => Promise<T>, hooks: FirstTokenHooks<T> = {}): Promise<Winner<T>> {
    const queue: Pending[] = this.route.candidates.map((candidate, position) => ({ candidate, position, retry: 0, readyAt: this.startedAt }));
    const racing = new Map<LiveAttempt, Promise<Settled<T>>>();
    const skipped: Candidate[] = [];
    let fatal: GatewayError | undefined;
    let lastError: GatewayError | undefined;
    let hedged = false;

    const launch = (pending: Pending, asHedge: boolean): void => {
      const attempt = this.launch(pending, asHedge, skipped);
      if (attempt) racing.set(attempt, this.settle(attempt, start, hooks));
    };

    try {
      for (;;) {
        this.throwIfStopped();
        if (racing.size === 0) {
          if (fatal) throw fatal;
          const next = this.nextPending(queue, skipped, false);
          if (!next) throw lastError ?? this.unavailable(skipped);
          const wait = next.readyAt - this.env.clock.now();
          if (wait > 0) await this.pause(wait);
          launch(next, false);
          continue;
        }

        const [primary] = racing.keys();
        const hedge = !hedged && fatal === undefined && racing.size === 1 && primary ? this.hedgeTimer(primary, queue) : undefined;
        const event = await Promise.race([...racing.values(), this.stopped, ...(hedge ? [hedge.fired] : [])]);
        hedge?.timer.clear();
        if (event.kind === 'stopped') continue;
        if (event.kind === 'hedge') {
          hedged = true;
          const next = this.nextPending(queue, skipped, true);
          if (next) launch(next, true);
          continue;
        }

        racing.delete(event.attempt);
        if (event.ok) {
          event.attempt.firstToken();
          for (const loser of racing.keys()) loser.lose();
          racing.clear();
          this.committed = event.attempt;
          return { attempt: event.attempt, value: event.value };
        }
        if (this.controller.signal.aborted) {
          racing.set(event.attempt, Promise.resolve(event));
          continue;
        }
        const error = event.attempt.errorFrom(event.error);
        const failure = asGatewayError(error);
        event.attempt.failed(failure);
        if (!(error instanceof ProviderError) || !error.isRetryable) {
          fatal ??= failure;
          continue;
        }
        // A rate limit stays the final error only while every attempt hit one: the caller is then told to wait (429).
        if (error.kind !== 'rate_limited' || !(lastError instanceof ProviderError) || lastError.kind === 'rate_limited') lastError = failure;
        this.scheduleRetry(queue, event.attempt, error);
      }
    } catch (error) {
      for (const attempt of racing.keys()) this.abandon(attempt);
      throw error;
    }
  }

  private launch(pending: Pending, hedged: boolean, skipped: Candidate[]): LiveAttempt | undefined {
    const { candidate } = pending;
    const health = this.env.state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: candidate.model?.id ?? null });
    const permit = health.breaker.acquire(this.env.clock.now());
    if (permit === null) {
      skipped.push(candidate);
      return undefined;
    }
    const attempt = new LiveAttempt(this, candidate, health, permit, pending.position, pending.retry, hedged);
    this.lastCandidate = candidate;
    this.sink.started(candidate);
    const onAbort = (): void => attempt.controller.abort(this.controller.signal.reason);
    if (this.controller.signal.aborted) onAbort();
    else this.controller.signal.addEventListener('abort', onAbort, { once: true });
    attempt.signal.addEventListener('abort', () => this.controller.signal.removeEventListener('abort', onAbort), { once: true });
    return attempt;
  }

  /**
   * Resolves (never rejects) with the attempt's first outcome: its value, its error, or the abort of its signal,
   * whichever comes first, so an adapter slow to notice an abort cannot hold the run up.
   */
  private settle<T>(attempt: LiveAttempt, start: (candidate: Candidate, signal: AbortSignal, attempt: LiveAttempt) => Promise<T>, hooks: FirstTokenHooks<T>): Promise<Settled<T>> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: Settled<T>): boolean => {
        if (done) return false;
        done = true;
        timer.clear();
        attempt.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
        return true;
      };
      const onAbort = (): void => {
        finish({ kind: 'settled', attempt, ok: false, error: attempt.signal.reason });
      };
      const timeoutMs = this.route.attemptTimeoutMs;
      const timer = this.env.clock.setTimeout(
        () => attempt.controller.abort(new AttemptTimedOut(`${attempt.candidate.providerId} sent no ${this.route.streamed ? 'first token' : 'answer'} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      attempt.signal.addEventListener('abort', onAbort, { once: true });
      let call: Promise<T>;
      try {
        call = start(attempt.candidate, attempt.signal, attempt);
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (value) => {
          if (!finish({ kind: 'settled', attempt, ok: true, value })) hooks.lost?.(value, attempt);
        },
        (error: unknown) => {
          finish({ kind: 'settled', attempt, ok: false, error });
        },
      );
    });
  }

  private hedgeTimer(primary: LiveAttempt, queue: readonly Pending[]): HedgeTimer | undefined {
    const setting = this.route.hedge;
    if (setting === null) return undefined;
    const now = this.env.clock.now();
    const someoneToHedgeWith = queue.some((pending) => pending.readyAt <= now && this.healthOf(pending.candidate).breaker.available(now));
    if (!someoneToHedgeWith) return undefined;
    const delay = hedgeDelayMs(setting, primary.health, this.route.streamed, now, this.env.state.figuresWindowMs) - (now - primary.startedAt);
    let fire: (event: { kind: 'hedge' }) => void = () => undefined;
    const fired = new Promise<{ kind: 'hedge' }>((resolve) => {
      fire = resolve;
    });
    const timer = this.env.clock.setTimeout(() => fire({ kind: 'hedge' }), Math.max(0, delay));
    return { fired, timer };
  }

  /** The next endpoint to try, dropping those past the deadline and skipping those whose circuit is open. */
  private nextPending(queue: Pending[], skipped: Candidate[], readyOnly: boolean): Pending | undefined {
    const now = this.env.clock.now();
    const deadlineAt = this.startedAt + this.route.deadlineMs;
    for (let index = 0; index < queue.length; ) {
      const pending = queue[index];
      if (!pending) break;
      if (pending.readyAt >= deadlineAt) {
        queue.splice(index, 1);
        continue;
      }
      if (readyOnly && pending.readyAt > now) {
        index++;
        continue;
      }
      if (!this.healthOf(pending.candidate).breaker.available(now)) {
        queue.splice(index, 1);
        skipped.push(pending.candidate);
        continue;
      }
      queue.splice(index, 1);
      return pending;
    }
    return undefined;
  }

  private scheduleRetry(queue: Pending[], attempt: LiveAttempt, error: ProviderError): void {
    const retry = attempt.retry + 1;
    if (retry > this.route.maxRetries) return;
    // Waiting longer than this would hold the caller for nothing they could not do better themselves.
    if (error.retryAfterMs !== undefined && error.retryAfterMs > this.route.maxRetryAfterMs) return;
    const readyAt = this.env.clock.now() + retryDelayMs(retry, { baseMs: this.route.retryBaseMs, maxMs: this.route.retryMaxDelayMs, random: this.env.random }, error.retryAfterMs);
    const pending: Pending = { candidate: attempt.candidate, position: attempt.position, retry, readyAt };
    const at = queue.findIndex((other) => other.retry > retry || (other.retry === retry && other.position > attempt.position));
    if (at === -1) queue.push(pending);
    else queue.splice(at, 0, pending);
  }

  private async pause(ms: number): Promise<void> {
    try {
      await this.env.clock.sleep(ms, this.controller.signal);
    } catch (error) {
      this.throwIfStopped();
      throw error;
    }
  }

  private throwIfStopped(): void {
    if (!this.controller.signal.aborted) return;
    const reason: unknown = this.controller.signal.reason;
    if (reason instanceof DeadlineExceeded) {
      throw new ProviderError(reason.message, { provider: this.lastCandidate?.providerId ?? this.route.candidates[0]?.providerId ?? 'none', kind: 'timeout' });
    }
    throw reason;
  }

  /** An attempt still running when the run gives up: the deadline makes it a timeout, anything else a cancellation. */
  private abandon(attempt: LiveAttempt): void {
    const reason: unknown = this.controller.signal.aborted ? this.controller.signal.reason : undefined;
    if (!attempt.signal.aborted) attempt.controller.abort(reason);
    if (reason instanceof DeadlineExceeded) attempt.failed(asGatewayError(attempt.errorFrom(reason)));
    else attempt.cancelled('CANCELLED', 'cancelled');
  }

  private healthOf(candidate: Candidate): EndpointHealth {
    return this.env.state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: candidate.model?.id ?? null });
  }

  private unavailable(skipped: readonly Candidate[]): ProviderError {
    const first = skipped[0] ?? this.route.candidates[0];
    const now = this.env.clock.now();
    const retryAts = skipped.map((candidate) => this.healthOf(candidate).breaker.retryAt()).filter((at): at is number => at !== null);
    const retryAfterMs = retryAts.length > 0 ? Math.max(0, Math.min(...retryAts) - now) : undefined;
    const names = [...new Set(skipped.map((candidate) => candidate.providerId))].join(', ');
    return new ProviderError(
      skipped.length > 0
        ? `Every endpoint for '${this.route.requestedModel}' is failing (circuit open: ${names}); try again later`
        : `No endpoint for '${this.route.requestedModel}' could be tried`,
      { provider: first?.providerId ?? 'none', kind: 'overloaded', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    );
  }
}
