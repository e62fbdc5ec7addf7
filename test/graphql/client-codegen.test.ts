import { codegen } from '@graphql-codegen/core';
import * as typescriptOperations from '@graphql-codegen/typescript-operations';
import { isScalarType, isSpecifiedScalarType, Kind, parse, validate, type DocumentNode } from 'graphql';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { getSchema, printSdl } from '../../src/schema/index.js';

/**
 * The done-when line of issue 13: a client that runs GraphQL Code Generator (typescript-operations, strictScalars,
 * a TypeScript type for every custom scalar) over the README's operations gets code that compiles under --strict.
 * That holds only if every README operation is valid against the printed schema, every operation is named (codegen
 * names its types after them), and no custom scalar is left to `any`.
 */

/** What a client maps each custom scalar to; the test fails when the schema gains a scalar missing here. */
const CLIENT_SCALARS: Record<string, string> = {
  DateTime: 'string',
  JSON: 'unknown',
  SafeInt: 'number',
};

interface ReadmeOperation {
  /** Where it is, for failure messages: `README.md:<line>`. */
  location: string;
  document: DocumentNode;
}

/** Every ```graphql fence of README.md, parsed. */
function readmeOperations(): ReadmeOperation[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const operations: ReadmeOperation[] = [];
  for (const match of readme.matchAll(/^```graphql\n([\s\S]*?)^```/gm)) {
    const line = readme.slice(0, match.index).split('\n').length + 1;
    operations.push({ location: `README.md:${line}`, document: parse(match[1] ?? '') });
  }
  return operations;
}

/**
 * A consumer written as a client would: it leans on what the schema promises, so a regression (an unknown back to 0,
 * an enum back to String, a SafeInt back to any) fails to compile rather than passing quietly.
 */
const CONSUMER = `
import type { CompleteMutation, GenerationQuery, LedgerQuery, ModelUsageQuery, UsageByModelAndDayQuery, WeatherMutationVariables } from './operations';

type Usage = CompleteMutation['createCompletion']['usage'];
export const unknownCost: Usage['costUsd'] = null;
export const tokens: UsageByModelAndDayQuery['usage'][number]['promptTokens'] = 2 ** 40;
export const requests: NonNullable<ModelUsageQuery['models']['edges'][number]['node']['usage']>['requests'] = 3_000_000_000;

/** never when T is plain string: a closed set must reach the client as a union of literals. */
type ClosedSet<T> = string extends T ? never : T;
type Generation = NonNullable<GenerationQuery['generation']>;
type Attempt = Generation['attempts'][number];
export const status: ClosedSet<Attempt['status']> = 'CANCELLED';
export const code: ClosedSet<NonNullable<Attempt['errorCode']>> = 'HEDGE_LOST';
export const attemptProvider: Attempt['provider'] = { id: 'openai' };
export const mode: ClosedSet<NonNullable<NonNullable<Generation['requestSummary']>['toolChoice']>['mode']> = 'REQUIRED';
export const total: LedgerQuery['generations']['totalCount'] = 0;
export const variables: WeatherMutationVariables = { city: 'Lisbon' };
`;

describe('client code generation over the README operations', () => {
  const directory = mkdtempSync(join(tmpdir(), 'switchboard-codegen-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('maps every custom scalar of the schema to a client type', () => {
    const custom = Object.values(getSchema().getTypeMap())
      .filter((type) => isScalarType(type) && !isSpecifiedScalarType(type))
      .map((type) => type.name)
      .sort();
    expect(custom).toEqual(Object.keys(CLIENT_SCALARS).sort());
  });

  it('finds named operations that are valid against the schema', () => {
    const operations = readmeOperations();
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const names: string[] = [];
    for (const { location, document } of operations) {
      const errors = validate(getSchema(), document).map((error) => `${location}: ${error.message}`);
      expect(errors).toEqual([]);
      for (const definition of document.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        // Codegen names a client's types after its operations; an anonymous one would get a throwaway name.
        expect(definition.name?.value, `${location}: name this operation`).toBeTruthy();
        names.push(definition.name?.value ?? '');
      }
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('generates types with strictScalars that compile under --strict', async () => {
    const output = await codegen({
      filename: 'operations.ts',
      schema: parse(printSdl()),
      documents: readmeOperations().map(({ location, document }) => ({ location, document })),
      plugins: [{ 'typescript-operations': {} }],
      pluginMap: { 'typescript-operations': typescriptOperations },
      // strictScalars: an unmapped custom scalar is an error, not a silent `any`.
      config: { strictScalars: true, scalars: CLIENT_SCALARS },
    });
    expect(output).not.toMatch(/:\s*any\b/);
    writeFileSync(join(directory, 'operations.ts'), output);
    writeFileSync(join(directory, 'consumer.ts'), CONSUMER);

    const program = ts.createProgram([join(directory, 'operations.ts'), join(directory, 'consumer.ts')], {
      strict: true,
      noEmit: true,
      noUnusedLocals: false,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: [],
      skipLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (!diagnostic.file || diagnostic.start === undefined) return message;
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      return `${diagnostic.file.fileName}:${line + 1}: ${message}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
