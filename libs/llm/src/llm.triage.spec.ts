import { LlmTriage, type LlmTriageOptions, type TriagePrivacy } from './llm.triage';
import { type SeriesProfile, PROFILE_SCHEMA_NAME, seriesPattern } from './profile';
import { type ProfileRepository } from './profile.repository';
import { type LlmAnswer, LlmError, type LlmProvider, type LlmRequest, type LlmUsage } from './provider';
import { MAX_OUTPUT_TOKENS, TRIAGE_SYSTEM, type TriageCandidate } from './triage.prompt';
import { TriageScheduler } from './triage.scheduler';
import { VERDICT_SCHEMA_NAME } from './verdict';

const T0 = Date.UTC(2024, 4, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;
const WAIT_MS = 1000;
const USAGE: LlmUsage = { inputTokens: 700, outputTokens: 45 };
const ANSWERED_BY = 'gpt-4o-mini-2024-07-18';
const PRIVATE: TriagePrivacy = { redactLabels: ['customer'], zeroRetention: false };
const ZERO_RETENTION: TriagePrivacy = { redactLabels: ['customer'], zeroRetention: true };

const VERDICT = {
  verdict: 'anomaly',
  severity: 'critical',
  explanation: 'Checkout latency tripled in a minute.',
  likely_cause: 'a slow database',
  confidence: 0.9,
};
const LATENCY: SeriesProfile = { kind: 'latency', direction: 'up', seasonality: 'daily', unit: 'ms' };

type Reply = LlmAnswer | LlmError | Promise<LlmAnswer>;

/** An LlmProvider answering each call with the next scripted reply; an unscripted call fails the test's expectations. */
class ScriptedProvider implements LlmProvider {
  readonly name = 'openai';
  readonly model = 'gpt-4o-mini';
  readonly requests: LlmRequest[] = [];
  private readonly script: Reply[] = [];

  enqueue(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  async complete(request: LlmRequest): Promise<LlmAnswer> {
    this.requests.push(request);
    const reply = this.script.shift();
    if (reply === undefined) throw new Error(`unscripted call of ${request.schemaName}`);
    if (reply instanceof LlmError) throw reply;
    return reply;
  }
}

function answer(output: unknown, usage = USAGE): LlmAnswer {
  return { output, usage, model: ANSWERED_BY };
}

/** A stored-profile repository in memory, recording what it is asked. */
class FakeProfiles {
  readonly reads: string[] = [];
  readonly writes: unknown[][] = [];
  private readonly stored = new Map<string, SeriesProfile>();

  constructor(stored: Record<string, SeriesProfile> = {}) {
    for (const [key, profile] of Object.entries(stored)) this.stored.set(key, profile);
  }

  async read(tenantId: string, pattern: string): Promise<SeriesProfile | undefined> {
    this.reads.push(`${tenantId}/${pattern}`);
    return this.stored.get(`${tenantId}/${pattern}`);
  }

  async write(...args: [string, string, SeriesProfile, string, number]): Promise<void> {
    this.writes.push(args);
  }

  get repository(): ProfileRepository {
    return this as unknown as ProfileRepository;
  }
}

function candidate(fields: Partial<TriageCandidate> = {}): TriageCandidate {
  const ts = T0 + 30 * MINUTE;
  const window = Array.from({ length: 30 }, (_, i) => ({ ts: T0 + i * MINUTE, value: 100 + (i % 5) }));
  return {
    tenantId: 't1',
    anomalyId: 'an-1',
    metric: 'http_latency_ms',
    labels: { service: 'checkout', customer: 'acme-corp' },
    ts,
    value: 400,
    score: 0.93,
    severity: 'warning',
    detectors: ['robust-zscore'],
    window: [...window, { ts, value: 400 }],
    past: [],
    ...fields,
  };
}

const FIRST_POINTS = [{ ts: T0, value: 120 }];

describe('LlmTriage', () => {
  let provider: ScriptedProvider;
  let schedulers: Array<TriageScheduler<unknown>>;
  let meter: jest.Mock;
  let now: number;

  /** The backoff's jitter at 0: a retry waits no time. */
  function triage(options: LlmTriageOptions = {}, retries?: number): LlmTriage {
    const scheduler = new TriageScheduler<unknown>({
      random: () => 0,
      ...(retries === undefined ? {} : { retries }),
    });
    schedulers.push(scheduler);
    return new LlmTriage(provider, scheduler, { meter, clock: () => now, ...options });
  }

  beforeEach(() => {
    provider = new ScriptedProvider();
    meter = jest.fn();
    now = T0 + DAY;
    schedulers = [];
  });

  afterEach(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
  });

  describe('triage', () => {
    it('answers a valid verdict with the model that gave it, metered once under the anomaly', async () => {
      provider.enqueue(answer(VERDICT));
      const result = await triage().triage(candidate(), PRIVATE, WAIT_MS);
      expect(result).toEqual({
        status: 'done',
        verdict: 'anomaly',
        severity: 'critical',
        explanation: 'Checkout latency tripled in a minute.',
        likelyCause: 'a slow database',
        confidence: 0.9,
        model: ANSWERED_BY,
        cached: false,
      });
      expect(meter).toHaveBeenCalledTimes(1);
      expect(meter).toHaveBeenCalledWith('t1', USAGE, 'triage/an-1');
      expect(provider.requests).toHaveLength(1);
      const [request] = provider.requests;
      expect(request).toMatchObject({
        system: TRIAGE_SYSTEM,
        schemaName: VERDICT_SCHEMA_NAME,
        maxOutputTokens: MAX_OUTPUT_TOKENS,
      });
      expect(request.signal).toBeInstanceOf(AbortSignal);
      expect(request.prompt).not.toContain('acme-corp');
    });

    it('skips a malformed answer, still metering the tokens it cost', async () => {
      const malformed = { ...VERDICT, verdict: 'probably fine' };
      provider.enqueue(answer(malformed), answer(malformed, { inputTokens: 710, outputTokens: 30 }));
      const result = await triage().triage(candidate(), PRIVATE, WAIT_MS);
      expect(result).toEqual({ status: 'skipped', reason: 'malformed' });
      // The scheduler tries a malformed answer once more; both calls were billed.
      expect(provider.requests).toHaveLength(2);
      expect(meter).toHaveBeenCalledTimes(1);
      expect(meter).toHaveBeenCalledWith('t1', { inputTokens: 1410, outputTokens: 75 }, 'triage/an-1');
    });

    it('answers a second candidate alike from the cache: no call, nothing metered', async () => {
      provider.enqueue(answer(VERDICT));
      const llm = triage();
      const first = await llm.triage(candidate(), PRIVATE, WAIT_MS);
      // Another anomaly of the same shape, and another customer's, whose name is redacted.
      const second = await llm.triage(
        candidate({ anomalyId: 'an-2', labels: { service: 'checkout', customer: 'globex' } }),
        PRIVATE,
        WAIT_MS,
      );
      expect(second).toEqual({ ...first, cached: true });
      expect(provider.requests).toHaveLength(1);
      expect(meter).toHaveBeenCalledTimes(1);
      expect(meter).not.toHaveBeenCalledWith('t1', expect.anything(), 'triage/an-2');
    });

    it('logs no prompt of a zero-retention tenant, whatever logPrompts says', async () => {
      const logger = { log: jest.fn(), warn: jest.fn(), debug: jest.fn() };
      provider.enqueue(answer(VERDICT));
      const result = await triage({ logPrompts: true, logger }).triage(candidate(), ZERO_RETENTION, WAIT_MS);
      expect(result.status).toBe('done');
      expect(logger.debug).not.toHaveBeenCalled();
      expect(logger.log).not.toHaveBeenCalled();
      expect(logger.warn).not.toHaveBeenCalled();
    });

    it('logs the prompt and the answer of a normal tenant when logPrompts is on, redacted, and only then', async () => {
      const logger = { log: jest.fn(), warn: jest.fn(), debug: jest.fn() };
      provider.enqueue(answer(VERDICT), answer(VERDICT));
      await triage({ logPrompts: true, logger }).triage(candidate(), PRIVATE, WAIT_MS);
      expect(logger.debug).toHaveBeenCalledTimes(1);
      const [line] = logger.debug.mock.calls[0] as [string];
      expect(line).toContain('an-1');
      expect(line).toContain('Checkout latency tripled');
      expect(line).not.toContain('acme-corp');

      const quiet = { log: jest.fn(), warn: jest.fn(), debug: jest.fn() };
      await triage({ logger: quiet }).triage(candidate(), PRIVATE, WAIT_MS);
      expect(provider.requests).toHaveLength(2);
      expect(quiet.debug).not.toHaveBeenCalled();
    });
  });

  describe('triageLazily', () => {
    const request = (gather: jest.Mock, cacheKey = 'k1') => ({
      tenantId: 't1',
      anomalyId: 'an-lazy',
      score: 0.9,
      cacheKey,
      gather,
    });

    it('reads the candidate once in the call slot, whatever the retries', async () => {
      provider.enqueue(new LlmError('server', 'HTTP 503', { status: 503 }), answer(VERDICT));
      const gather = jest.fn(async () => candidate());
      const result = await triage().triageLazily(request(gather), PRIVATE, WAIT_MS);
      expect(result).toMatchObject({ status: 'done', verdict: 'anomaly' });
      expect(provider.requests).toHaveLength(2);
      expect(gather).toHaveBeenCalledTimes(1);
      expect(provider.requests[1].prompt).toContain('http_latency_ms');
    });

    it('reads nothing for a candidate skipped before its call, or answered from the cache', async () => {
      const overBudget = new LlmTriage(
        provider,
        new TriageScheduler<unknown>({ budgets: { tenantDailyTokens: () => 10 } }),
        { meter },
      );
      const skippedGather = jest.fn(async () => candidate());
      expect(await overBudget.triageLazily(request(skippedGather), PRIVATE, WAIT_MS)).toEqual({
        status: 'skipped',
        reason: 'tenant_budget',
      });
      expect(skippedGather).not.toHaveBeenCalled();

      provider.enqueue(answer(VERDICT));
      const triager = triage();
      await triager.triageLazily(request(jest.fn(async () => candidate())), PRIVATE, WAIT_MS);
      const cachedGather = jest.fn(async () => candidate());
      const again = await triager.triageLazily(request(cachedGather), PRIVATE, WAIT_MS);
      expect(again).toMatchObject({ status: 'done', cached: true });
      expect(cachedGather).not.toHaveBeenCalled();
      expect(provider.requests).toHaveLength(1);
    });
  });

  describe('profile', () => {
    it('makes one call for concurrent asks of series of one pattern, and stores its answer', async () => {
      let release!: (a: LlmAnswer) => void;
      provider.enqueue(new Promise<LlmAnswer>((resolve) => (release = resolve)));
      const profiles = new FakeProfiles();
      const llm = triage({ profiles: profiles.repository });
      const asks = [
        llm.profile('t1', 'cpu', { host: 'web-12' }, FIRST_POINTS, PRIVATE, WAIT_MS),
        llm.profile('t1', 'cpu', { host: 'web-900' }, FIRST_POINTS, PRIVATE, WAIT_MS),
      ];
      await new Promise((resolve) => setTimeout(resolve, 5));
      release(answer(LATENCY));
      expect(await Promise.all(asks)).toEqual([LATENCY, LATENCY]);
      expect(provider.requests).toHaveLength(1);
      expect(provider.requests[0].schemaName).toBe(PROFILE_SCHEMA_NAME);
      const pattern = seriesPattern('cpu', { host: 'web-1' });
      expect(profiles.reads).toEqual([`t1/${pattern}`]);
      expect(profiles.writes).toEqual([['t1', pattern, LATENCY, provider.model, now]]);
      expect(meter).toHaveBeenCalledTimes(1);
      expect(meter).toHaveBeenCalledWith('t1', USAGE, `profile/t1/${pattern}`);
      // Held in memory from then on.
      expect(await llm.profile('t1', 'cpu', { host: 'web-3' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toEqual(
        LATENCY,
      );
      expect(provider.requests).toHaveLength(1);
      expect(llm.counts).toMatchObject({ profiled: 1, profilesFromStore: 0, profileFailures: 0 });
    });

    it('profiles each tenant on its own', async () => {
      provider.enqueue(answer(LATENCY), answer({ ...LATENCY, unit: 's' }));
      const llm = triage();
      expect(await llm.profile('t1', 'cpu', { host: 'web-1' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toEqual(
        LATENCY,
      );
      expect(await llm.profile('t2', 'cpu', { host: 'web-1' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toMatchObject(
        {
          unit: 's',
        },
      );
      expect(provider.requests).toHaveLength(2);
    });

    it('takes a stored profile without a call', async () => {
      const pattern = seriesPattern('cpu', { host: 'web-1' });
      const profiles = new FakeProfiles({ [`t1/${pattern}`]: LATENCY });
      const llm = triage({ profiles: profiles.repository });
      expect(await llm.profile('t1', 'cpu', { host: 'web-42' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toEqual(
        LATENCY,
      );
      expect(await llm.profile('t1', 'cpu', { host: 'web-43' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toEqual(
        LATENCY,
      );
      expect(provider.requests).toHaveLength(0);
      expect(profiles.reads).toHaveLength(1);
      expect(profiles.writes).toHaveLength(0);
      expect(meter).not.toHaveBeenCalled();
      expect(llm.counts.profilesFromStore).toBe(1);
    });

    it('does not ask again today for a profile whose answer was unusable', async () => {
      const unusable = { ...LATENCY, kind: 'gauge' };
      provider.enqueue(answer(unusable), answer(unusable));
      const profiles = new FakeProfiles();
      const llm = triage({ profiles: profiles.repository });
      expect(
        await llm.profile('t1', 'cpu', { host: 'web-1' }, FIRST_POINTS, PRIVATE, WAIT_MS),
      ).toBeUndefined();
      const calls = provider.requests.length;
      expect(calls).toBe(2);
      expect(meter).toHaveBeenCalledTimes(1);
      expect(
        await llm.profile('t1', 'cpu', { host: 'web-2' }, FIRST_POINTS, PRIVATE, WAIT_MS),
      ).toBeUndefined();
      expect(provider.requests).toHaveLength(calls);
      expect(profiles.reads).toHaveLength(1);
      expect(profiles.writes).toHaveLength(0);
      expect(llm.counts.profileFailures).toBe(1);

      now += DAY + 1;
      provider.enqueue(answer(LATENCY));
      expect(await llm.profile('t1', 'cpu', { host: 'web-2' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toEqual(
        LATENCY,
      );
      expect(provider.requests).toHaveLength(calls + 1);
    });

    it('asks again after a provider failure, which says nothing of the series', async () => {
      provider.enqueue(new LlmError('server', 'scripted 503', { status: 503 }), answer(LATENCY));
      const llm = triage({}, 0);
      expect(
        await llm.profile('t1', 'cpu', { host: 'web-1' }, FIRST_POINTS, PRIVATE, WAIT_MS),
      ).toBeUndefined();
      expect(await llm.profile('t1', 'cpu', { host: 'web-1' }, FIRST_POINTS, PRIVATE, WAIT_MS)).toEqual(
        LATENCY,
      );
      expect(provider.requests).toHaveLength(2);
    });
  });
});
