import { MAX_CACHE_TTL_SECONDS } from '../cache/response-cache.js';
import type { ModelRow } from '../db/schema.js';
import { BadRequestError, type FieldNamer, type FieldPath } from '../errors.js';
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

/** OpenAI's own bound on `n`. */
const MAX_CHOICES = 128;

/** A problem with one field, worded around its name so each transport can name it its own way. */
function invalid(path: FieldPath, describe: (name: FieldNamer) => string): BadRequestError {
  return BadRequestError.atField(path, describe);
}

function range(value: number | undefined, field: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) throw invalid([field], (name) => `${name([field])} must be between ${min} and ${max}`);
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
  if (input.model.length > limits.modelIdChars) throw invalid(['model'], (name) => `${name(['model'])} must be at most ${limits.modelIdChars} characters`);
  if (input.models) {
    if (input.models.length > limits.fallbackModels) {
      throw invalid(['models'], (name) => `${name(['models'])} takes at most ${limits.fallbackModels} fallback models`);
    }
    input.models.forEach((model, index) => {
      const path = ['models', index];
      if (model.length > limits.modelIdChars) throw invalid(path, (name) => `${name(path)} must be at most ${limits.modelIdChars} characters`);
    });
  }
  if (input.messages.length > limits.messages) throw invalid(['messages'], (name) => `${name(['messages'])} takes at most ${limits.messages} messages`);
  let totalChars = 0;
  let images = 0;
  input.messages.forEach((message, index) => {
    const at = ['messages', index];
    if (message.role === 'user') {
      if (message.content.length > limits.partsPerMessage) {
        throw invalid([...at, 'parts'], (name) => `${name(at)} has more than ${limits.partsPerMessage} content parts`);
      }
      for (const part of message.content) if (part.type === 'image') images++;
    }
    if (message.role === 'assistant' && message.toolCalls.length > limits.toolCallsPerMessage) {
      throw invalid([...at, 'toolCalls'], (name) => `${name(at)} has more than ${limits.toolCallsPerMessage} tool calls`);
    }
    const chars = textLength(message);
    if (chars > limits.messageChars) throw invalid([...at, 'content'], (name) => `${name(at)} has more than ${limits.messageChars} characters of content`);
    totalChars += chars;
  });
  if (totalChars > limits.totalChars) {
    throw invalid(['messages'], (name) => `${name(['messages'])} hold more than ${limits.totalChars} characters of content in all`);
  }
  if (images > limits.images) throw invalid(['messages'], (name) => `${name(['messages'])} hold more than ${limits.images} images`);
  const tools = input.tools ?? [];
  if (tools.length > limits.tools) throw invalid(['tools'], (name) => `${name(['tools'])} takes at most ${limits.tools} tools`);
  tools.forEach((tool, index) => {
    if ((tool.description?.length ?? 0) > limits.toolDescriptionChars) {
      const path = ['tools', index, 'description'];
      throw invalid(path, (name) => `${name(path)} must be at most ${limits.toolDescriptionChars} characters`);
    }
    if (jsonLength(tool.parameters) > limits.toolParametersChars) {
      const path = ['tools', index, 'parameters'];
      throw invalid(path, (name) => `${name(path)} must be at most ${limits.toolParametersChars} characters of JSON`);
    }
  });
  input.stop?.forEach((sequence, index) => {
    if (sequence.length === 0 || sequence.length > limits.stopSequenceChars) {
      const path = ['stop', index];
      throw invalid(path, (name) => `${name(path)} must be 1 to ${limits.stopSequenceChars} characters`);
    }
  });
  if (input.metadata !== undefined && jsonLength(input.metadata) > limits.metadataChars) {
    throw invalid(['metadata'], (name) => `${name(['metadata'])} must be at most ${limits.metadataChars} characters of JSON`);
  }
  if (input.user !== undefined && input.user.length > limits.userChars) throw invalid(['user'], (name) => `${name(['user'])} must be at most ${limits.userChars} characters`);
}

/**
 * The checks both transports share, so a malformed request gets the same BAD_REQUEST naming the field whether it
 * came through GraphQL or the REST facade (each names it in its own terms).
 */
export function validateCompletionInput(input: CompletionInput): void {
  if (input.model.trim() === '') throw invalid(['model'], (name) => `${name(['model'])} must not be empty`);
  validateSizes(input);
  if (input.messages.length === 0) throw invalid(['messages'], (name) => `${name(['messages'])} must contain at least one message`);
  if (!input.messages.some((message) => message.role === 'user' || message.role === 'tool')) {
    throw invalid(['messages'], (name) => `${name(['messages'])} must contain a user or tool message`);
  }
  input.messages.forEach((message, index) => {
    const at = ['messages', index];
    if (message.role === 'user' && message.content.length === 0) throw invalid(at, (name) => `${name(at)} has no content`);
    if (message.role === 'tool' && message.toolCallId.trim() === '') {
      const path = [...at, 'toolCallId'];
      throw invalid(path, (name) => `${name(path)} is required for a tool message`);
    }
    // A turn of thinking alone (Claude may think and then stop) is a turn too.
    if (message.role === 'assistant' && message.content === null && message.toolCalls.length === 0 && (message.parts ?? []).length === 0) {
      throw invalid(at, (name) => `${name(at)} has neither content nor tool calls`);
    }
  });
  if (input.maxTokens !== undefined && (!Number.isInteger(input.maxTokens) || input.maxTokens < 1)) {
    throw invalid(['maxTokens'], (name) => `${name(['maxTokens'])} must be a positive integer`);
  }
  range(input.temperature, 'temperature', 0, 2);
  range(input.topP, 'topP', 0, 1);
  const ttl = input.cache?.ttlSeconds;
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 0 && ttl <= MAX_CACHE_TTL_SECONDS)) {
    const path = ['cache', 'ttlSeconds'];
    throw invalid(path, (name) => `${name(path)} must be a whole number of seconds from 0 to ${MAX_CACHE_TTL_SECONDS}`);
  }
  if (input.seed !== undefined && !Number.isSafeInteger(input.seed)) throw invalid(['seed'], (name) => `${name(['seed'])} must be an integer`);
  range(input.presencePenalty, 'presencePenalty', -2, 2);
  range(input.frequencyPenalty, 'frequencyPenalty', -2, 2);
  if (input.n !== undefined && !(Number.isInteger(input.n) && input.n >= 1 && input.n <= MAX_CHOICES)) {
    throw invalid(['n'], (name) => `${name(['n'])} must be a whole number from 1 to ${MAX_CHOICES}`);
  }
  if (input.topLogprobs !== undefined && !(Number.isInteger(input.topLogprobs) && input.topLogprobs >= 0 && input.topLogprobs <= 20)) {
    throw invalid(['topLogprobs'], (name) => `${name(['topLogprobs'])} must be a whole number from 0 to 20`);
  }
  for (const [token, bias] of Object.entries(input.logitBias ?? {})) {
    const path = ['logitBias', token];
    if (!/^\d+$/.test(token)) throw invalid(['logitBias'], (name) => `${name(['logitBias'])} keys must be token ids, not '${token.slice(0, 32)}'`);
    if (!Number.isFinite(bias) || bias < -100 || bias > 100) throw invalid(path, (name) => `${name(path)} must be between -100 and 100`);
  }
  if (Object.keys(input.logitBias ?? {}).length > 1024) throw invalid(['logitBias'], (name) => `${name(['logitBias'])} takes at most 1024 tokens`);
  if (input.serviceTier !== undefined && !/^[a-z_]{1,32}$/.test(input.serviceTier)) throw invalid(['serviceTier'], (name) => `${name(['serviceTier'])} must be a tier name such as auto, default, flex or priority`);
  if (input.stop && input.stop.length > 4) throw invalid(['stop'], (name) => `${name(['stop'])} takes at most 4 sequences`);
  const toolNames = new Set<string>();
  (input.tools ?? []).forEach((tool, index) => {
    const path = ['tools', index, 'name'];
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) throw invalid(path, (name) => `${name(path)} '${tool.name}' must be 1-64 letters, digits, _ or -`);
    if (toolNames.has(tool.name)) throw invalid(path, (name) => `${name(path)} '${tool.name}' is declared twice`);
    toolNames.add(tool.name);
  });
  const choice = input.toolChoice;
  if (choice?.type === 'tool' && !toolNames.has(choice.name)) {
    throw invalid(['toolChoice'], (name) => `${name(['toolChoice'])} names '${choice.name}', which is not among the ${name(['tools'])}`);
  }
  if (choice && choice.type !== 'none' && toolNames.size === 0) {
    throw invalid(['toolChoice'], (name) => `${name(['toolChoice'])} needs ${name(['tools'])}`);
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
    throw invalid(['maxTokens'], (name) => `${name(['maxTokens'])} must be at most ${ceiling} for ${model.id}`);
  }
}

/** A stream carries one choice: its deltas have no choice index to tell several apart. */
export function validateStreamedInput(input: Pick<CompletionInput, 'n'>): void {
  if (input.n !== undefined && input.n > 1) throw invalid(['n'], (name) => `${name(['n'])} greater than 1 is supported only without streaming`);
}
