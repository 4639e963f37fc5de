/**
 * Daily token budgets for LLM calls: one for the whole process and one per tenant, each
 * counted per UTC day of the clock and starting again from zero at midnight UTC.
 *
 * An attempt reserves its estimate before it starts and settles with what it really cost
 * when it ends, so attempts running together cannot each pass the check and overspend
 * between them. A failed attempt's tokens are debited like any other.
 */

const DAY_MS = 86_400_000;

export type BudgetRefusal = 'tenant_budget' | 'global_budget';

export interface TokenBudgetOptions {
  /** Tokens per UTC day, all tenants together (default unlimited). */
  readonly globalDailyTokens?: number;
  /** Tokens per UTC day for a tenant (default unlimited); asked before each attempt, so a plan change applies at once. */
  readonly tenantDailyTokens?: (tenantId: string) => number;
  /** Epoch milliseconds (default Date.now). */
  readonly clock?: () => number;
}

/** Tokens held for an attempt in flight. */
export interface Reservation {
  readonly tenantId: string;
  readonly tokens: number;
  /** The UTC day (days since the epoch) it was made on. */
  readonly day: number;
}

interface Tally {
  spent: number;
  reserved: number;
}

export class TokenBudget {
  readonly globalDailyTokens: number;
  private readonly tenantDailyTokens: (tenantId: string) => number;
  private readonly clock: () => number;
  private day: number;
  private global: Tally = { spent: 0, reserved: 0 };
  /** Today's tenants only: emptied when the day rolls over. */
  private readonly tenants = new Map<string, Tally>();

  constructor(options: TokenBudgetOptions = {}) {
    this.globalDailyTokens = options.globalDailyTokens ?? Infinity;
    this.tenantDailyTokens = options.tenantDailyTokens ?? (() => Infinity);
    this.clock = options.clock ?? Date.now;
    if (!(this.globalDailyTokens >= 0)) {
      throw new RangeError(`globalDailyTokens must be a number of at least 0, got ${this.globalDailyTokens}`);
    }
    this.day = this.today();
  }

  /**
   * Holds `tokens` for an attempt of the tenant's, or says which budget it would exceed
   * (the tenant's is checked first). A limit is reached when what is spent and held plus
   * the estimate would go past it.
   */
  reserve(tenantId: string, tokens: number): Reservation | BudgetRefusal {
    const refusal = this.check(tenantId, tokens);
    if (refusal) return refusal;
    this.tallyOf(tenantId).reserved += tokens;
    this.global.reserved += tokens;
    return { tenantId, tokens, day: this.day };
  }

  /** Which budget an attempt of `tokens` would exceed now, if any; holds nothing. */
  check(tenantId: string, tokens: number): BudgetRefusal | undefined {
    this.rollOver();
    const tally = this.tenants.get(tenantId);
    // Written as "not within" so that a limit that is not a number (a plan without one) refuses.
    if (!((tally?.spent ?? 0) + (tally?.reserved ?? 0) + tokens <= this.tenantDailyTokens(tenantId))) {
      return 'tenant_budget';
    }
    if (!(this.global.spent + this.global.reserved + tokens <= this.globalDailyTokens))
      return 'global_budget';
    return undefined;
  }

  /**
   * Releases a reservation and debits what the attempt cost. A reservation from a day
   * already over was cleared with that day; the tokens count on the day the attempt ended.
   */
  settle(reservation: Reservation, spent: number): void {
    this.rollOver();
    if (reservation.day === this.day) {
      const tally = this.tenants.get(reservation.tenantId);
      if (tally) tally.reserved -= reservation.tokens;
      this.global.reserved -= reservation.tokens;
    }
    this.debit(reservation.tenantId, spent);
  }

  /** Debits tokens spent without a reservation (an answer that came after its attempt timed out). */
  debit(tenantId: string, spent: number): void {
    this.rollOver();
    if (!(spent > 0)) return;
    this.tallyOf(tenantId).spent += spent;
    this.global.spent += spent;
  }

  /** Tokens spent today, by the tenant or (without one) by all. */
  spent(tenantId?: string): number {
    this.rollOver();
    if (tenantId === undefined) return this.global.spent;
    return this.tenants.get(tenantId)?.spent ?? 0;
  }

  /** Tenants with a tally today. */
  get tenantCount(): number {
    this.rollOver();
    return this.tenants.size;
  }

  private tallyOf(tenantId: string): Tally {
    let tally = this.tenants.get(tenantId);
    if (!tally) {
      tally = { spent: 0, reserved: 0 };
      this.tenants.set(tenantId, tally);
    }
    return tally;
  }

  private rollOver(): void {
    const day = this.today();
    if (day === this.day) return;
    this.day = day;
    this.global = { spent: 0, reserved: 0 };
    this.tenants.clear();
  }

  /** Unix time has no leap seconds, so whole days since the epoch are UTC dates. */
  private today(): number {
    return Math.floor(this.clock() / DAY_MS);
  }
}
