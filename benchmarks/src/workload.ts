import { seriesKey } from '@seismo/ingest';
import { encodePointBatch, partitionOf, PointBatchBuilder } from '@seismo/pipeline';

/**
 * The metrics the pipeline benchmarks push: `count` series named as a web fleet's request
 * latencies are (`http_request_duration_seconds{host="web-00042",route=...,status=...}`),
 * each a steady value with a slow wave and a little noise. Point k of the stream belongs to
 * series k % count, as its (k / count)-th sample: every series advances in turn, as a
 * fleet of agents scraped on the same interval does, so each series' timestamps increase.
 *
 * Everything is a pure function of (series, sample): a redelivered or rebuilt request
 * carries the same points.
 */

export const METRIC = 'http_request_duration_seconds';
/** The probe series of the latency phase: named apart from the fleet, so their anomalies are told apart. */
export const PROBE_METRIC = 'seismo_bench_probe';

const ROUTES = ['/api/v1/orders', '/api/v1/users', '/api/v1/cart', '/api/v1/search', '/healthz'];
const STATUSES = ['200', '201', '404', '500'];

/** A probe's steady value and its spike: past warm-up, the ensemble flags the spike every time. */
const PROBE_LEVEL = 0.2;
const PROBE_SPIKE = 2;

export interface PointMessage {
  readonly partition: number;
  readonly value: Buffer;
}

export class Workload {
  /** Canonical series keys, as ingest derives them from the metric and labels. */
  private readonly names: string[];
  /** Each point's JSON up to its `ts`: the series and labels, built once per series. */
  private readonly jsonPrefixes: string[];

  constructor(
    readonly count: number,
    /** Timestamp of every series' first sample, epoch ms. */
    readonly start: number,
    /** Time between two samples of a series. */
    readonly stepMs: number,
  ) {
    if (!(Number.isSafeInteger(count) && count >= 1))
      throw new RangeError(`series count must be a positive integer, got ${count}`);
    this.names = new Array<string>(count);
    this.jsonPrefixes = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const labels = seriesLabels(i);
      this.names[i] = seriesKey(METRIC, labels);
      this.jsonPrefixes[i] = `{"series":"${METRIC}","labels":${JSON.stringify(labels)},"ts":`;
    }
  }

  name(series: number): string {
    return this.names[series];
  }

  /** Seconds, around 50 ms to 150 ms depending on the series: a request latency. */
  value(series: number, sample: number): number {
    const base = 0.05 + (series % 101) / 1000;
    const wave = 0.1 * Math.sin(sample / 24 + series);
    const noise = (((series * 7919 + sample * 104_729) % 1009) / 1009 - 0.5) * 0.02;
    return base * (1 + wave + noise);
  }

  /** Stream point k as (series, sample, ts, value). */
  point(k: number): { series: number; sample: number; ts: number; value: number } {
    const series = k % this.count;
    const sample = Math.floor(k / this.count);
    return { series, sample, ts: this.start + sample * this.stepMs, value: this.value(series, sample) };
  }

  /** `POST /v1/points` body holding stream points from..to-1. */
  jsonBody(from: number, to: number, extra: readonly string[] = []): string {
    const parts: string[] = [];
    for (let k = from; k < to; k++) {
      const { series, ts, value } = this.point(k);
      parts.push(`${this.jsonPrefixes[series]}${ts},"value":${value}}`);
    }
    parts.push(...extra);
    return `{"points":[${parts.join(',')}]}`;
  }

  /**
   * Stream points from..to-1 as queue messages, as ingest makes them from one request: one
   * PointBatch per partition the points fall in, series to partitions by partitionOf.
   */
  messages(tenant: string, partitions: number, from: number, to: number): PointMessage[] {
    const builders = new Map<number, PointBatchBuilder>();
    for (let k = from; k < to; k++) {
      const { series, ts, value } = this.point(k);
      const name = this.names[series];
      const partition = partitionOf(tenant, name, partitions);
      let builder = builders.get(partition);
      if (!builder) {
        builder = new PointBatchBuilder(tenant);
        builders.set(partition, builder);
      }
      builder.add(name, ts, value);
    }
    return [...builders].map(([partition, builder]) => ({
      partition,
      value: encodePointBatch(builder.build()),
    }));
  }
}

export function seriesLabels(series: number): Record<string, string> {
  return {
    host: `web-${String(series).padStart(5, '0')}`,
    route: ROUTES[series % ROUTES.length],
    status: STATUSES[Math.floor(series / ROUTES.length) % STATUSES.length],
  };
}

/** The canonical key of probe `probe`: what the anomaly of its spike names. */
export function probeName(probe: number): string {
  return seriesKey(PROBE_METRIC, probeLabels(probe));
}

/**
 * A probe's point as JSON: `sample` steady ones warm its detector, then the spike. Samples
 * are a second apart from `start`.
 */
export function probeJson(probe: number, sample: number, start: number, spike: boolean): string {
  const wobble = 0.002 * Math.sin(sample / 7 + probe);
  const value = spike ? PROBE_SPIKE : PROBE_LEVEL + wobble;
  return `{"series":"${PROBE_METRIC}","labels":${JSON.stringify(probeLabels(probe))},"ts":${start + sample * 1000},"value":${value}}`;
}

function probeLabels(probe: number): Record<string, string> {
  return { probe: String(probe).padStart(5, '0') };
}
