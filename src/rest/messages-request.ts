import { z } from 'zod';
import type { CompletionInput } from '../completions/types.js';
import { BadRequestError } from '../errors.js';
import type { AssistantPart, CacheControl, ContentPart, Message, ToolCall, ToolChoice, ToolDefinition } from '../providers/types.js';
import { mostSpecific } from './zod-issues.js';

/**
 * The body of Anthropic's POST /v1/messages (API version 2023-06-01), validated at the edge and mapped onto the
 * normalized request. What the normalized request keeps (cache breakpoints, thinking with its signature, the order
 * of an assistant turn's blocks) is kept so that an Anthropic endpoint receives the body as it was sent; what no
 * backend can honour is refused with a 400 naming the field, and what is merely not forwarded becomes a warning.
 */

const cacheControlSchema = z.object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });

const textBlock = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControlSchema.nullish() });
const imageBlock = z.object({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string() }),
    z.object({ type: z.literal('url'), url: z.string().url() }),
  ]),
  cache_control: cacheControlSchema.nullish(),
});
const toolUseBlock = z.object({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControlSchema.nullish(),
});
const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControlSchema.nullish(),
});
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.object({ type: z.literal('redacted_thinking'), data: z.string() });

const KNOWN_BLOCKS = ['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'];
/** Documents, search results, server tool blocks: named in the error rather than failing the union vaguely. */
const unknownBlock = z
  .object({ type: z.string().refine((type) => !KNOWN_BLOCKS.includes(type)) })
  .transform((block) => ({ type: 'unsupported' as const, wireType: block.type }));

const blockSchema = z.union([textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock, unknownBlock]);
type Block = z.infer<typeof blockSchema>;

const toolSchema = z.object({
  // Server tools (web search, code execution, …) run at Anthropic only; a custom tool may say so or not.
  type: z.literal('custom').optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
  cache_control: cacheControlSchema.nullish(),
});

export const messagesBodySchema = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(blockSchema)]) })),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  tools: z.array(toolSchema).optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
      z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
      z.object({ type: z.literal('none') }),
      z.object({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
    ])
    .optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
  thinking: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1) }),
      z.object({ type: z.literal('adaptive') }),
      z.object({ type: z.literal('disabled') }),
    ])
    .optional(),
  stream: z.boolean().optional(),
  service_tier: z.string().optional(),
});
export type MessagesBody = z.infer<typeof messagesBodySchema>;

/** count_tokens takes the same body without the answer's settings. */
export const countTokensBodySchema = messagesBodySchema.omit({ max_tokens: true, stream: true, stop_sequences: true, temperature: true, top_p: true, top_k: true, service_tier: true, metadata: true });

export interface ParsedMessagesRequest {
  input: CompletionInput;
  stream: boolean;
  /** Settings accepted but not honoured. */
  warnings: string[];
}

function cacheControl(wire: z.infer<typeof cacheControlSchema> | null | undefined): { cacheControl?: CacheControl } {
  if (wire === undefined || wire === null) return {};
  return { cacheControl: wire.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: wire.ttl } };
}

function imagePart(block: z.infer<typeof imageBlock>): ContentPart {
  const url = block.source.type === 'base64' ? `data:${block.source.media_type};base64,${block.source.data}` : block.source.url;
  return { type: 'image', url, ...cacheControl(block.cache_control) };
}

function unsupported(path: string, what: string): BadRequestError {
  return new BadRequestError(`${path}: ${what}`, path);
}

function toolResultText(block: z.infer<typeof toolResultBlock>, path: string): string {
  if (block.content === undefined || typeof block.content === 'string') return block.content ?? '';
  return block.content
    .map((part, index) => {
      // The normalized tool message carries text; an image handed back by a tool has nowhere to go yet.
      if (part.type === 'image') throw unsupported(`${path}.content.${index}`, 'images inside tool_result blocks are not supported by this gateway; send them in a user text block beside it');
      return part.text;
    })
    .join('');
}

/** A user turn: text and images become user messages, each tool_result its own tool message, in block order. */
function userMessages(content: string | Block[], path: string): Message[] {
  if (typeof content === 'string') return [{ role: 'user', content: [{ type: 'text', text: content }] }];
  const messages: Message[] = [];
  let pending: ContentPart[] = [];
  const flush = (): void => {
    if (pending.length > 0) messages.push({ role: 'user', content: pending });
    pending = [];
  };
  content.forEach((block, index) => {
    const at = `${path}.content.${index}`;
    switch (block.type) {
      case 'text':
        pending.push({ type: 'text', text: block.text, ...cacheControl(block.cache_control) });
        return;
      case 'image':
        pending.push(imagePart(block));
        return;
      case 'tool_result': {
        const result = block;
        flush();
        messages.push({
          role: 'tool',
          toolCallId: result.tool_use_id,
          content: toolResultText(result, at),
          ...(result.is_error === true ? { isError: true } : {}),
          ...cacheControl(result.cache_control),
        });
        return;
      }
      default:
        throw unsupported(at, `a '${block.type === 'unsupported' ? block.wireType : block.type}' block is not accepted in a user turn by this gateway`);
    }
  });
  flush();
  return messages;
}

function assistantMessage(content: string | Block[], path: string): Message {
  if (typeof content === 'string') return { role: 'assistant', content, toolCalls: [] };
  const parts: AssistantPart[] = [];
  const toolCalls: ToolCall[] = [];
  const texts: string[] = [];
  content.forEach((block, index) => {
    switch (block.type) {
      case 'text':
        texts.push(block.text);
        parts.push({ type: 'text', text: block.text, ...cacheControl(block.cache_control) });
        return;
      case 'tool_use': {
        const call = block;
        toolCalls.push({ id: call.id, name: call.name, arguments: JSON.stringify(call.input) });
        parts.push({ type: 'tool-call', id: call.id, ...cacheControl(call.cache_control) });
        return;
      }
      case 'thinking':
        parts.push({ type: 'thinking', text: block.thinking, signature: block.signature });
        return;
      case 'redacted_thinking':
        parts.push({ type: 'redacted-thinking', data: block.data });
        return;
      default:
        throw unsupported(`${path}.content.${index}`, `a '${block.type === 'unsupported' ? block.wireType : block.type}' block is not accepted in an assistant turn by this gateway`);
    }
  });
  return { role: 'assistant', content: texts.length > 0 ? texts.join('') : null, toolCalls, parts };
}

function systemMessages(system: MessagesBody['system']): Message[] {
  if (system === undefined) return [];
  if (typeof system === 'string') return system === '' ? [] : [{ role: 'system', content: system }];
  return system.map((block) => ({ role: 'system', content: block.text, ...cacheControl(block.cache_control) }));
}

function toolDefinition(tool: z.infer<typeof toolSchema>): ToolDefinition {
  return {
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    parameters: tool.input_schema,
    ...cacheControl(tool.cache_control),
  };
}

function toolChoice(choice: NonNullable<MessagesBody['tool_choice']>): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return { type: 'auto' };
    case 'any':
      return { type: 'required' };
    case 'none':
      return { type: 'none' };
    case 'tool':
      return { type: 'tool', name: choice.name };
  }
}

/** The conversation and tools of a body, shared by messages and count_tokens. */
function conversation(body: Pick<MessagesBody, 'messages' | 'system' | 'tools'>): Pick<CompletionInput, 'messages' | 'tools'> {
  const messages: Message[] = systemMessages(body.system);
  body.messages.forEach((message, index) => {
    const path = `messages.${index}`;
    if (message.role === 'user') messages.push(...userMessages(message.content, path));
    else messages.push(assistantMessage(message.content, path));
  });
  return { messages, ...(body.tools !== undefined && body.tools.length > 0 ? { tools: body.tools.map(toolDefinition) } : {}) };
}

function parseBody<T extends z.ZodTypeAny>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const issue = first === undefined ? undefined : mostSpecific(first);
    const path = issue?.path.join('.') ?? '';
    const missing = issue?.code === 'invalid_type' && issue.received === 'undefined';
    // Anthropic's own wording: `max_tokens: Field required`.
    throw new BadRequestError(`${path === '' ? '' : `${path}: `}${missing ? 'Field required' : (issue?.message ?? 'invalid request')}`, path === '' ? undefined : path);
  }
  return parsed.data;
}

/** Validates a Messages body and maps it onto the normalized request. Throws BadRequestError naming the field. */
export function parseMessagesRequest(raw: unknown): ParsedMessagesRequest {
  const body = parseBody(messagesBodySchema, raw);
  const warnings: string[] = [];
  if (body.top_k !== undefined) warnings.push('top_k was accepted but not passed on: the normalized request has no top_k');
  if (body.service_tier !== undefined) warnings.push('service_tier was accepted but not passed on');
  const choice = body.tool_choice;
  if (choice !== undefined && choice.type !== 'none' && choice.disable_parallel_tool_use === true) {
    warnings.push('tool_choice.disable_parallel_tool_use was accepted but not passed on');
  }
  const input: CompletionInput = {
    model: body.model,
    ...conversation(body),
    maxTokens: body.max_tokens,
  };
  if (body.temperature !== undefined) input.temperature = body.temperature;
  if (body.top_p !== undefined) input.topP = body.top_p;
  if (body.stop_sequences !== undefined && body.stop_sequences.length > 0) input.stop = body.stop_sequences;
  if (choice !== undefined) input.toolChoice = toolChoice(choice);
  if (body.metadata?.user_id != null) input.user = body.metadata.user_id;
  if (body.thinking !== undefined) input.thinking = body.thinking.type === 'enabled' ? { type: 'enabled', budgetTokens: body.thinking.budget_tokens } : { type: body.thinking.type };
  return { input, stream: body.stream === true, warnings };
}

/** The prompt count_tokens measures: the same conversation and tools a Messages body would send. */
export function parseCountTokensRequest(raw: unknown): Pick<CompletionInput, 'model' | 'messages' | 'tools'> {
  const body = parseBody(countTokensBodySchema, raw);
  return { model: body.model, ...conversation(body) };
}
