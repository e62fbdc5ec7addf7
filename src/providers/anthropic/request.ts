import { asksForSomething, refuseOrWarn, thinkingFromEffort, type ParameterField } from '../parameters.js';
import { z } from 'zod';
import { parseDataUrl } from '../data-url.js';
import { ProviderError } from '../errors.js';
import type { CacheControl, CompletionRequest, ContentPart, Message, ResponseFormat, ToolCall, ToolChoice } from '../types.js';

/**
 * Used when neither the caller nor the catalog gave a max tokens value, since Anthropic requires one. Every Claude
 * model since Claude 3 accepts at least 4096 output tokens, so this never makes a request invalid.
 */
export const FALLBACK_MAX_TOKENS = 4096;

type ImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

export interface AnthropicCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

type Cacheable = { cache_control?: AnthropicCacheControl };

export type AnthropicTextBlock = { type: 'text'; text: string } & Cacheable;

export type AnthropicContentBlock =
  | AnthropicTextBlock
  | ({ type: 'image'; source: ImageSource } & Cacheable)
  | ({ type: 'tool_use'; id: string; name: string; input: Record<string, unknown> } & Cacheable)
  | ({ type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean } & Cacheable)
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool extends Cacheable {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice = ({ type: 'auto' } | { type: 'any' } | { type: 'none' } | { type: 'tool'; name: string }) & { disable_parallel_tool_use?: boolean };

export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  /** A string when no part of it carries a cache breakpoint; blocks otherwise, as only blocks can carry one. */
  system?: string | AnthropicTextBlock[];
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  thinking?: { type: 'enabled'; budget_tokens: number } | { type: 'adaptive' } | { type: 'disabled' };
  stream?: boolean;
}

export interface AnthropicRequestMapping {
  body: AnthropicRequestBody;
  warnings: string[];
  /** Set when a json_schema format is carried by a forced tool: that tool's input is the response text. */
  jsonToolName?: string;
}

/**
 * How structured output is asked of Anthropic. API version 2023-06-01 has no JSON mode that every model accepts:
 * the newer `output_config.format` is only served by some recent models and is rejected by the rest, and an adapter
 * does not know which model it is talking to. So:
 * - json_schema becomes a tool whose input_schema is the schema, forced with tool_choice; Anthropic's own
 *   documented "JSON via tool use" pattern, which every tool-capable model honours. The tool's input is handed back
 *   as the response text, so callers see plain JSON content.
 * - json_object (no schema to give a tool) becomes an instruction appended to the system prompt, with a warning
 *   that the output is requested, not guaranteed.
 * The tool is only used when the caller sent no tools of their own: forcing it would take their tools away.
 */

/** Appended to the system prompt for json_object; tests detect it to see what was really sent. */
export const JSON_OBJECT_INSTRUCTION = 'Respond only with a single valid JSON object. Do not add any text before or after it.';

/** Precedes the schema in the system prompt when a json_schema cannot travel as a tool. */
export const JSON_SCHEMA_INSTRUCTION = 'Respond only with JSON matching this JSON Schema, with no text before or after it:';

/** The description of the forced tool; tests detect it to tell it from a caller's tool. */
export const JSON_TOOL_DESCRIPTION = 'Give your final answer by calling this tool. Its input is your whole response, as JSON matching the schema.';

/** How much of the dropped text a warning quotes: enough to recognise it, not a second copy of a long answer. */
const DROPPED_TEXT_QUOTE_CHARS = 200;

/**
 * The warning for text the model wrote beside its forced JSON tool call (models sometimes say "Checking." first
 * despite tool_choice). The content must be the tool input alone to parse as JSON, so the text is dropped from it
 * and quoted here instead.
 */
export function droppedTextWarning(text: string): string {
  const trimmed = text.trim();
  const quoted = trimmed.length > DROPPED_TEXT_QUOTE_CHARS ? `${trimmed.slice(0, DROPPED_TEXT_QUOTE_CHARS)}…` : trimmed;
  return `responseFormat json_schema: the model wrote text beside its JSON answer, which was left out of the content so that it parses as JSON: ${JSON.stringify(quoted)}`;
}

/** Anthropic tool names must match ^[a-zA-Z0-9_-]{1,64}$. */
export function jsonToolName(schemaName: string): string {
  const cleaned = schemaName.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'json_response' : cleaned;
}

export interface JsonOutputPlan {
  /** Text to append to the system prompt. */
  systemInstruction?: string;
  /** A tool to add and force; its input becomes the response text. */
  tool?: { name: string; description: string; input_schema: Record<string, unknown> };
  warnings: string[];
}

export function planJsonOutput(format: ResponseFormat | undefined, callerHasTools: boolean): JsonOutputPlan {
  if (format === undefined || format.type === 'text') return { warnings: [] };
  if (format.type === 'json_object') {
    return {
      systemInstruction: JSON_OBJECT_INSTRUCTION,
      warnings: ['responseFormat json_object: Anthropic has no JSON mode; the model is instructed to answer in JSON, which is not guaranteed'],
    };
  }
  // Tool input schemas must describe an object; any other root (an array, a string) can only be asked for in words.
  const objectRoot = format.schema['type'] === 'object';
  if (callerHasTools || !objectRoot) {
    const why = callerHasTools ? 'the request also has tools' : 'the schema root is not an object';
    return {
      systemInstruction: `${JSON_SCHEMA_INSTRUCTION}\n${JSON.stringify(format.schema)}`,
      warnings: [`responseFormat json_schema: ${why}, so the schema is given as an instruction and the output is not guaranteed to match it`],
    };
  }
  return {
    tool: { name: jsonToolName(format.name), description: JSON_TOOL_DESCRIPTION, input_schema: format.schema },
    warnings: format.strict === true ? ['responseFormat json_schema strict: Anthropic tool inputs follow the schema but are not strictly validated'] : [],
  };
}

const toolInputSchema = z.record(z.string(), z.unknown());

function imageSource(url: string, provider: string): ImageSource {
  if (!url.startsWith('data:')) return { type: 'url', url };
  const content = parseDataUrl(url);
  if (content === undefined) {
    throw new ProviderError('An image data URL must look like data:<media type>;base64,<data>', { provider, kind: 'bad_request' });
  }
  return { type: 'base64', media_type: content.mediaType, data: content.base64 };
}

function cacheField(cacheControl: CacheControl | undefined): Cacheable {
  if (cacheControl === undefined) return {};
  return { cache_control: cacheControl.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: cacheControl.ttl } };
}

function userBlocks(parts: ContentPart[], provider: string, warnings: Set<string>): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      // The API rejects empty text blocks.
      if (part.text !== '') blocks.push({ type: 'text', text: part.text, ...cacheField(part.cacheControl) });
      continue;
    }
    if (part.detail !== undefined && part.detail !== 'auto') warnings.add('image detail is not supported by Anthropic and was ignored');
    blocks.push({ type: 'image', source: imageSource(part.url, provider), ...cacheField(part.cacheControl) });
  }
  return blocks;
}

function toolUseInput(call: ToolCall, warnings: Set<string>): Record<string, unknown> {
  try {
    const parsed = toolInputSchema.safeParse(JSON.parse(call.arguments));
    if (parsed.success) return parsed.data;
  } catch {
    // Handled below: a truncated call in an old turn should not make the whole conversation unusable.
  }
  warnings.add(`tool call ${call.id} had arguments that are not a JSON object; they were sent as {}`);
  return {};
}

function assistantBlocks(message: Extract<Message, { role: 'assistant' }>, warnings: Set<string>): AnthropicContentBlock[] {
  if (message.parts !== undefined) return orderedAssistantBlocks(message, message.parts, warnings);
  const blocks: AnthropicContentBlock[] = [];
  if (message.content !== null && message.content !== '') blocks.push({ type: 'text', text: message.content });
  for (const call of message.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolUseInput(call, warnings) });
  return blocks;
}

/**
 * A turn block by block, as the model wrote it: thinking must come back before the tool calls it led to, signed,
 * or the API refuses the turn. Thinking another provider wrote has no signature Anthropic would accept, so it is
 * left out; a tool call the parts do not place goes last, so none is lost.
 */
function orderedAssistantBlocks(message: Extract<Message, { role: 'assistant' }>, parts: NonNullable<Extract<Message, { role: 'assistant' }>['parts']>, warnings: Set<string>): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  const calls = new Map(message.toolCalls.map((call) => [call.id, call]));
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        if (part.text !== '') blocks.push({ type: 'text', text: part.text, ...cacheField(part.cacheControl) });
        break;
      case 'tool-call': {
        const call = calls.get(part.id);
        if (call === undefined) break;
        calls.delete(part.id);
        blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolUseInput(call, warnings), ...cacheField(part.cacheControl) });
        break;
      }
      case 'thinking':
        if (part.signature === '') warnings.add('reasoning without a signature (written by another provider) was left out of an earlier assistant turn');
        else blocks.push({ type: 'thinking', thinking: part.text, signature: part.signature });
        break;
      case 'redacted-thinking':
        blocks.push({ type: 'redacted_thinking', data: part.data });
        break;
    }
  }
  for (const call of calls.values()) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolUseInput(call, warnings) });
  return blocks;
}

/**
 * Anthropic wants user and assistant turns, so consecutive messages of one role (including tool results, which
 * travel in user turns) are merged into one turn; that also puts all results of one assistant turn's tool calls
 * into the single user turn that must follow it.
 */
function appendTurn(turns: AnthropicMessage[], role: AnthropicMessage['role'], blocks: AnthropicContentBlock[]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last?.role === role) last.content.push(...blocks);
  else turns.push({ role, content: blocks });
}

function toolChoice(choice: ToolChoice): AnthropicToolChoice {
  switch (choice.type) {
    case 'auto':
      return { type: 'auto' };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any' };
    case 'tool':
      return { type: 'tool', name: choice.name };
  }
}

/** What the Messages API has no field for. */
const ANTHROPIC_UNSUPPORTED: readonly ParameterField[] = ['presencePenalty', 'frequencyPenalty', 'logitBias', 'seed', 'n', 'logprobs', 'topLogprobs', 'serviceTier', 'store'];

/** Maps a normalized request to a Messages API body. Pure: settings Anthropic cannot honour become warnings. */
export function toAnthropicRequestBody(request: CompletionRequest, options: { provider: string; stream: boolean }): AnthropicRequestMapping {
  const warnings = new Set<string>();
  const systemParts: AnthropicTextBlock[] = [];
  const turns: AnthropicMessage[] = [];

  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
        // Only a top-level system prompt exists, so system messages from anywhere in the conversation move there.
        if (message.content !== '') systemParts.push({ type: 'text', text: message.content, ...cacheField(message.cacheControl) });
        break;
      case 'user':
        appendTurn(turns, 'user', userBlocks(message.content, options.provider, warnings));
        break;
      case 'assistant':
        appendTurn(turns, 'assistant', assistantBlocks(message, warnings));
        break;
      case 'tool':
        appendTurn(turns, 'user', [
          { type: 'tool_result', tool_use_id: message.toolCallId, content: message.content, ...(message.isError === true ? { is_error: true } : {}), ...cacheField(message.cacheControl) },
        ]);
        break;
    }
  }

  const callerTools = request.tools ?? [];
  const json = planJsonOutput(request.responseFormat, callerTools.length > 0);
  for (const warning of json.warnings) warnings.add(warning);
  if (json.systemInstruction !== undefined) systemParts.push({ type: 'text', text: json.systemInstruction });

  const body: AnthropicRequestBody = {
    model: request.model,
    max_tokens: request.maxTokens ?? request.defaultMaxTokens ?? FALLBACK_MAX_TOKENS,
    messages: turns,
  };
  if (systemParts.length > 0) {
    body.system = systemParts.some((part) => part.cache_control !== undefined) ? systemParts : systemParts.map((part) => part.text).join('\n\n');
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop;
  const warn = (text: string): void => void warnings.add(text);
  for (const field of ANTHROPIC_UNSUPPORTED) {
    if (asksForSomething(request, field)) refuseOrWarn(request, 'Anthropic', field, 'is not supported by Anthropic', warn);
  }
  if (request.user !== undefined) body.metadata = { user_id: request.user };

  if (callerTools.length > 0) {
    body.tools = callerTools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      input_schema: tool.parameters,
      ...cacheField(tool.cacheControl),
    }));
    if (callerTools.some((tool) => tool.strict === true)) warnings.add('strict tool schemas are not enforced by Anthropic');
    if (request.toolChoice !== undefined) body.tool_choice = toolChoice(request.toolChoice);
    // Anthropic's spelling of parallel_tool_calls: false, which lives on the tool choice ("auto" when none was given).
    if (request.parallelToolCalls === false && body.tool_choice?.type !== 'none') body.tool_choice = { ...(body.tool_choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  } else if (json.tool !== undefined) {
    body.tools = [json.tool];
    body.tool_choice = { type: 'tool', name: json.tool.name };
  }
  // Without tools there is nothing to choose from; the API would reject a tool_choice, and "none" is already the case.

  const thinking = thinkingFromEffort(request);
  if (thinking?.type === 'enabled' && request.thinking === undefined) {
    // An effort's budget must stay under max_tokens (Anthropic refuses otherwise) and at least 1024, its minimum.
    const budget = Math.min(thinking.budgetTokens, body.max_tokens - 1);
    if (budget >= 1024) body.thinking = { type: 'enabled', budget_tokens: budget };
    else refuseOrWarn(request, 'Anthropic', 'reasoningEffort', `needs a thinking budget of at least 1024 tokens below max_tokens (${body.max_tokens})`, warn);
  } else if (thinking !== undefined) {
    body.thinking = thinking.type === 'enabled' ? { type: 'enabled', budget_tokens: thinking.budgetTokens } : { type: thinking.type };
  }

  if (options.stream) body.stream = true;
  return { body, warnings: [...warnings], ...(json.tool !== undefined ? { jsonToolName: json.tool.name } : {}) };
}
