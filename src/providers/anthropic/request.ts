import { z } from 'zod';
import { parseDataUrl } from '../data-url.js';
import { ProviderError } from '../errors.js';
import type { CompletionRequest, ContentPart, Message, ResponseFormat, ToolCall, ToolChoice } from '../types.js';

/**
 * Used when neither the caller nor the catalog gave a max tokens value, since Anthropic requires one. Every Claude
 * model since Claude 3 accepts at least 4096 output tokens, so this never makes a request invalid.
 */
export const FALLBACK_MAX_TOKENS = 4096;

type ImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; source: ImageSource }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice = { type: 'auto' } | { type: 'any' } | { type: 'none' } | { type: 'tool'; name: string };

export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
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

function userBlocks(parts: ContentPart[], provider: string, warnings: Set<string>): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      // The API rejects empty text blocks.
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
      continue;
    }
    if (part.detail !== undefined && part.detail !== 'auto') warnings.add('image detail is not supported by Anthropic and was ignored');
    blocks.push({ type: 'image', source: imageSource(part.url, provider) });
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
  const blocks: AnthropicContentBlock[] = [];
  if (message.content !== null && message.content !== '') blocks.push({ type: 'text', text: message.content });
  for (const call of message.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolUseInput(call, warnings) });
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

/** Maps a normalized request to a Messages API body. Pure: settings Anthropic cannot honour become warnings. */
export function toAnthropicRequestBody(request: CompletionRequest, options: { provider: string; stream: boolean }): AnthropicRequestMapping {
  const warnings = new Set<string>();
  const systemParts: string[] = [];
  const turns: AnthropicMessage[] = [];

  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
        // Only a top-level system prompt exists, so system messages from anywhere in the conversation move there.
        if (message.content !== '') systemParts.push(message.content);
        break;
      case 'user':
        appendTurn(turns, 'user', userBlocks(message.content, options.provider, warnings));
        break;
      case 'assistant':
        appendTurn(turns, 'assistant', assistantBlocks(message, warnings));
        break;
      case 'tool':
        appendTurn(turns, 'user', [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }]);
        break;
    }
  }

  const callerTools = request.tools ?? [];
  const json = planJsonOutput(request.responseFormat, callerTools.length > 0);
  for (const warning of json.warnings) warnings.add(warning);
  if (json.systemInstruction !== undefined) systemParts.push(json.systemInstruction);

  const body: AnthropicRequestBody = {
    model: request.model,
    max_tokens: request.maxTokens ?? request.defaultMaxTokens ?? FALLBACK_MAX_TOKENS,
    messages: turns,
  };
  if (systemParts.length > 0) body.system = systemParts.join('\n\n');
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop;
  if (request.seed !== undefined) warnings.add('seed is not supported by Anthropic and was ignored');
  if (request.user !== undefined) body.metadata = { user_id: request.user };

  if (callerTools.length > 0) {
    body.tools = callerTools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      input_schema: tool.parameters,
    }));
    if (callerTools.some((tool) => tool.strict === true)) warnings.add('strict tool schemas are not enforced by Anthropic');
    if (request.toolChoice !== undefined) body.tool_choice = toolChoice(request.toolChoice);
  } else if (json.tool !== undefined) {
    body.tools = [json.tool];
    body.tool_choice = { type: 'tool', name: json.tool.name };
  }
  // Without tools there is nothing to choose from; the API would reject a tool_choice, and "none" is already the case.

  if (options.stream) body.stream = true;
  return { body, warnings: [...warnings], ...(json.tool !== undefined ? { jsonToolName: json.tool.name } : {}) };
}
