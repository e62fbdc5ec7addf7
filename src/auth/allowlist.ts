/**
 * Whether a key's allowlist lets it use a model. Patterns are canonical ids (`openai/gpt-4o`), vendor wildcards
 * (`anthropic/*`) or aliases, which the caller resolves to canonical ids before asking. `modelId` is the
 * canonical id, or `<provider>/<model>` for a model addressed directly that the catalog does not list.
 */
export function isModelAllowed(allowed: readonly string[] | null, modelId: string): boolean {
  if (allowed === null) return true;
  return allowed.some((pattern) => pattern === modelId || (pattern.endsWith('/*') && modelId.startsWith(pattern.slice(0, -1))));
}
