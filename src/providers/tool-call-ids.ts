import type { Message } from './types.js';

/**
 * An id for a tool call whose provider gives none (Gemini, Ollama). Built from the call's position in the
 * response, so the same response always yields the same ids; collisions across turns are harmless because
 * results are matched to the nearest earlier call (see toolResultNames).
 */
export function synthesizedToolCallId(index: number): string {
  return `call_${index}`;
}

/**
 * For each message, the name of the tool call a `tool` message answers (undefined for other messages or an
 * unknown id). Providers that key results by function name rather than id need it. The nearest earlier
 * assistant call with that id wins, since synthesized ids repeat from one turn to the next.
 */
export function toolResultNames(messages: Message[]): Array<string | undefined> {
  const names = new Map<string, string>();
  return messages.map((message) => {
    if (message.role === 'assistant') {
      for (const call of message.toolCalls) names.set(call.id, call.name);
      return undefined;
    }
    return message.role === 'tool' ? names.get(message.toolCallId) : undefined;
  });
}
