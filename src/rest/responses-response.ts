import type { PricedUsage } from '../completions/types.js';
import { BadRequestError } from '../errors.js';
import { picosToUsd } from '../money.js';
import type { FinishReason, ToolCall } from '../providers/types.js';
import type { ResponsesRequest } from './responses-request.js';

/**
 * The Responses API's response object and output items (wire-formats.md section 1b), built from what the completion
 * service returns. Ids are derived from the generation id, so a response, its items and its ledger row name each
 * other without a lookup table: `gen_X` answers as `resp_X`, its message as `msg_X`, its calls as `fc_X_<n>`.
 */

const GENERATION_PREFIX = 'gen_';
const RESPONSE_PREFIX = 'resp_';

function suffix(generationId: string): string {
  return generationId.startsWith(GENERATION_PREFIX) ? generationId.slice(GENERATION_PREFIX.length) : generationId;
}

export function responseId(generationId: string): string {
  return RESPONSE_PREFIX + suffix(generationId);
}

/** The generation a response id names; the generation id itself is accepted too (it is what the ledger shows). */
export function generationIdOfResponse(id: string, param: string): string {
  if (id.startsWith(RESPONSE_PREFIX)) return GENERATION_PREFIX + id.slice(RESPONSE_PREFIX.length);
  if (id.startsWith(GENERATION_PREFIX)) return id;
  throw new BadRequestError(`'${id}' is not a response id: they start with '${RESPONSE_PREFIX}'`, param);
}

export function messageItemId(generationId: string): string {
  return `msg_${suffix(generationId)}`;
}

export function functionCallItemId(generationId: string, index: number): string {
  return `fc_${suffix(generationId)}_${index}`;
}

/** The generation an output item id came from, for `item_reference`; undefined for ids we did not mint. */
export function generationIdOfItem(itemId: string): { generationId: string; kind: 'message' } | { generationId: string; kind: 'function_call'; index: number } | undefined {
  if (itemId.startsWith('msg_')) return { generationId: GENERATION_PREFIX + itemId.slice(4), kind: 'message' };
  const call = /^fc_(.+)_(\d+)$/.exec(itemId);
  if (call) return { generationId: GENERATION_PREFIX + call[1]!, kind: 'function_call', index: Number(call[2]) };
  return undefined;
}

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
  /** Switchboard's: the cost in dollars, null when a price is unknown (as `usage.cost_usd` on chat completions). */
  cost_usd: number | null;
}

export function responsesUsage(usage: PricedUsage): ResponsesUsage {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.totalTokens,
    cost_usd: usage.costPicos === null ? null : picosToUsd(usage.costPicos),
  };
}

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface MessageItem {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}

export type OutputItem = MessageItem | FunctionCallItem;

export function outputText(text: string): OutputText {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** The answer as output items: its text as one message (when there is any), then one item per function call. */
export function outputItems(generationId: string, content: string | null, toolCalls: ToolCall[], status: MessageItem['status'] = 'completed'): OutputItem[] {
  const items: OutputItem[] = [];
  if (content !== null && content !== '') items.push({ type: 'message', id: messageItemId(generationId), status, role: 'assistant', content: [outputText(content)] });
  toolCalls.forEach((call, index) => items.push({ type: 'function_call', id: functionCallItemId(generationId, index), call_id: call.id, name: call.name, arguments: call.arguments, status }));
  return items;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** A successful finish is `completed`, except a cut-off answer, which OpenAI reports as `incomplete` with its reason. */
export function statusOf(reason: FinishReason): { status: ResponseStatus; incomplete: { reason: 'max_output_tokens' | 'content_filter' } | null } {
  if (reason === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (reason === 'content_filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  return { status: 'completed', incomplete: null };
}

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: null };
  store: boolean;
  temperature: number | null;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  truncation: 'disabled';
  usage: ResponsesUsage | null;
  user: string | null;
  metadata: Record<string, unknown>;
}

/** What every response object repeats from the request that made it, as OpenAI echoes it. */
export interface ResponseEcho {
  body: Pick<ResponsesRequest, 'instructions' | 'max_output_tokens' | 'previous_response_id' | 'reasoning' | 'temperature' | 'text' | 'tool_choice' | 'tools' | 'top_p' | 'user' | 'metadata'>;
  /** Whether the gateway keeps this response (SWITCHBOARD_STORE_CONTENT), whatever the request's `store` said. */
  stored: boolean;
}

export function responseObject(
  echo: ResponseEcho,
  fields: { generationId: string; createdAt: number; model: string; status: ResponseStatus; output: OutputItem[]; usage: ResponsesUsage | null; error?: { code: string; message: string } | null; incomplete?: { reason: string } | null },
): ResponseObject {
  const { body } = echo;
  return {
    id: responseId(fields.generationId),
    object: 'response',
    created_at: fields.createdAt,
    status: fields.status,
    error: fields.error ?? null,
    incomplete_details: fields.incomplete ?? null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: fields.model,
    output: fields.output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    store: echo.stored,
    temperature: body.temperature ?? null,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? null,
    truncation: 'disabled',
    usage: fields.usage,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}
