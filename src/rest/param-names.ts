import { fieldPathText, type FieldNamer, type FieldPath } from '../errors.js';

/**
 * The service validates in its own field names (CompletionInput's, which GraphQL shares); a REST caller wrote
 * OpenAI's. Each entry maps a service path, with `[]` standing for any list index, to the OpenAI parameter. Paths
 * not listed (model, messages, temperature, stop, seed, tools, user, metadata…) are spelled the same in both.
 * No key is an OpenAI name, so the errors the REST parser raises about the body, already in OpenAI's names, pass
 * through unchanged.
 */
const OPENAI_PARAMS: Readonly<Record<string, string>> = {
  topP: 'top_p',
  presencePenalty: 'presence_penalty',
  frequencyPenalty: 'frequency_penalty',
  logitBias: 'logit_bias',
  parallelToolCalls: 'parallel_tool_calls',
  reasoningEffort: 'reasoning_effort',
  serviceTier: 'service_tier',
  topLogprobs: 'top_logprobs',
  toolChoice: 'tool_choice',
  responseFormat: 'response_format',
  'responseFormat.schema': 'response_format.json_schema.schema',
  'messages[].parts': 'messages[].content',
  'messages[].toolCalls': 'messages[].tool_calls',
  'messages[].toolCallId': 'messages[].tool_call_id',
  'tools[].name': 'tools[].function.name',
  'tools[].description': 'tools[].function.description',
  'tools[].parameters': 'tools[].function.parameters',
  'tools[].strict': 'tools[].function.strict',
  'provider.allowFallbacks': 'provider.allow_fallbacks',
  'provider.hedge.delayMs': 'provider.hedge.delay_ms',
};

/** Both are OpenAI's names for the service's maxTokens: the one the caller sent is the one to name back. */
export type MaxTokensParam = 'max_completion_tokens' | 'max_tokens';

function pattern(path: FieldPath): string {
  let text = '';
  for (const segment of path) text += typeof segment === 'number' ? '[]' : text === '' ? segment : `.${segment}`;
  return text;
}

/** Puts the path's list indexes back into a table entry's `[]`s, in order. */
function withIndexes(param: string, path: FieldPath): string {
  const indexes = path.filter((segment): segment is number => typeof segment === 'number');
  let next = 0;
  return param.replace(/\[\]/g, () => `[${indexes[next++] ?? 0}]`);
}

/** A service field path as the OpenAI parameter a REST caller knows: `['topP']` → `top_p`, `['tools', 0, 'name']` → `tools[0].function.name`. */
export function openAIParamName(path: FieldPath, maxTokensParam: MaxTokensParam = 'max_completion_tokens'): string {
  if (path[0] === 'maxTokens') return fieldPathText([maxTokensParam, ...path.slice(1)]);
  // The longest listed prefix wins; what follows it is the same in both vocabularies.
  for (let length = path.length; length > 0; length--) {
    const head = path.slice(0, length);
    const param = OPENAI_PARAMS[pattern(head)];
    if (param === undefined) continue;
    const rest = fieldPathText(path.slice(length));
    return withIndexes(param, head) + (rest === '' ? '' : rest.startsWith('[') ? rest : `.${rest}`);
  }
  return fieldPathText(path);
}

/** The namer for one request: names maxTokens as the parameter the caller used. */
export function openAIParamNamer(maxTokensParam: MaxTokensParam = 'max_completion_tokens'): FieldNamer {
  return (path) => openAIParamName(path, maxTokensParam);
}
