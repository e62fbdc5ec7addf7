import type { Db } from '../db/client.js';
import type { LedgerStore } from '../db/ledger.js';
import { deleteExpired } from '../db/sqlite-ledger.js';

export interface RetentionOptions {
  /** Generations created more than this many days ago are deleted. */
  retentionDays: number;
  now?: () => number;
  /** Rows per DELETE (one short transaction each), so the recorder's writes interleave instead of waiting. */
  batchSize?: number;
  /** How often a sweep runs after the first, which runs at start(). */
  intervalMs?: number;
  onSweep?: (deleted: number) => void;
  onError?: (error: unknown) => void;
}

const DAY_MS = 86_400_000;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_INTERVAL_MS = 3_600_000;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Deletes generations older than the retention period, a small batch per transaction and yielding to the event
 * loop between batches, so a first sweep over months of rows never blocks requests or the ledger's writes.
 */
export class RetentionJob {
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly ledger: Pick<LedgerStore, 'deleteExpired'>;

  constructor(
    target: Db | Pick<LedgerStore, 'deleteExpired'>,
    private readonly options: RetentionOptions,
  ) {
    this.ledger = 'deleteExpired' in target ? target : { deleteExpired: async (cutoff, limit) => deleteExpired(target, cutoff, limit) };
    if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) throw new RangeError('retentionDays must be a positive integer');
    this.now = options.now ?? Date.now;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  }

  /** The instant before which generations are deleted. */
  cutoff(): number {
    return this.now() - this.options.retentionDays * DAY_MS;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Deletes every expired row now; resolves with how many. A sweep already running is joined, not doubled. */
  sweep(): Promise<number> {
    this.running ??= this.deleteExpired().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer and lets a running sweep end after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sweep()
        .then((deleted) => this.options.onSweep?.(deleted))
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (!this.stopped) this.schedule(this.intervalMs);
        });
    }, delayMs);
    // A pending sweep must never keep the process alive on its own.
    this.timer.unref();
  }

  private async deleteExpired(): Promise<number> {
    const cutoff = this.cutoff();
    let deleted = 0;
    for (;;) {
      // In-flight rows are left alone; stored content goes with its row (the foreign key's cascade), in the same statement.
      const changes = await this.ledger.deleteExpired(cutoff, this.batchSize);
      deleted += changes;
      if (changes < this.batchSize) break;
      await nextTurn();
      if (this.stopped) break;
    }
    return deleted;
  }
}
