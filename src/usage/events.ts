import type { GenerationRow } from '../db/schema.js';
import { GatewayError } from '../errors.js';

/** Sees each committed batch of finished rows, synchronously and in commit order. */
export type FinishedListener = (rows: readonly GenerationRow[]) => void;

export interface SubscribeOptions {
  /** Only rows this accepts are delivered (a key's own generations, for a caller that is not admin). */
  filter?: (row: GenerationRow) => boolean;
  /** Undelivered rows a subscriber may hold before it is closed; defaults to DEFAULT_SUBSCRIBER_BUFFER. */
  bufferLimit?: number;
}

/**
 * Well above one recorder batch (a batch is published at once, before any subscriber can pull), so only a
 * subscriber that keeps falling behind across batches overflows. About 1–2 KB a row: ~20 MB at worst.
 */
export const DEFAULT_SUBSCRIBER_BUFFER = 10_000;

/** A subscriber that fell behind is closed with this rather than silently missing rows. */
export class SubscriberOverflowError extends GatewayError {
  constructor(readonly bufferLimit: number) {
    super('INTERNAL', `This subscriber fell more than ${bufferLimit} events behind and was closed; resubscribe and read the gap from generations(filter: {from})`);
  }
  override extensions(): Record<string, unknown> {
    return { reason: 'SUBSCRIBER_OVERFLOW', bufferLimit: this.bufferLimit };
  }
}

interface Pull {
  resolve: (result: IteratorResult<GenerationRow>) => void;
  reject: (error: unknown) => void;
}

class RowSubscription implements AsyncIterableIterator<GenerationRow> {
  private buffer: GenerationRow[] = [];
  /** Index of the next undelivered row, so draining a long buffer is not quadratic. */
  private head = 0;
  private pull: Pull | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(
    private readonly filter: ((row: GenerationRow) => boolean) | undefined,
    private readonly bufferLimit: number,
    private readonly detach: (subscription: RowSubscription) => void,
  ) {}

  /** Returns false when this push overflowed the buffer and closed the subscription. */
  push(row: GenerationRow): boolean {
    if (this.ended || (this.filter && !this.filter(row))) return true;
    if (this.pull) {
      const { resolve } = this.pull;
      this.pull = undefined;
      resolve({ value: row, done: false });
      return true;
    }
    if (this.buffer.length - this.head >= this.bufferLimit) {
      this.fail(new SubscriberOverflowError(this.bufferLimit));
      return false;
    }
    this.buffer.push(row);
    return true;
  }

  /** Ends the iteration once the buffer is drained. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach(this);
    if (this.pull) {
      this.pull.resolve({ value: undefined, done: true });
      this.pull = undefined;
    }
  }

  private fail(error: Error): void {
    // What is buffered would arrive with a gap after it: the error goes out first, the rows are released.
    this.buffer = [];
    this.head = 0;
    this.failure = error;
    this.end();
  }

  next(): Promise<IteratorResult<GenerationRow>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head++]!;
      if (this.head === this.buffer.length) {
        this.buffer = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.pull = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<GenerationRow>> {
    this.buffer = [];
    this.head = 0;
    this.failure = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<GenerationRow> {
    return this;
  }
}

/**
 * In-process fan-out of finished generations: synchronous listeners (metrics, logs) and async-iterator
 * subscribers (the usageEvents subscription), each subscriber with a bounded buffer so a slow one cannot grow
 * memory without bound — it is closed with SubscriberOverflowError instead.
 */
export class FinishedRows {
  private readonly listeners = new Set<FinishedListener>();
  private readonly subscriptions = new Set<RowSubscription>();
  private closed = false;
  /** Subscribers closed because they fell behind, since start. */
  overflowedSubscribers = 0;

  constructor(private readonly onListenerError: (error: unknown) => void = (error) => process.emitWarning(`usage listener failed: ${String(error)}`)) {}

  /** Returns the function that removes the listener. */
  listen(listener: FinishedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  subscribe(options: SubscribeOptions = {}): AsyncIterableIterator<GenerationRow> {
    const subscription = new RowSubscription(options.filter, options.bufferLimit ?? DEFAULT_SUBSCRIBER_BUFFER, (ended) => this.subscriptions.delete(ended));
    if (this.closed) subscription.end();
    else this.subscriptions.add(subscription);
    return subscription;
  }

  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  publish(rows: readonly GenerationRow[]): void {
    // The recorder calls this from its write path: a failing listener must not take the ledger down with it.
    for (const listener of this.listeners) {
      try {
        listener(rows);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    this.deliverToSubscribers(rows);
  }

  /**
   * Rows another gateway instance committed (relayed through Redis): to usageEvents subscribers only. This
   * instance's listeners (metrics, logs) saw none of its own work in them, and must not count them twice.
   */
  deliverToSubscribers(rows: readonly GenerationRow[]): void {
    for (const subscription of [...this.subscriptions]) {
      for (const row of rows) {
        if (!subscription.push(row)) {
          this.overflowedSubscribers++;
          break;
        }
      }
    }
  }

  /** Ends every subscription (each drains what it holds first) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const subscription of [...this.subscriptions]) subscription.end();
  }
}
