import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Decides whether a GraphQL-over-HTTP request may go on to Yoga, which has no body limit of its own. A declared
 * content-length over the limit is refused before any byte is read; Node never delivers more than a declared
 * length, so that check is enough for such requests. A chunked body has no declared length: it is read here,
 * counting, and handed to Yoga only if it stayed within the limit.
 * Resolves false when it has answered the request itself (413, or nothing for a client that went away).
 */
export async function admitGraphQLBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<boolean> {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return true;
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    if (Number(declared) <= limit) return true;
    refuseTooLarge(req, res, limit);
    return false;
  }
  if (req.headers['transfer-encoding'] === undefined) return true;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        refuseTooLarge(req, res, limit);
        return false;
      }
      chunks.push(chunk);
    }
  } catch {
    // The client reset the connection mid-body: nobody is left to answer.
    return false;
  }
  attachBufferedBody(req, chunks, size);
  return true;
}

/**
 * Yoga (through @whatwg-node/server) takes a request's `body` property instead of the stream when the property is an
 * object with at least one own key; an async iterable over the chunks already read qualifies without copying them.
 */
function attachBufferedBody(req: IncomingMessage, chunks: Buffer[], size: number): void {
  const body = {
    size,
    async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
      yield* chunks;
    },
  };
  Object.defineProperty(req, 'body', { value: body, enumerable: true, configurable: true });
}

function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const text = JSON.stringify({
    errors: [{ message: `The request body is larger than the limit of ${limit} bytes`, extensions: { code: 'BAD_REQUEST', limit } }],
  });
  // Closing the connection is what stops the rest of an oversized body from being read and thrown away.
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
  const socket = req.socket;
  res.end(text, () => socket.destroySoon());
}
