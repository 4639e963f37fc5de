import { type BudgetRefusal, type Reservation, TokenBudget } from './budget';
import { type AttemptHealth, type BreakerPermit, type BreakerState, CircuitBreaker } from './circuit-breaker';
import { LruCache } from './lru-cache';
import { LlmError, type LlmUsage } from './provider';

/**
 * Runs LLM triage jobs off the hot path: a bounded queue served most severe first, a few
 * calls at a time, each attempt with a timeout, retried with backoff, behind a circuit
 * breaker and daily token budgets, answers cached. Every job ends in an outcome, never an
 * exception: when triage cannot happen the anomaly alerts anyway, marked skipped.
 */

export interface TriageJob<T> {
  readonly tenantId: string;
  /**
   * Cache key: the candidate's features; the same key within the cache TTL answers from
   * the cache, no call. Keys are scoped to the tenant: one tenant's answer never serves another.
   */
  readonly cacheKey: string;
  /** Higher is more severe; when the queue is full the least severe waiting job (or this one, if it is the least) is dropped. */
  readonly priority: number;
  /** Tokens the call is expected to cost (prompt estimate + max output), checked against the budgets before the call. */
  readonly estimatedTokens: number;
  /** One attempt; the signal aborts on timeout or stop. Throws LlmError on failure. */
  run(signal: AbortSignal): Promise<{ readonly value: T; readonly usage: LlmUsage }>;
}

/**
 * Why a job has no answer. From the last attempt's error: `timeout`; `malformed`;
 * `refused`; `failed` for a 5xx or a 429 after the retries, a client error (4xx) or a run
 * that threw something other than an LlmError. The others say why no (further) attempt
 * was made; `waited_too_long` is the caller's deadline, not the job's end.
 */
export const SKIP_REASONS = [
  'queue_full',
  'tenant_budget',
  'global_budget',
  'circuit_open',
  'timeout',
  'failed',
  'malformed',
  'refused',
  'waited_too_long',
  'stopped',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type TriageOutcome<T> =
  | { status: 'done'; value: T; usage: LlmUsage; cached: boolean; attempts: number }
  | {
      status: 'skipped';
      reason: SkipReason;
      /** Tokens spent anyway, e.g. on malformed answers. */
      usage: LlmUsage;
      attempts: number;
    };

/** setTimeout and clearTimeout, or fakes of them. */
export interface TriageTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TriageSchedulerOptions {
  /** Most jobs waiting for a call (default 1000). */
  readonly queueSize?: number;
  /** Most jobs being worked on at once, their backoff waits included (default 4). */
  readonly concurrency?: number;
  /** An attempt without an answer by then is aborted and counts as a timeout (default 15 000 ms). */
  readonly timeoutMs?: number;
  /** Attempts after the first, for timeouts, 5xx and 429; a malformed answer is retried once at most (default 2). */
  readonly retries?: number;
  readonly backoff?: {
    /** The ceiling of the first retry's wait (default 500 ms); it doubles with each retry... */
    readonly baseMs?: number;
    /** ...up to this, which also caps a provider's Retry-After (default 10 000 ms). */
    readonly maxMs?: number;
  };
  /** Numbers in [0, 1) for the backoff's jitter (default Math.random). */
  readonly random?: () => number;
  readonly breaker?: {
    /** Consecutive attempts that timed out, failed with a 5xx or were rate limited that open the circuit (default 5). */
    readonly failureThreshold?: number;
    /** How long it stays open before one probe is let through (default 30 000 ms). */
    readonly cooldownMs?: number;
  };
  readonly budgets?: {
    /** Tokens per UTC day, all tenants together (default unlimited). */
    readonly globalDailyTokens?: number;
    /** Tokens per UTC day of a tenant (default unlimited). */
    readonly tenantDailyTokens?: (tenantId: string) => number;
  };
  readonly cache?: {
    /** Most answers held (default 10 000). */
    readonly maxEntries?: number;
    /** How long an answer is reused (default 1 hour). */
    readonly ttlMs?: number;
  };
  /** Epoch milliseconds, for the budgets' day, the cache's TTL and the breaker's cooldown (default Date.now). */
  readonly clock?: () => number;
  /** Default: the global setTimeout and clearTimeout, looked up at each call (jest's fake timers apply). */
  readonly timers?: TriageTimers;
}

export interface SubmitOptions {
  /**
   * The longest the caller waits, in milliseconds from submit: then it is answered
   * `waited_too_long`. A job still queued at that point leaves the queue and costs
   * nothing; one already in flight runs to its end, its tokens counted and its answer
   * cached for the next candidate with the same features.
   */
  readonly deadlineMs?: number;
}

export type TriageCounts = Readonly<Record<SkipReason, number>> & {
  /** Every call of submit. */
  readonly submitted: number;
  /** Answered by a call. */
  readonly done: number;
  /** Answered without a call of their own: from the cache, or by a call made for another job with the same key. */
  readonly cached: number;
  /** The same as queue_full. */
  readonly dropped: number;
  /** Jobs being worked on: in an attempt or waiting to retry. */
  readonly inFlight: number;
  /** Jobs waiting for a call. */
  readonly queued: number;
  /** Tokens spent, failed attempts' and late answers' included. */
  readonly tokensIn: number;
  readonly tokensOut: number;
};

const NO_USAGE: LlmUsage = { inputTokens: 0, outputTokens: 0 };
const DEFAULT_TIMERS: TriageTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

type Tally = Record<SkipReason | 'submitted' | 'done' | 'cached' | 'tokensIn' | 'tokensOut', number>;

/** One submit's wait for its outcome. */
interface Caller<T> {
  readonly resolve: (outcome: TriageOutcome<T>) => void;
  /** It submitted the job that runs; the others joined it and are answered without its usage. */
  readonly first: boolean;
  deadline?: unknown;
  answered: boolean;
}

/** The work for one key: queued, then running, then ended. */
interface Flight<T> {
  readonly job: TriageJob<T>;
  readonly key: string;
  priority: number;
  /** Submit order: the older of two equally severe jobs is called first and dropped last. */
  readonly seq: number;
  /** Positions in the queue's two heaps (-1 when out). */
  mostAt: number;
  leastAt: number;
  phase: 'queued' | 'running' | 'ended';
  readonly callers: Caller<T>[];
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  /** Ends the attempt in flight, for stop. */
  abort?: () => void;
  /** Ends the wait before a retry. */
  wake?: () => void;
  /** Settles when the running flight's loop has returned. */
  landed?: Promise<void>;
}

interface Gate {
  readonly permit: BreakerPermit;
  readonly reservation: Reservation;
}

type AttemptResult<T> =
  | { readonly kind: 'answer'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'stopped' };

/**
 * The scheduler's promise to the alerting path: `submit` never rejects and never keeps it
 * waiting past its deadline, whatever the provider does (answers late, ignores the abort
 * signal, throws something other than an LlmError).
 */
export class TriageScheduler<T> {
  readonly queueSize: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly random: () => number;
  private readonly timers: TriageTimers;
  private readonly breaker: CircuitBreaker;
  private readonly budget: TokenBudget;
  private readonly cache: LruCache<{ readonly value: T }>;
  private readonly queue = new SeverityQueue<T>();
  /** Queued and running flights by key, for single flight: at most queueSize + concurrency. */
  private readonly flights = new Map<string, Flight<T>>();
  /** Running flights: at most concurrency. */
  private readonly running = new Set<Flight<T>>();
  private readonly tally: Tally;
  private seq = 0;
  private stopped = false;

  constructor(options: TriageSchedulerOptions = {}) {
    this.queueSize = options.queueSize ?? 1000;
    this.concurrency = options.concurrency ?? 4;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retries = options.retries ?? 2;
    this.backoffBaseMs = options.backoff?.baseMs ?? 500;
    this.backoffMaxMs = options.backoff?.maxMs ?? 10_000;
    requireInteger('queueSize', this.queueSize, 1);
    requireInteger('concurrency', this.concurrency, 1);
    requireInteger('retries', this.retries, 0);
    if (!(this.timeoutMs > 0 && Number.isFinite(this.timeoutMs))) {
      throw new RangeError(`triage timeoutMs must be a finite number above 0, got ${this.timeoutMs}`);
    }
    const backoffValid =
      this.backoffBaseMs > 0 && this.backoffMaxMs >= this.backoffBaseMs && Number.isFinite(this.backoffMaxMs);
    if (!backoffValid) {
      throw new RangeError(
        `triage backoff must have 0 < baseMs <= maxMs, finite, got ${this.backoffBaseMs} and ${this.backoffMaxMs}`,
      );
    }
    const clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.breaker = new CircuitBreaker({ ...options.breaker, clock });
    this.budget = new TokenBudget({ ...options.budgets, clock });
    this.cache = new LruCache({ ...options.cache, clock });
    this.tally = { submitted: 0, done: 0, cached: 0, tokensIn: 0, tokensOut: 0 } as Tally;
    for (const reason of SKIP_REASONS) this.tally[reason] = 0;
  }

  /** The job's outcome; never rejects. */
  submit(job: TriageJob<T>, options: SubmitOptions = {}): Promise<TriageOutcome<T>> {
    return new Promise((resolve) => {
      this.tally.submitted += 1;
      // Answered before it makes or joins a flight, or as one that joined another's.
      const caller: Caller<T> = { resolve, first: false, answered: false };
      if (this.stopped) return this.answer(caller, skipped('stopped'));
      const key = scopedKey(job.tenantId, job.cacheKey);
      const hit = this.cache.get(key);
      if (hit) {
        return this.answer(caller, {
          status: 'done',
          value: hit.value,
          usage: NO_USAGE,
          cached: true,
          attempts: 0,
        });
      }
      const { deadlineMs } = options;
      if (deadlineMs !== undefined && !(deadlineMs > 0))
        return this.answer(caller, skipped('waited_too_long'));
      const priority = Number.isNaN(job.priority) ? -Infinity : job.priority;

      const joined = this.flights.get(key);
      if (joined) {
        joined.callers.push(caller);
        if (joined.phase === 'queued' && priority > joined.priority) {
          this.queue.remove(joined);
          joined.priority = priority;
          this.queue.push(joined);
        }
        this.arm(joined, caller, deadlineMs);
        return;
      }

      if (this.breaker.state() === 'open') return this.answer(caller, skipped('circuit_open'));
      if (!(job.estimatedTokens >= 0)) return this.answer(caller, skipped('failed'));
      // Checked here too so that a tenant over its budget cannot push others' jobs out of the queue.
      const refusal = this.budget.check(job.tenantId, job.estimatedTokens);
      if (refusal) return this.answer(caller, skipped(refusal));

      const flight: Flight<T> = {
        job,
        key,
        priority,
        seq: this.seq++,
        mostAt: -1,
        leastAt: -1,
        phase: 'queued',
        callers: [{ resolve, first: true, answered: false }],
        attempts: 0,
        inputTokens: 0,
        outputTokens: 0,
      };
      if (this.queue.size >= this.queueSize) {
        const least = this.queue.peekLeast() as Flight<T>;
        if (!outranks(flight, least)) return this.answer(flight.callers[0], skipped('queue_full'));
        this.queue.remove(least);
        this.end(least, skipped('queue_full'));
      }
      this.queue.push(flight);
      this.flights.set(key, flight);
      this.arm(flight, flight.callers[0], deadlineMs);
      this.pump();
    });
  }

  /**
   * Answers every waiting job and every job in flight `stopped`; attempts in flight are
   * aborted. Resolves once no attempt runs; later submits are answered `stopped` at once.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const flight of this.queue.clear()) this.end(flight, skipped('stopped'));
    const running = [...this.running];
    for (const flight of running) {
      this.end(flight, this.skippedOf(flight, 'stopped'));
      flight.abort?.();
      flight.wake?.();
    }
    await Promise.all(running.map((flight) => flight.landed));
  }

  /** Drops the tenant's cached answers (an erased tenant). */
  forgetTenant(tenantId: string): void {
    const prefix = scopedKey(tenantId, '');
    this.cache.deleteWhere((key) => key.startsWith(prefix));
  }

  get counts(): TriageCounts {
    return {
      ...this.tally,
      dropped: this.tally.queue_full,
      inFlight: this.running.size,
      queued: this.queue.size,
    };
  }

  state(): BreakerState {
    return this.breaker.state();
  }

  /** Starts queued flights, most severe first, while there is room and the breaker lets them. */
  private pump(): void {
    while (this.running.size < this.concurrency && this.queue.size > 0) {
      const flight = this.queue.peekMost() as Flight<T>;
      const gate = this.gate(flight);
      if (gate === 'wait') return;
      if (gate === 'circuit_open') return this.flush('circuit_open');
      this.queue.remove(flight);
      if (typeof gate === 'string') {
        this.end(flight, skipped(gate));
        continue;
      }
      flight.phase = 'running';
      this.running.add(flight);
      flight.landed = this.fly(flight, gate);
    }
  }

  /** Leave for the flight's next attempt: the breaker's, then the budgets'. `wait`: half-open, the probe is out. */
  private gate(flight: Flight<T>): Gate | BudgetRefusal | 'circuit_open' | 'wait' {
    const permit = this.breaker.acquire();
    if (!permit) return this.breaker.state() === 'open' ? 'circuit_open' : 'wait';
    const reservation = this.budget.reserve(flight.job.tenantId, flight.job.estimatedTokens);
    if (typeof reservation === 'string') {
      this.breaker.release(permit, 'unknown');
      return reservation;
    }
    return { permit, reservation };
  }

  /** A running flight's attempts, until it is done, skipped or ended by someone else (stop, the breaker). */
  private async fly(flight: Flight<T>, first: Gate): Promise<void> {
    let gate = first;
    let malformedRetried = false;
    try {
      for (;;) {
        flight.attempts += 1;
        const result = await this.attempt(flight, gate);
        if (ended(flight)) return;
        if (result.kind === 'answer') {
          this.end(flight, {
            status: 'done',
            value: result.value,
            usage: usageOf(flight),
            cached: false,
            attempts: flight.attempts,
          });
          return;
        }
        const error = result.kind === 'error' ? result.error : undefined;
        const kind = error instanceof LlmError ? error.kind : undefined;
        const retryable =
          flight.attempts <= this.retries &&
          (kind === 'malformed' ? !malformedRetried : error instanceof LlmError && error.retryable);
        if (!retryable) return this.end(flight, this.skippedOf(flight, reasonOf(error)));
        if (kind === 'malformed') malformedRetried = true;
        if (this.breaker.state() === 'open') return this.end(flight, this.skippedOf(flight, 'circuit_open'));

        await this.pause(flight, this.backoffDelay(flight.attempts, (error as LlmError).retryAfterMs));
        if (ended(flight)) return;
        const next = this.gate(flight);
        if (typeof next === 'string') {
          // Half-open with the probe out: a retry does not wait for it either.
          return this.end(flight, this.skippedOf(flight, next === 'wait' ? 'circuit_open' : next));
        }
        gate = next;
      }
    } catch {
      // Only a bug of ours lands here; the caller still gets an outcome.
      this.end(flight, this.skippedOf(flight, 'failed'));
    } finally {
      this.pump();
    }
  }

  /**
   * One call of the job's run, ended by its answer, its timeout or stop, whichever comes
   * first: a run that ignores its signal cannot hold the flight past the timeout. Tokens
   * of an answer that comes after that are still debited.
   */
  private attempt(flight: Flight<T>, { permit, reservation }: Gate): Promise<AttemptResult<T>> {
    return new Promise((resolve) => {
      const controller = new AbortController();
      let over = false;
      // Called only once the timer below exists: by it, by stop (set after it), or by the run.
      const end = (result: AttemptResult<T>, usage: LlmUsage | undefined, health: AttemptHealth): boolean => {
        if (over) return false;
        over = true;
        this.timers.clearTimeout(timer);
        flight.abort = undefined;
        this.budget.settle(reservation, this.spend(flight, usage));
        const moved = this.breaker.release(permit, health);
        resolve(result);
        if (moved === 'open') this.trip();
        else if (moved === 'closed') this.pump();
        return true;
      };
      const timer = this.timers.setTimeout(() => {
        const error = new LlmError('timeout', `no answer within ${this.timeoutMs} ms`);
        controller.abort(error);
        end({ kind: 'error', error }, undefined, 'down');
      }, this.timeoutMs);
      flight.abort = () => {
        controller.abort(new Error('triage stopped'));
        end({ kind: 'stopped' }, undefined, 'unknown');
      };

      let call: Promise<{ readonly value: T; readonly usage: LlmUsage }>;
      try {
        call = flight.job.run(controller.signal);
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (answer) => {
          const tooLate = !end({ kind: 'answer', value: answer.value }, answer.usage, 'up');
          if (tooLate) this.late(flight, answer.usage);
        },
        (error: unknown) => {
          const usage = error instanceof LlmError ? error.usage : undefined;
          if (!end({ kind: 'error', error }, usage, healthOf(error))) this.late(flight, usage);
        },
      );
    });
  }

  /** The breaker opened: nothing waits for it, queued or between attempts. */
  private trip(): void {
    this.flush('circuit_open');
    for (const flight of [...this.running]) {
      if (!flight.wake) continue;
      this.end(flight, this.skippedOf(flight, 'circuit_open'));
      flight.wake();
    }
  }

  private flush(reason: SkipReason): void {
    for (const flight of this.queue.clear()) this.end(flight, skipped(reason));
  }

  /** Waits before a retry; stop and the breaker end the wait early. */
  private pause(flight: Flight<T>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => {
        flight.wake = undefined;
        resolve();
      }, ms);
      flight.wake = () => {
        this.timers.clearTimeout(timer);
        flight.wake = undefined;
        resolve();
      };
    });
  }

  /**
   * The wait after failed attempt number `attempt` (1 for the first): uniformly random
   * below min(max, base * 2^(attempt - 1)), full jitter so that retries of every job that
   * failed in the same outage do not land in the same instant; at least the provider's
   * Retry-After, and never above max.
   */
  private backoffDelay(attempt: number, retryAfterMs: number | undefined): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    const jittered = Math.floor(this.random() * ceiling);
    if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
    return Math.min(this.backoffMaxMs, Math.max(jittered, Math.ceil(retryAfterMs)));
  }

  /** Ends a flight: every caller still waiting gets its outcome, a done one is cached. */
  private end(flight: Flight<T>, outcome: TriageOutcome<T>): void {
    if (flight.phase === 'ended') return;
    this.running.delete(flight);
    flight.phase = 'ended';
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
    if (outcome.status === 'done') this.cache.set(flight.key, { value: outcome.value });
    for (const caller of flight.callers) this.answer(caller, caller.first ? outcome : shared(outcome));
    flight.callers.length = 0;
  }

  private arm(flight: Flight<T>, caller: Caller<T>, deadlineMs: number | undefined): void {
    if (deadlineMs === undefined) return;
    caller.deadline = this.timers.setTimeout(() => {
      caller.deadline = undefined;
      this.answer(
        caller,
        caller.first ? this.skippedOf(flight, 'waited_too_long') : skipped('waited_too_long'),
      );
      const at = flight.callers.indexOf(caller);
      if (at >= 0) flight.callers.splice(at, 1);
      // Nobody waits for a job not yet called: it goes, costing nothing. One in flight runs on.
      if (flight.phase === 'queued' && flight.callers.length === 0) {
        this.queue.remove(flight);
        flight.phase = 'ended';
        this.flights.delete(flight.key);
      }
    }, deadlineMs);
  }

  private answer(caller: Caller<T>, outcome: TriageOutcome<T>): void {
    if (caller.answered) return;
    caller.answered = true;
    if (caller.deadline !== undefined) this.timers.clearTimeout(caller.deadline);
    if (outcome.status === 'skipped') this.tally[outcome.reason] += 1;
    else if (outcome.cached) this.tally.cached += 1;
    else this.tally.done += 1;
    caller.resolve(outcome);
  }

  /** Adds an attempt's tokens to the flight and the counts; answers their sum. */
  private spend(flight: Flight<T>, usage: LlmUsage | undefined): number {
    if (!usage) return 0;
    flight.inputTokens += usage.inputTokens;
    flight.outputTokens += usage.outputTokens;
    this.tally.tokensIn += usage.inputTokens;
    this.tally.tokensOut += usage.outputTokens;
    return usage.inputTokens + usage.outputTokens;
  }

  /** An answer after its attempt had timed out or was stopped: its tokens were still billed. */
  private late(flight: Flight<T>, usage: LlmUsage | undefined): void {
    this.budget.debit(flight.job.tenantId, this.spend(flight, usage));
  }

  private skippedOf(flight: Flight<T>, reason: SkipReason): TriageOutcome<T> {
    return { status: 'skipped', reason, usage: usageOf(flight), attempts: flight.attempts };
  }
}

/**
 * The waiting flights, as two binary heaps over the same entries, each entry knowing its
 * position in both: one pops the most severe (to call next), the other finds the least
 * severe (to drop when full), and either removes any entry (a deadline passed) in
 * O(log n). A min-max heap would do in one array but is harder to get right; a sorted
 * array costs O(n) moves per insert, too many at the 1e6 the queue may be configured to.
 * The price is a second array of n references.
 */
class SeverityQueue<T> {
  private readonly most = new IndexedHeap<Flight<T>>(outranks, 'mostAt');
  private readonly least = new IndexedHeap<Flight<T>>((a, b) => outranks(b, a), 'leastAt');

  get size(): number {
    return this.most.size;
  }

  peekMost(): Flight<T> | undefined {
    return this.most.peek();
  }

  peekLeast(): Flight<T> | undefined {
    return this.least.peek();
  }

  push(flight: Flight<T>): void {
    this.most.push(flight);
    this.least.push(flight);
  }

  remove(flight: Flight<T>): void {
    this.most.remove(flight);
    this.least.remove(flight);
  }

  /** Empties the queue; answers what it held. */
  clear(): Flight<T>[] {
    this.least.clear();
    return this.most.clear();
  }
}

type HeapSlot = 'mostAt' | 'leastAt';

/** A binary heap whose entries hold their own position (under `slot`), so any of them can be removed. */
class IndexedHeap<E extends Record<HeapSlot, number>> {
  private readonly items: E[] = [];

  constructor(
    /** True when a belongs nearer the top than b. */
    private readonly before: (a: E, b: E) => boolean,
    private readonly slot: HeapSlot,
  ) {}

  get size(): number {
    return this.items.length;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  push(item: E): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  remove(item: E): void {
    const at = item[this.slot];
    if (this.items[at] !== item) return;
    const last = this.items.pop() as E;
    item[this.slot] = -1;
    if (last === item) return;
    this.place(last, at);
    this.up(at);
    this.down(last[this.slot]);
  }

  clear(): E[] {
    const all = this.items.splice(0);
    for (const item of all) item[this.slot] = -1;
    return all;
  }

  private up(from: number): void {
    const item = this.items[from];
    let at = from;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(item, this.items[parent])) break;
      this.place(this.items[parent], at);
      at = parent;
    }
    this.place(item, at);
  }

  private down(from: number): void {
    const item = this.items[from];
    const n = this.items.length;
    let at = from;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(this.items[child + 1], this.items[child])) child += 1;
      if (!this.before(this.items[child], item)) break;
      this.place(this.items[child], at);
      at = child;
    }
    this.place(item, at);
  }

  private place(item: E, at: number): void {
    this.items[at] = item;
    item[this.slot] = at;
  }
}

/** More severe, or as severe and submitted earlier. */
function outranks<T>(a: Flight<T>, b: Flight<T>): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
}

/** A function, because TypeScript keeps an inline test's narrowing across an await, and stop and the breaker end flights while `fly` awaits. */
function ended<T>(flight: Flight<T>): boolean {
  return flight.phase === 'ended';
}

function skipped<T>(reason: SkipReason): TriageOutcome<T> {
  return { status: 'skipped', reason, usage: NO_USAGE, attempts: 0 };
}

/** The outcome of a caller that joined another's flight: it made no call of its own. */
function shared<T>(outcome: TriageOutcome<T>): TriageOutcome<T> {
  if (outcome.status === 'done') return { ...outcome, usage: NO_USAGE, cached: true, attempts: 0 };
  return skipped(outcome.reason);
}

/** Keys scoped to a tenant: one tenant's answer never serves another's candidate. */
function scopedKey(tenantId: string, cacheKey: string): string {
  return `${tenantId}\u0000${cacheKey}`;
}

function usageOf<T>(flight: Flight<T>): LlmUsage {
  return { inputTokens: flight.inputTokens, outputTokens: flight.outputTokens };
}

function reasonOf(error: unknown): SkipReason {
  if (!(error instanceof LlmError)) return 'failed';
  switch (error.kind) {
    case 'timeout':
      return 'timeout';
    case 'malformed':
      return 'malformed';
    case 'refused':
      return 'refused';
    default:
      return 'failed';
  }
}

/** A provider that answered anything at all is up; timeouts, 5xx and 429 are what an outage looks like. */
function healthOf(error: unknown): AttemptHealth {
  if (!(error instanceof LlmError)) return 'unknown';
  return error.retryable ? 'down' : 'up';
}

function requireInteger(name: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least) {
    throw new RangeError(`triage ${name} must be an integer of at least ${least}, got ${value}`);
  }
}
