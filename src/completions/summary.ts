import type { CompletionInput } from './types.js';

/**
 * What a request asked for, kept on its generation without the prompt text itself (which may be sensitive and is
 * the caller's business): enough to tell why two requests to the same model cost differently.
 */
export function summarizeRequest(input: CompletionInput): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    messages: input.messages.length,
    images: input.messages.reduce((count, message) => count + (message.role === 'user' ? message.content.filter((part) => part.type === 'image').length : 0), 0),
  };
  if (input.models?.length) summary['fallbackModels'] = input.models;
  if (input.tools?.length) summary['tools'] = input.tools.map((tool) => tool.name);
  if (input.toolChoice) summary['toolChoice'] = input.toolChoice.type === 'tool' ? input.toolChoice.name : input.toolChoice.type;
  if (input.responseFormat) summary['responseFormat'] = input.responseFormat.type;
  for (const key of ['maxTokens', 'temperature', 'topP', 'seed'] as const) if (input[key] !== undefined) summary[key] = input[key];
  if (input.stop?.length) summary['stop'] = input.stop.length;
  // Each changes what a request costs or how it was served: n multiplies the answer, effort the reasoning, a tier the price.
  for (const key of ['n', 'reasoningEffort', 'serviceTier'] as const) if (input[key] !== undefined) summary[key] = input[key];
  return summary;
}
