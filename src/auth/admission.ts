import type { Caller, CompletionInput } from '../completions/types.js';
import { findModel } from '../db/catalog.js';
import type { Db } from '../db/client.js';
import type { ApiKeyRow, GenerationRow } from '../db/schema.js';
import { BudgetExceededError, ForbiddenError, RateLimitedError } from '../errors.js';
import { estimatePromptTokens } from '../providers/normalize.js';
import type { Candidate } from '../routing/resolve.js';
import { isModelAllowed } from './allowlist.js';
import type { BudgetTracker } from './budget.js';
import type { RateLimitStore } from './rate-limiter.js';
import { servedModelId } from '../ids.js';
import { expectedCostPicos } from '../usage/cost.js';

/** Settles what admission took once the request's final row is known; safe to call more than once. */
export interface Admission {
  settle(row: GenerationRow): void;
}

const NO_LIMITS: Admission = { settle: () => {} };

/** When the completion length is unknown, reserve for this many tokens (the catalog's maximum is preferred). */
const DEFAULT_RESERVED_COMPLETION_TOKENS = 4096;

function modelIdOf(candidate: Candidate): string {
  return servedModelId(candidate.model, candidate.providerId, candidate.providerModelId);
}

/**
 * Decides whether a keyed caller may start a request, in the order that refunds least: model allowlist, concurrent
 * streams, requests per minute, tokens per minute (the prompt estimate), then the spend budget (a reservation
 * for the prompt estimate plus the maximum completion at the dearest candidate's prices). Callers without a key
 * (the bootstrap admin, open local mode) have no limits.
 */
export class AdmissionControl {
  private readonly streams = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly rates: RateLimitStore,
    private readonly budgets: BudgetTracker,
  ) {}

  /** Allowlist patterns with aliases resolved to canonical ids. */
  private allowedModels(key: ApiKeyRow): string[] | null {
    if (key.allowedModels === null) return null;
    return key.allowedModels.map((pattern) => (pattern.endsWith('/*') ? pattern : (findModel(this.db, pattern)?.id ?? pattern)));
  }

  async admit(caller: Caller, input: CompletionInput, candidates: Candidate[], streamed: boolean): Promise<Admission> {
    const key = caller.key ?? null;
    if (key === null) return NO_LIMITS;

    const allowed = this.allowedModels(key);
    for (const candidate of candidates) {
      const modelId = modelIdOf(candidate);
      if (!isModelAllowed(allowed, modelId)) throw new ForbiddenError(`This key may not use model '${modelId}'`);
    }

    const refunds: Array<() => void> = [];
    const refund = (): void => {
      for (const undo of refunds.splice(0)) undo();
    };

    if (streamed && key.concurrentStreams !== null) {
      const open = this.streams.get(key.id) ?? 0;
      if (open >= key.concurrentStreams) throw new RateLimitedError(`This key already has ${open} open streams (limit ${key.concurrentStreams})`, 1000);
      this.streams.set(key.id, open + 1);
      refunds.push(() => this.releaseStream(key.id));
    }

    if (key.requestsPerMinute !== null) {
      const limit = key.requestsPerMinute;
      const wait = await this.rates.take(`rpm:${key.id}`, 1, limit);
      if (wait > 0) {
        refund();
        throw new RateLimitedError(`Rate limit of ${limit} requests per minute reached`, wait);
      }
      refunds.push(() => void this.rates.adjust(`rpm:${key.id}`, 1, limit));
    }

    const promptEstimate = estimatePromptTokens(input);
    if (key.tokensPerMinute !== null) {
      const limit = key.tokensPerMinute;
      const wait = await this.rates.take(`tpm:${key.id}`, promptEstimate, limit);
      if (wait > 0) {
        refund();
        throw new RateLimitedError(`Rate limit of ${limit} tokens per minute reached`, wait);
      }
      refunds.push(() => void this.rates.adjust(`tpm:${key.id}`, promptEstimate, limit));
    }

    let reservedPicos = 0;
    if (key.budgetLimitPicos !== null) {
      for (const candidate of candidates) {
        const completion = input.maxTokens ?? candidate.model?.maxOutputTokens ?? DEFAULT_RESERVED_COMPLETION_TOKENS;
        const expected = expectedCostPicos(candidate.prices, promptEstimate, completion);
        if (expected === null) {
          refund();
          throw new ForbiddenError(`Model '${modelIdOf(candidate)}' has no known price, and this key has a spend budget`);
        }
        reservedPicos = Math.max(reservedPicos, expected);
      }
      if (!this.budgets.reserve(key.id, key.budgetPeriod, key.budgetLimitPicos, reservedPicos)) {
        refund();
        throw new BudgetExceededError();
      }
    }

    let settled = false;
    return {
      settle: (row) => {
        if (settled) return;
        settled = true;
        if (streamed && key.concurrentStreams !== null) this.releaseStream(key.id);
        if (key.tokensPerMinute !== null) void this.rates.adjust(`tpm:${key.id}`, promptEstimate - row.totalTokens, key.tokensPerMinute);
        if (key.budgetLimitPicos !== null) this.budgets.settle(key.id, key.budgetPeriod, reservedPicos, row.costPicos ?? 0, row.createdAt);
      },
    };
  }

  private releaseStream(keyId: string): void {
    const open = (this.streams.get(keyId) ?? 1) - 1;
    if (open <= 0) this.streams.delete(keyId);
    else this.streams.set(keyId, open);
  }
}
