import { emptyUsage, hourOf, seriesHash, type TenantId, type UsageRecord } from '@seismo/storage';
import { type ActiveSeriesLedger } from './active-series.ledger';

interface TenantTally {
  ingested: number;
  scored: number;
  rejected: number;
  anomalies: number;
  readonly series: Set<string>;
}

/** Series hashes kept between batches; past it the cache starts over (a cache, not state). */
const MAX_CACHED_HASHES = 100_000;

/**
 * The metering counts of one batch, per tenant, kept in memory while the batch is scored
 * and turned into `usage_hourly` rows, which the runner's UsageCommitter writes with
 * other batches' before the batch is committed: the counts are durable before its
 * offsets are, and a batch delivered again is counted once (see UsageCommitter).
 *
 * Every count of a batch goes to one hour, the hour of the engine's clock when it scored
 * the batch (the `createdAt` of its anomalies). The rows are computed once per batch and
 * a failed write is retried with the same rows, so a count never moves to another hour.
 */
export class UsageTally {
  private readonly tenants = new Map<TenantId, TenantTally>();

  constructor(
    private readonly hashes: Map<string, bigint>,
    /** Series known stored in the hour already: left out of `seriesHashes` (none if absent). */
    private readonly ledger?: ActiveSeriesLedger,
  ) {}

  /** Points that reached the engine in a message of `tenant`, whatever became of them. */
  ingested(tenant: TenantId, points: number): void {
    this.of(tenant).ingested += points;
  }

  /** Points refused, at ingest (reported in the message) or by the engine. */
  rejected(tenant: TenantId, points: number): void {
    this.of(tenant).rejected += points;
  }

  /** `scored` points of a message scored, `anomalies` of them anomalous, over the series named. */
  scored(tenant: TenantId, scored: number, anomalies: number, series: Iterable<string>): void {
    const tally = this.of(tenant);
    tally.scored += scored;
    tally.anomalies += anomalies;
    for (const name of series) tally.series.add(name);
  }

  /** One row per tenant seen, all in the hour of `now`; its series hashes only those not known stored in it. */
  records(now: number): UsageRecord[] {
    const hour = hourOf(now);
    const rows: UsageRecord[] = [];
    for (const [tenant, tally] of this.tenants) {
      rows.push({
        ...emptyUsage(tenant, hour),
        pointsIngested: tally.ingested,
        pointsScored: tally.scored,
        pointsRejected: tally.rejected,
        anomalies: tally.anomalies,
        seriesHashes: this.newInHour(tenant, hour, tally.series),
      });
    }
    return rows;
  }

  private newInHour(tenant: TenantId, hour: number, series: Set<string>): bigint[] {
    const hashes: bigint[] = [];
    for (const name of series) {
      const hash = this.hashOf(tenant, name);
      if (!this.ledger?.has(tenant, hour, hash)) hashes.push(hash);
    }
    return hashes;
  }

  private hashOf(tenant: TenantId, series: string): bigint {
    const key = `${tenant}\0${series}`;
    let hash = this.hashes.get(key);
    if (hash === undefined) {
      if (this.hashes.size >= MAX_CACHED_HASHES) this.hashes.clear();
      hash = seriesHash(series);
      this.hashes.set(key, hash);
    }
    return hash;
  }

  private of(tenant: TenantId): TenantTally {
    let tally = this.tenants.get(tenant);
    if (!tally) {
      tally = { ingested: 0, scored: 0, rejected: 0, anomalies: 0, series: new Set() };
      this.tenants.set(tenant, tally);
    }
    return tally;
  }
}
