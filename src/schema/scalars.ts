import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { builder } from '../builder.js';

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO-8601 string in UTC',
  serialize: (value) => new Date(value).toISOString(),
  parseValue: (value) => {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return new Date(value);
  },
});

/**
 * Sums that outgrow GraphQL's Int (a signed 32-bit integer: 2.1 billion tokens is a busy month) but never approach
 * 2^53: 9 quadrillion tokens. Serialized as a plain JSON number, so every JSON parser (JavaScript's included) reads it
 * exactly and clients type it as `number`; a string-encoded BigInt would make every client parse it for no gain.
 * The name and range are those of graphql-scalars' SafeInt.
 */
builder.scalarType('SafeInt', {
  description: 'An integer from -(2^53 - 1) to 2^53 - 1, as a JSON number: exact in every JSON parser, and wider than Int (32 bits)',
  serialize: (value) => {
    if (!Number.isSafeInteger(value)) throw new GraphQLError(`SafeInt cannot represent ${String(value)}`);
    return value;
  },
  parseValue: (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new GraphQLError('SafeInt must be an integer between -(2^53 - 1) and 2^53 - 1');
    return value;
  },
  parseLiteral: (node) => {
    const value = node.kind === Kind.INT ? Number(node.value) : Number.NaN;
    if (!Number.isSafeInteger(value)) throw new GraphQLError('SafeInt must be an integer between -(2^53 - 1) and 2^53 - 1');
    return value;
  },
});

function literalValue(node: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((item) => literalValue(item, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, literalValue(field.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    case Kind.ENUM:
      return node.value;
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value. Used only for what is not ours to shape: callers’ metadata and JSON Schemas (plus the audit trail’s row snapshots, see AuditEntry)',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (node, variables) => literalValue(node, variables),
});
