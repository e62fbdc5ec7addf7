import { readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { startFakeServer, type FakeServer } from './server.js';

/** How a recorded body is cut into writes: whole, in fixed-size byte slices, or with its line endings made CRLF. */
export type Framing = { kind: 'whole' } | { kind: 'slices'; bytes: number } | { kind: 'crlf'; bytes: number };

export const FRAMINGS: ReadonlyArray<{ name: string; framing: Framing }> = [
  { name: 'in one write', framing: { kind: 'whole' } },
  // One byte at a time splits every line, every CRLF and every multi-byte UTF-8 character.
  { name: 'one byte per write', framing: { kind: 'slices', bytes: 1 } },
  { name: 'in 7-byte writes', framing: { kind: 'slices', bytes: 7 } },
  { name: 'with CRLF line endings, in 5-byte writes', framing: { kind: 'crlf', bytes: 5 } },
];

/** A recorded body, read as bytes exactly as the file holds them. */
export function readFixture(path: string): Buffer {
  return readFileSync(new URL(`../fixtures/${path}`, import.meta.url));
}

function pieces(body: Buffer, framing: Framing): Buffer[] {
  if (framing.kind === 'whole') return [body];
  const bytes = framing.kind === 'crlf' ? Buffer.from(body.toString('utf8').replace(/\n/g, '\r\n'), 'utf8') : body;
  const out: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += framing.bytes) out.push(bytes.subarray(start, start + framing.bytes));
  return out;
}

export interface ReplayServer extends FakeServer {
  /** The next request gets this body with a 200 and `contentType`, cut into writes as `framing` says. */
  replay(body: Buffer, contentType: string, framing: Framing): void;
}

/**
 * A fake upstream that answers each request with a recorded body, byte for byte, whatever was asked: the test is
 * of how the adapter reads a real exchange, not of what it sends. Each write waits a turn of the event loop so the
 * slices leave as separate writes rather than one coalesced buffer.
 */
export async function startReplayServer(): Promise<ReplayServer> {
  const queue: Array<{ body: Buffer; contentType: string; framing: Framing }> = [];
  const server = await startFakeServer(async ({ res }) => {
    const next = queue.shift();
    if (next === undefined) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('no recorded body queued');
      return;
    }
    res.writeHead(200, { 'content-type': next.contentType });
    res.flushHeaders();
    for (const piece of pieces(next.body, next.framing)) {
      if (res.destroyed) return;
      res.write(piece);
      await nextTurn();
    }
    res.end();
  });
  return { ...server, replay: (body, contentType, framing) => queue.push({ body, contentType, framing }) };
}
