import { describe, expect, it } from 'vitest';
import { modelMatcher } from '../../src/catalog/sync.js';
import type { CatalogSyncLookups } from '../../src/db/catalog-admin.js';

/** The matching policy of catalog sync, on its own now that it no longer lives inside the storage transaction. */

function lookups(modelIds: string[], served: Record<string, string[]> = {}, aliases: Record<string, string> = {}): CatalogSyncLookups {
  return {
    modelIds: new Set(modelIds),
    byProviderModelId: new Map(Object.entries(served).map(([listed, models]) => [listed, new Set(models)])),
    byAlias: new Map(Object.entries(aliases)),
  };
}

describe('modelMatcher', () => {
  it('prefers the direct id, then the listed id as a model id', () => {
    const match = modelMatcher('groq')(lookups(['groq/llama-3', 'meta/llama-3', 'openai/gpt-4o']));
    expect(match('llama-3')).toBe('groq/llama-3');
    expect(match('openai/gpt-4o')).toBe('openai/gpt-4o');
  });

  it('links by a served id or an id suffix only when exactly one model claims it', () => {
    const match = modelMatcher('together')(lookups(['meta/llama-3', 'other/llama-3', 'mistral/mixtral'], { 'mixtral-8x7b': ['mistral/mixtral'] }));
    expect(match('mixtral-8x7b')).toBe('mistral/mixtral');
    expect(match('mixtral')).toBe('mistral/mixtral');
    // Two models end in /llama-3: linking either would misattribute usage, so the listing gets a model of its own.
    expect(match('llama-3')).toBeUndefined();
  });

  it('falls back to an alias, case-insensitively, and otherwise matches nothing', () => {
    const match = modelMatcher('openrouter')(lookups(['anthropic/claude-sonnet-4'], {}, { 'claude-sonnet': 'anthropic/claude-sonnet-4' }));
    expect(match('Claude-Sonnet')).toBe('anthropic/claude-sonnet-4');
    expect(match('unknown-model')).toBeUndefined();
  });
});
