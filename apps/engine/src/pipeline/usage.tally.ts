import { emptyUsage, hourOf, seriesHash, type TenantId, type UsageRecord } from '@seismo/storage';
import { type ActiveSeriesLedger } from './active-series.ledger';

interface TenantTally {
  ingested: number;
  scored: number;
  rejected: number;
  anomalies: number;
  /** The distinct series scored, each once. */
  readonly series: SeriesEntry[];
}

/** Series hashes kept between batches; past it the cache starts over (a cache, not state). */
const MAX_CACHED_HASHES = 100_000;

interface SeriesEntry {
  readonly hash: bigint;
  /** The last tally that counted the series: a batch lists it once however many messages name it. */
  tally: number;
}

/** Tallies made so far in this process: each tally's number. */
let tallies = 0;

/**
 * Per tenant, each series' hash, kept between batches. Looked up by the series name alone
 * (no key built per series), and holding the mark that makes a batch list a series once,
 * so a batch's tally allocates no set of names: metering runs for every series of every
 * batch, and its garbage was most of its cost.
 */
export class SeriesHashCache {
  private readonly tenants = new Map<TenantId, Map<string, SeriesEntry>>();
  private size = 0;

  /** The tenant's series seen so far (created empty). */
  of(tenant: TenantId): Map<string, SeriesEntry> {
    let series = this.tenants.get(tenant);
    if (!series) {
      series = new Map();
      this.tenants.set(tenant, series);
    }
    return series;
  }

  /** Adds a series to a tenant's map (as `of` returned it), with its hash. */
  add(series: Map<string, SeriesEntry>, name: string): SeriesEntry {
    if (this.size >= MAX_CACHED_HASHES) {
      for (const map of this.tenants.values()) map.clear();
      this.size = 0;
    }
    const entry = { hash: seriesHash(name), tally: 0 };
    series.set(name, entry);
    this.size++;
    return entry;
  }

  /** The tenant was erased. */
  forget(tenant: TenantId): void {
    this.size -= this.tenants.get(tenant)?.size ?? 0;
    this.tenants.delete(tenant);
  }
}

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
  private readonly id = ++tallies;

  constructor(
    private readonly hashes: SeriesHashCache,
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
    const known = this.hashes.of(tenant);
    for (const name of series) {
      const entry = known.get(name) ?? this.hashes.add(known, name);
      if (entry.tally === this.id) continue;
      entry.tally = this.id;
      tally.series.push(entry);
    }
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

  private newInHour(tenant: TenantId, hour: number, series: readonly SeriesEntry[]): bigint[] {
    const hashes: bigint[] = [];
    for (const { hash } of series) if (!this.ledger?.has(tenant, hour, hash)) hashes.push(hash);
    return hashes;
  }

  private of(tenant: TenantId): TenantTally {
    let tally = this.tenants.get(tenant);
    if (!tally) {
      tally = { ingested: 0, scored: 0, rejected: 0, anomalies: 0, series: [] };
      this.tenants.set(tenant, tally);
    }
    return tally;
  }
}
