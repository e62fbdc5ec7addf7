import { systemClock, type Clock, type Timer } from '../clock.js';
import type { Db } from '../db/client.js';
import type { LedgerStore } from '../db/ledger.js';
import type { GenerationRow } from '../db/schema.js';
import { prepareGenerationUpsert } from '../db/sqlite-ledger.js';
import { FinishedRows } from './events.js';

export interface RecorderOptions {
  /** Called after each committed batch with the rows that reached a final status, in commit order. */
  onFinished?: (rows: GenerationRow[]) => void;
  /** Called when a batch could not be written; the batch is kept and retried. */
  onWriteError?: (error: unknown, pendingRows: number) => void;
  /** How long to wait before retrying a failed batch. */
  retryDelayMs?: number;
  /** Uncommitted rows above which `finish()` waits for room before queueing its row; DEFAULT_MAX_QUEUED_ROWS. */
  maxQueuedRows?: number;
  /** Called when a listener or subscriber of `finished` throws. */
  onListenerError?: (error: unknown) => void;
  /**
   * How long a start row waits before it is written; DEFAULT_START_DELAY_MS. A request that finishes sooner
   * needs only its final row, which halves the writes of short requests; 0 writes start rows in the next turn.
   */
  startDelayMs?: number;
  /** What the start delay is timed on (tests pass a ManualClock); the system clock by default. */
  clock?: Clock;
}

/**
 * A request still running after this long has its start row written, so a crash leaves a record of it. Shorter
 * requests are covered by their final row alone: a crash in that window loses no answered request, only the
 * trace of one that was never answered.
 */
export const DEFAULT_START_DELAY_MS = 50;

/** Enough for several seconds of a very busy gateway's rows while the disk stalls, a few MB of memory. */
export const DEFAULT_MAX_QUEUED_ROWS = 10_000;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface BlockedFinish {
  row: GenerationRow;
  waiter: Waiter;
}

/** Where a batch goes: SQLite commits synchronously (void), PostgreSQL resolves once the commit is acknowledged. */
export type LedgerWriter = Pick<LedgerStore, 'writeGenerations'>;

function isWriter(target: Db | LedgerWriter): target is LedgerWriter {
  return 'writeGenerations' in target;
}

/**
 * Group commit for the ledger: rows produced in the same event-loop turn are written in one transaction, so a busy
 * gateway pays one commit per turn instead of one per request. On SQLite each row goes through one positional upsert
 * prepared once (a multi-row statement would be re-prepared for every batch, which costs more than it saves:
 * bench/ledger.ts); on PostgreSQL a batch is one multi-row statement, one round trip. While an asynchronous commit
 * is in flight, new rows gather for the next one, so a slow round trip makes batches larger, never more numerous.
 * `finish` resolves only once its row is committed, so an answer is never sent for a request the ledger could lose.
 *
 * Back-pressure, never loss: when more than `maxQueuedRows` rows wait to be written (the disk is slow or failing),
 * `finish()` callers wait in line before their row is even queued, so the requests behind them wait too instead of
 * piling rows up in memory. `start()` rows are always queued (its callers do not await it): one per request in
 * flight, and each of those requests ends in a `finish()` that waits, so they are bounded by concurrency.
 * Nothing is dropped; `close()` writes every queued and waiting row.
 */
export class UsageRecorder {
  /** Finished rows, published after each committed batch in commit order (metrics, logs, usageEvents). */
  readonly finished: FinishedRows;
  private pending = new Map<string, GenerationRow>();
  /** Start rows waiting out the start delay; a finish for the same request removes its entry. */
  private starting = new Map<string, GenerationRow>();
  private startTimer: Timer | undefined;
  private readonly startDelayMs: number;
  private readonly clock: Clock;
  private finals = new Map<string, GenerationRow>();
  private waiters: Waiter[] = [];
  private blocked: BlockedFinish[] = [];
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly maxQueuedRows: number;
  private readonly write: (rows: readonly GenerationRow[]) => void | Promise<void>;
  /** The commit in flight on an asynchronous store; the next batch waits for it. */
  private writing: Promise<void> | undefined;

  constructor(
    target: Db | LedgerWriter,
    private readonly options: RecorderOptions = {},
  ) {
    if (isWriter(target)) this.write = (rows) => target.writeGenerations(rows);
    else this.write = prepareGenerationUpsert(target);
    this.maxQueuedRows = options.maxQueuedRows ?? DEFAULT_MAX_QUEUED_ROWS;
    this.startDelayMs = options.startDelayMs ?? DEFAULT_START_DELAY_MS;
    this.clock = options.clock ?? systemClock;
    this.finished = new FinishedRows(options.onListenerError);
  }

  /** Records that a request started; not awaited by callers. Rows are whole: the final row overwrites every column. */
  start(row: GenerationRow): void {
    if (this.startDelayMs === 0) {
      this.enqueue(row);
      return;
    }
    if (this.closed) throw new Error('usage recorder is closed');
    this.starting.set(row.id, row);
    this.startTimer ??= this.clock.setTimeout(() => {
      this.startTimer = undefined;
      this.queueStarting();
    }, this.startDelayMs);
  }

  /** Queues the start rows of requests still in flight. */
  private queueStarting(): void {
    const rows = [...this.starting.values()];
    this.starting.clear();
    for (const row of rows) if (!this.pending.has(row.id)) this.enqueue(row);
  }

  /** Records a request's final row; resolves once it is committed (waiting first for room when the queue is full). */
  finish(row: GenerationRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) throw new Error('usage recorder is closed');
      const waiter = { resolve, reject };
      this.starting.delete(row.id);
      // First come, first served: once anyone waits, later rows queue behind them even if room appeared.
      if (this.blocked.length > 0 || this.pending.size >= this.maxQueuedRows) this.blocked.push({ row, waiter });
      else this.admit(row, waiter);
    });
  }

  /** Rows not yet committed: queued ones plus finishes waiting for room. */
  get queueDepth(): number {
    return this.pending.size + this.starting.size + this.blocked.length;
  }

  /** `finish()` calls waiting for room in the queue. */
  get waitingFinishes(): number {
    return this.blocked.length;
  }

  /** Writes whatever is queued now, start rows still waiting out their delay included. */
  async flush(): Promise<void> {
    this.queueStarting();
    if (this.pending.size === 0) {
      await this.writing;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.writeBatch();
    });
  }

  /** Writes every queued and waiting row, then stops accepting rows and ends the `finished` subscriptions. */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.startTimer?.clear();
    this.startTimer = undefined;
    do {
      this.admitBlocked();
      await this.flush();
    } while (this.pending.size > 0 || this.blocked.length > 0);
    this.closed = true;
    this.finished.close();
  }

  private admit(row: GenerationRow, waiter: Waiter): void {
    this.waiters.push(waiter);
    this.enqueue(row);
    this.finals.set(row.id, row);
  }

  private admitBlocked(): void {
    while (this.blocked.length > 0 && this.pending.size < this.maxQueuedRows) {
      const { row, waiter } = this.blocked.shift()!;
      this.admit(row, waiter);
    }
  }

  private enqueue(row: GenerationRow): void {
    if (this.closed) throw new Error('usage recorder is closed');
    // A start row and its finish in the same turn collapse into the final row.
    this.pending.set(row.id, row);
    if (!this.scheduled && this.retryTimer === undefined) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.writeBatch();
      });
    }
  }

  private writeBatch(): void {
    // The commit in flight picks up whatever gathered meanwhile when it ends.
    if (this.writing) return;
    if (this.pending.size === 0) {
      this.settle(this.waiters.splice(0), undefined);
      return;
    }
    const rows = [...this.pending.values()];
    const finals = this.finals;
    const waiters = this.waiters.splice(0);
    this.pending = new Map();
    this.finals = new Map();
    let written: void | Promise<void>;
    try {
      written = this.write(rows);
    } catch (error) {
      this.failed(rows, finals, waiters, error);
      return;
    }
    if (written === undefined) {
      this.committed(finals, waiters);
      return;
    }
    this.writing = written.then(
      () => {
        this.writing = undefined;
        this.committed(finals, waiters);
        if (this.pending.size > 0 && this.retryTimer === undefined) this.writeBatch();
      },
      (error: unknown) => {
        this.writing = undefined;
        this.failed(rows, finals, waiters, error);
      },
    );
  }

  /** Keeps the rows (newer versions queued meanwhile win) and tries again: a locked or full disk must not lose them. */
  private failed(rows: GenerationRow[], finals: Map<string, GenerationRow>, waiters: Waiter[], error: unknown): void {
    for (const row of rows) if (!this.pending.has(row.id)) this.pending.set(row.id, row);
    for (const [id, row] of finals) if (!this.finals.has(id)) this.finals.set(id, row);
    this.waiters.unshift(...waiters);
    this.options.onWriteError?.(error, this.pending.size);
    if (this.retryTimer === undefined) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.writeBatch();
      }, this.options.retryDelayMs ?? 100);
    }
  }

  private committed(finals: Map<string, GenerationRow>, waiters: Waiter[]): void {
    this.settle(waiters, undefined);
    this.admitBlocked();
    if (finals.size > 0) {
      const finished = [...finals.values()];
      this.options.onFinished?.(finished);
      this.finished.publish(finished);
    }
  }

  private settle(waiters: Waiter[], error: unknown): void {
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
