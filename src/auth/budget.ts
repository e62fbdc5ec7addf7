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

interface Ledger {
  periodStart: number;
  spentPicos: number;
  reservedPicos: number;
}

/**
 * Spend per key for its current period: what the ledger recorded plus what in-flight requests have reserved.
 * The recorded part is read from the database once per key and period, then kept up to date in memory as
 * requests settle, so admission costs no query.
 */
export class BudgetTracker {
  private readonly ledgers = new Map<string, Ledger>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  private ledger(keyId: string, period: BudgetPeriod | null): Ledger {
    const start = periodStart(period, this.now());
    const current = this.ledgers.get(keyId);
    if (current && current.periodStart === start) return current;
    const row = this.db
      .select({ spent: sql<number | null>`sum(${generations.costPicos})` })
      .from(generations)
      .where(and(eq(generations.apiKeyId, keyId), gte(generations.createdAt, start)))
      .get();
    const fresh: Ledger = { periodStart: start, spentPicos: row?.spent ?? 0, reservedPicos: current?.reservedPicos ?? 0 };
    this.ledgers.set(keyId, fresh);
    return fresh;
  }

  spentPicos(keyId: string, period: BudgetPeriod | null): number {
    return this.ledger(keyId, period).spentPicos;
  }

  /** What the ledger recorded and what in-flight requests reserved, for the current period. */
  standing(keyId: string, period: BudgetPeriod | null): { spentPicos: number; reservedPicos: number } {
    const ledger = this.ledger(keyId, period);
    return { spentPicos: ledger.spentPicos, reservedPicos: ledger.reservedPicos };
  }

  /**
   * Adds an in-flight reservation. Unchecked: admission decides from `standing()` in the same synchronous turn,
   * so no other request can slip in between the check and this.
   */
  reserve(keyId: string, period: BudgetPeriod | null, picos: number): void {
    this.ledger(keyId, period).reservedPicos += picos;
  }

  /** Releases a reservation and charges what the request really cost. */
  settle(keyId: string, period: BudgetPeriod | null, reservedPicos: number, actualPicos: number, createdAt: number): void {
    const ledger = this.ledger(keyId, period);
    ledger.reservedPicos = Math.max(0, ledger.reservedPicos - reservedPicos);
    // A request that started in the previous period is charged there, as the ledger query would.
    if (createdAt >= ledger.periodStart) ledger.spentPicos += actualPicos;
  }
}
