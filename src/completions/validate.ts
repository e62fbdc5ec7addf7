import type { ModelRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';
import type { Message } from '../providers/types.js';
import type { CompletionInput } from './types.js';

/**
 * Bounds on one request, generous for real use (the largest context windows hold a few million characters) and
 * small enough that one request cannot make the gateway tokenize, store or forward unbounded data. The body size
 * limit (SWITCHBOARD_MAX_BODY_BYTES) comes first; these name the field that is too big.
 */
export const INPUT_LIMITS = {
  messages: 1000,
  /** Characters of text in one message (images are bounded by the body size). */
  messageChars: 2_000_000,
  /** Characters of text across all messages. */
  totalChars: 4_000_000,
  /** Content parts in one message, and images across the request. */
  partsPerMessage: 256,
  images: 64,
  toolCallsPerMessage: 128,
  tools: 128,
  /** A tool's description and its JSON Schema, as JSON text. */
  toolDescriptionChars: 16_384,
  toolParametersChars: 131_072,
  fallbackModels: 16,
  modelIdChars: 256,
  stopSequenceChars: 256,
  metadataChars: 16_384,
  userChars: 256,
} as const;

function range(value: number | undefined, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) throw new BadRequestError(`${field} must be between ${min} and ${max}`, field);
}

function textLength(message: Message): number {
  if (message.role === 'user') {
    let length = 0;
    for (const part of message.content) if (part.type === 'text') length += part.text.length;
    return length;
  }
  let length = message.content?.length ?? 0;
  if (message.role === 'assistant') for (const call of message.toolCalls) length += call.arguments.length + call.name.length;
  return length;
}

function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    // A cycle cannot come off the wire, but whatever cannot be serialized cannot be forwarded either.
    return Number.POSITIVE_INFINITY;
  }
}

/** Sizes and counts, checked before anything walks the content, so the other checks run on bounded input. */
function validateSizes(input: CompletionInput): void {
  const limits = INPUT_LIMITS;
  if (input.model.length > limits.modelIdChars) throw new BadRequestError(`model must be at most ${limits.modelIdChars} characters`, 'model');
  if (input.models) {
    if (input.models.length > limits.fallbackModels) throw new BadRequestError(`models takes at most ${limits.fallbackModels} fallback models`, 'models');
    input.models.forEach((model, index) => {
      if (model.length > limits.modelIdChars) throw new BadRequestError(`models[${index}] must be at most ${limits.modelIdChars} characters`, `models[${index}]`);
    });
  }
  if (input.messages.length > limits.messages) throw new BadRequestError(`messages takes at most ${limits.messages} messages`, 'messages');
  let totalChars = 0;
  let images = 0;
  input.messages.forEach((message, index) => {
    const field = `messages[${index}]`;
    if (message.role === 'user') {
      if (message.content.length > limits.partsPerMessage) throw new BadRequestError(`${field} has more than ${limits.partsPerMessage} content parts`, `${field}.parts`);
      for (const part of message.content) if (part.type === 'image') images++;
    }
    if (message.role === 'assistant' && message.toolCalls.length > limits.toolCallsPerMessage) {
      throw new BadRequestError(`${field} has more than ${limits.toolCallsPerMessage} tool calls`, `${field}.toolCalls`);
    }
    const chars = textLength(message);
    if (chars > limits.messageChars) throw new BadRequestError(`${field} has more than ${limits.messageChars} characters of content`, `${field}.content`);
    totalChars += chars;
  });
  if (totalChars > limits.totalChars) throw new BadRequestError(`messages hold more than ${limits.totalChars} characters of content in all`, 'messages');
  if (images > limits.images) throw new BadRequestError(`messages hold more than ${limits.images} images`, 'messages');
  const tools = input.tools ?? [];
  if (tools.length > limits.tools) throw new BadRequestError(`tools takes at most ${limits.tools} tools`, 'tools');
  tools.forEach((tool, index) => {
    if ((tool.description?.length ?? 0) > limits.toolDescriptionChars) {
      throw new BadRequestError(`tools[${index}].description must be at most ${limits.toolDescriptionChars} characters`, `tools[${index}].description`);
    }
    if (jsonLength(tool.parameters) > limits.toolParametersChars) {
      throw new BadRequestError(`tools[${index}].parameters must be at most ${limits.toolParametersChars} characters of JSON`, `tools[${index}].parameters`);
    }
  });
  input.stop?.forEach((sequence, index) => {
    if (sequence.length === 0 || sequence.length > limits.stopSequenceChars) {
      throw new BadRequestError(`stop[${index}] must be 1 to ${limits.stopSequenceChars} characters`, `stop[${index}]`);
    }
  });
  if (input.metadata !== undefined && jsonLength(input.metadata) > limits.metadataChars) {
    throw new BadRequestError(`metadata must be at most ${limits.metadataChars} characters of JSON`, 'metadata');
  }
  if (input.user !== undefined && input.user.length > limits.userChars) throw new BadRequestError(`user must be at most ${limits.userChars} characters`, 'user');
}

/**
 * The checks both transports share, so a malformed request gets the same BAD_REQUEST naming the field whether it
 * came through GraphQL or the REST facade.
 */
export function validateCompletionInput(input: CompletionInput): void {
  if (input.model.trim() === '') throw new BadRequestError('model must not be empty', 'model');
  validateSizes(input);
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
  if (input.seed !== undefined && !Number.isSafeInteger(input.seed)) throw new BadRequestError('seed must be an integer', 'seed');
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

/**
 * The checks that need the resolved model, for the service to run once it knows which model answers: a maxTokens
 * the model cannot produce would only come back as a provider's 400 after a round trip (and a fallback attempt).
 */
export function validateAgainstModel(input: Pick<CompletionInput, 'maxTokens'>, model: Pick<ModelRow, 'id' | 'maxOutputTokens' | 'contextLength'>): void {
  if (input.maxTokens === undefined) return;
  const ceiling = model.maxOutputTokens ?? model.contextLength;
  // 0 means the catalog does not know the limit (a model added by sync): nothing to check against.
  if (ceiling > 0 && input.maxTokens > ceiling) {
    throw new BadRequestError(`maxTokens must be at most ${ceiling} for ${model.id}`, 'maxTokens');
  }
}
