import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from '../builder.js';
import './scalars.js';
import './models.js';
import './providers.js';
import './completions.js';
import './embeddings.js';
import './generations.js';
import './usage.js';
import './audit.js';
import './keys.js';
import './catalog-admin.js';
import './diagnostics.js';

let schema: GraphQLSchema | undefined;

/** Built once, on first use: importing this module only registers types. */
export function getSchema(): GraphQLSchema {
  schema ??= builder.toSchema();
  return schema;
}

/** The SDL committed as schema/schema.graphql, sorted so that it diffs cleanly. */
export function printSdl(): string {
  return printSchema(lexicographicSortSchema(getSchema())) + '\n';
}
