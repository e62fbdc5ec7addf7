import { z } from 'zod';

export const routingStrategies = ['ordered', 'weighted', 'price', 'latency', 'throughput'] as const;
export type RoutingStrategy = (typeof routingStrategies)[number];

/** A fixed hedge delay in milliseconds, or `p95`: the primary endpoint's recent 95th-percentile time to first token. */
export type HedgeDelay = number | 'p95';

/** What one model may set differently from the defaults (SWITCHBOARD_ROUTING_MODELS, or `routing.models` in the config file). */
export interface ModelRoutingConfig {
  strategy?: RoutingStrategy;
  hedgeDelayMs?: HedgeDelay;
  /** Models tried after this one when the request names no fallbacks of its own (`models`). */
  fallbacks?: string[];
  attemptTimeoutMs?: number;
  requestDeadlineMs?: number;
  maxRetries?: number;
}

export interface BreakerConfig {
  /** Consecutive failing requests that open the circuit (a request's retries on the endpoint count once). */
  failureThreshold: number;
  /** Failure rate over `windowMs` that opens it, once `minimumRequests` were seen in the window. */
  failureRate: number;
  minimumRequests: number;
  /**
   * Distinct failing requests the window must hold before either rule may open the circuit, so that one request
   * (or one caller's few) cannot shut the endpoint for everyone else.
   */
  minimumFailingRequests: number;
  windowMs: number;
  /** How long an open circuit stays open before one probe request may go through. */
  cooldownMs: number;
}

export interface RoutingConfig {
  strategy: RoutingStrategy;
  /** Null: no hedging unless a request asks for it. */
  hedgeDelayMs: HedgeDelay | null;
  /** Time allowed to an attempt for its first token (the whole answer when not streamed). */
  attemptTimeoutMs: number;
  /** Time allowed to the whole request, retries and stream included. */
  requestDeadlineMs: number;
  /**
   * Longest silence allowed between two chunks of a stream after its first token (before it, `attemptTimeoutMs`
   * applies): a stream committed to an endpoint that stalls would otherwise hold its caller until the deadline.
   */
  streamIdleTimeoutMs: number;
  /** Retries per endpoint after its first attempt. */
  maxRetries: number;
  /** Backoff before the first retry; doubles with each further one, with jitter. */
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the caller gets the error and its Retry-After instead. */
  maxRetryAfterMs: number;
  breaker: BreakerConfig;
  models: Record<string, ModelRoutingConfig>;
}

export const DEFAULT_ROUTING_CONFIG: RoutingConfig = {
  strategy: 'ordered',
  hedgeDelayMs: null,
  attemptTimeoutMs: 60_000,
  requestDeadlineMs: 300_000,
  streamIdleTimeoutMs: 60_000,
  maxRetries: 2,
  retryBaseMs: 200,
  retryMaxDelayMs: 5_000,
  maxRetryAfterMs: 2_000,
  breaker: { failureThreshold: 5, failureRate: 0.5, minimumRequests: 10, minimumFailingRequests: 3, windowMs: 60_000, cooldownMs: 30_000 },
  models: {},
};

const hedgeDelaySchema = z.union([z.literal('p95'), z.coerce.number().int().min(0).max(600_000)]);

const modelRoutingSchema = z
  .object({
    strategy: z.enum(routingStrategies).optional(),
    hedgeDelayMs: hedgeDelaySchema.optional(),
    fallbacks: z.array(z.string().min(1)).optional(),
    attemptTimeoutMs: z.number().int().min(1).optional(),
    requestDeadlineMs: z.number().int().min(1).optional(),
    maxRetries: z.number().int().min(0).max(10).optional(),
  })
  .strict();

const modelsSchema = z.string().transform((text, context) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    context.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a JSON object of model id → { strategy?, hedgeDelayMs? }' });
    return z.NEVER;
  }
  const result = z.record(modelRoutingSchema).safeParse(parsed);
  if (!result.success) {
    for (const issue of result.error.issues) context.addIssue({ ...issue, path: issue.path });
    return z.NEVER;
  }
  return result.data;
});

const milliseconds = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const defaults = DEFAULT_ROUTING_CONFIG;

/** The routing variables, merged into the environment schema in src/config.ts. */
export const routingEnvSchema = z.object({
  SWITCHBOARD_ROUTING_STRATEGY: z.enum(routingStrategies).default(defaults.strategy),
  SWITCHBOARD_ROUTING_MODELS: modelsSchema.optional(),
  // An empty value means unset, as a shell `VAR=` does.
  SWITCHBOARD_HEDGE_DELAY_MS: z.preprocess((value) => (value === '' ? undefined : value), hedgeDelaySchema.optional()),
  SWITCHBOARD_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(1).default(defaults.attemptTimeoutMs),
  SWITCHBOARD_REQUEST_DEADLINE_MS: z.coerce.number().int().min(1).default(defaults.requestDeadlineMs),
  SWITCHBOARD_STREAM_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1).default(defaults.streamIdleTimeoutMs),
  SWITCHBOARD_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(defaults.maxRetries),
  SWITCHBOARD_RETRY_BASE_MS: milliseconds(defaults.retryBaseMs),
  SWITCHBOARD_RETRY_MAX_AFTER_MS: milliseconds(defaults.maxRetryAfterMs),
  SWITCHBOARD_BREAKER_FAILURES: z.coerce.number().int().min(1).default(defaults.breaker.failureThreshold),
  SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: z.coerce.number().int().min(1).default(defaults.breaker.minimumFailingRequests),
  SWITCHBOARD_BREAKER_COOLDOWN_MS: milliseconds(defaults.breaker.cooldownMs),
});

export function toRoutingConfig(values: z.infer<typeof routingEnvSchema>): RoutingConfig {
  return {
    ...defaults,
    strategy: values.SWITCHBOARD_ROUTING_STRATEGY,
    hedgeDelayMs: values.SWITCHBOARD_HEDGE_DELAY_MS ?? null,
    attemptTimeoutMs: values.SWITCHBOARD_ATTEMPT_TIMEOUT_MS,
    requestDeadlineMs: values.SWITCHBOARD_REQUEST_DEADLINE_MS,
    streamIdleTimeoutMs: values.SWITCHBOARD_STREAM_IDLE_TIMEOUT_MS,
    maxRetries: values.SWITCHBOARD_MAX_RETRIES,
    retryBaseMs: values.SWITCHBOARD_RETRY_BASE_MS,
    maxRetryAfterMs: values.SWITCHBOARD_RETRY_MAX_AFTER_MS,
    breaker: {
      ...defaults.breaker,
      failureThreshold: values.SWITCHBOARD_BREAKER_FAILURES,
      minimumFailingRequests: values.SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS,
      cooldownMs: values.SWITCHBOARD_BREAKER_COOLDOWN_MS,
    },
    models: values.SWITCHBOARD_ROUTING_MODELS ?? {},
  };
}
