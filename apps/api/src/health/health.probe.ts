import { type ClickHouseClient } from '@clickhouse/client';
import { withDeadline } from '../runtime/deadline';
import { type BrokerStatus, type PointTransport } from '../runtime/point.transport';

/** A part of Seismo that did not answer, and why. */
export interface DownCheck {
  readonly status: 'down';
  readonly error: string;
}

export interface HealthChecks {
  readonly clickhouse: { readonly status: 'up'; readonly latency_ms: number } | DownCheck;
  readonly kafka: BrokerStatus | DownCheck;
  /** Only where this process runs the engine. */
  readonly consumer_lag?: { readonly status: 'up'; readonly messages: number } | DownCheck;
}

export interface HealthFindings {
  readonly checks: HealthChecks;
  /** The names of the checks that are down; empty when all is well. */
  readonly failing: ReadonlyArray<keyof HealthChecks>;
}

const CHECK_TIMEOUT_MS = 1500;
/** Findings are kept this long: a load balancer polling /health hard costs one round of checks a second. */
const CACHE_MS = 1000;

/**
 * The checks behind GET /health: ClickHouse answers a SELECT 1, the Kafka brokers answer
 * (embedded mode has none), and the engine's lag can be read. Every check has a deadline, so
 * /health answers within about CHECK_TIMEOUT_MS whatever is down, and callers within the same
 * second share one round of checks.
 */
export class HealthProbe {
  private cached: { readonly at: number; readonly findings: Promise<HealthFindings> } | undefined;

  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly transport: PointTransport,
  ) {}

  check(): Promise<HealthFindings> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= CACHE_MS) {
      this.cached = { at: now, findings: this.run() };
    }
    return this.cached.findings;
  }

  private async run(): Promise<HealthFindings> {
    const lag = this.transport.lag;
    const [clickhouse, kafka, consumerLag] = await Promise.all([
      settle(this.selectOne()),
      settle(this.transport.brokerStatus()),
      lag
        ? settle(lag().then((byPartition) => ({ status: 'up' as const, messages: sum(byPartition) })))
        : undefined,
    ]);
    const checks: HealthChecks = {
      clickhouse,
      kafka,
      ...(consumerLag ? { consumer_lag: consumerLag } : {}),
    };
    const failing = (Object.keys(checks) as Array<keyof HealthChecks>).filter(
      (name) => checks[name]?.status === 'down',
    );
    return { checks, failing };
  }

  private async selectOne(): Promise<{ status: 'up'; latency_ms: number }> {
    const started = performance.now();
    const answer = async (): Promise<void> => {
      const result = await this.clickhouse.query({ query: 'SELECT 1', format: 'JSONEachRow' });
      await result.json();
    };
    await withDeadline(answer(), CHECK_TIMEOUT_MS, 'ClickHouse');
    return { status: 'up', latency_ms: Math.round(performance.now() - started) };
  }
}

/** The check's answer, or the reason it is down; also bounded here, whatever the check does. */
async function settle<T>(check: Promise<T>): Promise<T | DownCheck> {
  try {
    return await withDeadline(check, CHECK_TIMEOUT_MS, 'the check');
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value ?? 0;
  return total;
}
