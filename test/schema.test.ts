import { readFileSync } from 'node:fs';
import { getNamedType, isInputObjectType, isInterfaceType, isObjectType, type GraphQLField, type GraphQLInputField, type GraphQLType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { getSchema, printSdl } from '../src/schema/index.js';

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
      'apiKeys(after: String, before: String, first: Int, last: Int): ApiKeyConnection!',
      'toolChoice: ToolChoiceInput',
      'enum ErrorCode',
      'enum AttemptStatus',
    ]) {
      expect(sdl).toContain(name);
    }
  });
});

/** The printed types of the fields issue 13 retyped, so that none slides back to a sentinel, a String or an Int. */
describe('the schema, honest about what it knows', () => {
  const schema = getSchema();
  type AnyField = GraphQLField<unknown, unknown> | GraphQLInputField;
  const field = (path: string): AnyField => {
    const [typeName, fieldName] = path.split('.') as [string, string];
    const type = schema.getType(typeName);
    const fields = isObjectType(type) || isInterfaceType(type) || isInputObjectType(type) ? type.getFields() : {};
    const found = fields[fieldName];
    if (!found) throw new Error(`${path} is missing`);
    return found;
  };
  const typeOf = (path: string): string => String(field(path).type);

  it('shows unknowns as null, not 0', () => {
    expect(typeOf('Usage.costUsd')).toBe('Float');
    expect(typeOf('Model.contextLength')).toBe('Int');
    for (const figure of ['promptPerMillion', 'completionPerMillion', 'cachedPromptPerMillion']) expect(typeOf(`Pricing.${figure}`)).toBe('Float');
    expect(typeOf('HealthFigures.errorRate')).toBe('Float');
  });

  it('types closed sets as enums and our own shapes as objects', () => {
    expect(typeOf('CompletionError.code')).toBe('ErrorCode!');
    expect(typeOf('Generation.errorCode')).toBe('ErrorCode');
    expect(typeOf('Attempt.errorCode')).toBe('ErrorCode');
    expect(typeOf('HealthFigures.lastErrorCode')).toBe('ErrorCode');
    expect(typeOf('Attempt.status')).toBe('AttemptStatus!');
    expect(typeOf('Attempt.provider')).toBe('Provider');
    expect(typeOf('Generation.requestSummary')).toBe('RequestSummary');
    expect(typeOf('Model.releasedAt')).toBe('DateTime');
    expect(typeOf('ModelEndpoint.priceDate')).toBe('DateTime');
    expect(typeOf('GenerationFilter.provider')).toBe(typeOf('ModelFilter.provider'));
    expect(typeOf('UsageFilter.provider')).toBe(typeOf('ModelFilter.provider'));
  });

  it('keeps usage sums in a scalar that does not overflow at 2^31', () => {
    for (const sum of ['requests', 'errors', 'cancellations', 'promptTokens', 'completionTokens', 'cachedPromptTokens', 'reasoningTokens', 'unpricedRequests']) {
      expect(typeOf(`UsageBucket.${sum}`)).toBe('SafeInt!');
    }
  });

  it('gives every connection a totalCount', () => {
    const connections = Object.values(schema.getTypeMap()).filter((type) => isObjectType(type) && type.name.endsWith('Connection'));
    expect(connections.length).toBeGreaterThanOrEqual(4);
    for (const connection of connections) expect(typeOf(`${connection.name}.totalCount`), connection.name).toMatch(/^(Int|SafeInt)!$/);
  });

  it('uses JSON only for what is not ours to shape, each with its reason', () => {
    // Callers' metadata, JSON Schemas, the audit trail's row snapshots (AuditEntry.before says why), and OpenAI's
    // logit_bias, a map keyed by token ids that GraphQL has no type for.
    const allowed = new Set(['CompletionInput.logitBias', 'ApiKey.metadata', 'Generation.metadata', 'CompletionInput.metadata', 'CreateApiKeyInput.metadata', 'CreateEmbeddingInput.metadata', 'ToolInput.parameters', 'ResponseFormatInput.schema', 'AuditEntry.before', 'AuditEntry.after']);
    const jsonFields: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
      for (const candidate of Object.values(type.getFields())) {
        const fieldType: GraphQLType = candidate.type;
        if (getNamedType(fieldType).name === 'JSON') jsonFields.push(`${type.name}.${candidate.name}`);
      }
    }
    expect(jsonFields.filter((name) => !allowed.has(name))).toEqual([]);
  });
});
