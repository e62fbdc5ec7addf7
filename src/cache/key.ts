import { createHash } from 'node:crypto';

/**
 * JSON with every object's keys sorted and undefined members left out, so two requests that mean the same thing
 * serialize the same however their fields were ordered or spelled absent.
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => {
    if (member === null || typeof member !== 'object' || Array.isArray(member)) return member;
    const sorted: Record<string, unknown> = {};
    for (const name of Object.keys(member).sort()) {
      const field = (member as Record<string, unknown>)[name];
      if (field !== undefined) sorted[name] = field;
    }
    return sorted;
  });
}

/**
 * The cache key of a request: SHA-256 of its scope and the whole request minus `excluded` fields. Taking the whole
 * request rather than a list of the fields that matter means a field added to the normalized request later
 * (a provider's cache_control, say) changes the key without anyone remembering to add it here.
 */
export function requestCacheKey(scope: string, request: object, excluded: readonly string[]): string {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request)) if (!excluded.includes(name)) kept[name] = value;
  return createHash('sha256').update(scope).update('\u0000').update(stableJson(kept)).digest('hex');
}
