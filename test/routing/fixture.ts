import { findModel } from '../../src/db/catalog.js';
import { and, eq } from 'drizzle-orm';
import { AdmissionControl } from '../../src/auth/admission.js';
import { InMemoryRateLimitStore } from '../../src/auth/rate-limiter.js';
import { CompletionService } from '../../src/completions/service.js';
import type { Caller, CompletionInput } from '../../src/completions/types.js';
import type { CompletionEvent } from '../../src/completions/types.js';
import { findGeneration, listGenerations } from '../../src/db/generations.js';
import { modelEndpoints, type AttemptRecord, type GenerationRow } from '../../src/db/schema.js';
import { startDelayedUpstream, type DelayedUpstream } from '../fakes/delay.js';
import { FAKE_OPENAI_KEY } from '../fakes/openai.js';
import { startFakeOpenAICompatible } from '../fakes/openai-compatible.js';
import { Router } from '../../src/routing/router.js';
import { startTestServer, type TestServer, sqliteOf } from '../helpers/app.js';
import type { RecordingClock } from './helpers.js';

/** Catalog models served by both Groq and Together (and OpenRouter, which the fixture leaves unconfigured). */
export const SHARED_MODELS = {
  llama70b: 'meta-llama/llama-3.3-70b-instruct',
  maverick: 'meta-llama/llama-4-maverick',
  scout: 'meta-llama/llama-4-scout',
  llama8b: 'meta-llama/llama-3.1-8b-instruct',
  gptOss120b: 'openai/gpt-oss-120b',
  gptOss20b: 'openai/gpt-oss-20b',
  kimi: 'moonshotai/kimi-k2-0905',
} as const;

export interface RoutingFixture {
  server: TestServer;
  /** Each fake behind a delay proxy, so a test can slow one down or make it answer 529. */
  groq: DelayedUpstream;
  together: DelayedUpstream;
  /** With `clock`: the manual clock `complete` and `stream` route on (the app's own GraphQL and REST do not). */
  clock: RecordingClock | undefined;
  complete(input: CompletionInput): ReturnType<TestServer['app']['services']['completions']['complete']>;
  /** Every event of a streamed completion, read to its end. */
  stream(input: CompletionInput): Promise<CompletionEvent[]>;
  generation(id: string): GenerationRow;
  /** The newest generation of a catalog model (for requests that failed, whose id the caller never saw). */
  latest(modelId: string): GenerationRow;
  attempts(id: string): AttemptRecord[];
  setContextLength(providerId: string, modelId: string, contextLength: number | null): void;
  stop(): Promise<void>;
}

const caller: Caller = { apiKeyId: null, requestId: 'req_routing_test', key: null };

/**
 * The real gateway on port 0 with Groq and Together pointed at fakes (behind delay proxies), so every model both
 * serve has two endpoints to route between. Tests share one fixture per file and use a different model each, since
 * endpoint health is per model endpoint and lives as long as the app.
 *
 * With `clock`, `complete` and `stream` go through a completion service of their own — the app's catalog,
 * adapters and ledger, a router on that manual clock with the app's routing configuration — so hedge delays,
 * timeouts, backoff and deadlines happen when the test moves the clock, not after real time. buildApp takes no
 * clock, so GraphQL and REST requests still route on the app's own system clock.
 */
export async function startRoutingFixture(env: Record<string, string> = {}, options: { clock?: RecordingClock } = {}): Promise<RoutingFixture> {
  const groqFake = await startFakeOpenAICompatible('groq');
  const togetherFake = await startFakeOpenAICompatible('together');
  const groq = await startDelayedUpstream(groqFake);
  const together = await startDelayedUpstream(togetherFake);
  const server = await startTestServer({
    GROQ_API_KEY: FAKE_OPENAI_KEY,
    GROQ_BASE_URL: groq.url,
    TOGETHER_API_KEY: FAKE_OPENAI_KEY,
    TOGETHER_BASE_URL: together.url,
    SWITCHBOARD_RETRY_BASE_MS: '5',
    ...env,
  });
  const services = server.app.services;
  const db = sqliteOf(services);
  const clocked = options.clock
    ? (() => {
        const router = new Router({ config: services.config.routing, clock: options.clock });
        // Callers here carry no key, so admission has nothing to limit: a store of its own is enough.
        const admission = new AdmissionControl({ findModel: (idOrAlias: string) => findModel(db, idOrAlias) }, new InMemoryRateLimitStore(), services.budgets);
        return { router, completions: new CompletionService({ db, registry: services.registry, recorder: services.recorder, admission, router }) };
      })()
    : undefined;
  const completions = clocked?.completions ?? services.completions;
  const generation = (id: string): GenerationRow => {
    const row = findGeneration(db, id);
    if (!row) throw new Error(`no generation ${id}`);
    return row;
  };
  const endpointOf = (providerId: string, modelId: string) => and(eq(modelEndpoints.providerId, providerId), eq(modelEndpoints.modelId, modelId));
  return {
    server,
    groq,
    together,
    clock: options.clock,
    complete: (input) => completions.complete(input, caller),
    async stream(input) {
      const events: CompletionEvent[] = [];
      for await (const event of await completions.openStream(input, caller)) events.push(event);
      return events;
    },
    generation,
    latest: (modelId) => {
      const [row] = listGenerations(db, { modelId }, { limit: 1 });
      if (!row) throw new Error(`no generation of ${modelId}`);
      return row;
    },
    attempts: (id) => generation(id).attempts ?? [],
    setContextLength: (providerId, modelId, contextLength) => {
      db.update(modelEndpoints).set({ contextLength }).where(endpointOf(providerId, modelId)).run();
      // Written behind the app's back, so announced as every writer must: the catalog snapshot reloads on it.
      services.feed.publish('catalog');
    },
    async stop() {
      await server.stop();
      await Promise.all([groq.close(), together.close(), groqFake.close(), togetherFake.close()]);
    },
  };
}

export const ask = (model: string, text = 'Hello', extra: Partial<CompletionInput> = {}): CompletionInput => ({
  model,
  messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  ...extra,
});

/** Provider, status and error code of each attempt, in the order they ended. */
export const attemptSummary = (attempts: AttemptRecord[]): string[] =>
  attempts.map((attempt) => [attempt.providerId, attempt.status, attempt.errorCode].filter((part) => part !== undefined).join(' '));
