/** How many finished requests per endpoint the expectation looks back on. */
export const HISTORY_SIZE = 20;

/** When an endpoint has no latency history yet, a refused caller is told to retry after this long. */
const DEFAULT_RETRY_AFTER_MS = 1000;

interface EndpointHistory {
  completionTokens: number[];
  latenciesMs: number[];
}

function pushBounded(values: number[], value: number): void {
  values.push(value);
  if (values.length > HISTORY_SIZE) values.shift();
}

/**
 * What recent requests to each served endpoint produced, in memory: how many completion tokens (for reserving
 * budget and tokens-per-minute before a call) and how long they took (for telling a refused caller when
 * in-flight requests will likely have settled). Fed with every succeeded request, whichever key sent it, since
 * the length of a model's answers is a property of the model and its callers' prompts, not of one key.
 *
 * The expectation is the maximum of the last HISTORY_SIZE answers rather than a mean: a reservation below
 * what a request really spends is what lets concurrent requests overshoot a budget, so it errs high, while
 * still being far below the model's whole output limit for the usual short answers. One process's memory is
 * enough: it only sizes reservations, which are themselves per process, and an empty history falls back to the
 * request's output limit, which is the old, safe behaviour.
 */
export class CompletionHistory {
  private readonly endpoints = new Map<string, EndpointHistory>();

  private history(endpoint: string): EndpointHistory {
    let history = this.endpoints.get(endpoint);
    if (history === undefined) {
      history = { completionTokens: [], latenciesMs: [] };
      this.endpoints.set(endpoint, history);
    }
    return history;
  }

  record(endpoint: string, completionTokens: number, latencyMs: number | null): void {
    const history = this.history(endpoint);
    pushBounded(history.completionTokens, completionTokens);
    if (latencyMs !== null) pushBounded(history.latenciesMs, latencyMs);
  }

  /** The completion tokens to plan for: the most any recent answer used, never more than `limit`; `limit` without history. */
  expectedCompletionTokens(endpoint: string, limit: number): number {
    const seen = this.endpoints.get(endpoint)?.completionTokens ?? [];
    if (seen.length === 0) return limit;
    return Math.min(limit, Math.max(...seen));
  }

  /** The median latency of recent requests, at least DEFAULT_RETRY_AFTER_MS: when in-flight requests likely settle. */
  retryAfterMs(endpoint: string): number {
    const latencies = [...(this.endpoints.get(endpoint)?.latenciesMs ?? [])].sort((a, b) => a - b);
    const median = latencies[Math.floor(latencies.length / 2)] ?? 0;
    return Math.max(DEFAULT_RETRY_AFTER_MS, Math.ceil(median));
  }
}
