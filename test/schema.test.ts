import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSdl } from '../src/schema/index.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing src/schema)', () => {
    const committed = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(printSdl()).toBe(committed);
  });

  it('keeps the contract names of shared/API.md', () => {
    const sdl = printSdl();
    for (const name of [
      'models(',
      'model(id: ID!): Model',
      'providers: [Provider!]!',
      'provider(id: ID!): Provider',
      'createCompletion(input: CompletionInput!): Completion!',
      'completionStream(input: CompletionInput!): CompletionEvent!',
      'generation(id: ID!): Generation',
      'union CompletionEvent = CompletionDelta | CompletionDone | CompletionError | CompletionStarted',
      'enum FinishReason',
      'enum ProviderKind',
    ]) {
      expect(sdl).toContain(name);
    }
  });
});
