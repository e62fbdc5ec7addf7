import { z } from 'zod';
import { createOllamaAdapter } from '../../../src/providers/ollama/adapter.js';
import { startFakeOllama } from '../../fakes/ollama.js';
import type { ConformanceTarget, InspectedRequest, ReceivedRequest } from '../harness.js';

/** Ollama itself takes no key; the suite runs it as if behind an authenticating proxy so the credential path is exercised. */
const API_KEY = 'ollama-proxy-key-51d2e8';

const bodySchema = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.string(), images: z.array(z.string()).optional() })).default([]),
  tools: z.array(z.object({ function: z.object({ name: z.string() }) })).default([]),
  options: z.object({ num_predict: z.number().optional(), temperature: z.number().optional() }).default({}),
  format: z.union([z.literal('json'), z.record(z.unknown())]).optional(),
});

function inspect(request: ReceivedRequest): InspectedRequest {
  const body = bodySchema.parse(request.body);
  const users = body.messages.filter((message) => message.role === 'user');
  return {
    model: body.model,
    // Ollama streams unless told otherwise.
    stream: body.stream ?? true,
    systemPrompt: body.messages.find((message) => message.role === 'system')?.content,
    userTexts: users.map((message) => message.content),
    imageCount: users.reduce((count, message) => count + (message.images?.length ?? 0), 0),
    toolNames: body.tools.map((tool) => tool.function.name),
    maxTokens: body.options.num_predict,
    temperature: body.options.temperature,
    responseFormat: body.format === undefined ? undefined : body.format === 'json' ? 'json_object' : 'json_schema',
  };
}

export const ollamaTarget: ConformanceTarget = {
  name: 'ollama',
  model: 'llama3.2',
  apiKey: API_KEY,
  startFake: () => startFakeOllama({ apiKey: API_KEY }),
  createAdapter: (baseUrl) => createOllamaAdapter({ id: 'ollama', kind: 'ollama', name: 'Ollama', baseUrl, apiKey: API_KEY }),
  inspect,
  authorized: (request) => request.headers['authorization'] === `Bearer ${API_KEY}`,
  supports: { images: true, jsonSchema: true, contentFilter: false },
};
