import type { RoutingStrategy } from './config.js';
import type { EndpointHealth } from './health.js';
import type { Candidate } from './resolve.js';
import { expectedCostPicos } from '../usage/cost.js';

export interface RankingContext {
  streamed: boolean;
  /** The prompt's size and the completion we expect, for the price strategy. */
  promptTokens: number;
  expectedCompletionTokens: number;
  /** The endpoint's health, created on first sight. */
  health(candidate: Candidate): EndpointHealth;
  random(): number;
  /** The latency and throughput strategies put an endpoint first after it was passed over this many times. */
  exploreEvery: number;
  /** A dry run (explainRoute): ranks without counting the decision, so explaining a route never changes the next one. */
  dryRun?: boolean;
}

/** Orders one model's candidates, best first. Ties keep the catalog order. */
export function rankCandidates(candidates: readonly Candidate[], strategy: RoutingStrategy, context: RankingContext): Candidate[] {
  switch (strategy) {
    case 'ordered':
      return [...candidates];
    case 'weighted':
      return weightedOrder(candidates, context.random);
    case 'price':
      return byKey(candidates, (candidate) => expectedCostPicos(candidate.prices, context.promptTokens, context.expectedCompletionTokens) ?? Number.POSITIVE_INFINITY);
    case 'latency':
      return explore(
        byKey(candidates, (candidate) => measured(context.health(candidate), (health) => health.expectedLatency(context.streamed))),
        context,
      );
    case 'throughput':
      return explore(
        byKey(candidates, (candidate) =>
          measured(context.health(candidate), (health) => {
            const tokensPerSecond = health.throughput.value;
            return tokensPerSecond === null ? null : -tokensPerSecond;
          }),
        ),
        context,
      );
  }
}

/**
 * The sort key from an endpoint's figure (lower is better). An endpoint never tried ranks first (it has to be
 * measured once); one tried that never succeeded ranks last (it has no figure because it only failed).
 */
function measured(health: EndpointHealth, figure: (health: EndpointHealth) => number | null): number {
  const value = figure(health);
  if (value !== null) return value;
  return health.tried ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

function byKey(candidates: readonly Candidate[], key: (candidate: Candidate) => number): Candidate[] {
  return candidates
    .map((candidate, index) => ({ candidate, index, key: key(candidate) }))
    .sort((a, b) => (a.key === b.key ? a.index - b.index : a.key < b.key ? -1 : 1))
    .map((entry) => entry.candidate);
}

/**
 * Moving averages only move for endpoints that get traffic: without exploration, an endpoint that was slow once
 * would never be tried again after it recovered. Each decision that passes an endpoint over counts; at
 * `exploreEvery` it goes first once, so a recovered endpoint wins its traffic back within a few probes.
 */
function explore(ranked: Candidate[], context: RankingContext): Candidate[] {
  if (ranked.length < 2) return ranked;
  let explored: Candidate | undefined;
  let most = context.exploreEvery - 1;
  for (const candidate of ranked.slice(1)) {
    const passedOver = context.health(candidate).passedOver;
    if (passedOver > most) {
      most = passedOver;
      explored = candidate;
    }
  }
  const order = explored ? [explored, ...ranked.filter((candidate) => candidate !== explored)] : ranked;
  if (context.dryRun) return order;
  for (const [index, candidate] of order.entries()) {
    const health = context.health(candidate);
    health.passedOver = index === 0 ? 0 : health.passedOver + 1;
  }
  return order;
}

/**
 * A weighted random order without replacement: the first pick follows the endpoint weights, and so does each next
 * one among the rest, so fallbacks are spread the same way. Endpoints of weight 0 only serve as last resorts.
 */
export function weightedOrder(candidates: readonly Candidate[], random: () => number): Candidate[] {
  const pool = candidates.filter((candidate) => weightOf(candidate) > 0);
  const lastResorts = candidates.filter((candidate) => weightOf(candidate) <= 0);
  const order: Candidate[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, candidate) => sum + weightOf(candidate), 0);
    let pick = random() * total;
    let index = 0;
    for (const candidate of pool) {
      pick -= weightOf(candidate);
      if (pick < 0 || index === pool.length - 1) break;
      index++;
    }
    order.push(...pool.splice(index, 1));
  }
  return [...order, ...lastResorts];
}

function weightOf(candidate: Candidate): number {
  return candidate.endpoint?.weight ?? 1;
}
