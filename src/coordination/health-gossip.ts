import { z } from 'zod';
import type { EndpointRef, HealthEvent, HealthGossip, RouterState } from '../routing/health.js';
import type { SharedState } from './shared-state.js';

const CHANNEL = 'health';
/** Outcomes are sent in batches this often: one PUBLISH per instance and interval, whatever the request rate. */
export const GOSSIP_INTERVAL_MS = 250;
/** A burst beyond this many outcomes in one interval is sampled down to it; figures need no more. */
const MAX_BATCH = 500;

const refSchema = z.object({ providerId: z.string(), providerModelId: z.string(), modelId: z.string().nullable() });
const eventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('succeeded'), latencyMs: z.number(), completionTokens: z.number().nullable(), generatingMs: z.number().nullable() }),
  z.object({ kind: z.literal('failed'), message: z.string(), code: z.string() }),
  z.object({ kind: z.literal('firstToken'), ms: z.number(), streamed: z.boolean() }),
]);
const messageSchema = z.object({
  from: z.string(),
  outcomes: z.array(z.object({ ref: refSchema, event: eventSchema })).default([]),
  breakers: z.array(z.object({ ref: refSchema, open: z.boolean() })).default([]),
});

/**
 * Routing health shared by gossip: every instance publishes its own endpoints' outcomes (batched) and circuit
 * changes (at once) on one channel, and adopts the others'. So a breaker opened by failures seen on one instance
 * is open on all of them within a message's delivery, and latency figures and `Provider.health` pool every
 * instance's traffic. Gossip rather than one shared breaker in Redis keeps routing free of round trips: an
 * attempt decides on local memory only. With Redis away, each instance routes on its own evidence until it is back.
 */
export class HealthGossipRelay implements HealthGossip {
  private outcomes: Array<{ ref: EndpointRef; event: HealthEvent }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: SharedState,
    private readonly router: RouterState,
  ) {
    this.timer = setInterval(() => this.flush(), GOSSIP_INTERVAL_MS);
    this.timer.unref();
  }

  start(): void {
    this.state.listen(CHANNEL, messageSchema, (message) => this.receive(message));
    this.router.shareWith(this);
  }

  outcome(ref: EndpointRef, event: HealthEvent): void {
    if (this.outcomes.length < MAX_BATCH) this.outcomes.push({ ref: { ...ref }, event });
  }

  breaker(ref: EndpointRef, openedAt: number | null): void {
    // The outcomes that led here go first, so the others see the failures with the opening.
    const outcomes = this.take();
    this.state.publish(CHANNEL, { outcomes, breakers: [{ ref: { ...ref }, open: openedAt !== null }] });
  }

  flush(): void {
    const outcomes = this.take();
    if (outcomes.length > 0) this.state.publish(CHANNEL, { outcomes, breakers: [] });
  }

  private take(): Array<{ ref: EndpointRef; event: HealthEvent }> {
    const outcomes = this.outcomes;
    this.outcomes = [];
    return outcomes;
  }

  private receive(message: z.infer<typeof messageSchema>): void {
    for (const { ref, event } of message.outcomes) this.router.adoptOutcome(ref, event);
    for (const { ref, open } of message.breakers) this.router.adoptBreaker(ref, open);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
