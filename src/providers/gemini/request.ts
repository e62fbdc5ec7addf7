import { asksForSomething, refuseOrWarn, thinkingFromEffort, type ParameterField } from '../parameters.js';
import { parseDataUrl } from '../data-url.js';
import { argumentsObject } from '../tool-arguments.js';
import { toolResultNames } from '../tool-call-ids.js';
import type { CompletionRequest, ContentPart, ToolChoice } from '../types.js';

/** The request body of `generateContent` / `streamGenerateContent` (only the fields we send). */
export interface GeminiPart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { mimeType: string; fileUri: string };
  functionCall?: { name: string; args: Record<string, unknown> };
  functionResponse?: { name: string; response: Record<string, unknown> };
}

export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

export interface GeminiRequestBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  generationConfig?: {
    maxOutputTokens?: number;
    temperature?: number;
    topP?: number;
    stopSequences?: string[];
    seed?: number;
    presencePenalty?: number;
    frequencyPenalty?: number;
    candidateCount?: number;
    responseLogprobs?: boolean;
    logprobs?: number;
    responseMimeType?: string;
    responseJsonSchema?: Record<string, unknown>;
    thinkingConfig?: { thinkingBudget: number };
  };
  tools?: Array<{ functionDeclarations: Array<{ name: string; description?: string; parametersJsonSchema: Record<string, unknown> }> }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
}

export interface GeminiRequestMapping {
  body: GeminiRequestBody;
  warnings: string[];
}

/** Gemini rejects more stop sequences than this with a 400. */
const MAX_STOP_SEQUENCES = 5;

const IMAGE_TYPES_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

function linkedImageType(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : IMAGE_TYPES_BY_EXTENSION[extension];
}

function imagePart(part: Extract<ContentPart, { type: 'image' }>, warnings: string[]): GeminiPart {
  if (part.detail !== undefined && part.detail !== 'auto') {
    warnings.push(`Gemini has no per-image detail setting; detail "${part.detail}" was ignored.`);
  }
  const inline = parseDataUrl(part.url);
  if (inline) return { inlineData: { mimeType: inline.mediaType, data: inline.base64 } };
  // Gemini fetches public (or signed) http(s) URLs itself when they come as fileData, but requires a MIME type.
  const known = linkedImageType(part.url);
  if (known === undefined) {
    warnings.push('Gemini needs the MIME type of a linked image and the URL does not show it; it was sent as image/jpeg.');
  }
  return { fileData: { mimeType: known ?? 'image/jpeg', fileUri: part.url } };
}

/** Gemini wants the function's result as an object; anything else is wrapped as the documented `output` key. */
function functionResult(content: string): Record<string, unknown> {
  const parsed = argumentsObject(content);
  return parsed !== undefined && content.trim() !== '' ? parsed : { output: content };
}

function toolConfig(choice: ToolChoice): NonNullable<GeminiRequestBody['toolConfig']> {
  switch (choice.type) {
    case 'auto':
      return { functionCallingConfig: { mode: 'AUTO' } };
    case 'none':
      return { functionCallingConfig: { mode: 'NONE' } };
    case 'required':
      return { functionCallingConfig: { mode: 'ANY' } };
    case 'tool':
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
  }
}

/** What generateContent has no setting for. */
const GEMINI_UNSUPPORTED: readonly ParameterField[] = ['logitBias', 'parallelToolCalls', 'serviceTier', 'store'];

/** Maps a normalized request onto Gemini's body, with a warning for each setting Gemini cannot honour. */
export function toGeminiRequestBody(request: CompletionRequest): GeminiRequestMapping {
  const warnings: string[] = [];
  const contents: GeminiContent[] = [];
  const systemParts: Array<{ text: string }> = [];
  const resultNames = toolResultNames(request.messages);

  // Adjacent turns of one role are merged: the answers to parallel calls must arrive together in one turn.
  const push = (role: GeminiContent['role'], parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        if (contents.length > 0) warnings.push('Gemini takes one system instruction; a system message from mid-conversation was moved into it.');
        systemParts.push({ text: message.content });
        return;
      case 'user':
        push(
          'user',
          message.content.map((part) => (part.type === 'text' ? { text: part.text } : imagePart(part, warnings))),
        );
        return;
      case 'assistant': {
        const parts: GeminiPart[] = [];
        if (message.content !== null && message.content !== '') parts.push({ text: message.content });
        for (const call of message.toolCalls) {
          const args = argumentsObject(call.arguments);
          if (args === undefined) warnings.push(`The arguments of tool call ${call.id} are not a JSON object; they were sent as {}.`);
          parts.push({ functionCall: { name: call.name, args: args ?? {} } });
        }
        push('model', parts);
        return;
      }
      case 'tool': {
        let name = resultNames[index];
        if (name === undefined) {
          warnings.push(`No earlier tool call has id ${message.toolCallId}; its result was sent under that id as the function name.`);
          name = message.toolCallId;
        }
        push('user', [{ functionResponse: { name, response: functionResult(message.content) } }]);
        return;
      }
    }
  });

  const body: GeminiRequestBody = { contents };
  if (systemParts.length > 0) body.systemInstruction = { parts: systemParts };

  const generationConfig: NonNullable<GeminiRequestBody['generationConfig']> = {};
  if (request.maxTokens !== undefined) generationConfig.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) generationConfig.temperature = request.temperature;
  if (request.topP !== undefined) generationConfig.topP = request.topP;
  if (request.seed !== undefined) generationConfig.seed = request.seed;
  if (request.presencePenalty !== undefined) generationConfig.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) generationConfig.frequencyPenalty = request.frequencyPenalty;
  if (request.n !== undefined && request.n > 1) generationConfig.candidateCount = request.n;
  if (request.logprobs === true || (request.topLogprobs ?? 0) > 0) {
    generationConfig.responseLogprobs = true;
    if ((request.topLogprobs ?? 0) > 0) generationConfig.logprobs = request.topLogprobs;
  }
  const warn = (text: string): void => void warnings.push(`Gemini: ${text}`);
  for (const field of GEMINI_UNSUPPORTED) {
    if (asksForSomething(request, field)) refuseOrWarn(request, 'Gemini', field, 'is not supported by the Gemini adapter', warn);
  }
  if (request.stop !== undefined && request.stop.length > 0) {
    if (request.stop.length > MAX_STOP_SEQUENCES) {
      warnings.push(`Gemini accepts at most ${MAX_STOP_SEQUENCES} stop sequences; only the first ${MAX_STOP_SEQUENCES} were sent.`);
    }
    generationConfig.stopSequences = request.stop.slice(0, MAX_STOP_SEQUENCES);
  }
  const format = request.responseFormat;
  if (format?.type === 'json_object') generationConfig.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    generationConfig.responseMimeType = 'application/json';
    // responseJsonSchema takes plain JSON Schema; responseSchema would need a conversion to Gemini's OpenAPI subset.
    generationConfig.responseJsonSchema = format.schema;
  }
  // Gemini's budget is in tokens too; -1 leaves it to the model. Off is left alone: some models cannot stop thinking.
  const thinking = thinkingFromEffort(request);
  if (thinking?.type === 'enabled') generationConfig.thinkingConfig = { thinkingBudget: thinking.budgetTokens };
  else if (thinking?.type === 'adaptive') generationConfig.thinkingConfig = { thinkingBudget: -1 };
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;

  if (request.tools !== undefined && request.tools.length > 0) {
    if (request.tools.some((tool) => tool.strict === true)) {
      warnings.push('Gemini has no strict mode for function declarations; strict was ignored.');
    }
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool) => ({
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          parametersJsonSchema: tool.parameters,
        })),
      },
    ];
    if (request.toolChoice !== undefined) body.toolConfig = toolConfig(request.toolChoice);
  } else if (request.toolChoice !== undefined && request.toolChoice.type !== 'none' && request.toolChoice.type !== 'auto') {
    warnings.push('A tool choice was given without any tools; it was ignored.');
  }

  if (request.user !== undefined) warnings.push('Gemini does not take an end-user id; user was not sent.');
  return { body, warnings };
}
