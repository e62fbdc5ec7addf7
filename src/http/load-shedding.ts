import type { ServerResponse } from 'node:http';

/** Seconds a shed caller is asked to wait: long enough for a burst to pass, short enough not to idle a client. */
export const SHED_RETRY_AFTER_SECONDS = 1;

/**
 * Counts the requests and WebSocket operations in flight, one counter for both transports, and refuses a slot
 * beyond `max`. Refusing at once (503 + Retry-After) keeps a burst from queueing without bound inside the gateway,
 * where every waiting request holds memory and makes the ones already running slower.
 */
export class InflightLimiter {
  private inflight = 0;

  constructor(readonly max: number) {}

  get count(): number {
    return this.inflight;
  }

  /** Takes a slot; false when all are taken (the caller sheds the request). */
  tryAcquire(): boolean {
    if (this.inflight >= this.max) return false;
    this.inflight++;
    return true;
  }

  release(): void {
    if (this.inflight > 0) this.inflight--;
  }

  /**
   * Holds a slot for an HTTP request until its response is done. 'close' fires once for a finished response and
   * for one whose client went away, so every slot is given back exactly once.
   */
  holdUntilClosed(res: ServerResponse): boolean {
    if (!this.tryAcquire()) return false;
    res.once('close', () => this.release());
    return true;
  }
}

/** The 503 of a shed request, in the OpenAI error shape the REST facade uses (GraphQL clients read the status). */
export function sendShed(res: ServerResponse, max: number): void {
  const text = JSON.stringify({
    error: {
      message: `The gateway is at its limit of ${max} requests in flight; retry after ${SHED_RETRY_AFTER_SECONDS} s`,
      type: 'server_error',
      code: 'overloaded',
      param: null,
    },
  });
  res.writeHead(503, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'retry-after': String(SHED_RETRY_AFTER_SECONDS),
  });
  res.end(text);
}
