import { BadRequestError } from '../errors.js';
import type { CompletionInput } from './types.js';

function range(value: number | undefined, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) throw new BadRequestError(`${field} must be between ${min} and ${max}`, field);
}

/**
 * The checks both transports share, so a malformed request gets the same BAD_REQUEST naming the field whether it
 * came through GraphQL or the REST facade.
 */
export function validateCompletionInput(input: CompletionInput): void {
  if (input.model.trim() === '') throw new BadRequestError('model must not be empty', 'model');
  if (input.messages.length === 0) throw new BadRequestError('messages must contain at least one message', 'messages');
  if (!input.messages.some((message) => message.role === 'user' || message.role === 'tool')) {
    throw new BadRequestError('messages must contain a user or tool message', 'messages');
  }
  input.messages.forEach((message, index) => {
    const field = `messages[${index}]`;
    if (message.role === 'user' && message.content.length === 0) throw new BadRequestError(`${field} has no content`, field);
    if (message.role === 'tool' && message.toolCallId.trim() === '') throw new BadRequestError(`${field}.toolCallId is required for a tool message`, `${field}.toolCallId`);
    if (message.role === 'assistant' && message.content === null && message.toolCalls.length === 0) {
      throw new BadRequestError(`${field} has neither content nor tool calls`, field);
    }
  });
  if (input.maxTokens !== undefined && (!Number.isInteger(input.maxTokens) || input.maxTokens < 1)) {
    throw new BadRequestError('maxTokens must be a positive integer', 'maxTokens');
  }
  range(input.temperature, 'temperature', 0, 2);
  range(input.topP, 'topP', 0, 1);
  if (input.stop && input.stop.length > 4) throw new BadRequestError('stop takes at most 4 sequences', 'stop');
  const toolNames = new Set<string>();
  for (const tool of input.tools ?? []) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) throw new BadRequestError(`tool name '${tool.name}' must be 1-64 letters, digits, _ or -`, 'tools');
    if (toolNames.has(tool.name)) throw new BadRequestError(`tool '${tool.name}' is declared twice`, 'tools');
    toolNames.add(tool.name);
  }
  if (input.toolChoice?.type === 'tool' && !toolNames.has(input.toolChoice.name)) {
    throw new BadRequestError(`toolChoice names '${input.toolChoice.name}', which is not among the tools`, 'toolChoice');
  }
  if (input.toolChoice && input.toolChoice.type !== 'none' && toolNames.size === 0) {
    throw new BadRequestError('toolChoice needs tools', 'toolChoice');
  }
}
