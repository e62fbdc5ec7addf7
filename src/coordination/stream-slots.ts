import { InMemoryStreamSlots, type StreamSlot, type StreamSlots } from '../auth/stream-slots.js';
import { SharedStateUnavailableError } from '../errors.js';
import { newId } from '../ids.js';
import { toNumber } from './rate-limit-store.js';
import { STREAM_ACQUIRE, STREAM_RENEW } from './scripts.js';
import type { SharedState } from './shared-state.js';

/** How long a stream's lease lasts without renewal: a crashed instance's streams free their slots after this. */
export const STREAM_LEASE_MS = 30_000;
/** Leases are renewed this often, well inside their lifetime. */
const RENEW_EVERY_MS = 10_000;

/**
 * A key's concurrent-stream cap across instances: each open stream holds a lease in Redis that this instance
 * renews while the stream lasts and removes when it ends. An instance that dies stops renewing, so its streams
 * stop counting within STREAM_LEASE_MS. With Redis unreachable: this instance's own count (open) or a refusal.
 */
export class RedisStreamSlots implements StreamSlots {
  private readonly fallback = new InMemoryStreamSlots();
  /** Leases this instance holds: member → the set it is in. */
  private readonly held = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: SharedState,
    private readonly leaseMs = STREAM_LEASE_MS,
    /** Only for tests of lapsing leases: milliseconds passed to the scripts instead of Redis TIME. */
    private readonly now?: () => number,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.min(RENEW_EVERY_MS, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  async acquire(keyId: string, cap: number): Promise<StreamSlot> {
    const set = this.state.key('streams', keyId);
    const member = `${this.state.instanceId}:${newId('lease')}`;
    let reply: unknown;
    try {
      reply = await this.state.eval(STREAM_ACQUIRE, [set], [member, cap, this.leaseMs, this.clock()]);
    } catch (error) {
      if (this.state.failureMode === 'closed') {
        this.state.refused('streams');
        throw new SharedStateUnavailableError('limits', { cause: error });
      }
      this.state.fellBack('streams');
      return this.fallback.acquire(keyId, cap);
    }
    const [taken, open] = Array.isArray(reply) ? reply.map(toNumber) : [];
    if (taken !== 1) return { taken: false, open: open ?? cap };
    this.held.set(member, set);
    let released = false;
    return {
      taken: true,
      release: () => {
        if (released) return;
        released = true;
        this.held.delete(member);
        // Unreachable now, the lease lapses on its own.
        this.state.run((client) => client.zrem(set, member)).catch(() => undefined);
      },
    };
  }

  /** Open streams of this instance, for tests and the bench. */
  get heldCount(): number {
    return this.held.size;
  }

  private clock(): number | string {
    return this.now ? Math.floor(this.now()) : '';
  }

  /** Extends every lease this instance holds (on a timer; tests call it). */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const members = [...this.held.keys()];
    const sets = members.map((member) => this.held.get(member) ?? '');
    await this.state.eval(STREAM_RENEW, sets, [...members, this.leaseMs, this.clock()]).catch(() => undefined);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
