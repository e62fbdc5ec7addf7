/** Framing for provider streams: Server-Sent Events and NDJSON, from raw body chunks. */

export interface SseEvent {
  /** The `event:` field, when the provider names its events. */
  event?: string;
  /** The `data:` lines joined with newlines. */
  data: string;
}

/**
 * Yields each SSE event as soon as its terminating blank line arrives (no buffering past that),
 * accepting LF, CR and CRLF line endings, several data lines per event and comment lines.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: string | undefined;
  let data: string[] = [];
  let sawData = false;

  function* lines(final: boolean): Generator<string> {
    let start = 0;
    for (let index = 0; index < buffer.length; index++) {
      const char = buffer.charCodeAt(index);
      if (char !== 10 && char !== 13) continue;
      // A CR at the very end may be half of a CRLF split across chunks.
      if (char === 13 && index === buffer.length - 1 && !final) break;
      yield buffer.slice(start, index);
      if (char === 13 && buffer.charCodeAt(index + 1) === 10) index++;
      start = index + 1;
    }
    buffer = buffer.slice(start);
  }

  function* handle(line: string): Generator<SseEvent> {
    if (line === '') {
      if (sawData) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') };
      event = undefined;
      data = [];
      sawData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data.push(value);
      sawData = true;
    } else if (field === 'event') {
      event = value;
    }
  }

  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) yield* handle(line);
  }
  buffer += decoder.decode();
  for (const line of lines(true)) yield* handle(line);
  // A stream that ends without the final blank line still delivers its last event.
  if (buffer !== '') yield* handle(buffer);
  buffer = '';
  yield* handle('');
}

/** Yields each non-empty line of an NDJSON body. */
export async function* parseNdjson(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') yield line;
      newline = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer.trim() !== '') yield buffer.trim();
}
