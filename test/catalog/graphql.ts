import { expect } from 'vitest';
import type { TestServer } from '../helpers/app.js';

/** Runs an operation that must succeed and returns its data. */
export async function query<T>(server: TestServer, document: string, variables: Record<string, unknown> = {}): Promise<T> {
  const body = await server.graphql<T>(document, variables);
  expect(body.errors).toBeUndefined();
  if (!body.data) throw new Error('no data');
  return body.data;
}

/** Runs an operation that must fail and returns the first error's code. */
export async function errorCode(server: TestServer, document: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  const body = await server.graphql(document, variables);
  expect(body.errors?.length ?? 0).toBeGreaterThan(0);
  return body.errors?.[0]?.extensions?.['code'];
}

export interface ModelNode {
  id: string;
}

export interface ModelsPage<N = ModelNode> {
  models: {
    totalCount: number;
    edges: Array<{ cursor: string; node: N }>;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null; startCursor: string | null };
  };
}
