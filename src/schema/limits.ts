import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type ASTVisitor,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../http/limits.js';

/** "Did you mean …?" names fields a caller cannot otherwise see once introspection is off. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

function withoutSuggestion(error: GraphQLError): GraphQLError {
  if (!SUGGESTION.test(error.message)) return error;
  SUGGESTION.lastIndex = 0;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: error.extensions,
  });
}

/** Refuses introspection (`__schema`, `__type`; `__typename` stays) and hides field suggestions with it. */
function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(result.map((error) => (error instanceof GraphQLError ? withoutSuggestion(error) : error)));
      };
    },
  };
}

/** What a list without a page size is assumed to hold; our unpaged lists (providers, endpoints) are smaller. */
const ASSUMED_LIST_SIZE = 50;
/** What a connection whose `first`/`last` is absent or a variable may return: the relay plugin's ceiling. */
const ASSUMED_PAGE_SIZE = 100;
/** Nesting at which the estimate stops descending: the depth limit refuses such documents anyway. */
const ESTIMATE_DEPTH_CEILING = 64;

function pageSize(field: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined {
  if (!definition.args.some((argument) => argument.name === 'first' || argument.name === 'last')) return undefined;
  const argument = field.arguments?.find((candidate) => candidate.name.value === 'first' || candidate.name.value === 'last');
  if (argument?.value.kind === Kind.INT) return Math.max(0, Number.parseInt(argument.value.value, 10));
  return ASSUMED_PAGE_SIZE;
}

/**
 * Cost as the number of values the answer may hold: each field counts once per parent value, and a list multiplies
 * what is under it by its page size (or ASSUMED_LIST_SIZE). A field-count cost misses what matters here:
 * `providers { models { provider { models … } } }` is a dozen fields and, nested ten deep, more values than the
 * process has memory for.
 */
function resultSizeRule(maxCost: number): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    const schema = context.getSchema();
    /** `paged`: the parent was a connection, whose page size already multiplies this level (edges, nodes). */
    const estimate = (selectionSet: SelectionSetNode, parentType: GraphQLNamedType, multiplier: number, depth: number, fragments: ReadonlySet<string>, paged = false): number => {
      if (depth > ESTIMATE_DEPTH_CEILING) return 0;
      let total = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name.startsWith('__')) {
            // Introspection is bounded by the schema, and GraphiQL's own query must pass.
            if (name === '__typename') total += multiplier;
            continue;
          }
          const definition = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
          if (!definition) continue;
          const page = pageSize(selection, definition);
          const list = isListType(getNullableType(definition.type));
          const size = page ?? (list && !paged ? ASSUMED_LIST_SIZE : 1);
          total += multiplier;
          if (selection.selectionSet) {
            total += estimate(selection.selectionSet, getNamedType(definition.type), multiplier * size, depth + 1, fragments, page !== undefined);
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
          total += estimate(selection.selectionSet, condition ?? parentType, multiplier, depth, fragments, paged);
        } else {
          const name = selection.name.value;
          const fragment = context.getFragment(name);
          if (!fragment || fragments.has(name)) continue;
          const condition = schema.getType(fragment.typeCondition.name.value) ?? parentType;
          total += estimate(fragment.selectionSet, condition, multiplier, depth, new Set([...fragments, name]), paged);
        }
        if (total > maxCost) return total;
      }
      return total;
    };
    return {
      OperationDefinition(operation: OperationDefinitionNode) {
        const root = schema.getRootType(operation.operation);
        if (!root) return;
        const cost = estimate(operation.selectionSet, root, 1, 0, new Set());
        if (cost > maxCost) {
          context.reportError(
            new GraphQLError(`Query cost limit of ${maxCost} exceeded: the answer could hold more than ${maxCost} values; ask for smaller pages or fewer nested lists`, {
              nodes: [operation],
              extensions: { code: 'BAD_REQUEST' },
            }),
          );
        }
      },
    };
  };
}

function useResultSizeLimit(maxCost: number): Plugin {
  const rule = resultSizeRule(maxCost);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

/**
 * The armor rules throw by default, which aborts validation with no other error reported and escapes any caller
 * that does not expect validate() to throw (our graphql-ws path). Reported instead, a refusal is one more
 * validation error; "Syntax Error:" goes, since the document parsed fine.
 */
const reportInstead = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError): void => {
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'BAD_REQUEST' } }));
    },
  ],
};

/**
 * Document limits as envelop plugins. They hook parse and validate, so they guard HTTP, SSE and graphql-ws alike
 * (the WebSocket path parses and validates through `yoga.getEnveloped`). Their errors are validation or syntax
 * errors, which useRequestErrorCodes and maskError turn into BAD_REQUEST. Introspection is exempt from depth and
 * cost, because GraphiQL's own schema query is deeper than any real operation needs to be.
 */
export function graphqlLimitPlugins(limits: LimitsConfig): Plugin[] {
  const { graphql } = limits;
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: graphql.maxTokens }),
    maxDepthPlugin({ n: graphql.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...reportInstead }),
    useResultSizeLimit(graphql.maxCost),
    // Every alias counts, __typename too: a thousand of them is still a thousand resolver calls and a huge answer.
    maxAliasesPlugin({ n: graphql.maxAliases, allowList: [], ...reportInstead }),
    maxDirectivesPlugin({ n: graphql.maxDirectives, ...reportInstead }),
  ];
  if (!limits.introspection) plugins.push(useNoIntrospection());
  return plugins;
}
