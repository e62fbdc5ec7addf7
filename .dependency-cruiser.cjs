/**
 * The import rules of ../shared/STYLE.md ("Who may import whom") and ARCHITECTURE.md, checked by
 * test/architecture/import-rules.test.ts so a wrong arrow fails the suite. Paths are relative to the directory
 * depcruise runs in (the repository root; the test's fixture for the rules' own test).
 */

/** Everything under src/ that is not an adapter's own business. */
const ABOVE_PROVIDERS = '^src/(schema|rest|routing|completions|usage|db|auth|catalog|cache|telemetry|http)/|^src/(app|index|services|context|config|builder)\\.ts$';
/** Composition: what buildApp builds and the GraphQL context made from it. Only transports and composition use them. */
const COMPOSITION = '^src/(app|index|services|context)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes import order matter and every file in it depend on all the others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'providers-are-leaves',
      severity: 'error',
      comment: 'Adapters know the wire format and the normalized types, nothing of GraphQL, REST, routing, storage or the catalog.',
      from: { path: '^src/providers/' },
      to: { path: ABOVE_PROVIDERS },
    },
    {
      name: 'storage-knows-no-transport',
      severity: 'error',
      comment: 'src/db/ is storage: it knows nothing of GraphQL, REST or HTTP, and nothing of the layers that use it.',
      from: { path: '^src/db/' },
      to: { path: '^src/(schema|rest|http|completions|routing|usage|auth|catalog|cache)/|' + COMPOSITION },
    },
    {
      name: 'completions-know-no-transport',
      severity: 'error',
      comment: 'The one completion service is called by GraphQL and REST alike, so it may import neither, nor HTTP.',
      from: { path: '^src/completions/' },
      to: { path: '^src/(schema|rest|http)/|' + COMPOSITION },
    },
    {
      name: 'schema-does-not-import-rest',
      severity: 'error',
      comment: 'GraphQL and the REST facade both call the services; neither goes through the other.',
      from: { path: '^src/schema/' },
      to: { path: '^src/rest/' },
    },
    {
      name: 'rest-does-not-import-schema',
      severity: 'error',
      comment: 'The REST facade never goes through GraphQL.',
      from: { path: '^src/rest/' },
      to: { path: '^src/schema/' },
    },
    {
      name: 'leaves-do-not-import-composition',
      severity: 'error',
      comment: 'The Services type and the GraphQL context sit with composition; the modules they gather never import them.',
      from: { path: '^src/(providers|db|completions|routing|auth|catalog|usage|cache|telemetry)/' },
      to: { path: COMPOSITION },
    },
    {
      name: 'only-index-imports-app',
      severity: 'error',
      comment: 'src/app.ts and src/index.ts are the top: only the entry point builds the app (and the bin, src/cli.ts, loads the entry point).',
      from: { path: '^src/', pathNot: '^src/(index|cli)\\.ts$' },
      to: { path: '^src/(app|index)\\.ts$' },
    },
    {
      name: 'telemetry-knows-no-transport',
      severity: 'error',
      comment: 'Spans are made by whoever serves or calls: telemetry/ is handed what it traces and imports no layer that uses it.',
      from: { path: '^src/telemetry/' },
      to: { path: '^src/(schema|rest|http|completions|routing|usage|auth|catalog|cache|db)/|' + COMPOSITION },
    },
    {
      name: 'usage-serves-no-http',
      severity: 'error',
      comment: 'usage/ collects figures; serving them (/metrics) is src/http/’s job.',
      from: { path: '^src/usage/' },
      to: { path: '^(node:)?https?$', dependencyTypes: ['core'] },
    },
    {
      name: 'leaf-modules-import-nothing-of-ours',
      severity: 'error',
      comment: 'Ids, money conversions and the clock are used by every layer, so they may import no layer.',
      from: { path: '^src/(ids|money|clock)\\.ts$' },
      to: { path: '^src/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are arrows too: a type import from an upper layer couples a leaf to it just the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
