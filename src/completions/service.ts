import type { AdmissionControl, Admission } from '../auth/admission.js';
import type { Db } from '../db/client.js';
import type { AttemptRecord, GenerationRow, GenerationStatus } from '../db/schema.js';
import { GatewayError, ModelNotFoundError, asGatewayError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import { estimateUsage } from '../providers/normalize.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { CompletionRequest, StreamEvent, Usage } from '../providers/types.js';
import { resolveModel, type Candidate } from '../routing/resolve.js';
import { costPicos } from '../usage/cost.js';
import type { UsageRecorder } from '../usage/recorder.js';
import { CancelledByShutdown, abortOnReturn } from './abortable.js';
import { newId } from './ids.js';
import { summarizeRequest } from './summary.js';
import type { Caller, CompletionEvent, CompletionInput, CompletionResult, PricedUsage, ToolCallDelta } from './types.js';
import { validateCompletionInput } from './validate.js';

export interface CompletionServiceDeps {
  db: Db;
  admission: AdmissionControl;
  registry: AdapterRegistry;
  recorder: UsageRecorder;
  now?: () => number;
}

const ZERO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false };

interface Attempted {
  candidate: Candidate;
  record: AttemptRecord;
}

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
      reasoningTokens: 0,
      usageEstimated: false,
      costPicos: candidate ? costPicos(ZERO_USAGE, candidate.prices) : null,
      promptPriceMicros: candidate?.prices.promptPriceMicros ?? null,
      completionPriceMicros: candidate?.prices.completionPriceMicros ?? null,
      cachedPromptPriceMicros: candidate?.prices.cachedPromptPriceMicros ?? null,
      latencyMs: status === 'IN_PROGRESS' ? null : now - this.startedAt,
      timeToFirstTokenMs: this.firstTokenAt === undefined ? null : this.firstTokenAt - this.startedAt,
      streamed: this.streamed,
      errorCode: null,
      errorMessage: null,
      warnings: [...this.warnings],
      attempts: [...this.attempts],
      requestSummary: this.summary,
      metadata: this.input.metadata ?? null,
      createdAt: this.startedAt,
      finishedAt: status === 'IN_PROGRESS' ? null : now,
      ...details,
    };
  }
}

function priced(usage: Usage, candidate: Candidate | undefined): PricedUsage {
  return { ...usage, costPicos: candidate ? costPicos(usage, candidate.prices) : null };
}

function usageColumns(usage: PricedUsage): Partial<GenerationRow> {
  return {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.totalTokens,
    cachedPromptTokens: usage.cachedPromptTokens,
    reasoningTokens: usage.reasoningTokens,
    usageEstimated: usage.estimated,
    costPicos: usage.costPicos,
  };
}

function statusForAbort(signal: AbortSignal): GenerationStatus {
  return signal.reason instanceof CancelledByShutdown ? 'INTERRUPTED' : 'CANCELLED';
}

/**
 * The one completion path under GraphQL and the REST facade: validate, resolve the model to candidate endpoints,
 * call the adapter (falling back to the next candidate on a retryable failure before anything reached the
 * client), price the usage and record the generation — committed before the answer goes out.
 */
export class CompletionService {
  private readonly db: Db;
  private readonly registry: AdapterRegistry;
  private readonly recorder: UsageRecorder;
  private readonly admission: AdmissionControl;
  private readonly now: () => number;
  private readonly active = new Set<AbortController>();
  private idleWaiters: Array<() => void> = [];

  constructor(deps: CompletionServiceDeps) {
    this.db = deps.db;
    this.registry = deps.registry;
    this.recorder = deps.recorder;
    this.admission = deps.admission;
    this.now = deps.now ?? Date.now;
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** The candidates to try in order: the model's endpoints, then each fallback model's. */
  private plan(input: CompletionInput): Candidate[] {
    validateCompletionInput(input);
    const candidates: Candidate[] = [];
    for (const requested of [input.model, ...(input.models ?? [])]) {
      candidates.push(...resolveModel(this.db, this.registry, requested).candidates);
    }
    if (candidates.length === 0) throw new ModelNotFoundError(input.model, `No enabled provider serves model '${input.model}'`);
    return candidates;
  }

  private providerRequest(input: CompletionInput, candidate: Candidate): CompletionRequest {
    return {
      model: candidate.providerModelId,
      messages: input.messages,
      maxTokens: input.maxTokens,
      defaultMaxTokens: candidate.model?.maxOutputTokens ?? undefined,
      temperature: input.temperature,
      topP: input.topP,
      stop: input.stop,
      seed: input.seed,
      tools: input.tools,
      toolChoice: input.toolChoice,
      responseFormat: input.responseFormat,
      user: input.user,
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

  private attemptFailed(trace: GenerationTrace, candidate: Candidate, error: GatewayError, startedAt: number): Attempted {
    const record: AttemptRecord = {
      providerId: candidate.providerId,
      providerModelId: candidate.providerModelId,
      status: 'FAILED',
      errorCode: error.code,
      errorMessage: error.message,
      latencyMs: this.now() - startedAt,
    };
    trace.attempts.push(record);
    return { candidate, record };
  }

  private attemptSucceeded(trace: GenerationTrace, candidate: Candidate, startedAt: number, status: AttemptRecord['status'] = 'SUCCEEDED'): void {
    trace.attempts.push({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, status, latencyMs: this.now() - startedAt });
  }

  /** A non-streamed completion; resolves once its generation row is committed. */
  async complete(input: CompletionInput, caller: Caller, signal?: AbortSignal): Promise<CompletionResult> {
    const candidates = this.plan(input);
    const admission = await this.admission.admit(caller, input, candidates, false);
    const controller = this.track(signal);
    const trace = new GenerationTrace(newId('gen'), input, caller, false, this.now());
    trace.candidate = candidates[0];
    this.recorder.start(trace.row('IN_PROGRESS', trace.startedAt));
    try {
      let lastError: GatewayError | undefined;
      for (const [index, candidate] of candidates.entries()) {
        trace.candidate = candidate;
        const attemptStart = this.now();
        try {
          const response = await candidate.adapter.complete(this.providerRequest(input, candidate), { signal: controller.signal, requestId: caller.requestId });
          this.attemptSucceeded(trace, candidate, attemptStart);
          for (const warning of response.warnings) trace.warnings.add(warning);
          const completionText = (response.content ?? '') + response.toolCalls.map((call) => call.name + call.arguments).join('');
          const usage = priced(response.usage ?? estimateUsage(input, completionText), candidate);
          const finishedAt = this.now();
          await this.finish(
            admission,
            trace.row('SUCCEEDED', finishedAt, { ...usageColumns(usage), finishReason: response.finishReason, rawFinishReason: response.rawFinishReason }),
          );
          return {
            id: trace.id,
            requestedModel: input.model,
            model: candidate.model,
            providerId: candidate.providerId,
            providerModelId: candidate.providerModelId,
            content: response.content,
            reasoning: response.reasoning ?? null,
            toolCalls: response.toolCalls,
            finishReason: response.finishReason,
            rawFinishReason: response.rawFinishReason,
            usage,
            latencyMs: finishedAt - trace.startedAt,
            warnings: [...trace.warnings],
          };
        } catch (error) {
          if (controller.signal.aborted) throw error;
          lastError = asGatewayError(error);
          this.attemptFailed(trace, candidate, lastError, attemptStart);
          const retryable = error instanceof ProviderError && error.isRetryable;
          if (!retryable || index === candidates.length - 1) break;
        }
      }
      throw lastError ?? new ModelNotFoundError(input.model);
    } catch (error) {
      const aborted = controller.signal.aborted;
      const failure = asGatewayError(error);
      await this.finish(
        admission,
        trace.row(aborted ? statusForAbort(controller.signal) : 'FAILED', this.now(), {
          finishReason: aborted ? 'cancelled' : 'error',
          errorCode: aborted ? 'CANCELLED' : failure.code,
          errorMessage: aborted ? 'cancelled' : failure.message,
        }),
      );
      throw failure;
    } finally {
      this.untrack(controller);
    }
  }

  /**
   * Validates and resolves the request (so those errors surface before any event), then returns the stream of
   * events. Ending the iteration early aborts the upstream call and records the generation as CANCELLED.
   */
  async openStream(input: CompletionInput, caller: Caller, signal?: AbortSignal): Promise<AsyncGenerator<CompletionEvent>> {
    const candidates = this.plan(input);
    const admission = await this.admission.admit(caller, input, candidates, true);
    const controller = this.track(signal);
    const trace = new GenerationTrace(newId('gen'), input, caller, true, this.now());
    trace.candidate = candidates[0];
    this.recorder.start(trace.row('IN_PROGRESS', trace.startedAt));
    return abortOnReturn(this.runStream(candidates, trace, controller, admission), controller);
  }

  private async *runStream(candidates: Candidate[], trace: GenerationTrace, controller: AbortController, admission: Admission): AsyncGenerator<CompletionEvent> {
    const { input, caller } = trace;
    const signal = controller.signal;
    let text = '';
    let recorded = false;
    const partialUsage = (): PricedUsage => priced(estimateUsage(input, text), trace.candidate);

    try {
      for (const [index, candidate] of candidates.entries()) {
        trace.candidate = candidate;
        const attemptStart = this.now();
        let committed = false;
        let warnings: string[] = [];
        try {
          const upstream = candidate.adapter.stream(this.providerRequest(input, candidate), { signal, requestId: caller.requestId });
          for await (const event of upstream) {
            if (event.type === 'start') {
              warnings = event.warnings;
              continue;
            }
            // The first token commits the stream to this endpoint: from here on, no fallback.
            if (!committed) {
              committed = true;
              for (const warning of warnings) trace.warnings.add(warning);
              trace.firstTokenAt = this.now();
              yield { type: 'started', id: trace.id, requestedModel: input.model, model: candidate.model, providerId: candidate.providerId, providerModelId: candidate.providerModelId, warnings };
            }
            if (event.type === 'finish') {
              this.attemptSucceeded(trace, candidate, attemptStart);
              const usage = priced(event.usage ?? estimateUsage(input, text), candidate);
              const finishedAt = this.now();
              await this.finish(
                admission,
                trace.row('SUCCEEDED', finishedAt, { ...usageColumns(usage), finishReason: event.finishReason, rawFinishReason: event.rawFinishReason }),
              );
              recorded = true;
              yield { type: 'done', id: trace.id, finishReason: event.finishReason, rawFinishReason: event.rawFinishReason, usage, latencyMs: finishedAt - trace.startedAt };
              return;
            }
            const delta = toDelta(trace.id, event);
            text += delta.text + delta.toolCalls.map((call) => (call.name ?? '') + call.argumentsDelta).join('');
            yield delta;
          }
          throw new ProviderError(`${candidate.providerId} ended the stream without finishing it`, { provider: candidate.providerId, kind: 'stream_error' });
        } catch (error) {
          if (signal.aborted) throw error;
          const failure = asGatewayError(error);
          this.attemptFailed(trace, candidate, failure, attemptStart);
          const retryable = error instanceof ProviderError && error.isRetryable;
          if (committed || !retryable || index === candidates.length - 1) throw failure;
        }
      }
    } catch (error) {
      if (recorded) throw error;
      const aborted = signal.aborted;
      const failure = asGatewayError(error);
      const usage = partialUsage();
      await this.finish(
        admission,
        trace.row(aborted ? statusForAbort(signal) : 'FAILED', this.now(), {
          ...usageColumns(usage),
          finishReason: aborted ? 'cancelled' : 'error',
          errorCode: aborted ? 'CANCELLED' : failure.code,
          errorMessage: aborted ? 'cancelled' : failure.message,
        }),
      );
      recorded = true;
      if (!aborted) yield { type: 'error', id: trace.id, error: failure, usage };
    } finally {
      // Reached with nothing recorded when the consumer stopped while we were suspended at a yield.
      if (!recorded) {
        const usage = partialUsage();
        await this.finish(admission, trace.row(statusForAbort(signal), this.now(), { ...usageColumns(usage), finishReason: 'cancelled', errorCode: 'CANCELLED', errorMessage: 'cancelled' }));
      }
      this.untrack(controller);
    }
  }

  /** Settles the caller's limits and budget with what the request really used, then commits its final row. */
  private finish(admission: Admission, row: GenerationRow): Promise<void> {
    admission.settle(row);
    return this.recorder.finish(row);
  }

  /**
   * Waits for in-flight completions to finish, up to `graceMs`; then aborts the rest (recorded as INTERRUPTED)
   * and waits for their rows.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.active.size === 0) return;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([idle, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const controller of this.active) controller.abort(new CancelledByShutdown());
      await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, 2000))]);
    }
  }
}

function toDelta(id: string, event: Exclude<StreamEvent, { type: 'start' } | { type: 'finish' }>): Extract<CompletionEvent, { type: 'delta' }> {
  switch (event.type) {
    case 'text-delta':
      return { type: 'delta', id, text: event.text, reasoning: '', toolCalls: [] };
    case 'reasoning-delta':
      return { type: 'delta', id, text: '', reasoning: event.text, toolCalls: [] };
    case 'tool-call-delta': {
      const call: ToolCallDelta = { index: event.index, argumentsDelta: event.argumentsDelta };
      if (event.id !== undefined) call.id = event.id;
      if (event.name !== undefined) call.name = event.name;
      return { type: 'delta', id, text: '', reasoning: '', toolCalls: [call] };
    }
  }
}
