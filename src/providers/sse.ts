/** Framing for provider streams: Server-Sent Events and NDJSON, from raw body chunks. */
import { ProviderError } from './errors.js';

/**
 * Set by streamBody (src/providers/http.ts) on the bodies it returns: which provider is speaking and how long one line
 * (or one SSE event) may grow. Without it an upstream that never sends a newline grows the buffer without end.
 */
export const STREAM_LIMITS: unique symbol = Symbol('switchboard.streamLimits');

export interface StreamLimits {
  provider: string;
  maxLineBytes: number;
}

type FramedBody = AsyncIterable<Uint8Array | string> & { [STREAM_LIMITS]?: StreamLimits };

/** For bodies that did not come through streamBody (tests, tools): the same default as SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES. */
const DEFAULT_LIMITS: StreamLimits = { provider: 'upstream', maxLineBytes: 8 * 1024 * 1024 };

/**
 * A line or event past the limit. Retryable (`malformed_response`), as a broken stream is: nothing was shown to the
 * client yet if it is the first line, and another attempt costs at most the limit in memory.
 */
function tooLong(limits: StreamLimits, what: string): ProviderError {
  return new ProviderError(`${limits.provider} sent a stream ${what} too large to read (more than ${limits.maxLineBytes} bytes)`, {
    provider: limits.provider,
    kind: 'malformed_response',
  });
}

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
export async function* parseSse(body: FramedBody): AsyncGenerator<SseEvent> {
  const limits = body[STREAM_LIMITS] ?? DEFAULT_LIMITS;
  const decoder = new TextDecoder();
  // The unfinished line, kept as its pieces: appending to one string and scanning it again on every chunk was
  // quadratic, and its discarded copies held ~150 MB before the GC caught up with an 8 MB line.
  let carry: string[] = [];
  let carryLength = 0;
  /** The last chunk ended with CR: an LF at the start of the next one is the rest of that CRLF. */
  let skipLf = false;
  let event: string | undefined;
  let data: string[] = [];
  let dataLength = 0;
  let sawData = false;

  function take(tail: string): string {
    if (carryLength === 0) return tail;
    carry.push(tail);
    const line = carry.join('');
    carry = [];
    carryLength = 0;
    return line;
  }

  function* lines(text: string): Generator<string> {
    if (text === '') return;
    let start = 0;
    if (skipLf) {
      skipLf = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    for (let index = start; index < text.length; index++) {
      const char = text.charCodeAt(index);
      if (char !== 10 && char !== 13) continue;
      yield take(text.slice(start, index));
      if (char === 13) {
        if (index + 1 === text.length) skipLf = true;
        else if (text.charCodeAt(index + 1) === 10) index++;
      }
      start = index + 1;
    }
    if (start < text.length) {
      carry.push(text.slice(start));
      carryLength += text.length - start;
      // Characters, not bytes: a UTF-16 unit stands for one to three bytes, so this never lets more than the limit in.
      if (carryLength > limits.maxLineBytes) throw tooLong(limits, 'line');
    }
  }

  function* handle(line: string): Generator<SseEvent> {
    if (line === '') {
      if (sawData) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') };
      event = undefined;
      data = [];
      dataLength = 0;
      sawData = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      // Many short data lines without the blank line that ends an event would grow it just as well.
      dataLength += value.length + 1;
      if (dataLength > limits.maxLineBytes) throw tooLong(limits, 'event');
      data.push(value);
      sawData = true;
    } else if (field === 'event') {
      event = value;
    }
  }

  for await (const chunk of body) {
    for (const line of lines(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))) yield* handle(line);
  }
  for (const line of lines(decoder.decode())) yield* handle(line);
  // A stream that ends without the final blank line still delivers its last event.
  if (carryLength > 0) yield* handle(take(''));
  yield* handle('');
}

/** Yields each non-empty line of an NDJSON body. */
export async function* parseNdjson(body: FramedBody): AsyncGenerator<string> {
  const limits = body[STREAM_LIMITS] ?? DEFAULT_LIMITS;
  const decoder = new TextDecoder();
  // As in parseSse: the unfinished line as pieces, each chunk scanned once.
  let carry: string[] = [];
  let carryLength = 0;
  function* lines(text: string): Generator<string> {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      carry.push(text.slice(start, newline));
      const line = carry.join('').trim();
      carry = [];
      carryLength = 0;
      if (line !== '') yield line;
      start = newline + 1;
    }
    if (start < text.length) {
      carry.push(text.slice(start));
      carryLength += text.length - start;
      if (carryLength > limits.maxLineBytes) throw tooLong(limits, 'line');
    }
  }
  for await (const chunk of body) yield* lines(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  yield* lines(decoder.decode());
  const last = carry.join('').trim();
  if (last !== '') yield last;
}
