import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { generations, type GenerationRow, type NewGeneration } from '../db/schema.js';

export interface RecorderOptions {
  /** Called after each committed batch with the rows that reached a final status, in commit order. */
  onFinished?: (rows: GenerationRow[]) => void;
  /** Called when a batch could not be written; the batch is kept and retried. */
  onWriteError?: (error: unknown, pendingRows: number) => void;
  /** How long to wait before retrying a failed batch. */
  retryDelayMs?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Rows per INSERT statement, well under SQLite's limit on bound variables. */
const ROWS_PER_STATEMENT = 500;

const columns = getTableColumns(generations);
/** Every column but the key takes the incoming value, so a finished row overwrites the row written at start. */
const upsertSet: Record<string, SQL> = Object.fromEntries(
  Object.entries(columns)
    .filter(([, column]) => column.name !== 'id')
    .map(([key, column]) => [key, sql.raw(`excluded.${column.name}`)]),
);

/**
 * Group commit for the ledger: rows produced in the same event-loop turn are written in one transaction
 * (one multi-row upsert), so a busy gateway pays one commit per turn instead of one per request.
 * `finish` resolves only once its row is committed, so an answer is never sent for a request the ledger could lose.
 */
export class UsageRecorder {
  private pending = new Map<string, NewGeneration>();
  private finals = new Map<string, GenerationRow>();
  private waiters: Waiter[] = [];
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly options: RecorderOptions = {},
  ) {}

  /** Records that a request started; not awaited by callers. */
  start(row: NewGeneration): void {
    this.enqueue(row);
  }

  /** Records a request's final row; resolves once it is committed. */
  finish(row: GenerationRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.enqueue(row);
      this.finals.set(row.id, row);
    });
  }

  get queueDepth(): number {
    return this.pending.size;
  }

  /** Writes whatever is queued now. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.writeBatch();
    });
  }

  /** Flushes and stops accepting rows. */
  async close(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.flush();
    this.closed = true;
  }

  private enqueue(row: NewGeneration): void {
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
    if (this.pending.size === 0) {
      this.settle(this.waiters.splice(0), undefined);
      return;
    }
    const rows = [...this.pending.values()];
    const finals = this.finals;
    const waiters = this.waiters.splice(0);
    this.pending = new Map();
    this.finals = new Map();
    try {
      this.db.transaction((tx) => {
        for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
          tx.insert(generations)
            .values(rows.slice(offset, offset + ROWS_PER_STATEMENT))
            .onConflictDoUpdate({ target: generations.id, set: upsertSet })
            .run();
        }
      });
    } catch (error) {
      // Keep the rows (newer versions queued meanwhile win) and try again: a locked or full disk must not lose them.
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
      return;
    }
    this.settle(waiters, undefined);
    if (finals.size > 0) this.options.onFinished?.([...finals.values()]);
  }

  private settle(waiters: Waiter[], error: unknown): void {
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }
}
