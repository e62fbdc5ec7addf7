import type { HedgeDelay } from './config.js';
import type { Candidate } from './resolve.js';

/** One request's way through the endpoints, decided before the first attempt. */
export interface Route {
  requestedModel: string;
  /** Every endpoint to try, best first: the model's, then each fallback model's. */
  candidates: Candidate[];
  streamed: boolean;
  /** Null: no hedging. */
  hedge: HedgeDelay | null;
  attemptTimeoutMs: number;
  deadlineMs: number;
  /** Longest wait for a committed stream's next chunk. */
  streamIdleTimeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  maxRetryAfterMs: number;
}
