import { z } from 'zod';
import { createOpenAIAdapter } from '../../../src/providers/openai/adapter.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../../fakes/openai.js';
import type { ConformanceTarget, InspectedRequest, ReceivedRequest } from '../harness.js';

const partSchema = z.object({ type: z.string(), text: z.string().optional() });
const chatBodySchema = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.union([z.string(), z.array(partSchema), z.null()]).optional() })),
  tools: z.array(z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) })).optional(),
  max_completion_tokens: z.number().optional(),
  max_tokens: z.number().optional(),
  temperature: z.number().optional(),
  response_format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional(),
});

function textOf(content: string | Array<z.infer<typeof partSchema>> | null | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => (part.type === 'text' ? part.text ?? '' : '')).join('');
}

/** Reads a Chat Completions body back in normalized terms; max tokens only from the field the provider takes. */
export function inspectChatRequest(request: ReceivedRequest, maxTokensField: 'max_completion_tokens' | 'max_tokens'): InspectedRequest {
  const body = chatBodySchema.parse(request.body);
  const system = body.messages.find((message) => message.role === 'system');
  const format = body.response_format?.type;
  return {
    model: body.model,
    stream: body.stream === true,
    systemPrompt: system === undefined ? undefined : textOf(system.content),
    userTexts: body.messages.filter((message) => message.role === 'user').map((message) => textOf(message.content)),
    imageCount: body.messages.reduce(
      (total, message) => total + (Array.isArray(message.content) ? message.content.filter((part) => part.type === 'image_url').length : 0),
      0,
    ),
    toolNames: (body.tools ?? []).map((tool) => tool.function.name),
    maxTokens: body[maxTokensField],
    temperature: body.temperature,
    responseFormat: format === 'json_object' || format === 'json_schema' ? format : undefined,
  };
}

export function bearerAuthorized(request: ReceivedRequest, apiKey: string): boolean {
  return request.headers.authorization === `Bearer ${apiKey}`;
}

export const openaiTarget: ConformanceTarget = {
  name: 'openai',
  model: 'gpt-4o-mini',
  startFake: () => startFakeOpenAI(),
  createAdapter: (baseUrl) => createOpenAIAdapter({ id: 'openai', kind: 'openai', name: 'OpenAI', baseUrl, apiKey: FAKE_OPENAI_KEY }),
  inspect: (request) => inspectChatRequest(request, 'max_completion_tokens'),
  apiKey: FAKE_OPENAI_KEY,
  authorized: (request) => bearerAuthorized(request, FAKE_OPENAI_KEY),
  supports: { images: true, jsonSchema: true, contentFilter: true },
};
