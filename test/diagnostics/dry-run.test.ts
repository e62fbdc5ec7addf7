import { describe, expect, it } from 'vitest';
import type { CompletionInput } from '../../src/completions/types.js';
import { DEFAULT_ROUTING_CONFIG } from '../../src/routing/config.js';
import type { Candidate, Resolution } from '../../src/routing/resolve.js';
import { Router } from '../../src/routing/router.js';
import { scriptedEndpoint } from '../routing/helpers.js';

const input: CompletionInput = { model: 'vendor/model', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] };
const ids = (candidates: readonly Candidate[]): string[] => candidates.map((candidate) => candidate.providerId);

describe('Router.decide as a dry run', () => {
  it('gives the order plan would give, without counting the decision: explaining never changes the next route', () => {
    const build = (): { router: Router; resolutions: Resolution[] } => {
      const router = new Router({ config: { ...DEFAULT_ROUTING_CONFIG, strategy: 'latency' }, exploreEvery: 3 });
      const [fast, slow, slower] = ['fast', 'slow', 'slower'].map((id) => scriptedEndpoint(id).candidate) as [Candidate, Candidate, Candidate];
      const latencies: Array<[Candidate, number]> = [
        [fast, 20],
        [slow, 200],
        [slower, 400],
      ];
      for (const [candidate, ms] of latencies) router.state.endpoint({ providerId: candidate.providerId, providerModelId: candidate.providerModelId, modelId: null }).succeeded(ms, 10, ms, 0);
      return { router, resolutions: [{ requested: 'vendor/model', model: null, candidates: [slower, slow, fast] }] };
    };
    // Two identical routers: one is explained between every plan, the other never.
    const explained = build();
    const plain = build();
    const dryOrders: string[][] = [];
    const planned: string[][] = [];
    const reference: string[][] = [];
    for (let index = 0; index < 10; index++) {
      const dry = explained.router.decide(explained.resolutions, input, false, true);
      const kept = dry.decisions.filter((decision) => decision.dropped === null).map((decision) => decision.candidate);
      dryOrders.push(ids(kept));
      planned.push(ids(explained.router.plan(explained.resolutions, input, false).candidates));
      reference.push(ids(plain.router.plan(plain.resolutions, input, false).candidates));
    }
    // The plans are those of the router nobody explained: exploration turns come at the same requests.
    expect(planned).toEqual(reference);
    // And each dry run showed the plan that followed it, exploration turn included.
    expect(dryOrders).toEqual(planned);
    expect(new Set(planned.map((order) => order[0]))).toEqual(new Set(['fast', 'slow', 'slower']));
  });

  it('adds no endpoint to the health it reads', () => {
    const router = new Router({ config: { ...DEFAULT_ROUTING_CONFIG, strategy: 'latency' } });
    const candidate = scriptedEndpoint('never-called').candidate;
    router.decide([{ requested: 'vendor/model', model: null, candidates: [candidate] }], input, false, true);
    expect(router.state.endpointsOf('never-called')).toEqual([]);
  });
});
