import { describe, expect, it } from 'vitest';
import { parseNdjson, parseSse } from '../../src/providers/sse.js';
import { collect } from '../helpers/collect.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

describe('parseSse', () => {
  it('joins events split across chunks, with CRLF, comments, names and multi-line data', async () => {
    const events = await collect(parseSse(chunks(': keep-alive\r', '\n\r\nevent: ping\r\ndata: {"a"', ':1}\r\n\r', '\ndata: line one\ndata: line two\n\n', 'data: [DONE]\n\n')));
    expect(events).toEqual([{ event: 'ping', data: '{"a":1}' }, { data: 'line one\nline two' }, { data: '[DONE]' }]);
  });

  it('delivers a last event that has no blank line after it', async () => {
    expect(await collect(parseSse(chunks('data: tail')))).toEqual([{ data: 'tail' }]);
  });

  it('decodes a multi-byte character split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo\n\n');
    async function* split(): AsyncGenerator<Uint8Array> {
      yield bytes.slice(0, 8);
      yield bytes.slice(8);
    }
    expect(await collect(parseSse(split()))).toEqual([{ data: 'héllo' }]);
  });
});

describe('parseNdjson', () => {
  it('yields one line per object across chunk boundaries', async () => {
    expect(await collect(parseNdjson(chunks('{"a":1}\n{"b"', ':2}\n\n{"c":3}')))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});
