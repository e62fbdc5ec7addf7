/**
 * What an instance caches from the database (the catalog and routing snapshot, API keys, providers) must be dropped
 * when any instance changes it. Writers publish a topic after their write commits; caches subscribe and drop what
 * they hold. The in-process feed below serves a single instance; with REDIS_URL the Redis-backed feed delivers a
 * topic to every instance, the publisher included. Without Redis, instances that share PostgreSQL cannot hear each
 * other, so their caches also expire on their own (at most 5 s, see the storage layer).
 */
export type ChangeTopic = 'catalog' | 'keys' | 'providers';

export type ChangeListener = (topic: ChangeTopic) => void;

export interface ChangeFeed {
  /** Announces that `topic` changed; call after the write has committed. */
  publish(topic: ChangeTopic): void;
  /** Calls `listener` for every change to `topic`, local or remote; returns the unsubscribe function. */
  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void;
  close(): Promise<void>;
}

export class LocalChangeFeed implements ChangeFeed {
  private readonly listeners = new Map<ChangeTopic, Set<ChangeListener>>();

  publish(topic: ChangeTopic): void {
    this.deliver(topic);
  }

  /** Delivers a topic to this instance's listeners; the Redis feed calls it for messages from other instances. */
  deliver(topic: ChangeTopic): void {
    for (const listener of [...(this.listeners.get(topic) ?? [])]) listener(topic);
  }

  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
