import type { BudgetPeriod } from '../db/schema.js';

/** The start of the budget period containing `at`, in UTC (weeks start on Monday); 0 for a lifetime budget. */
export function periodStart(period: BudgetPeriod | null, at: number): number {
  if (period === null) return 0;
  const date = new Date(at);
  const day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (period === 'DAILY') return day;
  if (period === 'WEEKLY') return day - ((date.getUTCDay() + 6) % 7) * 86_400_000;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** When the period containing `at` ends; null for a lifetime budget. */
export function periodEnd(period: BudgetPeriod | null, at: number): number | null {
  if (period === null) return null;
  const start = new Date(periodStart(period, at));
  if (period === 'DAILY') return start.getTime() + 86_400_000;
  if (period === 'WEEKLY') return start.getTime() + 7 * 86_400_000;
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
}

/** Recorded spend of a key since `startMs` (the ledger's sum); the storage layer provides it. */
export type SpentSince = (keyId: string, startMs: number) => Promise<number>;

/** A key's standing in one period. */
export interface BudgetStanding {
  spentPicos: number;
  reservedPicos: number;
}

/**
 * What a reservation may rely on: the standing it was decided on, and the most the request can cost (at its cap,
 * or at its whole output limit) with the key's limit. It stays safe if spent plus reserved has not grown since,
 * or if even its most fits under the limit now.
 */
export interface ReserveBasis {
  seen: BudgetStanding;
  mostPicos: number;
  limitPicos: number;
}

/** A reservation made, or refused because the standing grew since it was read (with the standing now, when known). */
export type ReserveOutcome = { reserved: true } | { reserved: false; standing: BudgetStanding | null };

/**
 * Where spend and reservations live: this process (InMemoryBudgetStore) or Redis, shared by every instance
 * (src/coordination/budget-store.ts). Admission reads a standing, decides, then reserves only if its decision
 * still holds (ReserveBasis): recorded plus reserved spend has not grown since (what it computed as remaining is
 * at most what remains), or the request's most possible cost fits under the limit anyway. So a settlement that
 * gives back part of a reservation, or a busy key far from its limit, never forces a retry.
 */
export interface BudgetStore {
  /** The standing of `keyId` in the period starting at `periodStart`, loading the recorded spend with `load` when unknown. */
  standing(keyId: string, periodStart: number, load: () => Promise<number>): Promise<BudgetStanding>;
  /** Adds a reservation when `basis` still holds; otherwise says what the standing is now. */
  reserve(keyId: string, periodStart: number, picos: number, basis: ReserveBasis): Promise<ReserveOutcome>;
  /**
   * Releases a reservation made in `reservedIn` and charges `actualPicos` to the period `chargedTo` (where the
   * request's row lands), when that period is known.
   */
  settle(keyId: string, reservedIn: number, reservedPicos: number, chargedTo: number, actualPicos: number): Promise<void>;
}

interface Ledger extends BudgetStanding {
  periodStart: number;
}

/** One process's spend: the recorded part loaded once per key and period, then kept up to date as requests settle. */
export class InMemoryBudgetStore implements BudgetStore {
  private readonly ledgers = new Map<string, Ledger>();

  async standing(keyId: string, periodStart: number, load: () => Promise<number>): Promise<BudgetStanding> {
    const current = this.ledgers.get(keyId);
    if (current && current.periodStart === periodStart) return { ...current };
    const spentPicos = await load();
    // Another request may have loaded it while this one awaited: the first load wins, its settlements included.
    const now = this.ledgers.get(keyId);
    if (now && now.periodStart === periodStart) return { ...now };
    // Reservations in flight carry over into a new period: they are released there when they settle.
    const fresh: Ledger = { periodStart, spentPicos, reservedPicos: now?.reservedPicos ?? 0 };
    this.ledgers.set(keyId, fresh);
    return { ...fresh };
  }

  async reserve(keyId: string, periodStart: number, picos: number, basis: ReserveBasis): Promise<ReserveOutcome> {
    const ledger = this.ledgers.get(keyId);
    if (!ledger || ledger.periodStart !== periodStart) return { reserved: false, standing: null };
    const total = ledger.spentPicos + ledger.reservedPicos;
    if (total > basis.seen.spentPicos + basis.seen.reservedPicos && total + basis.mostPicos > basis.limitPicos) {
      return { reserved: false, standing: { spentPicos: ledger.spentPicos, reservedPicos: ledger.reservedPicos } };
    }
    ledger.reservedPicos += picos;
    return { reserved: true };
  }

  async settle(keyId: string, _reservedIn: number, reservedPicos: number, chargedTo: number, actualPicos: number): Promise<void> {
    const ledger = this.ledgers.get(keyId);
    if (!ledger) return;
    ledger.reservedPicos = Math.max(0, ledger.reservedPicos - reservedPicos);
    // A request that started in another period is charged there, as the ledger query would.
    if (chargedTo === ledger.periodStart) ledger.spentPicos += actualPicos;
  }
}

/**
 * Spend per key for its current period: what the ledger recorded plus what in-flight requests have reserved, kept
 * in a BudgetStore so that admission costs no query. The recorded part comes from the injected `spentSince`
 * (the ledger's `spentSince`, on either store).
 */
export class BudgetTracker {
  constructor(
    private readonly spentSince: SpentSince,
    private readonly store: BudgetStore = new InMemoryBudgetStore(),
    private readonly now: () => number = Date.now,
  ) {}

  /** The current period's start, what standing() and reserve() are keyed by. */
  currentPeriod(period: BudgetPeriod | null): number {
    return periodStart(period, this.now());
  }

  /** Recorded spend in the current period; read from the ledger itself when a shared store cannot answer. */
  async spentPicos(keyId: string, period: BudgetPeriod | null): Promise<number> {
    try {
      return (await this.standing(keyId, period)).spentPicos;
    } catch {
      return this.spentSince(keyId, this.currentPeriod(period));
    }
  }

  /** What the ledger recorded and what in-flight requests reserved, for the current period. */
  async standing(keyId: string, period: BudgetPeriod | null, start = this.currentPeriod(period)): Promise<BudgetStanding> {
    return this.store.standing(keyId, start, () => this.spentSince(keyId, start));
  }

  /** Adds an in-flight reservation if the decision it came from still holds (ReserveBasis). */
  reserve(keyId: string, periodStart: number, picos: number, basis: ReserveBasis): Promise<ReserveOutcome> {
    return this.store.reserve(keyId, periodStart, picos, basis);
  }

  /** Releases a reservation and charges what the request really cost. */
  settle(keyId: string, period: BudgetPeriod | null, reservedIn: number, reservedPicos: number, actualPicos: number, createdAt: number): Promise<void> {
    return this.store.settle(keyId, reservedIn, reservedPicos, periodStart(period, createdAt), actualPicos);
  }
}
