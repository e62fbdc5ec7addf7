import { canonicalAllowlist, isModelAllowed } from '../auth/allowlist.js';
import type { CompletionInput } from '../completions/types.js';
import type { CatalogLookup } from '../db/storage.js';
import type { AdapterRegistry } from '../providers/registry.js';
import { expectedCostPicos } from '../usage/cost.js';
import type { RoutingStrategy } from './config.js';
import { resolveModel, type Candidate, type Resolution } from './resolve.js';
import type { DropReason, Router } from './router.js';

/** Why an endpoint would not be tried: the RouteSkipReason enum of explainRoute. */
export type SkipReason = 'allowlist' | 'capability' | 'contextLength' | 'providerPreference' | 'breakerState';

/** One endpoint of a dry-run route. */
export interface ExplainedEndpoint {
  candidate: Candidate;
  /** The model as written that brought it in: the requested one or a fallback. */
  requested: string;
  fallback: boolean;
  /** 1-based place among the endpoints that would be tried; null when skipped. */
  position: number | null;
  skipReason: SkipReason | null;
  detail: string | null;
  strategy: RoutingStrategy;
  /** What the strategies rank by, as they would read it now. */
  expectedCostPicos: number | null;
  observedLatencyMs: number | null;
  throughputTokensPerSecond: number | null;
}

export interface RoutePlanExplained {
  requestedModel: string;
  /** The fallback models after the requested one: the request's own `models`, or routing config's. */
  fallbackModels: string[];
  endpoints: ExplainedEndpoint[];
  promptTokensRoughly: number;
  expectedCompletionTokens: number;
}

const DETAIL: Record<DropReason, string> = {
  providerPreference: 'left out by the request’s provider preferences (only, ignore, order with allowFallbacks false)',
  capability: 'the catalog says this endpoint lacks what the request uses (tools or images)',
  contextLength: 'the prompt is longer than this endpoint’s context window',
};

/** Allowlist patterns with aliases resolved to canonical ids, as admission reads them. */
/**
 * A dry run of routing for a caller: the same `Router.decide` the completion service plans with, then what a run
 * would skip at attempt time (an open circuit) and what admission refuses (the key's allowlist). Nothing is sent,
 * admitted or counted. A weighted strategy's order is one draw of what a request could get.
 */
export async function explainRoute(
  deps: { catalog: CatalogLookup; registry: AdapterRegistry; router: Router },
  input: CompletionInput,
  allowlist: readonly string[] | null,
  streamed: boolean,
): Promise<RoutePlanExplained> {
  const fallbackModels = input.models ?? deps.router.fallbacksFor(input.model) ?? [];
  const resolutions: Resolution[] = [];
  for (const requested of [input.model, ...fallbackModels]) resolutions.push(resolveModel(deps.catalog, deps.registry, requested));
  const decided = deps.router.decide(resolutions, input, streamed, true);
  const allowed = canonicalAllowlist(deps.catalog, allowlist);
  const now = deps.router.clock.now();

  let position = 0;
  const endpoints = decided.decisions.map((decision): ExplainedEndpoint => {
    const { candidate } = decision;
    const modelId = candidate.model?.id ?? `${candidate.providerId}/${candidate.providerModelId}`;
    const health = deps.router.state.find(candidate);
    let skipReason: SkipReason | null = decision.dropped;
    let detail: string | null = decision.dropped === null ? null : DETAIL[decision.dropped];
    if (skipReason === null && !isModelAllowed(allowed, modelId)) {
      skipReason = 'allowlist';
      detail = `this key may not use model '${modelId}' (admission refuses the whole request while it is a candidate)`;
    } else if (skipReason === null && health && !health.breaker.available(now)) {
      skipReason = 'breakerState';
      const retryAt = health.breaker.retryAt();
      detail = `circuit ${health.breaker.state(now)}${retryAt === null ? '' : `, probe allowed from ${new Date(retryAt).toISOString()}`}`;
    }
    return {
      candidate,
      requested: decision.requested,
      fallback: decision.requested !== input.model,
      position: skipReason === null ? ++position : null,
      skipReason,
      detail,
      strategy: decision.strategy,
      expectedCostPicos: expectedCostPicos(candidate.prices, decided.context.promptTokens, decided.context.expectedCompletionTokens),
      observedLatencyMs: health?.expectedLatency(streamed) ?? null,
      throughputTokensPerSecond: health?.throughput.value ?? null,
    };
  });
  return {
    requestedModel: input.model,
    fallbackModels,
    endpoints,
    promptTokensRoughly: decided.context.promptTokens,
    expectedCompletionTokens: decided.context.expectedCompletionTokens,
  };
}
