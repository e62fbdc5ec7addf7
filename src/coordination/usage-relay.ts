import { z } from 'zod';
import type { GenerationRow } from '../db/schema.js';
import type { FinishedRows } from '../usage/events.js';
import type { SharedState } from './shared-state.js';

const CHANNEL = 'usage';
const messageSchema = z.object({ from: z.string(), rows: z.array(z.record(z.unknown())) });

/**
 * usageEvents across instances: each committed batch of finished rows is published once on Redis (after its
 * commit, like the local delivery), and rows from other instances go to this instance's subscribers, never its
 * metrics listeners. With Redis away, subscribers see their own instance's rows only; the ledger has them all.
 */
export class UsageRelay {
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly state: SharedState,
    private readonly finished: FinishedRows,
  ) {}

  start(): void {
    this.state.listen(CHANNEL, (text) => this.receive(text));
    this.stopListening = this.finished.listen((rows) => {
      // Without subscribers anywhere this still publishes: others' subscribers are not known here.
      this.state.publish(CHANNEL, JSON.stringify({ from: this.state.instanceId, rows }));
    });
  }

  private receive(text: string): void {
    if (this.finished.subscriberCount === 0) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    const message = messageSchema.safeParse(parsed);
    if (!message.success || message.data.from === this.state.instanceId) return;
    // Rows written by another instance of this same gateway, from the same schema: what its recorder committed.
    this.finished.deliverToSubscribers(message.data.rows as unknown as GenerationRow[]);
  }

  close(): void {
    this.stopListening?.();
  }
}
