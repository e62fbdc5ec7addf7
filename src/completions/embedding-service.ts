import type { AdmissionControl, Admission } from '../auth/admission.js';
import { systemClock, type Clock } from '../clock.js';
import type { CatalogLookup } from '../db/storage.js';
import type { AttemptRecord, GenerationRow, GenerationStatus } from '../db/schema.js';
import { BadRequestError, ModelNotFoundError, asGatewayError, type GatewayError } from '../errors.js';
import { newId, servedModelId } from '../ids.js';
import type { EmbeddingInput, EmbeddingRequest } from '../providers/embeddings.js';
import type { AdapterRegistry } from '../providers/registry.js';
import { countTokensExact, decodeTokens } from '../providers/tokenizer.js';
import type { AttemptRun } from '../routing/attempts.js';
import { resolveModel, type Candidate, type Resolution } from '../routing/resolve.js';
import type { Route, Router } from '../routing/router.js';
import { SPAN_NAMES, upstreamObserver } from '../telemetry/spans.js';
import { inChildSpan } from '../telemetry/tracing.js';
import { costPicos, type Prices } from '../usage/cost.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { CancelledByShutdown } from './abortable.js';
import type { EmbeddingPricedUsage, EmbeddingResult, EmbeddingServiceInput } from './embedding-types.js';
import { isEmbeddingModel, requireEmbeddingModel } from './model-kind.js';
import type { Caller, CompletionInput } from './types.js';
import { failureForCaller } from './visibility.js';

export interface EmbeddingServiceDeps {
  catalog: CatalogLookup;
  admission: AdmissionControl;
  registry: AdapterRegistry;
  recorder: UsageRecorder;
  /** The completion service's router: endpoint health and breakers are the same whichever API called them. */
  router: Router;
  clock?: Clock;
}

/** Bounds one request (OpenAI's own: 2048 inputs); the body limit bounds their total size. */
export const EMBEDDING_LIMITS = { inputs: 2048, dimensions: 16_384, modelIdChars: 256 } as const;

/** A model served on the caller's own machine costs nothing, listed in the catalog or not. */
const FREE: Prices = { promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0 };

function validate(input: EmbeddingServiceInput): void {
  if (input.model.trim() === '') throw new BadRequestError('model is required', 'model');
  if (input.model.length > EMBEDDING_LIMITS.modelIdChars) throw new BadRequestError(`model must be at most ${EMBEDDING_LIMITS.modelIdChars} characters`, 'model');
  if (input.input.length === 0) throw new BadRequestError('input must hold at least one text', 'input');
  if (input.input.length > EMBEDDING_LIMITS.inputs) throw new BadRequestError(`input takes at most ${EMBEDDING_LIMITS.inputs} items`, 'input');
  input.input.forEach((item, index) => {
    // OpenAI refuses an empty input outright, and an empty vector request means nothing to any provider.
    if (item.type === 'text' ? item.text === '' : item.tokens.length === 0) throw new BadRequestError(`input[${index}] is empty`, ['input', index]);
    if (item.type === 'tokens' && !item.tokens.every((token) => Number.isSafeInteger(token) && token >= 0)) throw new BadRequestError(`input[${index}] must hold token ids (non-negative integers)`, ['input', index]);
  });
  const { dimensions } = input;
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > EMBEDDING_LIMITS.dimensions)) {
    throw new BadRequestError(`dimensions must be an integer from 1 to ${EMBEDDING_LIMITS.dimensions}`, 'dimensions');
  }
}

function textOf(item: EmbeddingInput): string {
  return item.type === 'text' ? item.text : decodeTokens(item.tokens);
}

/**
 * The request as admission and routing read a completion's: its inputs as one user turn (their prompt tokens are
 * what limits and budgets count) and no completion at all, so a budget reserves the prompt and nothing more.
 */
function asCompletionInput(input: EmbeddingServiceInput): CompletionInput {
  return {
    model: input.model,
    messages: [{ role: 'user', content: input.input.map((item) => ({ type: 'text', text: textOf(item) })) }],
    maxTokens: 0,
    ...(input.provider ? { provider: input.provider } : {}),
  };
}

/** Only endpoints whose adapter embeds; a local provider's uncatalogued model at no cost instead of an unknown one. */
function embeddable(resolution: Resolution): Resolution {
  const candidates = resolution.candidates
    .filter((candidate) => candidate.adapter.embed !== undefined)
    .map((candidate) => (candidate.model === null && (candidate.adapter.kind === 'ollama' || candidate.adapter.kind === 'local') ? { ...candidate, prices: FREE } : candidate));
  return { ...resolution, candidates };
}

function priced(promptTokens: number, estimated: boolean, candidate: Candidate | undefined): EmbeddingPricedUsage {
  return { promptTokens, totalTokens: promptTokens, estimated, costPicos: candidate ? costPicos({ promptTokens, completionTokens: 0, cachedPromptTokens: 0 }, candidate.prices) : null };
}

/** One embedding request's ledger row, as GenerationTrace keeps a completion's. */
class EmbeddingTrace {
  readonly attempts: AttemptRecord[] = [];
  readonly warnings = new Set<string>();
  candidate: Candidate | undefined;

  constructor(
    readonly id: string,
    readonly input: EmbeddingServiceInput,
    readonly caller: Caller,
    readonly startedAt: number,
  ) {}

  get sink() {
    return {
      attempts: this.attempts,
      started: (candidate: Candidate) => {
        this.candidate = candidate;
      },
      ...(this.caller.trace ? { trace: this.caller.trace } : {}),
    };
  }

  row(status: GenerationStatus, now: number, details: Partial<GenerationRow> = {}): GenerationRow {
    const candidate = this.candidate;
    const tokenInputs = this.input.input.filter((item) => item.type === 'tokens').length;
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
      costPicos: null,
      promptPriceMicros: candidate?.prices.promptPriceMicros ?? null,
      completionPriceMicros: candidate?.prices.completionPriceMicros ?? null,
      cachedPromptPriceMicros: candidate?.prices.cachedPromptPriceMicros ?? null,
      cacheWritePriceMicros: candidate?.prices.cacheWritePriceMicros ?? null,
      latencyMs: status === 'IN_PROGRESS' ? null : now - this.startedAt,
      timeToFirstTokenMs: null,
      streamed: false,
      errorCode: null,
      errorMessage: null,
      warnings: [...this.warnings],
      attempts: [...this.attempts],
      // Which API made the row lives here (no column of its own): an embedding has inputs, not messages.
      requestSummary: { operation: 'embedding', inputs: this.input.input.length, ...(tokenInputs > 0 ? { tokenInputs } : {}), ...(this.input.dimensions !== undefined ? { dimensions: this.input.dimensions } : {}) },
      metadata: this.input.metadata ?? null,
      endUser: this.input.user ?? null,
      instanceId: null,
      cacheHit: false,
      savedPicos: null,
      createdAt: this.startedAt,
      finishedAt: status === 'IN_PROGRESS' ? null : now,
      ...details,
    };
  }
}

function usageColumns(usage: EmbeddingPricedUsage): Partial<GenerationRow> {
  return { promptTokens: usage.promptTokens, totalTokens: usage.totalTokens, usageEstimated: usage.estimated, costPicos: usage.costPicos };
}

/**
 * The embedding path under REST and GraphQL, beside CompletionService and built the same way: validate, resolve the
 * model to endpoints that embed, admit (allowlist, request and token rates, budget reservation of the prompt),
 * let routing try the endpoints (retries, fallback, breakers), price the prompt tokens and commit the ledger row
 * before the vectors go out. Every request, refused, failed or cancelled, gets its row.
 */
export class EmbeddingService {
  private readonly catalog: CatalogLookup;
  private readonly registry: AdapterRegistry;
  private readonly recorder: UsageRecorder;
  private readonly admission: AdmissionControl;
  private readonly router: Router;
  private readonly clock: Clock;
  private readonly active = new Set<AbortController>();
  private idleWaiters: Array<() => void> = [];

  constructor(deps: EmbeddingServiceDeps) {
    this.catalog = deps.catalog;
    this.registry = deps.registry;
    this.recorder = deps.recorder;
    this.admission = deps.admission;
    this.router = deps.router;
    this.clock = deps.clock ?? deps.router.clock ?? systemClock;
  }

  get activeCount(): number {
    return this.active.size;
  }

  private plan(input: EmbeddingServiceInput): Route {
    validate(input);
    const fallbacks = this.router.fallbacksFor(input.model) ?? [];
    const resolutions = [input.model, ...fallbacks].map((requested) => embeddable(resolveModel(this.catalog, this.registry, requested)));
    const primary = resolutions[0]?.model;
    if (primary) requireEmbeddingModel(primary);
    // A fallback that chats would answer an embedding with text: only embedding models may stand in.
    const usable = resolutions.filter((resolution, index) => index === 0 || resolution.model === null || isEmbeddingModel(resolution.model));
    if (usable.every((resolution) => resolution.candidates.length === 0)) throw new ModelNotFoundError(input.model, `No enabled provider serves embeddings of model '${input.model}'`);
    return this.router.plan(usable, asCompletionInput(input), false);
  }

  private async admitted(input: EmbeddingServiceInput, caller: Caller): Promise<{ route: Route; admission: Admission }> {
    try {
      const route = this.plan(input);
      const admission = await inChildSpan(caller.trace, SPAN_NAMES.admission, () => this.admission.admit(caller, asCompletionInput(input), route.candidates, false));
      return { route, admission };
    } catch (error) {
      await this.recordRefusal(input, caller, error);
      throw error;
    }
  }

  /** A transport refused an authenticated caller before a request could be built: in the ledger all the same. */
  recordRejected(caller: Caller, requestedModel: string, thrown: unknown): Promise<void> {
    return this.recordRefusal({ model: requestedModel, input: [] }, caller, thrown);
  }

  private async recordRefusal(input: EmbeddingServiceInput, caller: Caller, thrown: unknown): Promise<void> {
    const refusal = asGatewayError(thrown);
    try {
      const now = this.clock.now();
      await this.recorder.finish(new EmbeddingTrace(newId('gen'), input, caller, now).row('FAILED', now, { finishReason: 'error', errorCode: refusal.code, errorMessage: refusal.message, costPicos: 0 }));
    } catch {
      // The refusal is what the caller must hear (see CompletionService.recordRefusal).
    }
  }

  private request(input: EmbeddingServiceInput, candidate: Candidate): EmbeddingRequest {
    return {
      model: candidate.providerModelId,
      input: input.input,
      ...(input.dimensions !== undefined ? { dimensions: input.dimensions } : {}),
      ...(input.user !== undefined ? { user: input.user } : {}),
    };
  }

  /** Our count of the inputs' tokens, for a provider that reports none; counted off the event loop's critical path. */
  private async countedTokens(input: EmbeddingServiceInput, signal: AbortSignal): Promise<number> {
    let total = 0;
    for (const item of input.input) total += item.type === 'tokens' ? item.tokens.length : await countTokensExact(item.text, signal);
    return total;
  }

  /** Embeds; resolves once the generation row is committed. */
  async embed(input: EmbeddingServiceInput, caller: Caller, signal?: AbortSignal): Promise<EmbeddingResult> {
    const { route, admission } = await this.admitted(input, caller);
    const controller = this.track(signal);
    const trace = new EmbeddingTrace(newId('gen'), input, caller, this.clock.now());
    trace.candidate = route.candidates[0];
    this.recorder.start(trace.row('IN_PROGRESS', trace.startedAt));
    const run = this.router.start(route, controller.signal, trace.sink);
    try {
      const { attempt, value: response } = await run.first(async (candidate, attemptSignal, live) => {
        const embed = candidate.adapter.embed;
        if (embed === undefined) throw new ModelNotFoundError(input.model, `${candidate.providerId} does not serve embeddings`);
        return embed.call(candidate.adapter, this.request(input, candidate), { signal: attemptSignal, requestId: caller.requestId, upstream: upstreamObserver(live.trace, caller.requestId) });
      });
      const candidate = attempt.candidate;
      trace.candidate = candidate;
      for (const warning of response.warnings) trace.warnings.add(warning);
      const usage = response.usage ? priced(response.usage.promptTokens, response.usage.estimated, candidate) : priced(await this.countedTokens(input, controller.signal), true, candidate);
      run.succeeded({ completionTokens: 0, costPicos: usage.costPicos });
      const finishedAt = this.clock.now();
      await this.finish(admission, trace.row('SUCCEEDED', finishedAt, usageColumns(usage)), caller);
      return {
        id: trace.id,
        requestedModel: input.model,
        servedModel: servedModelId(candidate.model, candidate.providerId, candidate.providerModelId),
        model: candidate.model,
        providerId: candidate.providerId,
        providerModelId: candidate.providerModelId,
        embeddings: response.embeddings,
        usage,
        latencyMs: finishedAt - trace.startedAt,
        warnings: [...trace.warnings],
      };
    } catch (error) {
      throw failureForCaller(await this.recordFailure(run, trace, admission, controller.signal, error), caller);
    } finally {
      run.dispose();
      this.untrack(controller);
    }
  }

  /**
   * A request that got no vectors: FAILED, CANCELLED (its caller left) or INTERRUPTED (shutdown). A provider that
   * refused with an error status charged nothing; one that may have done the work before the connection broke has
   * an unknown cost, as for completions (CompletionService.recordFailure).
   */
  private async recordFailure(run: AttemptRun, trace: EmbeddingTrace, admission: Admission, signal: AbortSignal, error: unknown): Promise<GatewayError> {
    const shown = asGatewayError(run.end({ error }));
    const cancelled = signal.aborted;
    const unseen = trace.attempts.some((attempt) => attempt.costPicos === undefined && (attempt.httpStatus === undefined || attempt.httpStatus < 400));
    const status: GenerationStatus = cancelled ? (signal.reason instanceof CancelledByShutdown ? 'INTERRUPTED' : 'CANCELLED') : 'FAILED';
    await this.finish(
      admission,
      trace.row(status, this.clock.now(), {
        costPicos: unseen || !trace.candidate ? null : 0,
        finishReason: cancelled ? 'cancelled' : 'error',
        errorCode: cancelled ? 'CANCELLED' : shown.code,
        errorMessage: cancelled ? 'cancelled' : shown.message,
      }),
      trace.caller,
    );
    return shown;
  }

  private finish(admission: Admission, row: GenerationRow, caller: Caller): Promise<void> {
    admission.settle(row);
    return inChildSpan(caller.trace, SPAN_NAMES.ledgerCommit, () => this.recorder.finish(row));
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

  /** As CompletionService.drain: waits up to `graceMs`, then interrupts the rest and waits for their rows. */
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
      const written = new AbortController();
      await Promise.race([idle, this.clock.sleep(2000, written.signal).catch(() => undefined)]);
      written.abort();
    }
  }
}
