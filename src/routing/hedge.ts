import type { HedgeDelay } from './config.js';
import type { EndpointHealth } from './health.js';

/** With too few recent samples a p95 means little: hedge after this instead. */
export const DEFAULT_HEDGE_DELAY_MS = 1000;
const MINIMUM_SAMPLES_FOR_P95 = 5;

/**
 * How long the first attempt may go without a first token before a hedge starts: a fixed delay, or the primary
 * endpoint's recent p95 time to first token (whole latency when not streamed), so that only its slowest 5 % of
 * requests pay for a second attempt.
 */
export function hedgeDelayMs(setting: HedgeDelay, primary: EndpointHealth, streamed: boolean, now: number, windowMs: number): number {
  if (setting !== 'p95') return setting;
  const window = primary.window(now, windowMs);
  const samples = streamed ? window.firstToken : window.latency;
  if (samples.length < MINIMUM_SAMPLES_FOR_P95) return DEFAULT_HEDGE_DELAY_MS;
  return (streamed ? primary.recentFirstTokenP95(now, windowMs) : primary.recentLatencyP95(now, windowMs)) ?? DEFAULT_HEDGE_DELAY_MS;
}
