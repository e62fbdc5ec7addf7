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
    this.state.listen(CHANNEL, messageSchema, (message) => this.receive(message));
    this.stopListening = this.finished.listen((rows) => {
      // Without subscribers anywhere this still publishes: others' subscribers are not known here.
      this.state.publish(CHANNEL, { rows });
    });
  }

  private receive(message: z.infer<typeof messageSchema>): void {
    if (this.finished.subscriberCount === 0) return;
    // Rows written by another instance of this same gateway, from the same schema: what its recorder committed.
    this.finished.deliverToSubscribers(message.rows as unknown as GenerationRow[]);
  }

  close(): void {
    this.stopListening?.();
  }
}
