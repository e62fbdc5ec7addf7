import type { CompletionInput } from '../completions/types.js';
import { systemClock, type Clock } from '../clock.js';
import { BadRequestError } from '../errors.js';
import { AttemptRun, type AttemptSink } from './attempts.js';
import type { HedgeDelay, ModelRoutingConfig, RoutingConfig, RoutingStrategy } from './config.js';
import { EndpointHealth, RouterState } from './health.js';
import { allowedByPreferences, applyOrder, meetsRequirements, requirementsOf, unmetRequirement, type UnmetRequirement } from './preferences.js';
import type { Candidate, Resolution } from './resolve.js';
import type { Route } from './route.js';
import { rankCandidates, type RankingContext } from './strategies.js';

/** What the price strategy assumes a request without maxTokens will produce. */
const EXPECTED_COMPLETION_TOKENS = 256;


/** Why an endpoint is not in a route: the request's `only`/`ignore`/`order` preferences, or what the catalog says it cannot take. */
export type DropReason = 'providerPreference' | UnmetRequirement;

/** One endpoint as routing decided about it. */
export interface EndpointDecision {
  candidate: Candidate;
  /** The model as written that brought it in: the requested one or a fallback. */
  requested: string;
  strategy: RoutingStrategy;
  /** Null: kept, and tried in its place among the kept ones. */
  dropped: DropReason | null;
}

export interface RouteDecision {
  decisions: EndpointDecision[];
  /** What ranking read, for explaining each endpoint's score. */
  context: RankingContext;
  /** `only`/`ignore` removed every endpoint there was. */
  preferencesLeftNothing: boolean;
}

export interface RouterOptions {
  config: RoutingConfig;
  state?: RouterState;
  /** Every time routing reads or waits for: deadlines, attempt timeouts, hedges, backoff, breaker cool-downs. */
  clock?: Clock;
  /** A number in [0, 1): weighted picks and backoff jitter. */
  random?: () => number;
  /** See strategies.ts: how often the latency and throughput strategies try an endpoint they would pass over. */
  exploreEvery?: number;
}

/**
 * Routing for the completion service: orders the endpoints a request may use (`plan`), then runs its attempts
 * over them (`start`). Holds the in-memory health of every endpoint, shared by all requests of the process.
 */
export class Router {
  /** Replaced as a whole by reconfigure() when the config file is reloaded; a plan reads it once. */
  config: RoutingConfig;
  readonly state: RouterState;
  readonly clock: Clock;
  private readonly random: () => number;
  private readonly exploreEvery: number;

  constructor(options: RouterOptions) {
    this.config = options.config;
    this.clock = options.clock ?? options.state?.clock ?? systemClock;
    this.state = options.state ?? new RouterState({ breaker: options.config.breaker, clock: this.clock });
    this.random = options.random ?? Math.random;
    this.exploreEvery = options.exploreEvery ?? 10;
  }

  /**
   * A reloaded config file's routing applies to requests planned from now on; requests in flight keep their route.
   * Breaker settings stay as the process started (the health state holds them).
   */
  reconfigure(config: RoutingConfig): void {
    this.config = config;
  }

  /** The fallback models routing config names for a requested model (by the id or alias the caller wrote). */
  fallbacksFor(requested: string): string[] | undefined {
    return this.config.models[requested]?.fallbacks;
  }

  private modelConfig(resolution: Resolution): ModelRoutingConfig | undefined {
    return (resolution.model ? this.config.models[resolution.model.id] : undefined) ?? this.config.models[resolution.requested];
  }

  /**
   * Orders the endpoints of the requested model and its fallbacks. `only` and `ignore` drop endpoints (refused
   * when nothing is left); endpoints the catalog says cannot take the request (tools, images, a prompt over their
   * context) are dropped when another can take it — when none can, all stay and the provider has the last word;
   * each model's endpoints are ranked by `sort` or its strategy, then `order` and `allowFallbacks` apply.
   */
  plan(resolutions: readonly Resolution[], input: CompletionInput, streamed: boolean): Route {
    const decided = this.decide(resolutions, input, streamed, false);
    if (decided.preferencesLeftNothing) {
      throw new BadRequestError(`The provider preferences (only, ignore) leave no endpoint for '${input.model}'`, 'provider');
    }
    const candidates = decided.decisions.filter((decision) => decision.dropped === null).map((decision) => decision.candidate);
    const first = resolutions.find((resolution) => resolution.candidates.some((candidate) => allowedByPreferences(candidate, input.provider)));
    // Per-model timeouts and retries follow the requested model, like its hedge delay.
    const own = first ? this.modelConfig(first) : undefined;
    return {
      requestedModel: input.model,
      candidates,
      streamed,
      hedge: this.hedgeFor(input, first),
      attemptTimeoutMs: own?.attemptTimeoutMs ?? this.config.attemptTimeoutMs,
      deadlineMs: own?.requestDeadlineMs ?? this.config.requestDeadlineMs,
      streamIdleTimeoutMs: this.config.streamIdleTimeoutMs,
      maxRetries: own?.maxRetries ?? this.config.maxRetries,
      retryBaseMs: this.config.retryBaseMs,
      retryMaxDelayMs: this.config.retryMaxDelayMs,
      maxRetryAfterMs: this.config.maxRetryAfterMs,
    };
  }

  /**
   * The one ordering behind `plan` and `explainRoute` (explain.ts): every endpoint of every model, the kept ones in
   * the order they would be tried and each dropped one with its reason. A dry run ranks without counting the
   * decision (see strategies.ts `explore`), so explaining never changes what the next request does.
   */
  decide(resolutions: readonly Resolution[], input: CompletionInput, streamed: boolean, dryRun: boolean): RouteDecision {
    const preferences = input.provider;
    const decisions: EndpointDecision[] = [];
    const groups = resolutions.map((resolution) => ({ resolution, candidates: resolution.candidates.filter((candidate) => allowedByPreferences(candidate, preferences)) }));
    const preferencesLeftNothing = groups.every((group) => group.candidates.length === 0) && resolutions.some((resolution) => resolution.candidates.length > 0);

    const requirements = requirementsOf(input);
    const capable = new Set(groups.flatMap((group) => group.candidates.filter((candidate) => meetsRequirements(candidate, requirements))));
    const context: RankingContext = {
      streamed,
      promptTokens: requirements.promptTokensRoughly,
      expectedCompletionTokens: input.maxTokens ?? EXPECTED_COMPLETION_TOKENS,
      health: (candidate) => {
        const ref = { providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: candidate.model?.id ?? null };
        // A dry run reads health without adding endpoints nobody called to Provider.health.
        if (dryRun) return this.state.find(ref) ?? new EndpointHealth(ref, this.config.breaker);
        return this.state.endpoint(ref);
      },
      random: this.random,
      exploreEvery: this.exploreEvery,
      dryRun,
    };

    for (const group of groups) {
      const strategy: RoutingStrategy = preferences?.sort ?? this.modelConfig(group.resolution)?.strategy ?? this.config.strategy;
      const dropped = (candidate: Candidate, reason: DropReason): void => {
        decisions.push({ candidate, requested: group.resolution.requested, strategy, dropped: reason });
      };
      const usable = capable.size > 0 ? group.candidates.filter((candidate) => capable.has(candidate)) : group.candidates;
      const ordered = usable.length === 0 ? [] : applyOrder(rankCandidates(usable, strategy, context), preferences);
      for (const candidate of ordered) decisions.push({ candidate, requested: group.resolution.requested, strategy, dropped: null });
      for (const candidate of group.resolution.candidates) {
        if (ordered.includes(candidate)) continue;
        if (!group.candidates.includes(candidate) || usable.includes(candidate)) dropped(candidate, 'providerPreference');
        else dropped(candidate, unmetRequirement(candidate, requirements) ?? 'capability');
      }
    }
    return { decisions, context, preferencesLeftNothing };
  }

  private hedgeFor(input: CompletionInput, primary: Resolution | undefined): HedgeDelay | null {
    const requested = input.provider?.hedge;
    if (requested) return requested.enabled === false ? null : (requested.delayMs ?? 'p95');
    return (primary ? this.modelConfig(primary)?.hedgeDelayMs : undefined) ?? this.config.hedgeDelayMs;
  }

  /** Starts a run of attempts over the route; `signal` is the request's (client gone, shutdown). */
  start(route: Route, signal: AbortSignal, sink: AttemptSink): AttemptRun {
    return new AttemptRun(route, { state: this.state, clock: this.clock, random: this.random }, signal, sink);
  }
}

export type { Route } from './route.js';
