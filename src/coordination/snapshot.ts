import type { ChangeFeed, ChangeTopic } from './change-feed.js';

export interface SnapshotOptions {
  /**
   * Reload at least this often, whatever the feed says: with PostgreSQL and no shared feed another instance's
   * write is heard of no other way. Undefined: only the feed triggers reloads (one process owns the database).
   */
  maxAgeMs?: number | undefined;
  onError?: (error: unknown) => void;
}

/**
 * Something an instance holds in memory that the database owns (the routing catalog, the API keys), loaded at
 * start and reloaded whenever a feed topic says it changed. Readers take `current` synchronously, so the completion
 * path runs no SQL for it. A synchronous loader (SQLite) reloads within the publish call itself, so a change is
 * seen by the very next request; an asynchronous one (PostgreSQL) swaps the new value in when it arrives, and a
 * writer that must see its own change awaits `settled()`.
 */
export class Snapshot<T> {
  private value: T | undefined;
  private loading: Promise<void> | undefined;
  /** Set when a change arrives during a load, whose result may predate it. */
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: Array<() => void>;
  private loadedAt = 0;

  constructor(
    private readonly load: () => T | Promise<T>,
    feed: ChangeFeed,
    topics: readonly ChangeTopic[],
    private readonly options: SnapshotOptions = {},
  ) {
    this.unsubscribe = topics.map((topic) => feed.subscribe(topic, () => void this.refresh()));
  }

  /** The first load; call once before reading `current`. Starts the periodic reload when maxAgeMs is set. */
  async start(): Promise<void> {
    await this.refresh();
    const maxAgeMs = this.options.maxAgeMs;
    if (maxAgeMs !== undefined && this.timer === undefined) {
      // Half the bound: a reload that starts at the deadline would still be in flight past it.
      this.timer = setInterval(() => void this.refresh(), Math.max(1, Math.floor(maxAgeMs / 2)));
      this.timer.unref();
    }
  }

  get current(): T {
    if (this.value === undefined) throw new Error('snapshot read before its first load');
    return this.value;
  }

  /** When the value in memory was loaded (Date.now()). */
  get age(): number {
    return Date.now() - this.loadedAt;
  }

  /** Reloads now; joins a load in flight (and repeats it once, since it may have read before the change). */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    let loaded: T | Promise<T>;
    try {
      loaded = this.load();
    } catch (error) {
      this.options.onError?.(error);
      return Promise.reject(error);
    }
    if (!(loaded instanceof Promise)) {
      this.set(loaded);
      return Promise.resolve();
    }
    this.loading = loaded.then(
      (value) => {
        this.loading = undefined;
        this.set(value);
        if (this.again) {
          this.again = false;
          return this.refresh();
        }
        return undefined;
      },
      (error: unknown) => {
        this.loading = undefined;
        this.again = false;
        this.options.onError?.(error);
        // The old value stays: a failed reload must not take routing or authentication down with it.
        if (this.value === undefined) throw error;
      },
    );
    return this.loading;
  }

  /** Resolves once no reload is in flight. */
  async settled(): Promise<void> {
    while (this.loading) await this.loading.catch(() => undefined);
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private set(value: T): void {
    this.value = value;
    this.loadedAt = Date.now();
  }
}
