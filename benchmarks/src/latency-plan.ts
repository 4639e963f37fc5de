/**
 * How the latency phase paces its load: `rate` points/s for `seconds`, in requests of
 * `requestPoints` sent on a fixed schedule (open loop: a request leaves at its time
 * whether or not the earlier ones were answered, so a slow server cannot slow the load
 * down and hide its own latency), with one spike in every `spikeEvery`-th request, about
 * `spikesPerSecond` spikes a second, each in a probe series of its own.
 */
export interface LatencyPlan {
  readonly requests: number;
  readonly intervalMs: number;
  readonly spikeEvery: number;
  /** Spikes, and so probe series: request j carries one when j % spikeEvery === 0. */
  readonly probes: number;
}

export function latencyPlan(options: {
  readonly rate: number;
  readonly seconds: number;
  readonly requestPoints: number;
  readonly spikesPerSecond: number;
}): LatencyPlan {
  const { rate, seconds, requestPoints, spikesPerSecond } = options;
  for (const [name, value] of Object.entries(options)) {
    if (!(Number.isFinite(value) && value > 0))
      throw new RangeError(`${name} must be positive, got ${value}`);
  }
  const requests = Math.max(1, Math.round((rate * seconds) / requestPoints));
  const requestsPerSecond = rate / requestPoints;
  const spikeEvery = Math.max(1, Math.round(requestsPerSecond / spikesPerSecond));
  return {
    requests,
    intervalMs: 1000 / requestsPerSecond,
    spikeEvery,
    probes: Math.ceil(requests / spikeEvery),
  };
}
