import { TokenBudget } from './budget';

const DAY = 86_400_000;

describe('TokenBudget', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = Date.UTC(2024, 4, 1, 12);
  });

  it('refuses an attempt whose estimate would pass the tenant budget, then the global one', () => {
    const budget = new TokenBudget({
      globalDailyTokens: 250,
      tenantDailyTokens: (tenant) => (tenant === 'small' ? 100 : 1000),
      clock,
    });
    expect(budget.reserve('small', 101)).toBe('tenant_budget');
    const held = budget.reserve('small', 100);
    expect(held).toMatchObject({ tenantId: 'small', tokens: 100 });
    expect(budget.reserve('small', 1)).toBe('tenant_budget');
    expect(budget.reserve('big', 151)).toBe('global_budget');
    expect(budget.check('big', 150)).toBeUndefined();
  });

  it('settling releases the estimate and debits what was spent', () => {
    const budget = new TokenBudget({ tenantDailyTokens: () => 100, clock });
    const held = budget.reserve('t', 80);
    if (typeof held === 'string') throw new Error(held);
    expect(budget.check('t', 30)).toBe('tenant_budget');
    budget.settle(held, 40);
    expect(budget.spent('t')).toBe(40);
    expect(budget.spent()).toBe(40);
    expect(budget.check('t', 60)).toBeUndefined();
    expect(budget.check('t', 61)).toBe('tenant_budget');
  });

  it('starts again at midnight UTC and forgets yesterday’s tenants', () => {
    now = Date.UTC(2024, 4, 1, 23, 59, 59, 999);
    const budget = new TokenBudget({ globalDailyTokens: 100, tenantDailyTokens: () => 50, clock });
    budget.debit('a', 50);
    budget.debit('b', 40);
    expect(budget.check('a', 1)).toBe('tenant_budget');
    expect(budget.check('c', 11)).toBe('global_budget');
    expect(budget.tenantCount).toBe(2);
    now += 1;
    expect(budget.check('a', 50)).toBeUndefined();
    expect(budget.spent()).toBe(0);
    expect(budget.tenantCount).toBe(0);
  });

  it('an attempt that ends the next day counts its tokens on that day', () => {
    const budget = new TokenBudget({ tenantDailyTokens: () => 100, clock });
    const held = budget.reserve('t', 90);
    if (typeof held === 'string') throw new Error(held);
    now += DAY;
    budget.settle(held, 30);
    expect(budget.spent('t')).toBe(30);
    expect(budget.check('t', 70)).toBeUndefined();
    expect(budget.check('t', 71)).toBe('tenant_budget');
  });

  it('a tenant limit that is not a number refuses rather than letting everything through', () => {
    const budget = new TokenBudget({ tenantDailyTokens: () => Number.NaN, clock });
    expect(budget.check('t', 1)).toBe('tenant_budget');
  });

  it('is unlimited by default', () => {
    const budget = new TokenBudget({ clock });
    expect(budget.reserve('t', 1e12)).toMatchObject({ tokens: 1e12 });
  });
});
