import { LlmError, type LlmUsage } from './provider';
import {
  SKIP_REASONS,
  type TriageJob,
  TriageScheduler,
  type TriageSchedulerOptions,
} from './triage.scheduler';

const USAGE: LlmUsage = { inputTokens: 100, outputTokens: 20 };
const NO_USAGE: LlmUsage = { inputTokens: 0, outputTokens: 0 };
const NOON = Date.UTC(2024, 4, 1, 12);

interface Call {
  readonly key: string;
  readonly signal: AbortSignal;
  settled: boolean;
  answer(value?: string, usage?: LlmUsage): void;
  fail(error: unknown): void;
}

/** A provider whose every call waits until the test answers it. */
class FakeLlm {
  readonly calls: Call[] = [];

  get open(): Call[] {
    return this.calls.filter((call) => !call.settled);
  }

  job(cacheKey: string, overrides: Partial<Omit<TriageJob<string>, 'run'>> = {}): TriageJob<string> {
    return {
      tenantId: 't1',
      cacheKey,
      priority: 0,
      estimatedTokens: 10,
      ...overrides,
      run: (signal) =>
        new Promise((resolve, reject) => {
          const call: Call = {
            key: cacheKey,
            signal,
            settled: false,
            answer: (value = `verdict of ${cacheKey}`, usage = USAGE) => {
              call.settled = true;
              resolve({ value, usage });
            },
            fail: (error) => {
              call.settled = true;
              reject(error);
            },
          };
          this.calls.push(call);
        }),
    };
  }
}

/** A job whose attempts end at once, one result of the script each. */
function scripted(
  cacheKey: string,
  script: Array<LlmError | string>,
  overrides: Partial<Omit<TriageJob<string>, 'run'>> = {},
): { job: TriageJob<string>; run: jest.Mock } {
  const run = jest.fn(async () => {
    const next = script.shift();
    if (next === undefined) throw new Error('the script ran out');
    if (next instanceof LlmError) throw next;
    return { value: next, usage: USAGE };
  });
  return { job: { tenantId: 't1', cacheKey, priority: 0, estimatedTokens: 10, ...overrides, run }, run };
}

/** A promise's outcome as soon as it has one, to assert that it has (not) settled. */
function watch<T>(promise: Promise<T>): { value?: T } {
  const seen: { value?: T } = {};
  void promise.then((value) => (seen.value = value));
  return seen;
}

/** Numbers in [0, 1) from a seed (mulberry32), so a random test fails the same way twice. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const flush = () => jest.advanceTimersByTimeAsync(0);

/** The outcome, letting fake time run until there is one (a backoff of 0 ms is a timer too). */
async function settled<T>(promise: Promise<T>): Promise<T> {
  const seen = watch(promise);
  for (let step = 0; step < 1000 && seen.value === undefined; step++)
    await jest.advanceTimersByTimeAsync(100);
  if (seen.value === undefined) throw new Error('no outcome after 100 s of fake time');
  return seen.value;
}

function scheduler(options: TriageSchedulerOptions = {}): TriageScheduler<string> {
  return new TriageScheduler<string>({ random: () => 0, ...options });
}

/** Every submit has exactly one outcome, counted once. */
function expectCountsBalanced(triage: TriageScheduler<string>): void {
  const counts = triage.counts;
  const ended = counts.done + counts.cached + SKIP_REASONS.reduce((sum, reason) => sum + counts[reason], 0);
  expect(ended).toBe(counts.submitted);
}

describe('TriageScheduler', () => {
  let llm: FakeLlm;

  beforeEach(() => {
    jest.useFakeTimers({ now: NOON });
    llm = new FakeLlm();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('queue', () => {
    it('runs at most `concurrency` calls at once, the rest waiting their turn', async () => {
      const triage = scheduler({ concurrency: 2 });
      const outcomes = ['a', 'b', 'c', 'd', 'e'].map((key) => triage.submit(llm.job(key)));
      await flush();
      expect(llm.open.map((call) => call.key)).toEqual(['a', 'b']);
      expect(triage.counts).toMatchObject({ inFlight: 2, queued: 3 });

      let most = 0;
      while (llm.open.length > 0) {
        most = Math.max(most, llm.open.length);
        llm.open[0].answer();
        await flush();
      }
      expect(most).toBe(2);
      expect(llm.calls).toHaveLength(5);
      for (const outcome of await Promise.all(outcomes)) expect(outcome).toMatchObject({ status: 'done' });
      expect(triage.counts).toMatchObject({ submitted: 5, done: 5, inFlight: 0, queued: 0 });
    });

    it('calls the most severe waiting job first, the earlier of two equally severe ones first', async () => {
      const triage = scheduler({ concurrency: 1 });
      void triage.submit(llm.job('blocker'));
      for (const [key, priority] of [
        ['low', 1],
        ['high', 5],
        ['mid-1', 3],
        ['mid-2', 3],
      ] as const) {
        void triage.submit(llm.job(key, { priority }));
      }
      await flush();
      const order: string[] = [];
      while (llm.open.length > 0) {
        order.push(llm.open[0].key);
        llm.open[0].answer();
        await flush();
      }
      expect(order).toEqual(['blocker', 'high', 'mid-1', 'mid-2', 'low']);
    });

    it('when full, drops the least severe waiting job, or the new one when it is the least', async () => {
      const triage = scheduler({ concurrency: 1, queueSize: 2 });
      void triage.submit(llm.job('blocker'));
      const low = watch(triage.submit(llm.job('low', { priority: 1 })));
      void triage.submit(llm.job('high', { priority: 3 }));
      void triage.submit(llm.job('mid', { priority: 2 }));
      await flush();
      expect(low.value).toEqual({ status: 'skipped', reason: 'queue_full', usage: NO_USAGE, attempts: 0 });

      // As severe as the least waiting one: the new one goes, the one that waited stays.
      const tie = await triage.submit(llm.job('tie', { priority: 2 }));
      const lower = await triage.submit(llm.job('lower', { priority: 0 }));
      expect(tie).toMatchObject({ status: 'skipped', reason: 'queue_full' });
      expect(lower).toMatchObject({ status: 'skipped', reason: 'queue_full' });
      expect(triage.counts).toMatchObject({ queue_full: 3, dropped: 3, queued: 2 });

      while (llm.open.length > 0) {
        llm.open[0].answer();
        await flush();
      }
      expect(llm.calls.map((call) => call.key)).toEqual(['blocker', 'high', 'mid']);
      expectCountsBalanced(triage);
    });

    it('serves, drops and expires jobs as a plain sorted list would, over many random jobs', async () => {
      const random = seededRandom(7);
      const queueSize = 25;
      const triage = scheduler({ concurrency: 1, queueSize });
      void triage.submit(llm.job('blocker'));
      await flush();

      interface Model {
        key: string;
        priority: number;
        seq: number;
        deadline?: number;
      }
      let waiting: Model[] = [];
      const dropped: string[] = [];
      const droppedSeen: string[] = [];
      for (let seq = 0; seq < 400; seq++) {
        const job: Model = { key: `j${seq}`, priority: Math.floor(random() * 10), seq };
        if (random() < 0.3) job.deadline = 1 + Math.floor(random() * 100);
        void triage
          .submit(llm.job(job.key, { priority: job.priority }), { deadlineMs: job.deadline })
          .then(
            (outcome) =>
              outcome.status === 'skipped' && outcome.reason === 'queue_full' && droppedSeen.push(job.key),
          );
        if (waiting.length === queueSize) {
          const least = waiting.reduce((a, b) =>
            b.priority < a.priority || (b.priority === a.priority && b.seq > a.seq) ? b : a,
          );
          if (job.priority <= least.priority) {
            dropped.push(job.key);
            continue;
          }
          waiting = waiting.filter((held) => held !== least);
          dropped.push(least.key);
        }
        waiting.push(job);
      }
      await jest.advanceTimersByTimeAsync(50);
      waiting = waiting.filter((job) => job.deadline === undefined || job.deadline > 50);
      expect(triage.counts.queued).toBe(waiting.length);

      llm.open[0].answer();
      await flush();
      const order: string[] = [];
      while (llm.open.length > 0) {
        order.push(llm.open[0].key);
        llm.open[0].answer();
        await flush();
      }
      const expected = [...waiting]
        .sort((a, b) => b.priority - a.priority || a.seq - b.seq)
        .filter((job) => job.deadline === undefined || job.deadline > 50);
      expect(order).toEqual(expected.map((job) => job.key));
      expect(droppedSeen.sort()).toEqual(dropped.sort());
    });
  });

  describe('attempts', () => {
    it('aborts an attempt at its timeout, even one that ignores its signal, and tries again', async () => {
      const triage = scheduler({ timeoutMs: 1000, retries: 1 });
      const outcome = triage.submit(llm.job('a'));
      await flush();
      const first = llm.calls[0];
      await jest.advanceTimersByTimeAsync(999);
      expect(first.signal.aborted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(first.signal.aborted).toBe(true);
      expect(first.signal.reason).toMatchObject({ kind: 'timeout' });
      // A backoff of 0 ms (random() is 0) still waits for the next turn of the timers.
      await jest.advanceTimersByTimeAsync(1);
      expect(llm.calls).toHaveLength(2);

      llm.calls[1].answer('late but fine');
      expect(await outcome).toEqual({
        status: 'done',
        value: 'late but fine',
        usage: USAGE,
        cached: false,
        attempts: 2,
      });
    });

    it('skips with `timeout` when every attempt times out, and still debits an answer that comes too late', async () => {
      const triage = scheduler({ timeoutMs: 1000, retries: 1, budgets: { tenantDailyTokens: () => 150 } });
      const outcome = watch(triage.submit(llm.job('a')));
      await jest.advanceTimersByTimeAsync(2000);
      expect(outcome.value).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect(outcome.value).toEqual({ status: 'skipped', reason: 'timeout', usage: NO_USAGE, attempts: 2 });
      expect(triage.counts.timeout).toBe(1);

      llm.calls[0].answer('too late', USAGE);
      await flush();
      expect(triage.counts).toMatchObject({ tokensIn: 100, tokensOut: 20 });
      // 120 of 150 tokens spent: an estimate of 31 no longer fits.
      expect(await triage.submit(llm.job('b', { estimatedTokens: 31 }))).toMatchObject({
        reason: 'tenant_budget',
      });
    });

    it('waits a full-jitter backoff between attempts, at least Retry-After, never more than maxMs', async () => {
      const triage = scheduler({ retries: 3, random: () => 0.5, backoff: { baseMs: 500, maxMs: 10_000 } });
      const outcome = triage.submit(llm.job('a'));
      await flush();
      llm.calls[0].fail(new LlmError('rate_limited', '429', { retryAfterMs: 3000 }));
      await jest.advanceTimersByTimeAsync(2999);
      expect(llm.calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(llm.calls).toHaveLength(2);

      // Second retry: half of min(10 s, 500 ms * 2) = 500 ms.
      llm.calls[1].fail(new LlmError('server', '503'));
      await jest.advanceTimersByTimeAsync(499);
      expect(llm.calls).toHaveLength(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(llm.calls).toHaveLength(3);

      // A Retry-After of a minute is capped at maxMs.
      llm.calls[2].fail(new LlmError('rate_limited', '429', { retryAfterMs: 60_000 }));
      await jest.advanceTimersByTimeAsync(9999);
      expect(llm.calls).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(1);
      expect(llm.calls).toHaveLength(4);

      llm.calls[3].fail(new LlmError('server', '500'));
      expect(await outcome).toEqual({ status: 'skipped', reason: 'failed', usage: NO_USAGE, attempts: 4 });
    });

    it('the jitter is uniform below a ceiling that doubles from baseMs up to maxMs', async () => {
      const draws = [0.999, 0.999, 0.999, 0.999, 0.999];
      const triage = scheduler({
        retries: 5,
        random: () => draws.shift() as number,
        backoff: { baseMs: 100, maxMs: 500 },
        breaker: { failureThreshold: 10 },
      });
      void triage.submit(llm.job('a'));
      await flush();
      const waits: number[] = [];
      for (let attempt = 1; attempt <= 5; attempt++) {
        llm.calls[attempt - 1].fail(new LlmError('server', '503'));
        let waited = 0;
        while (llm.calls.length === attempt && waited < 1000) {
          await jest.advanceTimersByTimeAsync(1);
          waited += 1;
        }
        waits.push(waited);
      }
      // floor(0.999 * ceiling): 99, 199, 399, then 499 at the cap.
      expect(waits).toEqual([99, 199, 399, 499, 499]);
    });

    it('retries a malformed answer once, then skips it with the tokens both answers cost', async () => {
      const malformed = () =>
        new LlmError('malformed', 'not a verdict', { usage: { inputTokens: 50, outputTokens: 7 } });
      const { job, run } = scripted('a', [malformed(), malformed(), 'never asked']);
      const triage = scheduler({ retries: 2 });
      const outcome = await settled(triage.submit(job));
      expect(run).toHaveBeenCalledTimes(2);
      expect(outcome).toEqual({
        status: 'skipped',
        reason: 'malformed',
        usage: { inputTokens: 100, outputTokens: 14 },
        attempts: 2,
      });
      expect(triage.counts).toMatchObject({ malformed: 1, tokensIn: 100, tokensOut: 14 });
    });

    it('a malformed answer then a good one is done, with both answers in its usage', async () => {
      const { job } = scripted('a', [
        new LlmError('malformed', 'not a verdict', { usage: { inputTokens: 50, outputTokens: 7 } }),
        'fine',
      ]);
      const outcome = await settled(scheduler().submit(job));
      expect(outcome).toEqual({
        status: 'done',
        value: 'fine',
        usage: { inputTokens: 150, outputTokens: 27 },
        cached: false,
        attempts: 2,
      });
    });

    it('never retries a refusal or a client error', async () => {
      const triage = scheduler({ retries: 2 });
      const refused = scripted('a', [new LlmError('refused', 'no', { usage: USAGE }), 'never']);
      const client = scripted('b', [new LlmError('client', '401', { status: 401 }), 'never']);
      expect(await triage.submit(refused.job)).toEqual({
        status: 'skipped',
        reason: 'refused',
        usage: USAGE,
        attempts: 1,
      });
      expect(await triage.submit(client.job)).toEqual({
        status: 'skipped',
        reason: 'failed',
        usage: NO_USAGE,
        attempts: 1,
      });
      expect(refused.run).toHaveBeenCalledTimes(1);
      expect(client.run).toHaveBeenCalledTimes(1);
    });

    it('never rejects: a run that throws, synchronously or not, is a skipped job', async () => {
      const triage = scheduler();
      const throws: TriageJob<string> = {
        ...llm.job('a'),
        run: () => {
          throw new TypeError('bug');
        },
      };
      const rejects: TriageJob<string> = { ...llm.job('b'), run: () => Promise.reject('a string') };
      expect(await triage.submit(throws)).toMatchObject({ status: 'skipped', reason: 'failed', attempts: 1 });
      expect(await triage.submit(rejects)).toMatchObject({
        status: 'skipped',
        reason: 'failed',
        attempts: 1,
      });
      expect(await triage.submit(llm.job('c', { estimatedTokens: Number.NaN }))).toMatchObject({
        reason: 'failed',
        attempts: 0,
      });
      expect(llm.calls).toHaveLength(0);
    });
  });

  describe('circuit breaker', () => {
    const outage = () => new LlmError('server', '503');

    it('opens after N failed attempts in a row: queued, retrying and new jobs skip at once, with no call', async () => {
      const triage = scheduler({
        concurrency: 3,
        retries: 2,
        random: () => 0.99,
        breaker: { failureThreshold: 3 },
      });
      const retrying = ['a', 'b', 'c'].map((key) => watch(triage.submit(llm.job(key))));
      const queued = ['d', 'e'].map((key) => watch(triage.submit(llm.job(key))));
      await flush();
      llm.calls[0].fail(outage());
      llm.calls[1].fail(outage());
      await flush();
      expect(triage.state()).toBe('closed');
      expect(triage.counts).toMatchObject({ inFlight: 3, queued: 2 });

      llm.calls[2].fail(outage());
      await flush();
      expect(triage.state()).toBe('open');
      for (const outcome of [...retrying, ...queued]) {
        expect(outcome.value).toMatchObject({ status: 'skipped', reason: 'circuit_open' });
      }
      expect(retrying[0].value).toMatchObject({ attempts: 1 });
      expect(queued[0].value).toMatchObject({ attempts: 0 });
      expect(triage.counts).toMatchObject({ inFlight: 0, queued: 0, circuit_open: 5 });

      expect(await triage.submit(llm.job('f'))).toEqual({
        status: 'skipped',
        reason: 'circuit_open',
        usage: NO_USAGE,
        attempts: 0,
      });
      await jest.advanceTimersByTimeAsync(10_000);
      expect(llm.calls).toHaveLength(3);
      expectCountsBalanced(triage);
    });

    it('counts failures in a row only: an answer in between starts again', async () => {
      const triage = scheduler({ concurrency: 1, retries: 0, breaker: { failureThreshold: 2 } });
      void triage.submit(llm.job('a'));
      void triage.submit(llm.job('b'));
      void triage.submit(llm.job('c'));
      await flush();
      llm.open[0].fail(outage());
      await flush();
      llm.open[0].fail(new LlmError('malformed', 'bad json'));
      await flush();
      llm.open[0].fail(outage());
      await flush();
      expect(triage.state()).toBe('closed');
    });

    it('a job waiting to retry when the circuit opens is skipped at once, not after its backoff', async () => {
      const triage = scheduler({
        concurrency: 2,
        retries: 2,
        random: () => 0.99,
        breaker: { failureThreshold: 2 },
      });
      const retrying = watch(triage.submit(llm.job('a')));
      void triage.submit(llm.job('b'));
      await flush();
      llm.calls[0].fail(outage());
      await flush();
      expect(retrying.value).toBeUndefined();
      llm.calls[1].fail(outage());
      await flush();
      expect(triage.state()).toBe('open');
      expect(retrying.value).toEqual({
        status: 'skipped',
        reason: 'circuit_open',
        usage: NO_USAGE,
        attempts: 1,
      });
      expect(llm.calls).toHaveLength(2);
    });

    it('after the cooldown lets one probe through; its answer closes the circuit and the rest run', async () => {
      const triage = scheduler({
        concurrency: 4,
        retries: 0,
        breaker: { failureThreshold: 1, cooldownMs: 30_000 },
      });
      void triage.submit(llm.job('a'));
      await flush();
      llm.calls[0].fail(new LlmError('timeout', 'slow'));
      await flush();
      expect(triage.state()).toBe('open');
      await jest.advanceTimersByTimeAsync(29_999);
      expect(triage.state()).toBe('open');
      await jest.advanceTimersByTimeAsync(1);
      expect(triage.state()).toBe('half_open');

      const probe = triage.submit(llm.job('probe'));
      const waiting = triage.submit(llm.job('waiting'));
      await flush();
      expect(llm.open.map((call) => call.key)).toEqual(['probe']);
      llm.open[0].answer();
      await flush();
      expect(triage.state()).toBe('closed');
      expect(await probe).toMatchObject({ status: 'done' });
      expect(llm.open.map((call) => call.key)).toEqual(['waiting']);
      llm.open[0].answer();
      expect(await waiting).toMatchObject({ status: 'done' });
    });

    it('a probe answered with something malformed still closes the circuit: the provider is up', async () => {
      const triage = scheduler({
        retries: 1,
        random: () => 0.99,
        breaker: { failureThreshold: 1, cooldownMs: 1000 },
      });
      void triage.submit(llm.job('a'));
      await flush();
      llm.calls[0].fail(outage());
      await jest.advanceTimersByTimeAsync(1000);

      void triage.submit(llm.job('probe'));
      void triage.submit(llm.job('waiting'));
      await flush();
      llm.open[0].fail(new LlmError('malformed', 'bad json'));
      await flush();
      expect(triage.state()).toBe('closed');
      // The probe waits for its retry; the job behind it need not.
      expect(llm.open.map((call) => call.key)).toEqual(['waiting']);
    });

    it('a failed probe opens the circuit again and skips what waited for it', async () => {
      const triage = scheduler({ retries: 2, breaker: { failureThreshold: 1, cooldownMs: 1000 } });
      void triage.submit(llm.job('a'));
      await flush();
      llm.calls[0].fail(outage());
      await jest.advanceTimersByTimeAsync(1000);

      const probe = triage.submit(llm.job('probe'));
      const waiting = watch(triage.submit(llm.job('waiting')));
      await flush();
      llm.open[0].fail(outage());
      await flush();
      expect(triage.state()).toBe('open');
      // The probe's own retry would need the circuit: it is skipped rather than waiting.
      expect(await probe).toMatchObject({ status: 'skipped', reason: 'circuit_open', attempts: 1 });
      expect(waiting.value).toMatchObject({ status: 'skipped', reason: 'circuit_open' });
      expect(llm.calls.map((call) => call.key)).toEqual(['a', 'probe']);
      await jest.advanceTimersByTimeAsync(999);
      expect(triage.state()).toBe('open');
      await jest.advanceTimersByTimeAsync(1);
      expect(triage.state()).toBe('half_open');
    });
  });

  describe('budgets', () => {
    it('skips a tenant over its day’s tokens, others still run, and starts again at midnight UTC', async () => {
      let now = Date.UTC(2024, 4, 1, 23, 0);
      const triage = scheduler({
        clock: () => now,
        budgets: { tenantDailyTokens: (tenant) => (tenant === 'small' ? 150 : 10_000) },
      });
      const first = llm.job('a', { tenantId: 'small', estimatedTokens: 100 });
      const done = triage.submit(first);
      await flush();
      llm.open[0].answer('ok', USAGE);
      expect(await done).toMatchObject({ status: 'done' });

      // 120 spent: another 100 does not fit in 150.
      expect(await triage.submit(llm.job('b', { tenantId: 'small', estimatedTokens: 100 }))).toEqual({
        status: 'skipped',
        reason: 'tenant_budget',
        usage: NO_USAGE,
        attempts: 0,
      });
      const other = triage.submit(llm.job('b', { tenantId: 'big', estimatedTokens: 100 }));
      await flush();
      expect(llm.open.map((call) => call.key)).toEqual(['b']);
      llm.open[0].answer();
      expect(await other).toMatchObject({ status: 'done' });

      now = Date.UTC(2024, 4, 2, 0, 0);
      const nextDay = triage.submit(llm.job('b', { tenantId: 'small', estimatedTokens: 100 }));
      await flush();
      expect(llm.open).toHaveLength(1);
      llm.open[0].answer();
      expect(await nextDay).toMatchObject({ status: 'done' });
      expect(triage.counts.tenant_budget).toBe(1);
    });

    it('a tenant over its budget cannot push other tenants’ jobs out of a full queue', async () => {
      const triage = scheduler({
        concurrency: 1,
        queueSize: 1,
        budgets: { tenantDailyTokens: (t) => (t === 'small' ? 150 : 1e6) },
      });
      const spend = triage.submit(llm.job('spend', { tenantId: 'small' }));
      await flush();
      llm.open[0].answer('ok', USAGE);
      await spend;

      void triage.submit(llm.job('blocker', { tenantId: 'big' }));
      const waiting = watch(triage.submit(llm.job('waiting', { tenantId: 'big', priority: 1 })));
      const over = await triage.submit(
        llm.job('urgent', { tenantId: 'small', priority: 9, estimatedTokens: 100 }),
      );
      expect(over).toMatchObject({ status: 'skipped', reason: 'tenant_budget' });
      await flush();
      expect(waiting.value).toBeUndefined();
      expect(triage.counts).toMatchObject({ queued: 1, queue_full: 0 });
    });

    it('holds the estimate of attempts in flight, so two at once cannot overspend', async () => {
      const triage = scheduler({ concurrency: 2, budgets: { tenantDailyTokens: () => 100 } });
      const first = triage.submit(llm.job('a', { estimatedTokens: 60 }));
      const second = triage.submit(llm.job('b', { estimatedTokens: 60 }));
      expect(await second).toMatchObject({ status: 'skipped', reason: 'tenant_budget' });
      await flush();
      expect(llm.calls).toHaveLength(1);
      llm.open[0].answer('ok', { inputTokens: 10, outputTokens: 5 });
      await first;
      // The estimate is released, only the 15 spent count.
      const third = triage.submit(llm.job('c', { estimatedTokens: 85 }));
      await flush();
      expect(llm.calls).toHaveLength(2);
      llm.open[0].answer();
      expect(await third).toMatchObject({ status: 'done' });
    });

    it('checks before every attempt: a retry that no longer fits is skipped with what was spent', async () => {
      const triage = scheduler({ budgets: { tenantDailyTokens: () => 150 } });
      const { job, run } = scripted('a', [new LlmError('server', '502', { usage: USAGE }), 'never'], {
        estimatedTokens: 40,
      });
      expect(await settled(triage.submit(job))).toEqual({
        status: 'skipped',
        reason: 'tenant_budget',
        usage: USAGE,
        attempts: 1,
      });
      expect(run).toHaveBeenCalledTimes(1);
    });

    it('skips every tenant once the global budget is spent, until the next UTC day', async () => {
      const triage = scheduler({ budgets: { globalDailyTokens: 200 } });
      const a = triage.submit(llm.job('a', { tenantId: 'one', estimatedTokens: 100 }));
      await flush();
      llm.open[0].answer('ok', { inputTokens: 150, outputTokens: 0 });
      await a;
      expect(await triage.submit(llm.job('b', { tenantId: 'two', estimatedTokens: 51 }))).toMatchObject({
        reason: 'global_budget',
      });
      expect(triage.counts.global_budget).toBe(1);

      jest.setSystemTime(Date.UTC(2024, 4, 2));
      const b = triage.submit(llm.job('b', { tenantId: 'two', estimatedTokens: 51 }));
      await flush();
      llm.open[0].answer();
      expect(await b).toMatchObject({ status: 'done' });
    });
  });

  describe('cache and single flight', () => {
    it('answers the same key from the cache within the TTL, with no call and no usage', async () => {
      const triage = scheduler({ cache: { ttlMs: 60_000 } });
      const first = triage.submit(llm.job('k'));
      await flush();
      llm.open[0].answer('verdict', USAGE);
      expect(await first).toMatchObject({ status: 'done', usage: USAGE, cached: false });

      expect(await triage.submit(llm.job('k'))).toEqual({
        status: 'done',
        value: 'verdict',
        usage: NO_USAGE,
        cached: true,
        attempts: 0,
      });
      expect(llm.calls).toHaveLength(1);
      expect(triage.counts).toMatchObject({ done: 1, cached: 1, tokensIn: 100 });

      jest.advanceTimersByTime(60_000);
      void triage.submit(llm.job('k'));
      await flush();
      expect(llm.calls).toHaveLength(2);
    });

    it('never answers one tenant from another’s cache, and forgets an erased tenant’s answers', async () => {
      const triage = scheduler();
      const first = triage.submit(llm.job('k', { tenantId: 'one' }));
      await flush();
      llm.open[0].answer();
      await first;
      void triage.submit(llm.job('k', { tenantId: 'two' }));
      await flush();
      expect(llm.calls).toHaveLength(2);

      triage.forgetTenant('one');
      void triage.submit(llm.job('k', { tenantId: 'one' }));
      await flush();
      expect(llm.calls).toHaveLength(3);
    });

    it('does not cache a skipped job', async () => {
      const triage = scheduler();
      const first = triage.submit(llm.job('k'));
      await flush();
      llm.open[0].fail(new LlmError('refused', 'no'));
      expect(await first).toMatchObject({ reason: 'refused' });
      void triage.submit(llm.job('k'));
      await flush();
      expect(llm.calls).toHaveLength(2);
    });

    it('holds at most cache.maxEntries answers', async () => {
      const triage = scheduler({ cache: { maxEntries: 2 } });
      for (const key of ['a', 'b', 'c']) {
        const outcome = triage.submit(llm.job(key));
        await flush();
        llm.open[0].answer();
        await outcome;
      }
      expect(await triage.submit(llm.job('c'))).toMatchObject({ cached: true });
      void triage.submit(llm.job('a'));
      await flush();
      expect(llm.calls.map((call) => call.key)).toEqual(['a', 'b', 'c', 'a']);
    });

    it('jobs with the key of one in flight share its call', async () => {
      const triage = scheduler();
      const first = triage.submit(llm.job('k'));
      await flush();
      const second = triage.submit(llm.job('k'));
      await flush();
      expect(llm.calls).toHaveLength(1);
      llm.open[0].answer('verdict', USAGE);
      expect(await first).toEqual({
        status: 'done',
        value: 'verdict',
        usage: USAGE,
        cached: false,
        attempts: 1,
      });
      expect(await second).toEqual({
        status: 'done',
        value: 'verdict',
        usage: NO_USAGE,
        cached: true,
        attempts: 0,
      });
      expect(triage.counts).toMatchObject({ submitted: 2, done: 1, cached: 1 });
    });

    it('a job joining a queued one shares its skip too, and lifts its priority', async () => {
      const triage = scheduler({ concurrency: 1, retries: 0 });
      void triage.submit(llm.job('blocker'));
      const low = triage.submit(llm.job('k', { priority: 1 }));
      void triage.submit(llm.job('other', { priority: 2 }));
      const urgent = triage.submit(llm.job('k', { priority: 9 }));
      await flush();
      llm.open[0].answer();
      await flush();
      expect(llm.open.map((call) => call.key)).toEqual(['k']);
      llm.open[0].fail(new LlmError('refused', 'no', { usage: USAGE }));
      expect(await low).toEqual({ status: 'skipped', reason: 'refused', usage: USAGE, attempts: 1 });
      expect(await urgent).toEqual({ status: 'skipped', reason: 'refused', usage: NO_USAGE, attempts: 0 });
    });
  });

  describe('deadline', () => {
    it('a job still queued at its deadline leaves the queue, is answered waited_too_long and costs nothing', async () => {
      const triage = scheduler({ concurrency: 1 });
      void triage.submit(llm.job('blocker'));
      const late = watch(triage.submit(llm.job('late'), { deadlineMs: 500 }));
      await jest.advanceTimersByTimeAsync(499);
      expect(late.value).toBeUndefined();
      expect(triage.counts.queued).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(late.value).toEqual({
        status: 'skipped',
        reason: 'waited_too_long',
        usage: NO_USAGE,
        attempts: 0,
      });
      expect(triage.counts).toMatchObject({ queued: 0, waited_too_long: 1 });

      llm.open[0].answer();
      await flush();
      expect(llm.calls.map((call) => call.key)).toEqual(['blocker']);
      expect(triage.counts.inFlight).toBe(0);
    });

    it('a job in flight at its deadline runs on: its tokens count and its answer is cached', async () => {
      const triage = scheduler();
      const outcome = watch(triage.submit(llm.job('k'), { deadlineMs: 500 }));
      await jest.advanceTimersByTimeAsync(500);
      expect(outcome.value).toMatchObject({ status: 'skipped', reason: 'waited_too_long', attempts: 1 });
      expect(llm.open).toHaveLength(1);
      expect(llm.open[0].signal.aborted).toBe(false);

      llm.open[0].answer('verdict', USAGE);
      await flush();
      expect(triage.counts).toMatchObject({ tokensIn: 100, tokensOut: 20, done: 0, waited_too_long: 1 });
      expect(await triage.submit(llm.job('k'))).toMatchObject({
        status: 'done',
        value: 'verdict',
        cached: true,
      });
      expectCountsBalanced(triage);
    });

    it('a queued job stays while another caller of its key still waits', async () => {
      const triage = scheduler({ concurrency: 1 });
      void triage.submit(llm.job('blocker'));
      const impatient = watch(triage.submit(llm.job('k'), { deadlineMs: 100 }));
      const patient = triage.submit(llm.job('k'), { deadlineMs: 10_000 });
      await jest.advanceTimersByTimeAsync(100);
      expect(impatient.value).toMatchObject({ reason: 'waited_too_long' });
      llm.open[0].answer();
      await flush();
      expect(llm.open.map((call) => call.key)).toEqual(['k']);
      llm.open[0].answer('verdict');
      expect(await patient).toMatchObject({ status: 'done', value: 'verdict' });
    });

    it('a deadline of zero is answered at once', async () => {
      const triage = scheduler();
      expect(await triage.submit(llm.job('k'), { deadlineMs: 0 })).toMatchObject({
        reason: 'waited_too_long',
      });
      expect(llm.calls).toHaveLength(0);
    });
  });

  describe('stop', () => {
    it('answers waiting and in-flight jobs stopped, aborts the calls and leaves no timer', async () => {
      const triage = scheduler({ concurrency: 1, retries: 2 });
      const running = triage.submit(llm.job('running'), { deadlineMs: 60_000 });
      const waiting = triage.submit(llm.job('waiting'), { deadlineMs: 60_000 });
      await flush();
      const signal = llm.calls[0].signal;

      await triage.stop();
      expect(signal.aborted).toBe(true);
      expect(await running).toEqual({ status: 'skipped', reason: 'stopped', usage: NO_USAGE, attempts: 1 });
      expect(await waiting).toEqual({ status: 'skipped', reason: 'stopped', usage: NO_USAGE, attempts: 0 });
      expect(await triage.submit(llm.job('after'))).toMatchObject({ reason: 'stopped' });
      expect(llm.calls).toHaveLength(1);
      expect(triage.counts).toMatchObject({ stopped: 3, inFlight: 0, queued: 0 });
      expect(jest.getTimerCount()).toBe(0);
      expectCountsBalanced(triage);
    });

    it('ends a job waiting to retry at once', async () => {
      const triage = scheduler({ retries: 2, random: () => 0.99 });
      const retrying = triage.submit(llm.job('a'));
      await flush();
      llm.calls[0].fail(new LlmError('server', '503', { usage: USAGE }));
      await flush();
      await triage.stop();
      expect(await retrying).toEqual({ status: 'skipped', reason: 'stopped', usage: USAGE, attempts: 1 });
      expect(jest.getTimerCount()).toBe(0);
      expect(llm.calls).toHaveLength(1);
    });
  });

  it('refuses options out of range, naming them', () => {
    expect(() => scheduler({ queueSize: 0 })).toThrow(/queueSize/);
    expect(() => scheduler({ concurrency: 1.5 })).toThrow(/concurrency/);
    expect(() => scheduler({ retries: -1 })).toThrow(/retries/);
    expect(() => scheduler({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => scheduler({ backoff: { baseMs: 1000, maxMs: 10 } })).toThrow(/backoff/);
  });
});
