import { asksForSomething, refuseOrWarn, type ParameterField } from '../parameters.js';
import { parseDataUrl } from '../data-url.js';
import { argumentsObject } from '../tool-arguments.js';
import { toolResultNames } from '../tool-call-ids.js';
import type { CompletionRequest, ReasoningEffort, ToolDefinition } from '../types.js';

/** The body of POST /api/chat (only the fields we send). */
export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Bare base64, no `data:` prefix. */
  images?: string[];
  tool_calls?: Array<{ function: { name: string; arguments: Record<string, unknown> } }>;
  tool_name?: string;
}

export interface OllamaRequestBody {
  model: string;
  messages: OllamaMessage[];
  stream: boolean;
  format?: 'json' | Record<string, unknown>;
  tools?: Array<{ type: 'function'; function: { name: string; description?: string; parameters: Record<string, unknown> } }>;
  options?: { num_predict?: number; temperature?: number; top_p?: number; stop?: string[]; seed?: number; presence_penalty?: number; frequency_penalty?: number };
  /** Off, on, or a level for the models that take one (gpt-oss); the others treat a level as on. */
  think?: boolean | 'low' | 'medium' | 'high';
  logprobs?: boolean;
  top_logprobs?: number;
}

export interface OllamaRequestMapping {
  body: OllamaRequestBody;
  warnings: string[];
}

function toolsFor(request: CompletionRequest, warnings: string[]): ToolDefinition[] {
  const tools = request.tools ?? [];
  const choice = request.toolChoice;
  if (tools.length === 0 || choice === undefined || choice.type === 'auto') return tools;
  // Ollama has no tool_choice: "none" is honoured by sending no tools, a named tool by sending only that one.
  if (choice.type === 'none') return [];
  if (choice.type === 'required') {
    warnings.push('Ollama cannot force a tool call; tool choice "required" was treated as "auto".');
    return tools;
  }
  warnings.push(`Ollama cannot force a tool call; only the tool "${choice.name}" was offered, and the model may still answer without it.`);
  return tools.filter((tool) => tool.name === choice.name);
}

const OLLAMA_UNSUPPORTED: readonly ParameterField[] = ['logitBias', 'parallelToolCalls', 'n', 'serviceTier', 'store'];

const OLLAMA_THINK: Readonly<Record<ReasoningEffort, NonNullable<OllamaRequestBody['think']>>> = { none: false, minimal: 'low', low: 'low', medium: 'medium', high: 'high' };

/** Maps a normalized request onto Ollama's native chat body, with a warning for each setting it cannot honour. */
export function toOllamaRequestBody(request: CompletionRequest, stream: boolean): OllamaRequestMapping {
  const warnings: string[] = [];
  const resultNames = toolResultNames(request.messages);

  const messages = request.messages.map((message, index): OllamaMessage => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user': {
        const texts: string[] = [];
        const images: string[] = [];
        for (const part of message.content) {
          if (part.type === 'text') {
            texts.push(part.text);
            continue;
          }
          if (part.detail !== undefined && part.detail !== 'auto') {
            warnings.push(`Ollama has no per-image detail setting; detail "${part.detail}" was ignored.`);
          }
          const inline = parseDataUrl(part.url);
          if (inline) images.push(inline.base64);
          else warnings.push('Ollama accepts only inline (data: URL) images; a linked image was left out.');
        }
        return { role: 'user', content: texts.join('\n'), ...(images.length > 0 ? { images } : {}) };
      }
      case 'assistant': {
        const toolCalls = message.toolCalls.map((call) => {
          const args = argumentsObject(call.arguments);
          if (args === undefined) warnings.push(`The arguments of tool call ${call.id} are not a JSON object; they were sent as {}.`);
          return { function: { name: call.name, arguments: args ?? {} } };
        });
        return { role: 'assistant', content: message.content ?? '', ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
      }
      case 'tool': {
        const name = resultNames[index];
        return { role: 'tool', content: message.content, ...(name !== undefined ? { tool_name: name } : {}) };
      }
    }
  });

  const body: OllamaRequestBody = { model: request.model, messages, stream };

  const options: NonNullable<OllamaRequestBody['options']> = {};
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) options.stop = request.stop;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.presencePenalty !== undefined) options.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) options.frequency_penalty = request.frequencyPenalty;
  if (Object.keys(options).length > 0) body.options = options;
  if (request.reasoningEffort !== undefined) body.think = OLLAMA_THINK[request.reasoningEffort];
  if (request.logprobs === true || (request.topLogprobs ?? 0) > 0) {
    body.logprobs = true;
    if ((request.topLogprobs ?? 0) > 0) body.top_logprobs = request.topLogprobs;
  }
  const warn = (text: string): void => void warnings.push(`Ollama: ${text}`);
  for (const field of OLLAMA_UNSUPPORTED) {
    if (asksForSomething(request, field)) refuseOrWarn(request, 'Ollama', field, 'is not supported by Ollama', warn);
  }

  if (request.responseFormat?.type === 'json_object') body.format = 'json';
  if (request.responseFormat?.type === 'json_schema') body.format = request.responseFormat.schema;

  const tools = toolsFor(request, warnings);
  if (tools.some((tool) => tool.strict === true)) warnings.push('Ollama has no strict mode for tools; strict was ignored.');
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), parameters: tool.parameters },
    }));
  }

  if (request.user !== undefined) warnings.push('Ollama does not take an end-user id; user was not sent.');
  return { body, warnings };
}
