import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../errors.js';

/** Large enough for a few base64 images in one request; anything bigger is refused before it is buffered. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** The body had stopped arriving because the client went away; there is nobody left to answer. */
export class BodyAbortedError extends Error {
  constructor() {
    super('The client closed the connection before sending the whole body');
    this.name = 'BodyAbortedError';
  }
}

/**
 * Reads the whole body, refusing it as soon as it passes `limit` (by content-length up front, else by counting),
 * and parses it as JSON once. A body that arrives in one chunk is not copied.
 */
export function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let rest: Buffer[] | undefined;
    let size = 0;
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClosed);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (first === undefined) first = chunk;
      else (rest ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const buffer = rest ? Buffer.concat(rest, size) : first;
      if (buffer === undefined || size === 0) {
        reject(new BadRequestError('The request body is empty; send a JSON object'));
        return;
      }
      try {
        resolve(JSON.parse(buffer.toString('utf8')));
      } catch {
        reject(new BadRequestError('We could not parse the JSON body of your request'));
      }
    };
    // A request stream only fails when its connection does (a reset mid-body): the client is gone either way.
    const onError = (): void => {
      if (settled) return;
      cleanup();
      reject(new BodyAbortedError());
    };
    // 'close' before 'end' means the client went away mid-body.
    const onClosed = (): void => {
      if (settled) return;
      cleanup();
      reject(new BodyAbortedError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClosed);
  });
}
