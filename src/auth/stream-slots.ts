/** What taking a stream slot gave: the release function, or how many streams were open when it was refused. */
export type StreamSlot = { taken: true; release: () => void } | { taken: false; open: number };

/**
 * Concurrent streams per key. Asynchronous so that a shared store (Redis leases, src/coordination/stream-slots.ts)
 * can hold the cap across gateway instances; the in-memory one decides synchronously, exact within one process.
 */
export interface StreamSlots {
  /** Takes one of `cap` slots of `keyId`. The release function is safe to call more than once. */
  acquire(keyId: string, cap: number): Promise<StreamSlot>;
}

export class InMemoryStreamSlots implements StreamSlots {
  private readonly open = new Map<string, number>();

  async acquire(keyId: string, cap: number): Promise<StreamSlot> {
    const open = this.open.get(keyId) ?? 0;
    if (open >= cap) return { taken: false, open };
    this.open.set(keyId, open + 1);
    let released = false;
    return {
      taken: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.open.get(keyId) ?? 1) - 1;
        if (left <= 0) this.open.delete(keyId);
        else this.open.set(keyId, left);
      },
    };
  }
}
