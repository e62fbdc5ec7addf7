import type { ChangeFeed } from '../coordination/change-feed.js';
import { Snapshot, type SnapshotOptions } from '../coordination/snapshot.js';
import type { ApiKeyRow } from '../db/schema.js';
import type { KeyStore } from '../db/storage.js';

/** How the authenticator finds a key by the hash of its secret, and records (rarely) that it was used. */
export interface KeyLookup {
  byHash(secretHash: string): ApiKeyRow | undefined;
  touch(id: string, at: number): void;
}

/**
 * Every gateway key in memory, by the hash of its secret: authentication runs no query. Reloaded when the `keys`
 * topic changes (a creation or revocation through any instance, with a shared feed) and at least every
 * `maxAgeMs` otherwise. Expiry and revocation times are checked against the clock on each request, so a key that
 * expires needs no reload.
 */
export class KeyCache implements KeyLookup {
  private readonly snapshot: Snapshot<KeyIndex>;

  constructor(
    private readonly store: Pick<KeyStore, 'all' | 'touch'>,
    feed: ChangeFeed,
    private readonly options: SnapshotOptions = {},
  ) {
    this.snapshot = new Snapshot(
      () => {
        const rows = store.all();
        return rows instanceof Promise ? rows.then(indexKeys) : indexKeys(rows);
      },
      feed,
      ['keys'],
      options,
    );
  }

  start(): Promise<void> {
    return this.snapshot.start();
  }

  /** Reloads now; a key service awaits it after a write so its own instance refuses a revoked key at once. */
  refresh(): Promise<void> {
    return this.snapshot.refresh();
  }

  byHash(secretHash: string): ApiKeyRow | undefined {
    return this.snapshot.current.byHash.get(secretHash);
  }

  /** A key's prefix, for log lines; undefined for a key this instance has not loaded. */
  prefixOf(id: string): string | undefined {
    return this.snapshot.current.byId.get(id)?.prefix;
  }

  /** last_used_at is for humans: written in the background, a failure only logged. */
  touch(id: string, at: number): void {
    this.store.touch(id, at).catch((error: unknown) => this.options.onError?.(error));
  }

  close(): void {
    this.snapshot.close();
  }
}

interface KeyIndex {
  byHash: Map<string, ApiKeyRow>;
  byId: Map<string, ApiKeyRow>;
}

function indexKeys(rows: readonly ApiKeyRow[]): KeyIndex {
  return { byHash: new Map(rows.map((row) => [row.secretHash, row])), byId: new Map(rows.map((row) => [row.id, row])) };
}
