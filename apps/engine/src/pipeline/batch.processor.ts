import { decodePointBatch, type PointBatch, PointBatchDecodeError } from '@seismo/pipeline';
import {
  type AnomalyRecord,
  type PartitionCheckpoint,
  parseTenantId,
  type PointRecord,
  type SeriesCheckpoint,
  HOUR_MS,
  type SeriesHourRecord,
  StorageException,
  type TenantId,
} from '@seismo/storage';
import { DATETIME64_MAX_MS, DATETIME64_MIN_MS } from '@seismo/storage/datetime64';
import { MAX_SERIES_LENGTH } from '@seismo/storage/record.guard';
import { SeriesScorer, SeriesScorerError, type SeriesScorerOptions } from '../scoring/series-scorer';
import { TenantSeriesBudget } from '../scoring/tenant-series.budget';
import { anomalyRecordOf, checkedAnomalyThreshold, DEFAULT_ANOMALY_THRESHOLD } from './anomaly-record';
import { type QueueBatch, type QueueMessage } from './point-queue';
import { PointFlag } from './point-flag';
import { type DeadLetter, type ProcessedBatch } from './processed-batch';
import { type RetentionOf, type TenantRetention } from './tenant-retention';
import { ActiveSeriesLedger } from './active-series.ledger';
import { SeriesHashCache, UsageTally } from './usage.tally';

export interface BatchProcessorOptions {
  readonly retentionOf: RetentionOf;
  /** Points scoring at least this become anomalies, in (0, 1] (default 0.5). */
  readonly anomalyThreshold?: number;
  /** For each tenant's scorer: the detector, its params, and the tenant's series limit. */
  readonly scorer?: SeriesScorerOptions;
  /** Epoch milliseconds now, stamped on new anomalies as `createdAt` (default Date.now). */
  readonly clock?: () => number;
  /**
   * A tenant's series limit (called once per new series, so it should read a cache),
   * counted across every partition this processor holds (TenantSeriesBudget). Absent:
   * no limit beyond `scorer.maxSeries`.
   */
  readonly maxSeriesOf?: (tenant: TenantId) => number;
  /** Told how many points of a batch a tenant's series limit refused (metrics, metering). */
  readonly onSeriesRefused?: (tenant: TenantId, points: number) => void;
}

/** How `process` treats a message of a tenant whose retention `retentionOf` does not know. */
export interface ProcessOptions {
  /**
   * `dead-letter` (default): the message becomes a dead letter, its neighbours go on.
   * `throw`: UnknownTenantError, before the batch changed any state, so that the caller
   * can refresh its tenants and process the batch again.
   */
  readonly unknownTenants?: 'dead-letter' | 'throw';
}

/** A batch holds points of a tenant the retention lookup does not know (yet). */
export class UnknownTenantError extends Error {
  constructor(
    readonly tenant: TenantId,
    options?: ErrorOptions,
  ) {
    super(`no retention for tenant ${tenant}`, options);
    this.name = 'UnknownTenantError';
  }
}

/** The detector state of one partition's series, and how far in the partition it has learned. */
interface PartitionState {
  /** One scorer per tenant, so two tenants' series of the same name never share state. */
  readonly scorers: Map<TenantId, SeriesScorer>;
  /** The last offset learned; -1 before the first. */
  lastOffset: number;
  /**
   * Series restored from rows newer than the checkpoint's round (a crash during a round),
   * keyed `tenant\0series`, with the offset each covers: a replay skips what they learned.
   */
  covered: Map<string, number>;
}

/** A message refused whole, and whose points it held when that is known (for metering). */
interface RefusedMessage {
  readonly reason: string;
  readonly tenant?: TenantId;
  readonly points?: PointBatch;
}

interface AcceptedMessage {
  readonly offset: number;
  readonly value: Uint8Array;
  readonly tenant: TenantId;
  readonly points: PointBatch;
  readonly retention: TenantRetention;
}

/**
 * Turns a queue batch into rows: decodes each message, scores each point with the
 * detector of its series, and builds point rows and anomaly rows. Pure CPU: no I/O, no
 * awaiting, so the hot path never waits on the network.
 *
 * Detector state lives here, per partition (what a checkpoint covers and a rebalance
 * moves) and within it one SeriesScorer per tenant, so two tenants' series of the same
 * name never share state.
 *
 * Every message is validated before any point is scored: a bad message becomes a dead
 * letter and its neighbours go on, and `process` either changes state for the whole
 * batch or (on an unexpected error) for none of it, so a redelivered batch is not
 * learned twice by a half-done first attempt.
 */
export class BatchProcessor {
  private readonly partitions = new Map<number, PartitionState>();
  private readonly retentionOf: RetentionOf;
  private readonly threshold: number;
  private readonly scorerOptions: SeriesScorerOptions;
  private readonly clock: () => number;
  /** Hashes of the series metered as active, so a batch does not hash its series again. */
  private readonly seriesHashes = new SeriesHashCache();
  /** Series hashes known stored in usage_hourly this hour, kept out of the next rows. */
  private readonly activeSeries = new ActiveSeriesLedger();
  private readonly maxSeriesOf: ((tenant: TenantId) => number) | undefined;
  private readonly onSeriesRefused: ((tenant: TenantId, points: number) => void) | undefined;
  /** Each tenant's series across the partitions held here. */
  private readonly budgets = new Map<TenantId, TenantSeriesBudget>();

  constructor(options: BatchProcessorOptions) {
    this.retentionOf = options.retentionOf;
    this.threshold = checkedAnomalyThreshold(options.anomalyThreshold ?? DEFAULT_ANOMALY_THRESHOLD);
    this.scorerOptions = options.scorer ?? {};
    this.clock = options.clock ?? Date.now;
    this.maxSeriesOf = options.maxSeriesOf;
    this.onSeriesRefused = options.onSeriesRefused;
    // A wrong detector or params fail here, at boot, not on the first message.
    new SeriesScorer(this.scorerOptions);
  }

  /**
   * Scores and learns a batch. A replayed batch (messages taken before, replayed after a
   * restore to bring the state up to the committed offset) is learned only: it yields no
   * rows, since its rows were written the first time.
   */
  process(batch: QueueBatch, options: ProcessOptions = {}): ProcessedBatch {
    const { partition, messages } = batch;
    if (messages.length === 0) throw new RangeError(`batch of partition ${partition} holds no messages`);
    const state = this.stateOf(partition);
    if (batch.replay) {
      this.replay(state, batch);
      return {
        partition,
        firstOffset: messages[0].offset,
        lastOffset: messages[messages.length - 1].offset,
        points: [],
        anomalies: [],
        usage: [],
        deadLetters: [],
      };
    }
    const deadLetters: DeadLetter[] = [];
    const accepted: AcceptedMessage[] = [];
    const usage = new UsageTally(this.seriesHashes, this.activeSeries);
    for (const message of messages) {
      const outcome = this.accept(message, options.unknownTenants === 'throw');
      if ('reason' in outcome) {
        deadLetters.push({ partition, offset: message.offset, reason: outcome.reason, value: message.value });
        // A message of a known shape refused whole: its points reached the engine and were refused.
        if (outcome.tenant && outcome.points) {
          usage.ingested(outcome.tenant, outcome.points.t.length);
          usage.rejected(outcome.tenant, outcome.points.t.length + (outcome.points.rejected ?? 0));
        }
      } else accepted.push(outcome);
    }

    const createdAt = this.clock();
    const points: PointRecord[] = [];
    const anomalies: AnomalyRecord[] = [];
    const hours = new HourlyAggregator();
    for (const { offset, value: bytes, tenant, points: batchPoints, retention } of accepted) {
      const scorer = this.scorerOf(state, tenant);
      const { series, t, value, seriesIndex } = batchPoints;
      let refused = 0;
      let firstRefusal = '';
      let found = 0;
      // Which of the message's series had a point scored: the active series it meters.
      const active = new Uint8Array(series.length);
      for (let i = 0; i < t.length; i++) {
        const name = series[seriesIndex[i]];
        let score: number;
        try {
          score = scorer.score(name, value[i], t[i]);
        } catch (error) {
          if (!(error instanceof SeriesScorerError)) throw error;
          if (refused++ === 0) firstRefusal = error.message;
          continue;
        }
        active[seriesIndex[i]] = 1;
        const anomalous = score >= this.threshold;
        // Zero retention: the raw point goes nowhere durable, only into its hour's summary.
        if (retention.pointsDays === 0) hours.add(tenant, name, t[i], value[i], retention.anomaliesDays);
        else {
          points.push({
            tenantId: tenant,
            series: name,
            ts: t[i],
            value: value[i],
            score,
            flags: anomalous ? PointFlag.ANOMALY : 0,
            retentionDays: retention.pointsDays,
          });
        }
        if (anomalous) {
          found++;
          anomalies.push(
            anomalyRecordOf(
              {
                tenantId: tenant,
                series: name,
                ts: t[i],
                value: value[i],
                score,
                context: scorer.context(name),
              },
              createdAt,
              retention.anomaliesDays,
            ),
          );
        }
      }
      usage.ingested(tenant, t.length);
      usage.rejected(tenant, refused + (batchPoints.rejected ?? 0));
      usage.scored(
        tenant,
        t.length - refused,
        found,
        series.filter((_, s) => active[s] === 1),
      );
      if (refused > 0) {
        this.onSeriesRefused?.(tenant, refused);
        deadLetters.push({
          partition,
          offset,
          reason: `${refused} of ${t.length} points refused, the first: ${firstRefusal}`,
          value: bytes,
        });
      }
    }

    state.lastOffset = messages[messages.length - 1].offset;
    return {
      partition,
      firstOffset: messages[0].offset,
      lastOffset: state.lastOffset,
      points,
      anomalies,
      usage: usage.records(createdAt),
      deadLetters,
      hourly: hours.records(),
    };
  }

  /** The last offset of `partition` learned, or undefined when this processor holds no state of it. */
  lastOffset(partition: number): number | undefined {
    return this.partitions.get(partition)?.lastOffset;
  }

  /** Series held for `partition`, across tenants. */
  seriesCount(partition?: number): number {
    let count = 0;
    for (const [p, state] of this.partitions) {
      if (partition !== undefined && p !== partition) continue;
      for (const scorer of state.scorers.values()) count += scorer.seriesCount;
    }
    return count;
  }

  /** Bytes of encoded detector state held, across partitions and tenants (a full checkpoint's weight). */
  stateBytes(): number {
    let bytes = 0;
    for (const state of this.partitions.values()) {
      for (const scorer of state.scorers.values()) bytes += scorer.stateBytes();
    }
    return bytes;
  }

  /**
   * The usage of `batch` is stored (by the runner's UsageCommitter, in rows of its own):
   * its series are known active in its hour, and later rows leave them out.
   */
  stored(batch: Pick<ProcessedBatch, 'usage'>): void {
    this.activeSeries.stored(batch.usage);
  }

  /** Forgets a partition's state: it moved to another engine, or is about to be restored. */
  drop(partition: number): void {
    const state = this.partitions.get(partition);
    if (!state) return;
    for (const [tenant, scorer] of state.scorers) this.budgets.get(tenant)?.release(scorer.seriesCount);
    this.partitions.delete(partition);
  }

  /**
   * Forgets every series of a tenant, in every partition: the tenant was erased, and its
   * detector state must not live on here, nor reach a checkpoint again.
   */
  forgetTenant(tenant: TenantId): void {
    const prefix = `${tenant}\0`;
    for (const state of this.partitions.values()) {
      state.scorers.delete(tenant);
      for (const key of state.covered.keys()) if (key.startsWith(prefix)) state.covered.delete(key);
    }
    this.budgets.delete(tenant);
    this.activeSeries.forget(tenant);
    this.seriesHashes.forget(tenant);
  }

  /**
   * Replaces a partition's state with a checkpoint's, as of `checkpoint.offset`; the
   * messages after it are then to be replayed (`replay` batches) up to the committed offset.
   */
  restore(partition: number, checkpoint: PartitionCheckpoint): void {
    this.drop(partition);
    const state: PartitionState = { scorers: new Map(), lastOffset: checkpoint.offset, covered: new Map() };
    for (const row of checkpoint.series) {
      this.scorerOf(state, row.tenantId).restore(row.series, row.state);
      if (row.offset > checkpoint.offset) state.covered.set(`${row.tenantId}\0${row.series}`, row.offset);
    }
    this.partitions.set(partition, state);
  }

  /**
   * The encoded state of the partition's series changed since the last call (all of them
   * with `all`), as of `lastOffset(partition)`: one checkpoint round.
   */
  takeCheckpoint(partition: number, all = false): SeriesCheckpoint[] {
    const state = this.partitions.get(partition);
    if (!state) return [];
    const rows: SeriesCheckpoint[] = [];
    for (const [tenantId, scorer] of state.scorers) {
      for (const { series, state: bytes } of scorer.takeChanged(all))
        rows.push({ tenantId, series, state: bytes });
    }
    return rows;
  }

  /** Learns messages already taken once; series whose restored state covers a message skip it. */
  private replay(state: PartitionState, batch: QueueBatch): void {
    for (const message of batch.messages) {
      if (message.offset <= state.lastOffset) continue;
      const outcome = this.accept(message);
      if (!('reason' in outcome)) {
        const scorer = this.scorerOf(state, outcome.tenant);
        const { series, t, value, seriesIndex } = outcome.points;
        for (let i = 0; i < t.length; i++) {
          const name = series[seriesIndex[i]];
          const covered =
            state.covered.size > 0 ? state.covered.get(`${outcome.tenant}\0${name}`) : undefined;
          if (covered !== undefined && covered >= message.offset) continue;
          try {
            scorer.score(name, value[i], t[i]);
          } catch (error) {
            // Refused the first time too (and dead-lettered then): the same point, the same answer.
            if (!(error instanceof SeriesScorerError)) throw error;
          }
        }
      }
      state.lastOffset = message.offset;
    }
    for (const [key, offset] of state.covered) if (offset <= state.lastOffset) state.covered.delete(key);
  }

  /** The decoded message with its tenant and retention, or the reason it is refused. */
  private accept(
    { offset, value: bytes, decoded }: QueueMessage,
    throwUnknownTenant = false,
  ): AcceptedMessage | RefusedMessage {
    let points: PointBatch;
    try {
      points = decoded ?? decodePointBatch(bytes);
    } catch (error) {
      if (error instanceof PointBatchDecodeError) return { reason: error.message };
      throw error;
    }
    let tenant: TenantId;
    try {
      tenant = parseTenantId(points.tenant);
    } catch (error) {
      if (error instanceof StorageException) return { reason: `point batch: ${error.message}` };
      throw error;
    }
    const invalid = invalidPoint(points);
    if (invalid) return { reason: `point batch: ${invalid}`, tenant, points };
    let retention: TenantRetention;
    try {
      retention = this.retentionOf(tenant);
    } catch (error) {
      // Asked to, the caller hears of it before any state changed, to learn of the tenant
      // and try again. Otherwise a tenant the directory does not know (deleted, or unknown
      // still after that) must not hold its partition: the message is a dead letter.
      if (throwUnknownTenant) throw new UnknownTenantError(tenant, { cause: error });
      return {
        reason: `point batch: no retention for tenant ${tenant}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    return { offset, value: bytes, tenant, points, retention: checkedRetention(tenant, retention) };
  }

  private stateOf(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      state = { scorers: new Map(), lastOffset: -1, covered: new Map() };
      this.partitions.set(partition, state);
    }
    return state;
  }

  private scorerOf(state: PartitionState, tenant: TenantId): SeriesScorer {
    let scorer = state.scorers.get(tenant);
    if (!scorer) {
      scorer = new SeriesScorer(this.scorerOptions, this.budgetOf(tenant));
      state.scorers.set(tenant, scorer);
    }
    return scorer;
  }

  private budgetOf(tenant: TenantId): TenantSeriesBudget | undefined {
    const maxSeriesOf = this.maxSeriesOf;
    if (!maxSeriesOf) return undefined;
    let budget = this.budgets.get(tenant);
    if (!budget) {
      budget = new TenantSeriesBudget(() => maxSeriesOf(tenant));
      this.budgets.set(tenant, budget);
    }
    return budget;
  }
}

/**
 * Sums a batch's points of zero-retention tenants per series and hour: the partial
 * summaries a batch writes to `series_hourly` (rows of one hour merge there).
 */
class HourlyAggregator {
  private readonly byKey = new Map<
    string,
    { -readonly [K in keyof SeriesHourRecord]: SeriesHourRecord[K] }
  >();

  add(tenantId: TenantId, series: string, t: number, value: number, retentionDays: number): void {
    const hour = t - (((t % HOUR_MS) + HOUR_MS) % HOUR_MS);
    const key = `${tenantId}\0${series}\0${hour}`;
    const row = this.byKey.get(key);
    if (!row) {
      this.byKey.set(key, {
        tenantId,
        series,
        hour,
        count: 1,
        sum: value,
        min: value,
        max: value,
        retentionDays,
      });
      return;
    }
    row.count++;
    row.sum += value;
    if (value < row.min) row.min = value;
    if (value > row.max) row.max = value;
  }

  records(): SeriesHourRecord[] {
    return [...this.byKey.values()];
  }
}

/**
 * What the codec does not check but scoring and storage rely on, so that a bad point
 * fails its message here rather than the whole batch's write later (storage refuses a
 * batch holding one bad row, and a batch that cannot be written stops its partition).
 */
function invalidPoint(points: PointBatch): string | undefined {
  for (let s = 0; s < points.series.length; s++) {
    const length = points.series[s].length;
    if (length === 0 || length > MAX_SERIES_LENGTH) {
      return `series ${s} has ${length} characters, expected 1-${MAX_SERIES_LENGTH}`;
    }
  }
  const { t, value } = points;
  for (let i = 0; i < t.length; i++) {
    if (!Number.isInteger(t[i]) || t[i] < DATETIME64_MIN_MS || t[i] > DATETIME64_MAX_MS) {
      return `point ${i} has timestamp ${t[i]}, expected integer epoch milliseconds from 1900 to 2299`;
    }
    if (!Number.isFinite(value[i])) return `point ${i} has value ${value[i]}, expected a finite number`;
  }
  return undefined;
}

/** Retention comes from configuration, not from the message: a bad one is a bug, not a dead letter. */
function checkedRetention(tenant: TenantId, retention: TenantRetention): TenantRetention {
  const { pointsDays, anomaliesDays } = retention;
  if (!Number.isInteger(pointsDays) || pointsDays < 0 || pointsDays > 65535) {
    throw new RangeError(
      `retention of tenant ${tenant}: pointsDays must be an integer in 0..65535, got ${pointsDays}`,
    );
  }
  if (!Number.isInteger(anomaliesDays) || anomaliesDays < 1 || anomaliesDays > 65535) {
    throw new RangeError(
      `retention of tenant ${tenant}: anomaliesDays must be an integer in 1..65535, got ${anomaliesDays}`,
    );
  }
  return retention;
}
