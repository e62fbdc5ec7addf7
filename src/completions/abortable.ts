/**
 * Wraps a generator so that `return()` (a client unsubscribing or disconnecting) aborts the controller first.
 * A plain async generator cannot be stopped while it awaits the upstream: its return() waits for that await.
 * Aborting makes the upstream read fail at once, so the generator can record the cancellation and end.
 */
export function abortOnReturn<T>(source: AsyncGenerator<T>, controller: AbortController): AsyncGenerator<T> {
  const wrapper: AsyncGenerator<T> = {
    next: (...args) => source.next(...args),
    return: async (value) => {
      controller.abort(new CancelledByClient());
      return source.return(value);
    },
    throw: async (error: unknown) => {
      controller.abort(new CancelledByClient());
      return source.throw(error);
    },
    [Symbol.asyncIterator]() {
      return wrapper;
    },
  };
  return wrapper;
}

/** The abort reason when the client went away. */
export class CancelledByClient extends Error {
  constructor() {
    super('The client cancelled the request');
    this.name = 'CancelledByClient';
  }
}

/** The abort reason when the server is shutting down and the grace period ran out. */
export class CancelledByShutdown extends Error {
  constructor() {
    super('The server is shutting down');
    this.name = 'CancelledByShutdown';
  }
}
