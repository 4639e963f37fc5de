import { latencyPlan } from './latency-plan';

describe('latencyPlan', () => {
  it('paces 50k points/s as 50 requests of 1000 a second, a spike in every fifth', () => {
    expect(latencyPlan({ rate: 50_000, seconds: 20, requestPoints: 1000, spikesPerSecond: 10 })).toEqual({
      requests: 1000,
      intervalMs: 20,
      spikeEvery: 5,
      probes: 200,
    });
  });

  it('puts a spike in every request when requests are fewer than the spikes asked', () => {
    const plan = latencyPlan({ rate: 1000, seconds: 3, requestPoints: 500, spikesPerSecond: 10 });
    expect(plan).toEqual({ requests: 6, intervalMs: 500, spikeEvery: 1, probes: 6 });
  });

  it('counts the last, partial stride of spikes', () => {
    // 7 requests, a spike in every second one: requests 0, 2, 4 and 6.
    expect(latencyPlan({ rate: 7000, seconds: 1, requestPoints: 1000, spikesPerSecond: 3 }).probes).toBe(4);
  });

  it('refuses a rate, length or size that is not positive', () => {
    expect(() => latencyPlan({ rate: 0, seconds: 1, requestPoints: 1, spikesPerSecond: 1 })).toThrow('rate');
    expect(() => latencyPlan({ rate: 1, seconds: Number.NaN, requestPoints: 1, spikesPerSecond: 1 })).toThrow(
      'seconds',
    );
  });
});
