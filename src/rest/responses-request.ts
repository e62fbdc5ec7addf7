import { z, type ZodIssue } from 'zod';
import type { CompletionInput } from '../completions/types.js';
import { BadRequestError, fieldPathText } from '../errors.js';
import type { ContentPart, Message, ResponseFormat, ToolCall, ToolChoice, ToolDefinition } from '../providers/types.js';
import { mostSpecific } from './zod-issues.js';

/**
 * The OpenAI Responses request (wire-formats.md section 1b), only as far as Switchboard can serve it through the
 * normalized request every provider takes. Unknown fields are dropped; tools and items we cannot honour are
 * refused by name rather than silently ignored.
 */

const inputText = z.object({ type: z.literal('input_text'), text: z.string() });
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(['auto', 'low', 'high']).nullish(),
});
// Assistant turns sent back as items carry their text as output_text (or a refusal).
const outputText = z.object({ type: z.literal('output_text'), text: z.string() });
const refusal = z.object({ type: z.literal('refusal'), refusal: z.string() });
// Declared only to be refused with a clear message.
const inputFile = z.object({ type: z.literal('input_file') });
const inputAudio = z.object({ type: z.literal('input_audio') });

const contentPart = z.discriminatedUnion('type', [inputText, inputImage, outputText, refusal, inputFile, inputAudio]);

const messageItem = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'system', 'developer', 'assistant']),
  content: z.union([z.string(), z.array(contentPart)]),
});

const functionCallItem = z.object({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});

const functionCallOutputItem = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.discriminatedUnion('type', [inputText, inputImage, inputFile]))]),
});

const itemReference = z.object({ type: z.literal('item_reference'), id: z.string().min(1) });
/** Only OpenAI's own Responses API makes reasoning items; one sent back is dropped with a warning. */
const reasoningItem = z.object({ type: z.literal('reasoning') });

const item = z.union([functionCallItem, functionCallOutputItem, itemReference, reasoningItem, messageItem]);

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
// Any other tool type (web_search, file_search, computer_use…) is a tool OpenAI runs itself: refused by name.
const otherTool = z.object({ type: z.string() });

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
  z.object({ type: z.string() }),
]);

const textFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.unknown()),
    strict: z.boolean().nullish(),
    description: z.string().nullish(),
  }),
]);

export const responsesRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(item)]),
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  tools: z.array(z.union([functionTool, otherTool])).nullish(),
  tool_choice: toolChoice.nullish(),
  text: z.object({ format: textFormat.nullish() }).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  reasoning: z.object({ effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish() }).nullish(),
  metadata: z.record(z.unknown()).nullish(),
  user: z.string().nullish(),
  stream: z.boolean().nullish(),
  /** Accepted and answered truthfully in the response: the gateway stores content by its own switch, not per request. */
  store: z.boolean().nullish(),
  /** Switchboard: fallback models, tried in order after `model`, as on chat completions. */
  models: z.array(z.string().min(1)).nullish(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
type InputItem = z.infer<typeof item>;

/**
 * Looks up an earlier generation's output by an item id, for `item_reference` items. A string instead says why the
 * reference is dropped (the warning to give), for what a conversation can lose without changing its meaning.
 */
export type ItemResolver = (id: string, param: string) => Message | string;

export interface ParsedResponsesRequest {
  /** The service's input, without the conversation of `previous_response_id` (the handler prepends it). */
  input: CompletionInput;
  /** The raw body fields echoed in the response object. */
  body: ResponsesRequest;
  previousResponseId: string | null;
  stream: boolean;
  /** Settings accepted but not passed on, said in the response header and the generation's warnings. */
  warnings: string[];
}

function invalid(issue: ZodIssue): BadRequestError {
  const specific = mostSpecific(issue);
  const param = fieldPathText(specific.path);
  return new BadRequestError(param === '' ? `Invalid request body: ${specific.message}` : `Invalid value for '${param}': ${specific.message}`, specific.path);
}

function unsupported(param: string, message: string): BadRequestError {
  return new BadRequestError(message, param);
}

type Part = z.infer<typeof contentPart>;

function userParts(content: string | Part[], param: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part, index): ContentPart => {
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        return { type: 'text', text: part.text };
      case 'refusal':
        return { type: 'text', text: part.refusal };
      case 'input_image':
        if (part.image_url == null) throw unsupported(`${param}[${index}].image_url`, 'input_image needs an image_url (an https or data: URL); file ids are not supported');
        return part.detail ? { type: 'image', url: part.image_url, detail: part.detail } : { type: 'image', url: part.image_url };
      case 'input_file':
      case 'input_audio':
        throw unsupported(`${param}[${index}].type`, `Content parts of type '${part.type}' are not supported; send input_text and input_image parts`);
    }
  });
}

/** System, developer and assistant turns are text: images there have no place in the normalized message. */
function textOf(content: string | Part[], param: string): string {
  let text = '';
  for (const part of userParts(content, param)) {
    if (part.type !== 'text') throw unsupported(param, 'Only user messages may carry images');
    text += part.text;
  }
  return text;
}

/**
 * Items into normalized messages. An assistant turn's text and the function calls after it are one assistant
 * message, as a provider expects them (a model's answer and the calls it made in the same turn).
 */
export function itemsToMessages(items: InputItem[], resolve: ItemResolver | undefined, warnings: string[]): Message[] {
  const messages: Message[] = [];
  const openAssistant = (): Extract<Message, { role: 'assistant' }> => {
    const last = messages.at(-1);
    if (last?.role === 'assistant') return last;
    const created: Extract<Message, { role: 'assistant' }> = { role: 'assistant', content: null, toolCalls: [] };
    messages.push(created);
    return created;
  };
  for (const [index, source] of items.entries()) {
    const param = `input[${index}]`;
    if (!('type' in source) || source.type === undefined || source.type === 'message') {
      const message = source as z.infer<typeof messageItem>;
      switch (message.role) {
        case 'system':
        case 'developer':
          messages.push({ role: 'system', content: textOf(message.content, `${param}.content`) });
          break;
        case 'user':
          messages.push({ role: 'user', content: userParts(message.content, `${param}.content`) });
          break;
        case 'assistant': {
          const text = textOf(message.content, `${param}.content`);
          const last = messages.at(-1);
          // A second text item of the same turn (rare) joins the first; calls already made start a new turn.
          if (last?.role === 'assistant' && last.toolCalls.length === 0) last.content = (last.content ?? '') + text;
          else messages.push({ role: 'assistant', content: text, toolCalls: [] });
          break;
        }
      }
      continue;
    }
    switch (source.type) {
      case 'function_call': {
        const call: ToolCall = { id: source.call_id, name: source.name, arguments: source.arguments };
        openAssistant().toolCalls.push(call);
        break;
      }
      case 'function_call_output': {
        const output = typeof source.output === 'string' ? source.output : textOf(source.output, `${param}.output`);
        messages.push({ role: 'tool', toolCallId: source.call_id, content: output });
        break;
      }
      case 'item_reference': {
        if (!resolve) throw unsupported(`${param}.id`, 'item_reference items need stored content');
        const referenced = resolve(source.id, `${param}.id`);
        if (typeof referenced === 'string') {
          warnings.push(referenced);
          break;
        }
        const last = messages.at(-1);
        // A referenced answer's calls join the turn like resent function_call items would.
        if (referenced.role === 'assistant' && last?.role === 'assistant' && last.toolCalls.length === 0 && (last.content ?? '') === '') {
          messages[messages.length - 1] = referenced;
        } else messages.push(referenced);
        break;
      }
      case 'reasoning':
        warnings.push(`${param}: reasoning items are dropped; only OpenAI's own Responses API makes them`);
        break;
    }
  }
  return messages;
}

function toTools(tools: NonNullable<ResponsesRequest['tools']>): ToolDefinition[] {
  return tools.map((tool, index) => {
    const parsed = functionTool.safeParse(tool);
    if (!parsed.success) {
      if (tool.type === 'function') throw invalid({ ...parsed.error.issues[0]!, path: ['tools', index, ...parsed.error.issues[0]!.path] });
      throw unsupported(`tools[${index}].type`, `Tools of type '${tool.type}' are not supported: only function tools, which your code runs`);
    }
    const definition = parsed.data;
    const result: ToolDefinition = { name: definition.name, parameters: definition.parameters ?? { type: 'object', properties: {} } };
    if (definition.description != null) result.description = definition.description;
    if (definition.strict != null) result.strict = definition.strict;
    return result;
  });
}

function toToolChoice(choice: NonNullable<ResponsesRequest['tool_choice']>): ToolChoice {
  if (typeof choice === 'string') return { type: choice };
  if (choice.type === 'function' && 'name' in choice && typeof choice.name === 'string') return { type: 'tool', name: choice.name };
  throw unsupported('tool_choice', `tool_choice of type '${choice.type}' is not supported; use 'auto', 'none', 'required' or a function`);
}

function toResponseFormat(format: NonNullable<NonNullable<ResponsesRequest['text']>['format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  return format.strict != null ? { type: 'json_schema', name: format.name, schema: format.schema, strict: format.strict } : { type: 'json_schema', name: format.name, schema: format.schema };
}

/** Validates a Responses body and maps it onto the service's input; throws BadRequestError naming the parameter. */
export function parseResponsesRequest(raw: unknown, resolve?: ItemResolver): ParsedResponsesRequest {
  const parsed = responsesRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw issue ? invalid(issue) : new BadRequestError('Invalid request body');
  }
  const body = parsed.data;
  const warnings: string[] = [];

  const messages: Message[] = [];
  // `instructions` is the request's system message, ahead of everything (wire-formats.md 1b).
  if (body.instructions != null && body.instructions !== '') messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: [{ type: 'text', text: body.input }] });
  else messages.push(...itemsToMessages(body.input, resolve, warnings));

  const input: CompletionInput = { model: body.model, messages };
  if (body.models != null && body.models.length > 0) input.models = body.models;
  if (body.max_output_tokens != null) input.maxTokens = body.max_output_tokens;
  if (body.temperature != null) input.temperature = body.temperature;
  if (body.top_p != null) input.topP = body.top_p;
  if (body.tools != null && body.tools.length > 0) input.tools = toTools(body.tools);
  if (body.tool_choice != null) input.toolChoice = toToolChoice(body.tool_choice);
  if (body.text?.format != null) input.responseFormat = toResponseFormat(body.text.format);
  if (body.user != null) input.user = body.user;
  if (body.metadata != null) input.metadata = body.metadata;
  const effort = body.reasoning?.effort;
  if (effort != null) {
    // xhigh is newer than Chat Completions' scale, which every provider mapping reads: it goes as its top step, said.
    if (effort === 'xhigh') warnings.push("reasoning.effort 'xhigh' was sent as 'high', the highest effort every provider mapping knows");
    input.reasoningEffort = effort === 'xhigh' ? 'high' : effort;
  }

  return { input, body, previousResponseId: body.previous_response_id ?? null, stream: body.stream === true, warnings };
}
