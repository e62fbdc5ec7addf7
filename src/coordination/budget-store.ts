import type { BudgetStanding, BudgetStore, ReserveBasis, ReserveOutcome } from '../auth/budget.js';
import { SharedStateUnavailableError } from '../errors.js';
import { toNumber } from './rate-limit-store.js';
import { BUDGET_LOAD, BUDGET_RESERVE, BUDGET_SETTLE } from './scripts.js';
import type { SharedState } from './shared-state.js';

/** An idle budget hash is dropped after this and read from the ledger again when next needed. */
const BUDGET_TTL_MS = 3_600_000;

/**
 * Budget standings in Redis, one hash per key and period, shared by every instance: what the ledger recorded
 * (loaded once by whichever instance needs it first) and what is reserved in flight everywhere; a reservation
 * lands only while the decision it came from holds (ReserveBasis). Budgets fail closed: with Redis unreachable no instance can know what the others
 * reserved, so a request with a budget is refused (SharedStateUnavailableError) in either failure mode.
 */
export class RedisBudgetStore implements BudgetStore {
  constructor(private readonly state: SharedState) {}

  private hash(keyId: string, periodStart: number): string {
    return this.state.key('budget', keyId, String(periodStart));
  }

  async standing(keyId: string, periodStart: number, load: () => Promise<number>): Promise<BudgetStanding> {
    const hash = this.hash(keyId, periodStart);
    const [spent, reserved] = await this.guard(() => this.state.run((client) => client.hmget(hash, 'spent', 'reserved')));
    if (spent !== null && spent !== undefined) return standingOf([spent, reserved]);
    const recorded = await load();
    const reply = await this.guard(() => this.state.eval(BUDGET_LOAD, [hash], [String(Math.round(recorded)), BUDGET_TTL_MS]));
    return standingOf(Array.isArray(reply) ? reply : []);
  }

  async reserve(keyId: string, periodStart: number, picos: number, basis: ReserveBasis): Promise<ReserveOutcome> {
    const seenTotal = basis.seen.spentPicos + basis.seen.reservedPicos;
    const reply = await this.guard(() =>
      this.state.eval(BUDGET_RESERVE, [this.hash(keyId, periodStart)], [String(Math.ceil(picos)), String(seenTotal), String(Math.ceil(basis.mostPicos)), String(basis.limitPicos), BUDGET_TTL_MS]),
    );
    const fields = Array.isArray(reply) ? reply : [];
    const status = toNumber(fields[0]);
    if (status === 1) return { reserved: true };
    // The standing now comes with the refusal, so deciding again costs no extra read.
    return { reserved: false, standing: status === 0 ? standingOf(fields.slice(1)) : null };
  }

  async settle(keyId: string, reservedIn: number, reservedPicos: number, chargedTo: number, actualPicos: number): Promise<void> {
    await this.guard(() =>
      this.state.eval(BUDGET_SETTLE, [this.hash(keyId, reservedIn), this.hash(keyId, chargedTo)], [String(Math.ceil(reservedPicos)), String(Math.round(actualPicos)), BUDGET_TTL_MS]),
    );
  }

  private async guard<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      this.state.refused('budgets');
      throw new SharedStateUnavailableError('budget', { cause: error });
    }
  }
}

function standingOf(fields: readonly unknown[]): BudgetStanding {
  const field = (index: number): number => (fields[index] === null || fields[index] === undefined ? 0 : toNumber(fields[index]));
  return { spentPicos: field(0), reservedPicos: field(1) };
}
