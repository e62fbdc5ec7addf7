import type { AdmissionControl, Admission } from '../auth/admission.js';
import { replayDeltas, type CachedAnswer, type CachedDelta } from '../cache/entry.js';
import { NOT_CACHED, type CacheLookup, type ResponseCache } from '../cache/response-cache.js';
import { systemClock, type Clock } from '../clock.js';
import type { CatalogLookup } from '../db/storage.js';
import type { Db } from '../db/client.js';
import { findEndpoint, findModel, endpointsOfModel } from '../db/catalog.js';
import { saveContent } from '../db/contents.js';
import type { LedgerStore } from '../db/ledger.js';
import type { AttemptRecord, GenerationRow, GenerationStatus } from '../db/schema.js';
import { ModelNotFoundError, asGatewayError, type GatewayError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import { estimateUsage } from '../providers/normalize.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { CompletionRequest, StreamEvent, ToolCall, Usage } from '../providers/types.js';
import type { AttemptRun, AttemptSink, LiveAttempt } from '../routing/attempts.js';
import { DEFAULT_ROUTING_CONFIG } from '../routing/config.js';
import { resolveModel, type Candidate } from '../routing/resolve.js';
import { Router, type Route } from '../routing/router.js';
import { costPicos } from '../usage/cost.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { recordCompletion, SPAN_NAMES, upstreamObserver } from '../telemetry/spans.js';
import { inChildSpan } from '../telemetry/tracing.js';
import { CancelledByShutdown, abortOnReturn } from './abortable.js';
import { newId, servedModelId } from '../ids.js';
import { summarizeRequest } from './summary.js';
import type { Caller, CompletionEvent, CompletionInput, CompletionResult, PricedUsage, ToolCallDelta } from './types.js';
import { requireChatModel } from './model-kind.js';
import { validateAgainstModel, validateCompletionInput, validateStreamedInput } from './validate.js';
import { failureForCaller } from './visibility.js';

export interface CompletionServiceDeps {
  /** Where models resolve: the instance's catalog snapshot; or, given `db` alone, SQLite's prepared lookups. */
  catalog?: CatalogLookup;
  /** Where stored content goes (SWITCHBOARD_STORE_CONTENT); `db`'s table when absent. */
  ledger?: Pick<LedgerStore, 'saveContent'>;
  db?: Db;
  admission: AdmissionControl;
  registry: AdapterRegistry;
  recorder: UsageRecorder;
  /** Strategies, retries, breakers and hedging; one per process, so endpoint health is shared by all requests. */
  router?: Router;
  /** Times the generation rows and the shutdown grace period; the router's clock unless given. */
  clock?: Clock;
  /** SWITCHBOARD_STORE_CONTENT: keep each answered generation's messages and answer beside its row. */
  storeContent?: boolean;
  /** The exact-match response cache for requests that opt in; absent: none. */
  cache?: ResponseCache;
}

const ZERO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false };

/** One request's bookkeeping, from its first row to its last. */
class GenerationTrace {
  readonly attempts: AttemptRecord[] = [];
  readonly warnings = new Set<string>();
  candidate: Candidate | undefined;
  firstTokenAt: number | undefined;
  private readonly summary: Record<string, unknown>;

  constructor(
    readonly id: string,
    readonly input: CompletionInput,
    readonly caller: Caller,
    readonly streamed: boolean,
    readonly startedAt: number,
  ) {
    this.summary = summarizeRequest(input);
  }

  /** Where routing reports its attempts. */
  get sink(): AttemptSink {
    return {
      attempts: this.attempts,
      started: (candidate) => {
        this.candidate = candidate;
      },
      ...(this.caller.trace ? { trace: this.caller.trace } : {}),
    };
  }

  row(status: GenerationStatus, now: number, details: Partial<GenerationRow> = {}): GenerationRow {
    const candidate = this.candidate;
    return {
      id: this.id,
      requestId: this.caller.requestId,
      apiKeyId: this.caller.apiKeyId,
      requestedModel: this.input.model,
      modelId: candidate?.model?.id ?? null,
      providerId: candidate?.providerId ?? null,
      providerModelId: candidate?.providerModelId ?? null,
      status,
      finishReason: null,
      rawFinishReason: null,
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      cachedPromptTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
      reasoningTokens: 0,
      usageEstimated: false,
      // Unknown until the request ends: a row a crash leaves IN_PROGRESS (later INTERRUPTED) must not claim a known 0.
      costPicos: null,
      promptPriceMicros: candidate?.prices.promptPriceMicros ?? null,
      completionPriceMicros: candidate?.prices.completionPriceMicros ?? null,
      cachedPromptPriceMicros: candidate?.prices.cachedPromptPriceMicros ?? null,
      cacheWritePriceMicros: candidate?.prices.cacheWritePriceMicros ?? null,
      latencyMs: status === 'IN_PROGRESS' ? null : now - this.startedAt,
      timeToFirstTokenMs: this.firstTokenAt === undefined ? null : this.firstTokenAt - this.startedAt,
      streamed: this.streamed,
      errorCode: null,
      errorMessage: null,
      warnings: [...this.warnings],
      attempts: [...this.attempts],
      requestSummary: this.summary,
      metadata: this.input.metadata ?? null,
      endUser: this.input.user ?? null,
      cacheHit: false,
      savedPicos: null,
      // The ledger store stamps the instance that writes the row.
      instanceId: null,
      createdAt: this.startedAt,
      finishedAt: status === 'IN_PROGRESS' ? null : now,
      ...details,
    };
  }
}

function priced(usage: Usage, candidate: Candidate | undefined, tier?: string): PricedUsage {
  return { ...usage, costPicos: candidate && pricedTier(tier) ? costPicos(usage, candidate.prices) : null };
}

/**
 * The catalog's prices are the standard tier's. A request served in another tier (OpenAI's flex, priority, scale)
 * costs something else, which the catalog does not hold: its cost is unknown (null) rather than a wrong figure.
 * `auto` that the provider did not resolve is taken as standard, as OpenAI bills it without a scale contract.
 */
function pricedTier(tier: string | undefined): boolean {
  return tier === undefined || tier === 'default' || tier === 'auto' || tier === 'standard';
}

function unpricedTierWarning(tier: string): string {
  return `service tier "${tier}" is not priced in the catalog: the cost of this request is recorded as unknown`;
}

/** What a stream used up to now: its prompt and the text streamed, estimated; nothing, at an unknown cost, before any token. */
function usageSoFar(trace: GenerationTrace, text: string): PricedUsage {
  if (text === '') return { ...ZERO_USAGE, costPicos: null };
  return priced(estimateUsage(trace.input, text), trace.candidate);
}

function usageColumns(usage: PricedUsage): Partial<GenerationRow> {
  return {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.totalTokens,
    cachedPromptTokens: usage.cachedPromptTokens,
    cacheWrite5mTokens: (usage.cacheWriteTokens ?? 0) - (usage.cacheWrite1hTokens ?? 0),
    cacheWrite1hTokens: usage.cacheWrite1hTokens ?? 0,
    reasoningTokens: usage.reasoningTokens,
    usageEstimated: usage.estimated,
    costPicos: usage.costPicos,
  };
}

/** A cache hit's row: the cached answer's usage and serving endpoint, nothing paid upstream, and what that saved. */
function cacheHitColumns(answer: CachedAnswer): Partial<GenerationRow> {
  return {
    ...usageColumns({ ...answer.usage, costPicos: 0 }),
    modelId: answer.modelId,
    providerId: answer.providerId,
    providerModelId: answer.providerModelId,
    finishReason: answer.finishReason,
    rawFinishReason: answer.rawFinishReason,
    cacheHit: true,
    savedPicos: answer.costPicos,
  };
}

/** The catalog row of the model a cached answer names, when one of the request's candidates still serves it. */
function cachedModel(route: Route, answer: CachedAnswer): Candidate['model'] {
  return route.candidates.find((candidate) => candidate.providerId === answer.providerId && candidate.providerModelId === answer.providerModelId)?.model ?? null;
}

function statusForAbort(signal: AbortSignal): GenerationStatus {
  return signal.reason instanceof CancelledByShutdown ? 'INTERRUPTED' : 'CANCELLED';
}

/** How a request ended without an answer: an error, or `undefined` when its consumer stopped reading. */
type Failure = { error: unknown } | undefined;

/** A stream opened upstream, up to its first token: the attempt is decided once this exists. */
interface OpenedStream {
  iterator: AsyncIterator<StreamEvent>;
  first: Exclude<StreamEvent, { type: 'start' }>;
  warnings: string[];
  /** The model the provider says serves the stream, for the trace. */
  model: string | undefined;
}

/** The part of a routing attempt the service reads: its span, parent of the upstream call's. */
type AttemptTrace = Pick<LiveAttempt, 'trace'>;

/**
 * The one completion path under GraphQL and the REST facade: validate, resolve the model to candidate endpoints,
 * let routing order them and run the attempts (retries, fallback, breakers, hedging — all before anything reached
 * the client), price the usage and record the generation — committed before the answer goes out.
 */
export class CompletionService {
  private readonly catalog: CatalogLookup;
  private readonly ledger: Pick<LedgerStore, 'saveContent'>;
  private readonly registry: AdapterRegistry;
  private readonly recorder: UsageRecorder;
  private readonly admission: AdmissionControl;
  private readonly router: Router;
  private readonly clock: Clock;
  private readonly storeContent: boolean;
  private readonly cache: ResponseCache | undefined;
  private readonly active = new Set<AbortController>();
  private idleWaiters: Array<() => void> = [];

  constructor(deps: CompletionServiceDeps) {
    const db = deps.db;
    const catalog = deps.catalog ?? (db ? sqliteCatalogLookup(db) : undefined);
    const ledger = deps.ledger ?? (db ? { saveContent: async (...args: Parameters<LedgerStore['saveContent']>) => saveContent(db, ...args) } : undefined);
    if (!catalog || !ledger) throw new TypeError('CompletionService needs a catalog and a ledger, or a SQLite db');
    this.catalog = catalog;
    this.ledger = ledger;
    this.registry = deps.registry;
    this.recorder = deps.recorder;
    this.admission = deps.admission;
    this.storeContent = deps.storeContent ?? false;
    this.cache = deps.cache;
    this.clock = deps.clock ?? deps.router?.clock ?? systemClock;
    this.router = deps.router ?? new Router({ config: DEFAULT_ROUTING_CONFIG, clock: this.clock });
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** The endpoints to try, best first: the model's, then each fallback model's, as routing orders them. */
  private plan(input: CompletionInput, streamed: boolean): Route {
    validateCompletionInput(input);
    if (streamed) validateStreamedInput(input);
    // A request's own fallbacks win; otherwise the ones routing config declares for the model.
    const fallbacks = input.models ?? this.router.fallbacksFor(input.model) ?? [];
    const resolutions = [input.model, ...fallbacks].map((requested) => resolveModel(this.catalog, this.registry, requested));
    const primary = resolutions[0]?.model;
    if (primary) {
      requireChatModel(primary);
      validateAgainstModel(input, primary);
    }
    if (resolutions.every((resolution) => resolution.candidates.length === 0)) throw new ModelNotFoundError(input.model, `No enabled provider serves model '${input.model}'`);
    return this.router.plan(resolutions, input, streamed);
  }

  /**
   * Plans and admits a request. A refusal (invalid input, unknown model, allowlist, rate limit, budget) gets a FAILED
   * row with its code and no provider before it is thrown, so refused requests show in the ledger. Only
   * authenticated callers reach the service (the transports authenticate), so a flood of 401s writes nothing.
   */
  private async admitted(input: CompletionInput, caller: Caller, streamed: boolean): Promise<{ route: Route; admission: Admission; cached: CacheLookup }> {
    try {
      const route = this.plan(input, streamed);
      // Looked up before admission decides, because a hit pays nothing: it must neither reserve nor be refused by the
      // budget. It is still admitted (allowlist, rate limits, streams), and no upstream call is made for it.
      const cached = this.cache ? await this.cache.lookup(input, caller) : NOT_CACHED;
      const admission = await inChildSpan(caller.trace, SPAN_NAMES.admission, () => this.admission.admit(caller, input, route.candidates, streamed, { budget: cached.answer === undefined }));
      this.cache?.admitted(cached);
      return { route, admission, cached };
    } catch (error) {
      await this.recordRefusal(input, caller, streamed, error);
      throw error;
    }
  }

  /**
   * A transport refused an authenticated caller before a request could be built (a body that does not parse, a
   * missing scope): it is in the ledger as a refusal like those above, under the model the caller named, if any.
   */
  recordRejected(caller: Caller, requestedModel: string, streamed: boolean, thrown: unknown): Promise<void> {
    return this.recordRefusal({ model: requestedModel, messages: [] }, caller, streamed, thrown);
  }

  private async recordRefusal(input: CompletionInput, caller: Caller, streamed: boolean, thrown: unknown): Promise<void> {
    const refusal = asGatewayError(thrown);
    try {
      const now = this.clock.now();
      // Nothing reached a provider, so the cost is known: nothing.
      const row = new GenerationTrace(newId('gen'), input, caller, streamed, now).row('FAILED', now, { finishReason: 'error', errorCode: refusal.code, errorMessage: refusal.message, costPicos: 0 });
      await this.recorder.finish(row);
    } catch {
      // The refusal is what the caller must hear; a row that could not be made (input too malformed to summarize)
      // or written (recorder closed at shutdown) must not replace it.
    }
  }

  /**
   * The request as `candidate` receives it. When the key's remaining budget cannot pay the candidate's whole output
   * limit, admission caps maxTokens (so this request alone cannot spend past the budget) and the caller is told.
   */
  private providerRequest(input: CompletionInput, candidate: Candidate, admission: Admission, trace: GenerationTrace): CompletionRequest {
    const cap = admission.completionCap(candidate);
    if (cap !== undefined) trace.warnings.add(`maxTokens was capped at ${cap} for ${candidate.providerId}: that is what this key's remaining spend budget can pay`);
    return {
      model: candidate.providerModelId,
      messages: input.messages,
      maxTokens: cap ?? input.maxTokens,
      defaultMaxTokens: candidate.model?.maxOutputTokens ?? undefined,
      temperature: input.temperature,
      topP: input.topP,
      stop: input.stop,
      seed: input.seed,
      tools: input.tools,
      toolChoice: input.toolChoice,
      responseFormat: input.responseFormat,
      user: input.user,
      thinking: input.thinking,
      reasoningEffort: input.reasoningEffort,
      presencePenalty: input.presencePenalty,
      frequencyPenalty: input.frequencyPenalty,
      logitBias: input.logitBias,
      parallelToolCalls: input.parallelToolCalls,
      serviceTier: input.serviceTier,
      store: input.store,
      n: input.n,
      logprobs: input.logprobs,
      topLogprobs: input.topLogprobs,
      strict: input.strict,
    };
  }

  private track(signal: AbortSignal | undefined): AbortController {
    const controller = new AbortController();
    if (signal) {
      if (signal.aborted) controller.abort(signal.reason);
      else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    }
    this.active.add(controller);
    return controller;
  }

  private untrack(controller: AbortController): void {
    this.active.delete(controller);
    if (this.active.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** A non-streamed completion; resolves once its generation row is committed. */
  async complete(input: CompletionInput, caller: Caller, signal?: AbortSignal): Promise<CompletionResult> {
    const { route, admission, cached } = await this.admitted(input, caller, false);
    if (cached.answer) return this.completeFromCache(route, input, caller, admission, cached.answer);
    const controller = this.track(signal);
    const trace = new GenerationTrace(newId('gen'), input, caller, false, this.clock.now());
    trace.candidate = route.candidates[0];
    this.recorder.start(trace.row('IN_PROGRESS', trace.startedAt));
    const run = this.router.start(route, controller.signal, trace.sink);
    try {
      const { attempt, value: response } = await run.first(
        (candidate, attemptSignal, live) =>
          candidate.adapter.complete(this.providerRequest(input, candidate, admission, trace), { signal: attemptSignal, requestId: caller.requestId, upstream: upstreamObserver(live.trace, caller.requestId) }),
        { lost: (late, loser) => loser.costs(late.usage ? priced(late.usage, loser.candidate).costPicos : null) },
      );
      const candidate = attempt.candidate;
      trace.candidate = candidate;
      for (const warning of response.warnings) trace.warnings.add(warning);
      const completionText = (response.content ?? '') + response.toolCalls.map((call) => call.name + call.arguments).join('');
      // The adapter says which tier served, and only when one was sent or reported: a dropped service_tier is priced as standard.
      const tier = response.serviceTier;
      if (!pricedTier(tier) && tier !== undefined) trace.warnings.add(unpricedTierWarning(tier));
      const usage = priced(response.usage ?? estimateUsage(input, completionText), candidate, tier);
      // Before the attempt ends with run.succeeded: an ended span takes no more attributes.
      recordCompletion([caller.trace, attempt.trace], { providerId: candidate.providerId, requestedModel: input.model, responseModel: response.model, inputTokens: usage.promptTokens, outputTokens: usage.completionTokens, finishReason: response.finishReason, costPicos: usage.costPicos, generationId: trace.id });
      run.succeeded(usage);
      const finishedAt = this.clock.now();
      await this.finish(admission, trace.row('SUCCEEDED', finishedAt, { ...usageColumns(usage), finishReason: response.finishReason, rawFinishReason: response.rawFinishReason }), caller);
      await this.keepContent(trace, response.content, response.toolCalls, finishedAt);
      // A cached answer holds one choice and no log probabilities; an answer with more is not kept rather than replayed short.
      if (response.choices === undefined && response.logprobs === undefined) await this.remember(cached, { candidate, content: response.content, reasoning: response.reasoning ?? null, toolCalls: response.toolCalls, finishReason: response.finishReason, rawFinishReason: response.rawFinishReason, usage, deltas: null });
      return {
        id: trace.id,
        requestedModel: input.model,
        servedModel: servedModelId(candidate.model, candidate.providerId, candidate.providerModelId),
        model: candidate.model,
        providerId: candidate.providerId,
        providerModelId: candidate.providerModelId,
        content: response.content,
        reasoning: response.reasoning ?? null,
        toolCalls: response.toolCalls,
        ...(response.parts !== undefined ? { parts: response.parts } : {}),
        finishReason: response.finishReason,
        rawFinishReason: response.rawFinishReason,
        usage,
        latencyMs: finishedAt - trace.startedAt,
        warnings: [...trace.warnings],
        cacheStatus: cached.status,
        ...(response.logprobs !== undefined ? { logprobs: response.logprobs } : {}),
        ...(response.choices !== undefined ? { choices: response.choices } : {}),
        ...(tier !== undefined ? { serviceTier: tier } : {}),
        rateLimits: admission.rateLimits,
      };
    } catch (error) {
      // The ledger keeps the (redacted) upstream text for admins; the caller is told what it may read.
      throw failureForCaller(await this.recordFailure(run, trace, admission, controller.signal, { error }), caller);
    } finally {
      run.dispose();
      this.untrack(controller);
    }
  }

  /**
   * Validates and resolves the request (so those errors surface before any event), then returns the stream of
   * events. Ending the iteration early aborts the upstream call and records the generation as CANCELLED.
   */
  async openStream(input: CompletionInput, caller: Caller, signal?: AbortSignal): Promise<AsyncGenerator<CompletionEvent>> {
    const { route, admission, cached } = await this.admitted(input, caller, true);
    const controller = this.track(signal);
    const trace = new GenerationTrace(newId('gen'), input, caller, true, this.clock.now());
    if (cached.answer) return abortOnReturn(this.replayFromCache(route, trace, controller, admission, cached.answer), controller);
    trace.candidate = route.candidates[0];
    this.recorder.start(trace.row('IN_PROGRESS', trace.startedAt));
    return abortOnReturn(this.runStream(route, trace, controller, admission, cached), controller);
  }

  /** Opens the upstream stream and reads it up to its first token, which is what decides a stream's attempt. */
  private async openUpstream(request: CompletionRequest, candidate: Candidate, signal: AbortSignal, requestId: string, attempt: AttemptTrace): Promise<OpenedStream> {
    const iterator = candidate.adapter.stream(request, { signal, requestId, upstream: upstreamObserver(attempt.trace, requestId) })[Symbol.asyncIterator]();
    let warnings: string[] = [];
    let model: string | undefined;
    for (;;) {
      const next = await iterator.next();
      if (next.done) throw new ProviderError(`${candidate.providerId} ended the stream without finishing it`, { provider: candidate.providerId, kind: 'stream_error' });
      if (next.value.type === 'start') {
        warnings = next.value.warnings;
        model = next.value.model;
        continue;
      }
      return { iterator, first: next.value, warnings, model };
    }
  }

  /**
   * Routing runs the attempts up to the first token and ends every attempt (`run.succeeded`, `run.end`,
   * `run.dispose`); this reads the committed stream out to the client and records the generation.
   */
  private async *runStream(route: Route, trace: GenerationTrace, controller: AbortController, admission: Admission, cached: CacheLookup): AsyncGenerator<CompletionEvent> {
    const { input, caller } = trace;
    const signal = controller.signal;
    let text = '';
    // The answer as the client saw it, kept when content is stored or cached: its text, and each call by its stream index.
    let answerText = '';
    let answerReasoning = '';
    const answerCalls = new Map<number, ToolCall>();
    const caching = (cached.plan?.ttlSeconds ?? 0) > 0;
    const keptDeltas: CachedDelta[] = [];
    let recorded = false;
    const partialUsage = (): PricedUsage => usageSoFar(trace, text);
    const run = this.router.start(route, signal, trace.sink);

    try {
      const winner = await run.first((candidate, attemptSignal, live) => this.openUpstream(this.providerRequest(input, candidate, admission, trace), candidate, attemptSignal, caller.requestId, live), {
        lost: (late) => void late.iterator.return?.().catch(() => undefined),
      });
      const { candidate } = winner.attempt;
      const { iterator, warnings } = winner.value;
      // The first token commits the stream to this endpoint: from here on, no fallback.
      trace.candidate = candidate;
      for (const warning of warnings) trace.warnings.add(warning);
      trace.firstTokenAt = this.clock.now();
      const servedModel = servedModelId(candidate.model, candidate.providerId, candidate.providerModelId);
      yield { type: 'started', id: trace.id, requestedModel: input.model, servedModel, model: candidate.model, providerId: candidate.providerId, providerModelId: candidate.providerModelId, warnings: [...trace.warnings], cacheStatus: cached.status, rateLimits: admission.rateLimits };
      let event: StreamEvent = winner.value.first;
      for (;;) {
        if (event.type === 'finish') {
          const tier = event.serviceTier;
          if (!pricedTier(tier) && tier !== undefined) trace.warnings.add(unpricedTierWarning(tier));
          const usage = priced(event.usage ?? estimateUsage(input, text), candidate, tier);
          // Before the attempt ends with run.succeeded: an ended span takes no more attributes.
          recordCompletion([caller.trace, winner.attempt.trace], { providerId: candidate.providerId, requestedModel: input.model, responseModel: winner.value.model, inputTokens: usage.promptTokens, outputTokens: usage.completionTokens, finishReason: event.finishReason, costPicos: usage.costPicos, generationId: trace.id });
          run.succeeded(usage);
          const finishedAt = this.clock.now();
          await this.finish(admission, trace.row('SUCCEEDED', finishedAt, { ...usageColumns(usage), finishReason: event.finishReason, rawFinishReason: event.rawFinishReason }), caller);
          recorded = true;
          const content = answerText === '' && answerCalls.size > 0 ? null : answerText;
          await this.keepContent(trace, content, [...answerCalls.values()], finishedAt);
          if (caching) {
            await this.remember(cached, { candidate, content, reasoning: answerReasoning === '' ? null : answerReasoning, toolCalls: [...answerCalls.values()], finishReason: event.finishReason, rawFinishReason: event.rawFinishReason, usage, deltas: keptDeltas });
          }
          yield { type: 'done', id: trace.id, finishReason: event.finishReason, rawFinishReason: event.rawFinishReason, usage, latencyMs: finishedAt - trace.startedAt };
          return;
        }
        if (event.type !== 'start') {
          const delta = toDelta(trace.id, event);
          text += delta.text + delta.toolCalls.map((call) => (call.name ?? '') + call.argumentsDelta).join('');
          if (caching) keptDeltas.push({ text: delta.text, reasoning: delta.reasoning, toolCalls: delta.toolCalls.map((call) => ({ ...call })) });
          if (this.storeContent || caching) {
            answerText += delta.text;
            answerReasoning += delta.reasoning;
            for (const call of delta.toolCalls) {
              const kept = answerCalls.get(call.index) ?? { id: call.id ?? '', name: call.name ?? '', arguments: '' };
              if (call.id !== undefined && kept.id === '') kept.id = call.id;
              if (call.name !== undefined && kept.name === '') kept.name = call.name;
              kept.arguments += call.argumentsDelta;
              answerCalls.set(call.index, kept);
            }
          }
          yield delta;
        }
        // Routing bounds the silence between chunks: a stalled stream ends as a TIMEOUT, its connection closed.
        const next = await run.nextChunk(iterator.next());
        if (next.done) throw new ProviderError(`${candidate.providerId} ended the stream without finishing it`, { provider: candidate.providerId, kind: 'stream_error' });
        event = next.value;
      }
    } catch (error) {
      if (recorded) throw error;
      recorded = true;
      const usage = partialUsage();
      const failure = await this.recordFailure(run, trace, admission, signal, { error }, usage);
      if (!signal.aborted) yield { type: 'error', id: trace.id, error: failureForCaller(failure, caller), usage };
    } finally {
      try {
        // Reached with nothing recorded when the consumer stopped while we were suspended at a yield.
        if (!recorded) await this.recordFailure(run, trace, admission, signal, undefined, partialUsage());
      } finally {
        run.dispose();
        this.untrack(controller);
      }
    }
  }

  /** A non-streamed hit: its row, then the cached answer; no provider is called. */
  private async completeFromCache(route: Route, input: CompletionInput, caller: Caller, admission: Admission, answer: CachedAnswer): Promise<CompletionResult> {
    const trace = new GenerationTrace(newId('gen'), input, caller, false, this.clock.now());
    const finishedAt = this.clock.now();
    await this.finish(admission, trace.row('SUCCEEDED', finishedAt, cacheHitColumns(answer)), caller);
    this.cache?.served(answer);
    await this.keepContent(trace, answer.content, answer.toolCalls, finishedAt);
    return {
      id: trace.id,
      requestedModel: input.model,
      servedModel: answer.servedModel,
      model: cachedModel(route, answer),
      providerId: answer.providerId,
      providerModelId: answer.providerModelId,
      content: answer.content,
      reasoning: answer.reasoning,
      toolCalls: answer.toolCalls,
      finishReason: answer.finishReason,
      rawFinishReason: answer.rawFinishReason,
      usage: { ...answer.usage, costPicos: 0 },
      latencyMs: finishedAt - trace.startedAt,
      warnings: [],
      cacheStatus: 'HIT',
      rateLimits: admission.rateLimits,
    };
  }

  /**
   * A streamed hit: the cached answer's deltas as its original stream sent them (or, for an answer that was not
   * streamed, its parts whole), its row committed before `done` like any stream's, CANCELLED if the client left.
   */
  private async *replayFromCache(route: Route, trace: GenerationTrace, controller: AbortController, admission: Admission, answer: CachedAnswer): AsyncGenerator<CompletionEvent> {
    const { input, caller } = trace;
    let recorded = false;
    try {
      trace.firstTokenAt = this.clock.now();
      yield { type: 'started', id: trace.id, requestedModel: input.model, servedModel: answer.servedModel, model: cachedModel(route, answer), providerId: answer.providerId, providerModelId: answer.providerModelId, warnings: [], cacheStatus: 'HIT', rateLimits: admission.rateLimits };
      for (const delta of replayDeltas(answer)) {
        if (controller.signal.aborted) return;
        yield { type: 'delta', id: trace.id, text: delta.text, reasoning: delta.reasoning, toolCalls: delta.toolCalls };
      }
      const finishedAt = this.clock.now();
      await this.finish(admission, trace.row('SUCCEEDED', finishedAt, cacheHitColumns(answer)), caller);
      recorded = true;
      this.cache?.served(answer);
      await this.keepContent(trace, answer.content, answer.toolCalls, finishedAt);
      yield { type: 'done', id: trace.id, finishReason: answer.finishReason, rawFinishReason: answer.rawFinishReason, usage: { ...answer.usage, costPicos: 0 }, latencyMs: finishedAt - trace.startedAt };
    } finally {
      try {
        if (!recorded) {
          const row = trace.row(statusForAbort(controller.signal), this.clock.now(), { ...cacheHitColumns(answer), ...usageColumns({ ...ZERO_USAGE, costPicos: 0 }), savedPicos: null, finishReason: 'cancelled', rawFinishReason: null, errorCode: 'CANCELLED', errorMessage: 'cancelled' });
          await this.finish(admission, row, caller);
        }
      } finally {
        this.untrack(controller);
      }
    }
  }

  /** Keeps an answer for requests that opted in; a cache that fails costs the request nothing. */
  private async remember(cached: CacheLookup, answer: Omit<CachedAnswer, 'servedModel' | 'modelId' | 'providerId' | 'providerModelId' | 'costPicos' | 'usage'> & { candidate: Candidate; usage: PricedUsage }): Promise<void> {
    if (!this.cache || (cached.plan?.ttlSeconds ?? 0) <= 0) return;
    const { candidate, usage, ...rest } = answer;
    const { costPicos: cost, ...tokens } = usage;
    await this.cache.save(cached, {
      ...rest,
      servedModel: servedModelId(candidate.model, candidate.providerId, candidate.providerModelId),
      modelId: candidate.model?.id ?? null,
      providerId: candidate.providerId,
      providerModelId: candidate.providerModelId,
      usage: tokens,
      costPicos: cost,
    });
  }

  /**
   * The one place a request that got no answer is recorded: routing ends the attempt it had committed to (and
   * says how its error should read), then the generation's row is written — INTERRUPTED when a shutdown cut it
   * off, CANCELLED when its caller went away or stopped reading, FAILED otherwise — with the usage produced so far.
   * Returns the error to show the caller.
   */
  private async recordFailure(run: AttemptRun, trace: GenerationTrace, admission: Admission, signal: AbortSignal, failure: Failure, usage?: PricedUsage): Promise<GatewayError> {
    const shown = asGatewayError(run.end(failure));
    const cancelled = failure === undefined || signal.aborted;
    // Tokens streamed: they (and the prompt that produced them) are charged, as an estimate. Nothing streamed: a
    // provider may or may not bill the prompt of a request it never answered (a hang, a timeout, a cancellation, a
    // broken connection), so the cost is unknown, streamed or not, and the budget is not charged for it; when every
    // attempt was refused with an error status, or none reached a provider, it is known to be nothing.
    const streamed = usage !== undefined && usage.completionTokens > 0;
    const unseen = trace.attempts.some((attempt) => attempt.costPicos === undefined && (attempt.httpStatus === undefined || attempt.httpStatus < 400));
    const nothingStreamed: Partial<GenerationRow> = { costPicos: unseen || !trace.candidate ? null : costPicos(ZERO_USAGE, trace.candidate.prices) };
    await this.finish(
      admission,
      trace.row(cancelled ? statusForAbort(signal) : 'FAILED', this.clock.now(), {
        ...(streamed ? usageColumns(usage) : nothingStreamed),
        finishReason: cancelled ? 'cancelled' : 'error',
        errorCode: cancelled ? 'CANCELLED' : shown.code,
        errorMessage: cancelled ? 'cancelled' : shown.message,
      }),
      trace.caller,
    );
    return shown;
  }

  /**
   * With SWITCHBOARD_STORE_CONTENT, keeps what was asked and answered beside the committed row (its foreign key
   * needs the row first). Only answered generations: a failed one has no answer to continue from.
   */
  private async keepContent(trace: GenerationTrace, content: string | null, toolCalls: ToolCall[], now: number): Promise<void> {
    if (!this.storeContent) return;
    try {
      await this.ledger.saveContent(trace.id, { messages: trace.input.messages, answer: { content, toolCalls } }, now);
    } catch {
      // The answer is committed and paid for: losing its copy must not turn it into a failure. A later
      // previous_response_id or GET then finds nothing stored and says so.
    }
  }

  /** Settles the caller's limits and budget with what the request really used, then commits its final row. */
  private finish(admission: Admission, row: GenerationRow, caller: Caller): Promise<void> {
    admission.settle(row);
    // The span covers the wait for the group commit, which is what the answer waits for too.
    return inChildSpan(caller.trace, SPAN_NAMES.ledgerCommit, () => this.recorder.finish(row));
  }

  /**
   * Waits for in-flight completions to finish, up to `graceMs`; then aborts the rest (recorded as INTERRUPTED)
   * and waits for their rows.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.active.size === 0) return;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const grace = new AbortController();
    const timedOut = this.clock.sleep(graceMs, grace.signal).then(
      () => 'timeout' as const,
      () => 'idle' as const,
    );
    const outcome = await Promise.race([idle.then(() => 'idle' as const), timedOut]);
    grace.abort();
    if (outcome === 'timeout') {
      for (const controller of this.active) controller.abort(new CancelledByShutdown());
      // Interrupted requests only have their rows to write; this bounds a request that ignores its abort.
      const written = new AbortController();
      await Promise.race([idle, this.clock.sleep(2000, written.signal).catch(() => undefined)]);
      written.abort();
    }
  }
}

function toDelta(id: string, event: Exclude<StreamEvent, { type: 'start' } | { type: 'finish' }>): Extract<CompletionEvent, { type: 'delta' }> {
  switch (event.type) {
    case 'text-delta':
      return { type: 'delta', id, text: event.text, reasoning: '', toolCalls: [], ...(event.logprobs !== undefined ? { logprobs: event.logprobs } : {}) };
    case 'reasoning-delta':
      return { type: 'delta', id, text: '', reasoning: event.text, toolCalls: [] };
    case 'reasoning-signature':
      return { type: 'delta', id, text: '', reasoning: '', toolCalls: [], reasoningSignature: event.signature };
    case 'redacted-reasoning':
      return { type: 'delta', id, text: '', reasoning: '', toolCalls: [], redactedReasoning: event.data };
    case 'tool-call-delta': {
      const call: ToolCallDelta = { index: event.index, argumentsDelta: event.argumentsDelta };
      if (event.id !== undefined) call.id = event.id;
      if (event.name !== undefined) call.name = event.name;
      return { type: 'delta', id, text: '', reasoning: '', toolCalls: [call] };
    }
  }
}

/** The catalog lookups straight from a SQLite database, for services built without a snapshot (tests). */
function sqliteCatalogLookup(db: Db): CatalogLookup {
  return {
    findModel: (idOrAlias) => findModel(db, idOrAlias),
    findEndpoint: (providerId, providerModelId) => findEndpoint(db, providerId, providerModelId),
    endpointsOfModel: (modelId) => endpointsOfModel(db, modelId),
  };
}
