import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { generations, type BudgetPeriod } from '../db/schema.js';

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

/** The SQLite ledger's answer to SpentSince. */
export function sqliteSpentSince(db: Db): SpentSince {
  return async (keyId, startMs) => {
    const row = db
      .select({ spent: sql<number | null>`sum(${generations.costPicos})` })
      .from(generations)
      .where(and(eq(generations.apiKeyId, keyId), gte(generations.createdAt, startMs)))
      .get();
    return row?.spent ?? 0;
  };
}

/** A key's standing in one period. */
export interface BudgetStanding {
  spentPicos: number;
  reservedPicos: number;
}

/** A reservation made, or refused because the standing grew since it was read (with the standing now, when known). */
export type ReserveOutcome = { reserved: true } | { reserved: false; standing: BudgetStanding | null };

/**
 * Where spend and reservations live: this process (InMemoryBudgetStore) or Redis, shared by every instance
 * (src/coordination/budget-store.ts). Admission reads a standing, decides, then reserves only if recorded plus
 * reserved spend has not grown since (a compare-and-set on that sum): what it computed as remaining is then at most
 * what remains, so its decision still holds. Settlements that give back part of a reservation never force a retry.
 */
export interface BudgetStore {
  /** The standing of `keyId` in the period starting at `periodStart`, loading the recorded spend with `load` when unknown. */
  standing(keyId: string, periodStart: number, load: () => Promise<number>): Promise<BudgetStanding>;
  /** Adds a reservation unless recorded plus reserved spend grew past `seen`'s; then says what it is now. */
  reserve(keyId: string, periodStart: number, picos: number, seen: BudgetStanding): Promise<ReserveOutcome>;
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

  async reserve(keyId: string, periodStart: number, picos: number, seen: BudgetStanding): Promise<ReserveOutcome> {
    const ledger = this.ledgers.get(keyId);
    if (!ledger || ledger.periodStart !== periodStart) return { reserved: false, standing: null };
    if (ledger.spentPicos + ledger.reservedPicos > seen.spentPicos + seen.reservedPicos) return { reserved: false, standing: { spentPicos: ledger.spentPicos, reservedPicos: ledger.reservedPicos } };
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
 * (SQLite today: sqliteSpentSince; any ledger that can sum a key's cost since an instant).
 */
export class BudgetTracker {
  /** The admission deciding on each key's budget in this process right now, chained (see `exclusive`). */
  private readonly deciding = new Map<string, Promise<void>>();

  constructor(
    private readonly spentSince: SpentSince,
    private readonly store: BudgetStore = new InMemoryBudgetStore(),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs one admission's read–decide–reserve on `keyId` at a time in this process. Correctness does not need it
   * (the store's compare-and-set does), but without it concurrent requests of one key would mostly retry: at 16 in
   * flight the bench measured 10 Redis round trips a request instead of 6. Across instances, retries remain.
   */
  async exclusive<T>(keyId: string, decide: () => Promise<T>): Promise<T> {
    const before = this.deciding.get(keyId) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const chained = before.then(() => mine);
    this.deciding.set(keyId, chained);
    await before;
    try {
      return await decide();
    } finally {
      done();
      if (this.deciding.get(keyId) === chained) this.deciding.delete(keyId);
    }
  }

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

  /** Adds an in-flight reservation if recorded plus reserved spend has not grown since `seen` was read. */
  reserve(keyId: string, periodStart: number, picos: number, seen: BudgetStanding): Promise<ReserveOutcome> {
    return this.store.reserve(keyId, periodStart, picos, seen);
  }

  /** Releases a reservation and charges what the request really cost. */
  settle(keyId: string, period: BudgetPeriod | null, reservedIn: number, reservedPicos: number, actualPicos: number, createdAt: number): Promise<void> {
    return this.store.settle(keyId, reservedIn, reservedPicos, periodStart(period, createdAt), actualPicos);
  }
}
