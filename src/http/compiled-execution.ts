import {
  createSourceEventStream,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLScalarType,
  GraphQLSchema,
  Kind,
  type DefinitionNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type NamedTypeNode,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * Operations run as code compiled once per document (graphql-jit) instead of graphql-js walking the selection set on
 * every request, and every event of a subscription through the same compiled code instead of a full `execute` per
 * event (a streamed completion sends one per word).
 *
 * Variables stay graphql-js's to coerce, once per operation: graphql-jit's own coercion ignores an input field's
 * default value (`orderBy: { field: NAME }` was refused for its missing `direction`), words its errors differently,
 * and in its subscribe coerces each event's already coerced variables again (refusing an enum's internal value). So
 * the document graphql-jit compiles declares every variable as a scalar that takes its value as it is, and gets the
 * variables graphql-js coerced.
 */
const COERCED = new GraphQLScalarType({
  name: 'SwitchboardCoercedVariable',
  description: 'Internal: a variable graphql-js already coerced; never part of the served schema',
  parseValue: (value: unknown) => value,
  serialize: (value: unknown) => value,
});

const COERCED_TYPE: NamedTypeNode = { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: COERCED.name } };

interface Compiled {
  operation: OperationDefinitionNode;
  query: CompiledQuery;
}

type Execute = (args: ExecutionArgs) => unknown;

export function useCompiledExecution(): Plugin {
  /** The served schema plus the pass-through scalar, made once per schema; the types (and resolvers) are the same objects. */
  const compileSchemas = new WeakMap<GraphQLSchema, GraphQLSchema>();
  /** By document, then operation name; null when graphql-jit cannot compile it (graphql-js then runs it as before). */
  const compiled = new WeakMap<DocumentNode, Map<string, Compiled | null>>();

  const compileSchemaOf = (schema: GraphQLSchema): GraphQLSchema => {
    let extended = compileSchemas.get(schema);
    if (!extended) {
      const config = schema.toConfig();
      extended = new GraphQLSchema({ ...config, types: [...config.types, COERCED] });
      compileSchemas.set(schema, extended);
    }
    return extended;
  };

  const compiledFor = (args: ExecutionArgs): Compiled | null => {
    let byName = compiled.get(args.document);
    if (!byName) compiled.set(args.document, (byName = new Map()));
    const key = args.operationName ?? '';
    let entry = byName.get(key);
    if (entry === undefined) {
      entry = compile(compileSchemaOf(args.schema), args.document, args.operationName);
      byName.set(key, entry);
    }
    return entry;
  };

  return {
    onExecute({ executeFn, setExecuteFn }) {
      const fallback: Execute = executeFn;
      setExecuteFn((executeArgs: ExecutionArgs) => {
        const entry = compiledFor(executeArgs);
        if (!entry) return fallback(executeArgs);
        const variables = getVariableValues(executeArgs.schema, entry.operation.variableDefinitions ?? [], executeArgs.variableValues ?? {});
        if (variables.errors) return { errors: variables.errors };
        return withNodes(entry.query.query(executeArgs.rootValue, executeArgs.contextValue, variables.coerced), executeArgs.document, entry.operation);
      });
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      const fallback: Execute = subscribeFn;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const entry = compiledFor(subscribeArgs);
        if (!entry) return fallback(subscribeArgs);
        const variables = getVariableValues(subscribeArgs.schema, entry.operation.variableDefinitions ?? [], subscribeArgs.variableValues ?? {});
        if (variables.errors) return { errors: variables.errors };
        // The source stream as graphql-js opens it (from the variables as sent: it coerces them itself): the subscribe
        // resolver, its auth scopes and its errors as before.
        const source = await createSourceEventStream(subscribeArgs);
        if (!isAsyncIterable(source)) return source;
        return mapEvents(source, (event) => withNodes(entry.query.query(event, subscribeArgs.contextValue, variables.coerced), subscribeArgs.document, entry.operation));
      });
    },
  };
}

function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): Compiled | null {
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const passThrough: OperationDefinitionNode = {
    ...operation,
    variableDefinitions: (operation.variableDefinitions ?? []).map((definition) => ({ ...definition, type: COERCED_TYPE, defaultValue: undefined })),
  };
  const definitions: DefinitionNode[] = document.definitions.map((definition) => (definition === operation ? passThrough : definition));
  try {
    const result = compileQuery(schema, { ...document, definitions }, operation.name?.value);
    return isCompiledQuery(result) ? { operation, query: result } : null;
  } catch {
    return null;
  }
}

/**
 * graphql-jit's errors carry a path but not the field's AST node, which graphql-js's do; maskError reads the node
 * to tell which of a field's arguments an error's field path starts at (`input.messages`). The node is found again
 * from the path, only for results that have errors.
 */
function withNodes(result: ExecutionResult | Promise<ExecutionResult>, document: DocumentNode, operation: OperationDefinitionNode): ExecutionResult | Promise<ExecutionResult> {
  if (result instanceof Promise) return result.then((settled) => withNodes(settled, document, operation));
  if (!result.errors || result.errors.length === 0) return result;
  return { ...result, errors: result.errors.map((error) => (error.nodes || !error.path ? error : located(error, fieldAt(document, operation, error.path)))) };
}

function located(error: GraphQLError, node: FieldNode | undefined): GraphQLError {
  if (!node) return error;
  return new GraphQLError(error.message, { nodes: [node], path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions ?? undefined });
}

function fieldAt(document: DocumentNode, operation: OperationDefinitionNode, path: ReadonlyArray<string | number>): FieldNode | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  let selections: readonly SelectionNode[] = operation.selectionSet.selections;
  let found: FieldNode | undefined;
  for (const segment of path) {
    if (typeof segment === 'number') continue;
    found = fieldIn(selections, segment, fragments);
    if (!found) return undefined;
    selections = found.selectionSet?.selections ?? [];
  }
  return found;
}

function fieldIn(selections: readonly SelectionNode[], key: string, fragments: ReadonlyMap<string, FragmentDefinitionNode>): FieldNode | undefined {
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      if ((selection.alias?.value ?? selection.name.value) === key) return selection;
      continue;
    }
    const inner = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : fragments.get(selection.name.value)?.selectionSet;
    const found = inner ? fieldIn(inner.selections, key, fragments) : undefined;
    if (found) return found;
  }
  return undefined;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The source's events mapped one by one; return() and throw() reach the source, which is what cancels upstream. */
function mapEvents(source: AsyncIterable<unknown>, map: (event: unknown) => ExecutionResult | Promise<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const mapped = async (step: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> => {
    if (step.done) return { done: true, value: undefined };
    try {
      return { done: false, value: await map(step.value) };
    } catch (error) {
      await iterator.return?.();
      throw error;
    }
  };
  return {
    async next() {
      return mapped(await iterator.next());
    },
    async return() {
      if (iterator.return) await iterator.return();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      if (iterator.throw) return mapped(await iterator.throw(error));
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
