/**
 * How the alert-latency benchmark paces its load and where it puts its anomalies: `rate`
 * points/s for `seconds`, in requests of `requestPoints` sent on a fixed schedule (open
 * loop, as the latency phase of the server benchmark: a slow server cannot slow the load
 * down and hide its own latency), and about `injectionsPerSecond` injected anomalies, one
 * per request at most, spread evenly over the requests after the first `leadSeconds`
 * (the load settles first). Never more than `maxInjections`: each one is an incident
 * told to one subscription, whose hourly budget they must not exceed.
 */
export interface AlertPlan {
  readonly requests: number;
  readonly intervalMs: number;
  /** The requests that carry an injection, ascending: injection k rides in request `injectAt[k]`. */
  readonly injectAt: readonly number[];
}

export interface AlertPlanOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly requestPoints: number;
  readonly injectionsPerSecond: number;
  readonly leadSeconds: number;
  readonly maxInjections: number;
}

export function alertPlan(options: AlertPlanOptions): AlertPlan {
  const { rate, seconds, requestPoints, injectionsPerSecond, leadSeconds, maxInjections } = options;
  for (const [name, value] of Object.entries({ rate, seconds, requestPoints, injectionsPerSecond })) {
    if (!(Number.isFinite(value) && value > 0))
      throw new RangeError(`${name} must be positive, got ${value}`);
  }
  if (!(Number.isFinite(leadSeconds) && leadSeconds >= 0 && leadSeconds < seconds)) {
    throw new RangeError(`leadSeconds must be in [0, seconds), got ${leadSeconds}`);
  }
  if (!(Number.isInteger(maxInjections) && maxInjections >= 1)) {
    throw new RangeError(`maxInjections must be a positive integer, got ${maxInjections}`);
  }
  const requests = Math.max(1, Math.round((rate * seconds) / requestPoints));
  const intervalMs = (1000 * requestPoints) / rate;
  const first = Math.min(requests - 1, Math.ceil((leadSeconds * 1000) / intervalMs));
  const eligible = requests - first;
  const count = Math.max(
    1,
    Math.min(maxInjections, eligible, Math.round((seconds - leadSeconds) * injectionsPerSecond)),
  );
  const injectAt = Array.from({ length: count }, (_, k) => first + Math.floor((k * eligible) / count));
  return { requests, intervalMs, injectAt };
}
