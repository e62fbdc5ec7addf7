import type { Caller, CompletionInput } from '../completions/types.js';
import type { CatalogLookup } from '../db/storage.js';
import type { ApiKeyRow, GenerationRow } from '../db/schema.js';
import { BudgetExceededError, ForbiddenError, RateLimitedError, type RateLimitState } from '../errors.js';
import { reservePromptTokens } from '../providers/normalize.js';
import type { Candidate } from '../routing/resolve.js';
import { canonicalAllowlist, isModelAllowed } from './allowlist.js';
import type { BudgetStanding, BudgetTracker, ReserveOutcome } from './budget.js';
import { resetMs, type RateLimitStore } from './rate-limiter.js';
import { InMemoryStreamSlots, type StreamSlots } from './stream-slots.js';
import { servedModelId } from '../ids.js';
import { picosToUsd } from '../money.js';
import { affordableCompletionTokens, expectedCostPicos } from '../usage/cost.js';
import { CompletionHistory } from './completion-history.js';

/** What admission took for one request, and what it allows it to spend. */
export interface Admission {
  /** Settles what admission took once the request's final row is known; safe to call more than once. */
  settle(row: GenerationRow): void;
  /**
   * The most completion tokens this request may ask `candidate` for, when its budget cannot pay the candidate's
   * whole output limit (the caller's maxTokens, else the model's maximum output); undefined when it can.
   */
  completionCap(candidate: Candidate): number | undefined;
  /** The key's per-minute limits as the store answered this request's take (empty for a caller without a key). */
  readonly rateLimits: RateLimitState;
}

/** How a request is admitted. `budget: false`: one the response cache answers, which spends nothing. */
export interface AdmitOptions {
  budget?: boolean;
}

/** When the completion length is unknown, plan for this many tokens (the catalog's maximum is preferred). */
const DEFAULT_RESERVED_COMPLETION_TOKENS = 4096;

/**
 * A request capped below this many completion tokens could hardly answer at all: when the budget cannot pay even
 * this much after the prompt, the request is refused rather than started to be cut off at once.
 */
export const MIN_COMPLETION_TOKENS = 16;

/**
 * How often admission decides again when another request reserved between its read of the budget and its
 * reservation. Each round admits at least one contender, so this bounds the wait of a burst, not the admitted.
 */
const MAX_BUDGET_ROUNDS = 64;

function modelIdOf(candidate: Candidate): string {
  return servedModelId(candidate.model, candidate.providerId, candidate.providerModelId);
}

/** One served endpoint, as completion history is kept: a model on one provider. */
function endpointOf(providerId: string, providerModelId: string): string {
  return `${providerId}:${providerModelId}`;
}

/** The completion tokens a request may produce on `candidate` if nothing cuts it short. */
function outputLimit(input: CompletionInput, candidate: Candidate): number {
  return input.maxTokens ?? candidate.model?.maxOutputTokens ?? DEFAULT_RESERVED_COMPLETION_TOKENS;
}

/**
 * Decides whether a keyed caller may start a request, in the order that refunds least: model allowlist, concurrent
 * streams, requests per minute, tokens per minute, then the spend budget. Callers without a key (the bootstrap
 * admin, open local mode) have no limits, but their answers still feed the completion history.
 *
 * Tokens per minute and the budget reserve what the request is EXPECTED to use, not its worst case: the prompt
 * estimate plus the completion tokens recent answers of the same endpoint used (CompletionHistory; the output
 * limit when there is none), never more than the output limit. Reserving the worst case — a model's whole
 * maximum output at the dearest candidate's price — made a budget refuse what it could plainly afford (a budget
 * of 5.5 typical calls admitted one of 20). Settling replaces the reservation with the actual usage.
 *
 * The budget's invariant, spend never more than one request over the limit, then comes from capping rather than
 * from reserving: a request is admitted while recorded plus reserved spend is below the limit, and when what
 * remains (limit − recorded − other reservations) cannot pay its whole output limit, its upstream max_tokens is
 * capped at what remains (completionCap), so it alone cannot spend past the limit. This bounds the overshoot by
 * one request as long as in-flight requests stay within their expectation, which is the maximum of recent
 * answers, so it errs high. A refusal that waiting for in-flight requests would lift is RATE_LIMITED with a
 * retry hint; only a budget the recorded spend has used up (no in-flight request will give anything back) is
 * BUDGET_EXCEEDED.
 */
export class AdmissionControl {
  constructor(
    private readonly catalog: Pick<CatalogLookup, 'findModel'>,
    private readonly rates: RateLimitStore,
    private readonly budgets: BudgetTracker,
    private readonly history: CompletionHistory = new CompletionHistory(),
    private readonly streams: StreamSlots = new InMemoryStreamSlots(),
  ) {}

  /** Allowlist patterns with aliases resolved to canonical ids. */
  private allowedModels(key: ApiKeyRow): string[] | null {
    if (key.allowedModels === null) return null;
    return canonicalAllowlist(this.catalog, key.allowedModels);
  }

  /** Succeeded answers teach the history what each endpoint's completions use and how long they take. */
  private learn(row: GenerationRow): void {
    // A cache hit took no time at the endpoint: it would make the endpoint look faster than it is.
    if (row.status !== 'SUCCEEDED' || row.cacheHit || row.providerId === null || row.providerModelId === null) return;
    this.history.record(endpointOf(row.providerId, row.providerModelId), row.completionTokens, row.latencyMs);
  }

  /** The completion tokens to plan for on `candidate`: what recent answers used, at most the output limit. */
  private expectedCompletionTokens(input: CompletionInput, candidate: Candidate): number {
    return this.history.expectedCompletionTokens(endpointOf(candidate.providerId, candidate.providerModelId), outputLimit(input, candidate));
  }

  /** When in-flight requests on these endpoints are likely to have settled. */
  private retryAfterMs(candidates: Candidate[]): number {
    return Math.max(0, ...candidates.map((candidate) => this.history.retryAfterMs(endpointOf(candidate.providerId, candidate.providerModelId))));
  }

  async admit(caller: Caller, input: CompletionInput, candidates: Candidate[], streamed: boolean, options: AdmitOptions = {}): Promise<Admission> {
    const key = caller.key ?? null;
    if (key === null) return { settle: (row) => this.learn(row), completionCap: () => undefined, rateLimits: {} };
    const rateLimits: RateLimitState = {};

    const allowed = this.allowedModels(key);
    for (const candidate of candidates) {
      const modelId = modelIdOf(candidate);
      if (!isModelAllowed(allowed, modelId)) throw new ForbiddenError(`This key may not use model '${modelId}'`);
    }

    const refunds: Array<() => void> = [];
    const refund = (): void => {
      for (const undo of refunds.splice(0)) undo();
    };

    let releaseStream: (() => void) | undefined;
    if (streamed && key.concurrentStreams !== null) {
      const slot = await this.streams.acquire(key.id, key.concurrentStreams);
      if (!slot.taken) throw new RateLimitedError(`This key already has ${slot.open} open streams (limit ${key.concurrentStreams})`, 1000);
      releaseStream = slot.release;
      refunds.push(slot.release);
    }

    if (key.requestsPerMinute !== null) {
      const limit = key.requestsPerMinute;
      const { waitMs: wait, remaining } = await this.rates.take(`rpm:${key.id}`, 1, limit).catch((error: unknown) => {
        refund();
        throw error;
      });
      rateLimits.requests = { limit, remaining, resetMs: resetMs(remaining, limit) };
      if (wait > 0) {
        refund();
        throw new RateLimitedError(`Rate limit of ${limit} requests per minute reached`, wait, rateLimits);
      }
      refunds.push(() => void this.rates.adjust(`rpm:${key.id}`, 1, limit).catch(ignore));
    }

    const promptEstimate = reservePromptTokens(input);
    // The completion counts against tokens per minute too: reserving only the prompt let a burst through several
    // times over the limit, since each answer was charged only after it finished.
    const reservedTokens = promptEstimate + Math.max(0, ...candidates.map((candidate) => this.expectedCompletionTokens(input, candidate)));
    if (key.tokensPerMinute !== null) {
      const limit = key.tokensPerMinute;
      const { waitMs: wait, remaining } = await this.rates.take(`tpm:${key.id}`, reservedTokens, limit).catch((error: unknown) => {
        refund();
        throw error;
      });
      rateLimits.tokens = { limit, remaining, resetMs: resetMs(remaining, limit) };
      if (wait > 0) {
        refund();
        throw new RateLimitedError(`Rate limit of ${limit} tokens per minute reached`, wait, rateLimits);
      }
      refunds.push(() => void this.rates.adjust(`tpm:${key.id}`, reservedTokens, limit).catch(ignore));
    }

    let reservedPicos = 0;
    let reservedIn = 0;
    /** Completion caps by endpoint (routing may hand attempts copies of the candidates). */
    const caps = new Map<string, number>();
    // A cache hit spends nothing, so the budget neither holds it back nor refuses it.
    if (key.budgetLimitPicos !== null && options.budget !== false) {
      for (const candidate of candidates) {
        if (expectedCostPicos(candidate.prices, promptEstimate, 0) === null) {
          refund();
          throw new ForbiddenError(`Model '${modelIdOf(candidate)}' has no known price, and this key has a spend budget`);
        }
      }
      const limit = key.budgetLimitPicos;
      const fail = (error: unknown): never => {
        refund();
        throw error;
      };
      const busy = (): RateLimitedError =>
        new RateLimitedError('The spend budget of this key is held by requests in flight; retry once they finish', this.retryAfterMs(candidates));
      // Read, decide, and reserve while the decision holds (the store checks; other requests, other instances may
      // have reserved since the read); else decide again.
      const periodStart = this.budgets.currentPeriod(key.budgetPeriod);
      let standing: BudgetStanding | null = null;
      for (let round = 0; ; round++) {
        if (round === MAX_BUDGET_ROUNDS) fail(busy());
        standing ??= await this.budgets.standing(key.id, key.budgetPeriod, periodStart).catch(fail);
        const { spentPicos, reservedPicos: inFlight } = standing;
        if (spentPicos >= limit) fail(new BudgetExceededError());
        if (spentPicos + inFlight >= limit) fail(busy());
        const remaining = limit - spentPicos - inFlight;
        reservedPicos = 0;
        let mostPicos = 0;
        caps.clear();
        for (const candidate of candidates) {
          const expected = expectedCostPicos(candidate.prices, promptEstimate, this.expectedCompletionTokens(input, candidate)) ?? 0;
          const affordable = affordableCompletionTokens(candidate.prices, promptEstimate, remaining) ?? 0;
          if (affordable < MIN_COMPLETION_TOKENS) {
            // Not even the prompt and a few tokens: waiting helps only if in-flight requests hold part of the budget.
            const unreserved = affordableCompletionTokens(candidate.prices, promptEstimate, limit - spentPicos) ?? 0;
            fail(unreserved < MIN_COMPLETION_TOKENS ? new BudgetExceededError(`The spend budget of this key cannot pay for this request ($${picosToUsd(limit - spentPicos)} remain)`) : busy());
          }
          let reservation = expected;
          if (affordable < outputLimit(input, candidate)) {
            caps.set(endpointOf(candidate.providerId, candidate.providerModelId), affordable);
            // A capped request cannot spend more than its cap; reserving an expectation above that would hold back more than it can use.
            reservation = Math.min(reservation, expectedCostPicos(candidate.prices, promptEstimate, affordable) ?? reservation);
          }
          // The dearest candidate's: fallback may land the request on any of them.
          reservedPicos = Math.max(reservedPicos, reservation);
          mostPicos = Math.max(mostPicos, expectedCostPicos(candidate.prices, promptEstimate, Math.min(affordable, outputLimit(input, candidate))) ?? 0);
        }
        const outcome: ReserveOutcome = await this.budgets.reserve(key.id, periodStart, reservedPicos, { seen: standing, mostPicos, limitPicos: limit }).catch(fail);
        if (outcome.reserved) {
          reservedIn = periodStart;
          break;
        }
        // Someone reserved in between and this one's decision no longer holds: decide again on the standing the
        // store answered with (or read it again).
        standing = outcome.standing;
      }
    }

    let settled = false;
    return {
      rateLimits,
      completionCap: (candidate) => caps.get(endpointOf(candidate.providerId, candidate.providerModelId)),
      settle: (row) => {
        if (settled) return;
        settled = true;
        this.learn(row);
        releaseStream?.();
        // A shared store that cannot be reached now loses only a reservation, which expires there with its hash;
        // the spend itself is in the ledger row, which is what a budget is read from again.
        if (key.tokensPerMinute !== null) this.rates.adjust(`tpm:${key.id}`, reservedTokens - row.totalTokens, key.tokensPerMinute).catch(ignore);
        if (key.budgetLimitPicos !== null && options.budget !== false) this.budgets.settle(key.id, key.budgetPeriod, reservedIn, reservedPicos, row.costPicos ?? 0, row.createdAt).catch(ignore);
      },
    };
  }
}

/** Settling is best effort: the stores report their own unreachability (src/coordination/shared-state.ts). */
function ignore(): void {}
