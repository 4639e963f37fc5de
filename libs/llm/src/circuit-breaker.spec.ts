import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 0;
  });

  function fail(breaker: CircuitBreaker, times: number): void {
    for (let i = 0; i < times; i++) {
      const permit = breaker.acquire();
      if (!permit) throw new Error('no permit');
      breaker.release(permit, 'down');
    }
  }

  it('opens after the threshold of consecutive failures, not before', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, clock });
    fail(breaker, 2);
    expect(breaker.state()).toBe('closed');
    const permit = breaker.acquire()!;
    expect(breaker.release(permit, 'down')).toBe('open');
    expect(breaker.state()).toBe('open');
    expect(breaker.acquire()).toBeUndefined();
  });

  it('an answer in between starts the count again', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, clock });
    fail(breaker, 2);
    breaker.release(breaker.acquire()!, 'up');
    fail(breaker, 2);
    expect(breaker.state()).toBe('closed');
    breaker.release(breaker.acquire()!, 'unknown');
    fail(breaker, 1);
    expect(breaker.state()).toBe('open');
  });

  it('lets one probe through after the cooldown; its answer closes the circuit', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, clock });
    fail(breaker, 1);
    now = 999;
    expect(breaker.state()).toBe('open');
    now = 1000;
    expect(breaker.state()).toBe('half_open');
    const probe = breaker.acquire()!;
    expect(probe.probe).toBe(true);
    expect(breaker.acquire()).toBeUndefined();
    expect(breaker.release(probe, 'up')).toBe('closed');
    expect(breaker.acquire()?.probe).toBe(false);
  });

  it('a failed probe opens it for a new cooldown; a probe that learned nothing frees the slot', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, clock });
    fail(breaker, 1);
    now = 1000;
    breaker.release(breaker.acquire()!, 'unknown');
    expect(breaker.state()).toBe('half_open');
    expect(breaker.release(breaker.acquire()!, 'down')).toBe('open');
    now = 1999;
    expect(breaker.state()).toBe('open');
    now = 2000;
    expect(breaker.state()).toBe('half_open');
  });

  it('ignores results of attempts let through before the circuit last changed', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1000, clock });
    const stale = breaker.acquire()!;
    fail(breaker, 2);
    now = 1000;
    const probe = breaker.acquire()!;
    expect(breaker.release(stale, 'up')).toBeUndefined();
    expect(breaker.state()).toBe('half_open');
    expect(breaker.acquire()).toBeUndefined();
    breaker.release(probe, 'up');
    expect(breaker.state()).toBe('closed');
  });

  it('refuses a threshold below 1 and a negative cooldown', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => new CircuitBreaker({ cooldownMs: -1 })).toThrow(/cooldownMs/);
  });
});
