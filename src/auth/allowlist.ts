import type { CatalogLookup } from '../db/storage.js';

/**
 * Whether a key's allowlist lets it use a model. Patterns are canonical ids (`openai/gpt-4o`), vendor wildcards
 * (`anthropic/*`) or aliases, which the caller resolves to canonical ids before asking. `modelId` is the
 * canonical id, or `<provider>/<model>` for a model addressed directly that the catalog does not list.
 */
export function isModelAllowed(allowed: readonly string[] | null, modelId: string): boolean {
  if (allowed === null) return true;
  return allowed.some((pattern) => pattern === modelId || (pattern.endsWith('/*') && modelId.startsWith(pattern.slice(0, -1))));
}

/**
 * A key's allowlist with aliases turned into the canonical ids `isModelAllowed` compares against; vendor wildcards
 * and names the catalog does not know stay as written. Admission and the route dry run both ask this.
 */
export function canonicalAllowlist(catalog: Pick<CatalogLookup, 'findModel'>, allowed: readonly string[] | null): string[] | null {
  if (allowed === null) return null;
  return allowed.map((pattern) => (pattern.endsWith('/*') ? pattern : (catalog.findModel(pattern)?.id ?? pattern)));
}
