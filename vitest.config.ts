import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Existing gateway suites that run a second time with every test server on a PostgreSQL database of its own
 * (test/helpers/app.ts, SWITCHBOARD_TEST_STORE): the same assertions hold on both stores.
 */
const POSTGRES_SUITES = [
  'test/catalog/models-query.test.ts',
  'test/catalog/catalog-admin.test.ts',
  'test/auth/keys.test.ts',
  'test/usage/ledger-graphql.test.ts',
  'test/usage/ledger-scope.test.ts',
  'test/usage/audit.test.ts',
  'test/rest/responses.sdk.test.ts',
  'test/cache/rest-cache.test.ts',
  'test/cache/graphql-cache.test.ts',
  'test/diagnostics/history.test.ts',
  'test/config/config-file.test.ts',
  'test/graphql/subscriptions.test.ts',
  'test/storage/test-store.test.ts',
];

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS (main) and ESM (module) builds. Node, and so graphql-yoga and Pothos, load the
    // CommonJS one; Vite would give our own files the ESM one, and two copies break `instanceof GraphQLError`.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'postgres', include: POSTGRES_SUITES, env: { SWITCHBOARD_TEST_STORE: 'postgres' } } },
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker per core less one: a single worker on a 2-core machine, with the other core
    // idle while tests wait on sockets and timers. Two workers keep both busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Each worker imports graphql, Yoga, Pothos, drizzle, the SDKs and the tokenizer's tables once and runs file
    // after file on them, instead of a fresh process per file re-importing them all (that import was ~45% of
    // the run). No test file mocks modules or relies on module state left fresh: every app, database and fake
    // upstream is built per file and stopped in its afterAll.
    isolate: false,
    // With files sharing a worker, a spy left behind by a failing test (on console, say) must not reach the next file.
    restoreMocks: true,
  },
});
