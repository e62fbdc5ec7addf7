import type { CompletionInput } from '../completions/types.js';
import { systemClock, type Clock } from '../clock.js';
import { BadRequestError } from '../errors.js';
import { AttemptRun, type AttemptSink } from './attempts.js';
import type { HedgeDelay, ModelRoutingConfig, RoutingConfig, RoutingStrategy } from './config.js';
import { RouterState } from './health.js';
import { allowedByPreferences, applyOrder, meetsRequirements, requirementsOf } from './preferences.js';
import type { Candidate, Resolution } from './resolve.js';
import type { Route } from './route.js';
import { rankCandidates, type RankingContext } from './strategies.js';

/** What the price strategy assumes a request without maxTokens will produce. */
const EXPECTED_COMPLETION_TOKENS = 256;


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
    const preferences = input.provider;
    const groups = resolutions
      .map((resolution) => ({ resolution, candidates: resolution.candidates.filter((candidate) => allowedByPreferences(candidate, preferences)) }))
      .filter((group) => group.candidates.length > 0);
    if (groups.length === 0 && resolutions.some((resolution) => resolution.candidates.length > 0)) {
      throw new BadRequestError(`The provider preferences (only, ignore) leave no endpoint for '${input.model}'`, 'provider');
    }

    const requirements = requirementsOf(input);
    const capable = new Set(groups.flatMap((group) => group.candidates.filter((candidate) => meetsRequirements(candidate, requirements))));
    const context: RankingContext = {
      streamed,
      promptTokens: requirements.promptTokensRoughly,
      expectedCompletionTokens: input.maxTokens ?? EXPECTED_COMPLETION_TOKENS,
      health: (candidate) => this.state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: candidate.model?.id ?? null }),
      random: this.random,
      exploreEvery: this.exploreEvery,
    };

    const candidates: Candidate[] = [];
    for (const group of groups) {
      const usable = capable.size > 0 ? group.candidates.filter((candidate) => capable.has(candidate)) : group.candidates;
      if (usable.length === 0) continue;
      const strategy: RoutingStrategy = preferences?.sort ?? this.modelConfig(group.resolution)?.strategy ?? this.config.strategy;
      candidates.push(...applyOrder(rankCandidates(usable, strategy, context), preferences));
    }

    const first = groups[0]?.resolution;
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
