import { z } from 'zod';
import { LocalChangeFeed, type ChangeFeed, type ChangeListener, type ChangeTopic } from './change-feed.js';
import type { SharedState } from './shared-state.js';

const CHANNEL = 'changes';
const TOPICS: readonly ChangeTopic[] = ['catalog', 'keys', 'providers'];
const messageSchema = z.object({ from: z.string(), topic: z.enum(['catalog', 'keys', 'providers']) });

/**
 * The change feed across instances: a topic is delivered here at once (the publisher's own caches are dropped
 * before its write's response goes out) and published on Redis for every other instance. When Redis comes back
 * after being unreachable every topic is delivered here, since invalidations may have been missed meanwhile.
 */
export class RedisChangeFeed implements ChangeFeed {
  private readonly local = new LocalChangeFeed();

  constructor(private readonly state: SharedState) {
    state.onReconnect(() => {
      for (const topic of TOPICS) this.local.deliver(topic);
    });
  }

  start(): void {
    this.state.listen(CHANNEL, messageSchema, (message) => this.local.deliver(message.topic));
  }

  publish(topic: ChangeTopic): void {
    this.local.deliver(topic);
    this.state.publish(CHANNEL, { topic });
  }

  subscribe(topic: ChangeTopic, listener: ChangeListener): () => void {
    return this.local.subscribe(topic, listener);
  }

  async close(): Promise<void> {
    await this.local.close();
  }
}
